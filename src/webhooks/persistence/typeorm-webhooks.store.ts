import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import type { Page } from '../../database/page';
import { keysetPage } from '../../database/pagination';
import { Sql } from '../../database/sql';
import {
  AttemptOutcome,
  ClaimedDelivery,
  DeliveryListOptions,
  DeliveryWork,
  NewWebhookEndpoint,
  StoredDelivery,
  StoredWebhookEndpoint,
  WebhookEndpointPatch,
  WebhooksStore,
} from './webhooks.store';
import { DELIVERY_SELECT, DeliveryRow, ENDPOINT_COLUMNS, EndpointRow, lease, toDelivery, toEndpoint, toWork, WorkRow } from './webhook-rows';

/**
 * The webhooks store on TypeORM (Postgres or embedded PGlite). Every write is one statement
 * (data-modifying CTEs wrapped in a SELECT, which pg and PGlite shape alike).
 */
@Injectable()
export class TypeOrmWebhooksStore extends WebhooksStore {
  private readonly sql: Sql;

  constructor(@InjectDataSource() dataSource: DataSource) {
    super();
    this.sql = new Sql(dataSource);
  }

  async createEndpoint(e: NewWebhookEndpoint): Promise<StoredWebhookEndpoint> {
    const rows: EndpointRow[] = await this.sql.query(
      `WITH inserted AS (
         INSERT INTO webhook_endpoints (id, owner, url, event_types, enabled, disabled_reason, secret)
         VALUES ($1, $2, $3, ARRAY(SELECT jsonb_array_elements_text($4::jsonb)), $5, CASE WHEN $5 THEN NULL ELSE 'Created disabled.' END, $6)
         RETURNING *
       ) SELECT ${ENDPOINT_COLUMNS} FROM inserted`,
      [e.id, e.owner, e.url, JSON.stringify(e.eventTypes), e.enabled, e.secret],
    );
    return toEndpoint(rows[0]);
  }

  async getEndpoint(owner: string, id: string): Promise<StoredWebhookEndpoint | null> {
    const rows: EndpointRow[] = await this.sql.query(`SELECT ${ENDPOINT_COLUMNS} FROM webhook_endpoints WHERE id = $1 AND owner = $2`, [id, owner]);
    return rows.length ? toEndpoint(rows[0]) : null;
  }

  async listEndpoints(owner?: string): Promise<StoredWebhookEndpoint[]> {
    const rows: EndpointRow[] =
      owner === undefined
        ? await this.sql.query(`SELECT ${ENDPOINT_COLUMNS} FROM webhook_endpoints ORDER BY created_at, id`)
        : await this.sql.query(`SELECT ${ENDPOINT_COLUMNS} FROM webhook_endpoints WHERE owner = $1 ORDER BY created_at, id`, [owner]);
    return rows.map(toEndpoint);
  }

  async countEndpoints(owner: string): Promise<number> {
    const rows: Array<{ n: string | number }> = await this.sql.query(`SELECT count(*) AS n FROM webhook_endpoints WHERE owner = $1`, [owner]);
    return Number(rows[0].n);
  }

  async updateEndpoint(
    owner: string,
    id: string,
    patch: WebhookEndpointPatch,
    disabledReason = 'Disabled by its owner.',
  ): Promise<StoredWebhookEndpoint | null> {
    const params: unknown[] = [id, owner];
    const set = ['updated_at = now()'];
    if (patch.url !== undefined) {
      params.push(patch.url);
      set.push(`url = $${params.length}`);
    }
    if (patch.eventTypes !== undefined) {
      params.push(JSON.stringify(patch.eventTypes));
      set.push(`event_types = ARRAY(SELECT jsonb_array_elements_text($${params.length}::jsonb))`);
    }
    if (patch.enabled === true) {
      set.push('enabled = true', 'disabled_reason = NULL', 'failing_since = NULL');
    } else if (patch.enabled === false) {
      params.push(disabledReason);
      // An endpoint disabled already keeps the reason it was disabled for.
      set.push('enabled = false', `disabled_reason = CASE WHEN enabled THEN $${params.length} ELSE disabled_reason END`);
    }
    const rows: EndpointRow[] = await this.sql.query(
      `WITH updated AS (
         UPDATE webhook_endpoints SET ${set.join(', ')} WHERE id = $1 AND owner = $2 RETURNING *
       ) SELECT ${ENDPOINT_COLUMNS} FROM updated`,
      params,
    );
    return rows.length ? toEndpoint(rows[0]) : null;
  }

