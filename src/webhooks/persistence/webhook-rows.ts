import { date, json, maybeDate } from '../../database/sql';
import type { DeliveryState, DeliveryWork, StoredAttempt, StoredDelivery, StoredWebhookEndpoint, WebhookEventType } from './webhooks.store';

// The webhook tables' rows as the driver returns them (snake_case, raw types), the column lists
// that produce them, and their mapping to the port's types. The statements are the adapter's.
export type Timestamp = Date | string;

export interface EndpointRow {
  id: string;
  owner: string;
  url: string;
  event_types: WebhookEventType[] | string;
  enabled: boolean;
  disabled_reason: string | null;
  secret: string;
  previous_secret: string | null;
  previous_secret_expires_at: Timestamp | null;
  failing_since: Timestamp | null;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface AttemptJson {
  attempt: number;
  started_at: string;
  duration_ms: number;
  status_code: number | null;
  error: string | null;
  response_excerpt: string | null;
}

export interface DeliveryRow {
  id: string;
  endpoint_id: string;
  event_id: string;
  event_type: WebhookEventType;
  response_id: string;
  state: DeliveryState;
  attempts: number;
  next_attempt_at: Timestamp;
  last_status_code: number | null;
  last_error: string | null;
  created_at: Timestamp;
  updated_at: Timestamp;
  log: AttemptJson[] | string;
}

export interface WorkRow {
  id: string;
  attempts: number;
  created_at: Timestamp;
  event_id: string;
  event_type: WebhookEventType;
  response_id: string;
  event_created_at: Timestamp;
  endpoint_id: string;
  url: string;
  enabled: boolean;
  secret: string;
  previous_secret: string | null;
  previous_secret_expires_at: Timestamp | null;
}

// Event types as jsonb: the same on pg and PGlite, whose array (de)serialization differ.
export const ENDPOINT_COLUMNS = `id, owner, url, to_jsonb(event_types) AS event_types, enabled, disabled_reason, secret,
  previous_secret, previous_secret_expires_at, failing_since, created_at, updated_at`;

export const DELIVERY_SELECT = `
  SELECT d.id, d.endpoint_id, d.event_id, ev.type AS event_type, ev.response_id, d.state, d.attempts, d.next_attempt_at,
         d.last_status_code, d.last_error, d.created_at, d.updated_at,
         (SELECT coalesce(jsonb_agg(jsonb_build_object(
                    'attempt', a.attempt, 'started_at', a.started_at, 'duration_ms', a.duration_ms,
                    'status_code', a.status_code, 'error', a.error, 'response_excerpt', a.response_excerpt) ORDER BY a.attempt), '[]'::jsonb)
            FROM webhook_attempts a WHERE a.delivery_id = d.id) AS log
  FROM webhook_deliveries d JOIN webhook_events ev ON ev.id = d.event_id`;

export const lease = (ms: number) => `make_interval(secs => ${Math.max(0, Math.round(ms)) / 1000})`;

export function toEndpoint(row: EndpointRow): StoredWebhookEndpoint {
  return {
    id: row.id,
    owner: row.owner,
    url: row.url,
    eventTypes: json(row.event_types),
    enabled: row.enabled,
    disabledReason: row.disabled_reason,
    secret: row.secret,
    previousSecret: row.previous_secret,
    previousSecretExpiresAt: maybeDate(row.previous_secret_expires_at),
    failingSince: maybeDate(row.failing_since),
    createdAt: date(row.created_at),
    updatedAt: date(row.updated_at),
  };
}

function toAttempt(a: AttemptJson): StoredAttempt {
  return {
    attempt: a.attempt,
    startedAt: new Date(a.started_at),
    durationMs: a.duration_ms,
    statusCode: a.status_code,
    error: a.error,
    responseExcerpt: a.response_excerpt,
  };
}

export function toDelivery(row: DeliveryRow): StoredDelivery {
  return {
    id: row.id,
    endpointId: row.endpoint_id,
    eventId: row.event_id,
    eventType: row.event_type,
    responseId: row.response_id,
    state: row.state,
    attempts: row.attempts,
    nextAttemptAt: row.state === 'pending' ? date(row.next_attempt_at) : null,
    lastStatusCode: row.last_status_code,
    lastError: row.last_error,
    createdAt: date(row.created_at),
    updatedAt: date(row.updated_at),
    log: json(row.log).map(toAttempt),
  };
}

export function toWork(r: WorkRow): DeliveryWork {
  return {
    id: r.id,
    attempts: Number(r.attempts),
    createdAt: date(r.created_at),
    event: { id: r.event_id, type: r.event_type, responseId: r.response_id, createdAt: date(r.event_created_at) },
    endpoint: {
      id: r.endpoint_id,
      url: r.url,
      enabled: r.enabled,
      secret: r.secret,
      previousSecret: r.previous_secret,
      previousSecretExpiresAt: maybeDate(r.previous_secret_expires_at),
    },
  };
}