  async rotateSecret(owner: string, id: string, secret: string, graceUntil: Date): Promise<StoredWebhookEndpoint | null> {
    const rows: EndpointRow[] = await this.sql.query(
      `WITH updated AS (
         UPDATE webhook_endpoints
         SET previous_secret = CASE WHEN $4::timestamptz > now() THEN secret END,
             previous_secret_expires_at = CASE WHEN $4::timestamptz > now() THEN $4::timestamptz END,
             secret = $3, updated_at = now()
         WHERE id = $1 AND owner = $2
         RETURNING *
       ) SELECT ${ENDPOINT_COLUMNS} FROM updated`,
      [id, owner, secret, graceUntil],
    );
    return rows.length ? toEndpoint(rows[0]) : null;
  }

  async deleteEndpoint(owner: string, id: string): Promise<boolean> {
    const rows: unknown[] = await this.sql.query(
      `WITH deleted AS (DELETE FROM webhook_endpoints WHERE id = $1 AND owner = $2 RETURNING id) SELECT id FROM deleted`,
      [id, owner],
    );
    return rows.length > 0;
  }

  async listDeliveries(endpointId: string, options: DeliveryListOptions): Promise<Page<StoredDelivery>> {
    const params: unknown[] = [endpointId];
    const where = ['d.endpoint_id = $1'];
    if (options.eventId) where.push(`d.event_id = $${params.push(options.eventId)}`);
    const page = await keysetPage<DeliveryRow>(this.sql, {
      select: DELIVERY_SELECT,
      where,
      params,
      orderBy: ['d.created_at', 'd.id'],
      keyTypes: ['timestamptz'],
      order: 'desc',
      limit: options.limit,
      cursors: [
        {
          param: 'after',
          id: options.after,
          find: { text: `SELECT created_at, id FROM webhook_deliveries WHERE endpoint_id = $1 AND id = $2`, params: [endpointId, options.after] },
        },
      ],
    });
    return { data: page.data.map(toDelivery), hasMore: page.hasMore };
  }

  async redeliver(owner: string, endpointId: string, eventId: string, deliveryId: string): Promise<StoredDelivery | null> {
    const inserted: unknown[] = await this.sql.query(
      `WITH inserted AS (
         INSERT INTO webhook_deliveries (id, event_id, endpoint_id)
         SELECT $1, ev.id, e.id FROM webhook_events ev JOIN webhook_endpoints e ON e.owner = ev.owner
         WHERE ev.id = $2 AND e.id = $3 AND e.owner = $4
         RETURNING id
       ) SELECT id FROM inserted`,
      [deliveryId, eventId, endpointId, owner],
    );
    if (!inserted.length) return null;
    const rows: DeliveryRow[] = await this.sql.query(`${DELIVERY_SELECT} WHERE d.id = $1`, [deliveryId]);
    return toDelivery(rows[0]);
  }

  async claimDue(limit: number, leaseMs: number): Promise<ClaimedDelivery[]> {
    const rows: ClaimedDelivery[] = await this.sql.query(
      `WITH due AS (
         SELECT d.id FROM webhook_deliveries d JOIN webhook_endpoints e ON e.id = d.endpoint_id
         WHERE d.state = 'pending' AND d.next_attempt_at <= now() AND (d.leased_until IS NULL OR d.leased_until <= now()) AND e.enabled
         ORDER BY d.next_attempt_at
         LIMIT $1
         FOR UPDATE OF d SKIP LOCKED
       ), claimed AS (
         UPDATE webhook_deliveries d SET leased_until = now() + ${lease(leaseMs)}
         FROM due WHERE d.id = due.id
         RETURNING d.id, d.attempts
       ) SELECT id, attempts FROM claimed`,
      [limit],
    );
    return rows.map((r) => ({ id: r.id, attempts: Number(r.attempts) }));
  }

  async startAttempt(deliveryId: string, attempts: number, leaseMs: number): Promise<DeliveryWork | null> {
    const rows: WorkRow[] = await this.sql.query(
      `WITH d AS (
         UPDATE webhook_deliveries SET leased_until = now() + ${lease(leaseMs)}
         WHERE id = $1 AND state = 'pending' AND attempts = $2
         RETURNING id, event_id, endpoint_id, attempts, created_at
       )
       SELECT d.id, d.attempts, d.created_at, ev.id AS event_id, ev.type AS event_type, ev.response_id, ev.created_at AS event_created_at,
              e.id AS endpoint_id, e.url, e.enabled, e.secret, e.previous_secret, e.previous_secret_expires_at
       FROM d JOIN webhook_events ev ON ev.id = d.event_id JOIN webhook_endpoints e ON e.id = d.endpoint_id`,
      [deliveryId, attempts],
    );
    if (!rows.length) return null;
    return toWork(rows[0]);
  }

  async finishAttempt(o: AttemptOutcome): Promise<boolean> {
    const rows: unknown[] = await this.sql.query(
      `WITH d AS (
         UPDATE webhook_deliveries
         SET attempts = $2, state = $3, next_attempt_at = coalesce($4::timestamptz, next_attempt_at), leased_until = NULL,
             last_status_code = $5, last_error = $6, updated_at = now()
         WHERE id = $1 AND state = 'pending' AND attempts = $2 - 1
         RETURNING id, endpoint_id, created_at
       ), logged AS (
         INSERT INTO webhook_attempts (delivery_id, attempt, started_at, duration_ms, status_code, error, response_excerpt)
         SELECT d.id, $2, $7, $8, $5, $6, $9 FROM d
       ), decided AS (
         -- Failing since this delivery's first attempt (or before): no attempt to the endpoint has
         -- succeeded for the delivery's whole retry window.
         SELECT d.endpoint_id,
                ($10::text IS NOT NULL
                 OR ($11::text IS NOT NULL AND coalesce(e.failing_since, $7::timestamptz) <= coalesce(
                      (SELECT a.started_at FROM webhook_attempts a WHERE a.delivery_id = d.id AND a.attempt = 1), $7::timestamptz))) AS disable,
                coalesce($10::text, $11::text) AS reason
         FROM d JOIN webhook_endpoints e ON e.id = d.endpoint_id
       ), endpoint AS (
         UPDATE webhook_endpoints e
         SET failing_since = CASE WHEN $3 = 'succeeded' THEN NULL ELSE coalesce(e.failing_since, $7::timestamptz) END,
             enabled = e.enabled AND NOT decided.disable,
             disabled_reason = CASE WHEN decided.disable AND e.enabled THEN decided.reason ELSE e.disabled_reason END,
             updated_at = CASE WHEN decided.disable AND e.enabled THEN now() ELSE e.updated_at END
         FROM decided WHERE e.id = decided.endpoint_id
       ) SELECT id FROM d`,
      [
        o.deliveryId,
        o.attempt,
        o.state,
        o.nextAttemptAt ?? null,
        o.statusCode,
        o.error,
        o.startedAt,
        Math.round(o.durationMs),
        o.responseExcerpt,
        o.disableEndpoint ?? null,
        o.disableIfFailingThroughout ?? null,
      ],
    );
    return rows.length > 0;
  }

  async releaseClaims(): Promise<number> {
    const rows: unknown[] = await this.sql.query(
      `WITH released AS (
         UPDATE webhook_deliveries SET leased_until = NULL WHERE state = 'pending' AND leased_until > now() RETURNING id
       ) SELECT id FROM released`,
    );
    return rows.length;
  }

  async countPending(): Promise<number> {
    const rows: Array<{ n: string | number }> = await this.sql.query(`SELECT count(*) AS n FROM webhook_deliveries WHERE state = 'pending'`);
    return Number(rows[0].n);
  }

  async prune(olderThan: Date): Promise<number> {
    const rows: unknown[] = await this.sql.query(`WITH deleted AS (DELETE FROM webhook_events WHERE created_at < $1 RETURNING id) SELECT id FROM deleted`, [
      olderThan,
    ]);
    return rows.length;
  }
}
