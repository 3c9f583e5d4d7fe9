import { listObject } from '../common/list-object';
import { readPage } from '../database/pagination';
import { HttpStatus, Injectable } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { newId, unixSeconds } from '../common/ids';
import { invalidRequest, OpenAIError } from '../common/openai-error';
import type { Principal } from '../common/principal';
import { AppConfig } from '../config/app-config';
import { StoredDelivery, StoredWebhookEndpoint, WEBHOOK_EVENT_TYPES, WebhooksStore } from './persistence/webhooks.store';
import type {
  CreateWebhookEndpointDto,
  ListWebhookDeliveriesQueryDto,
  RedeliverWebhookDto,
  RotateWebhookSecretDto,
  UpdateWebhookEndpointDto,
} from './dto/webhook-endpoint.dto';
import type { WebhookDeliveryDto, WebhookDeliveryListDto, WebhookEndpointDto, WebhookEndpointListDto } from './dto/webhook-objects.dto';
import { Outbound } from '../outbound/outbound.module';
import { UrlGuard, UrlRefusedError } from '../outbound/url-guard';
import { generateWebhookSecret, WebhookSecrets } from './webhook-secrets';

/** Delivery ids (`wh_…`, 128 random bits, as the trigger makes them); endpoint ids are `newId('we')`. */
const deliveryId = () => `wh_${randomBytes(16).toString('hex')}`;

export const endpointNotFound = (id: string) => new OpenAIError(HttpStatus.NOT_FOUND, `Webhook endpoint with id '${id}' not found.`, 'invalid_request_error');

function toEndpoint(e: StoredWebhookEndpoint, secret?: string): WebhookEndpointDto {
  const rotating = e.previousSecret && e.previousSecretExpiresAt && e.previousSecretExpiresAt > new Date() ? e.previousSecretExpiresAt : null;
  return {
    id: e.id,
    object: 'webhook_endpoint',
    url: e.url,
    event_types: e.eventTypes,
    enabled: e.enabled,
    disabled_reason: e.disabledReason,
    created_at: unixSeconds(e.createdAt),
    updated_at: unixSeconds(e.updatedAt),
    previous_secret_expires_at: rotating ? unixSeconds(rotating) : null,
    ...(secret ? { secret } : {}),
  };
}

function toDelivery(d: StoredDelivery): WebhookDeliveryDto {
  return {
    id: d.id,
    object: 'webhook_delivery',
    endpoint_id: d.endpointId,
    event_id: d.eventId,
    event_type: d.eventType,
    response_id: d.responseId,
    state: d.state,
    attempts: d.attempts,
    next_attempt_at: d.nextAttemptAt ? unixSeconds(d.nextAttemptAt) : null,
    last_status_code: d.lastStatusCode,
    last_error: d.lastError,
    created_at: unixSeconds(d.createdAt),
    updated_at: unixSeconds(d.updatedAt),
    log: d.log.map((a) => ({
      attempt: a.attempt,
      started_at: unixSeconds(a.startedAt),
      duration_ms: a.durationMs,
      status_code: a.statusCode,
      error: a.error,
      response_excerpt: a.responseExcerpt,
    })),
  };
}

/**
 * The webhook endpoints use cases, for the admin API and the CLI: register, list, change, delete,
 * rotate the secret, read the delivery log, redeliver. Everything is scoped to the principal's
 * tenant; another tenant's endpoint is a 404, as a missing one.
 */
@Injectable()
export class WebhooksService {
  private readonly guard: UrlGuard;

  constructor(
    private readonly store: WebhooksStore,
    outbound: Outbound,
    private readonly secrets: WebhookSecrets,
    private readonly config: AppConfig,
  ) {
    this.guard = outbound.webhooks;
  }

  async create(principal: Principal, dto: CreateWebhookEndpointDto): Promise<WebhookEndpointDto> {
    await this.checkUrl(dto.url);
    // Every terminal response fans out to each endpoint: a bound per tenant keeps one tenant from
    // multiplying the delivery work of all. Approximate under concurrent creates (count, then insert).
    const max = this.config.webhookMaxEndpointsPerTenant;
    if ((await this.store.countEndpoints(principal.owner)) >= max) {
      throw invalidRequest(`This tenant has ${max} webhook endpoints, the most allowed. Delete one before registering another.`, null, 'too_many_endpoints');
    }
    const secret = generateWebhookSecret();
    const id = newId('we');
    const endpoint = await this.store.createEndpoint({
      id,
      owner: principal.owner,
      url: dto.url,
      eventTypes: dto.event_types ?? [...WEBHOOK_EVENT_TYPES],
      enabled: dto.enabled ?? true,
      secret: this.secrets.seal(secret, id),
    });
    return toEndpoint(endpoint, secret);
  }

  async list(principal: Principal): Promise<WebhookEndpointListDto> {
    return { object: 'list', data: (await this.store.listEndpoints(principal.owner)).map((e) => toEndpoint(e)) };
  }

  async retrieve(principal: Principal, id: string): Promise<WebhookEndpointDto> {
    return toEndpoint(await this.find(principal.owner, id));
  }

  async update(principal: Principal, id: string, dto: UpdateWebhookEndpointDto): Promise<WebhookEndpointDto> {
    await this.find(principal.owner, id);
    if (dto.url !== undefined) await this.checkUrl(dto.url);
    const updated = await this.store.updateEndpoint(principal.owner, id, { url: dto.url, eventTypes: dto.event_types, enabled: dto.enabled });
    if (!updated) throw endpointNotFound(id);
    return toEndpoint(updated);
  }

  async delete(principal: Principal, id: string): Promise<{ id: string; object: 'webhook_endpoint.deleted'; deleted: true }> {
    if (!(await this.store.deleteEndpoint(principal.owner, id))) throw endpointNotFound(id);
    return { id, object: 'webhook_endpoint.deleted', deleted: true };
  }

  /** A new secret, shown once; the old one keeps signing (a second `v1,` signature) for the grace period. */
  async rotateSecret(principal: Principal, id: string, dto: RotateWebhookSecretDto): Promise<WebhookEndpointDto> {
    const grace = dto.grace_period_seconds ?? this.config.webhookRotationGraceSeconds;
    const secret = generateWebhookSecret();
    const rotated = await this.store.rotateSecret(principal.owner, id, this.secrets.seal(secret, id), new Date(Date.now() + grace * 1000));
    if (!rotated) throw endpointNotFound(id);
    return toEndpoint(rotated, secret);
  }

  async listDeliveries(principal: Principal, id: string, query: ListWebhookDeliveriesQueryDto): Promise<WebhookDeliveryListDto> {
    await this.find(principal.owner, id);
    const page = await readPage(() => this.store.listDeliveries(id, { after: query.after, eventId: query.event_id, limit: query.limit ?? 20 }), 'delivery');
    return listObject(page.data.map(toDelivery), page.hasMore);
  }

  /** The event again, as a new delivery (a new `webhook-id`; receivers that dedupe by event id see the same `evt_…`). */
  async redeliver(principal: Principal, id: string, dto: RedeliverWebhookDto): Promise<WebhookDeliveryDto> {
    const endpoint = await this.find(principal.owner, id);
    if (!endpoint.enabled) throw invalidRequest('The webhook endpoint is disabled: enable it before redelivering.', 'id', 'endpoint_disabled');
    const delivery = await this.store.redeliver(principal.owner, id, dto.event_id, deliveryId());
    if (!delivery) throw new OpenAIError(HttpStatus.NOT_FOUND, `Event with id '${dto.event_id}' not found.`, 'invalid_request_error', 'event_id');
    return toDelivery(delivery);
  }

  private async find(owner: string, id: string): Promise<StoredWebhookEndpoint> {
    const endpoint = await this.store.getEndpoint(owner, id);
    if (!endpoint) throw endpointNotFound(id);
    return endpoint;
  }

  private async checkUrl(url: string): Promise<void> {
    try {
      await this.guard.check(url);
    } catch (error) {
      if (error instanceof UrlRefusedError) throw invalidRequest(`Invalid value for 'url': ${error.message}.`, 'url', 'invalid_url');
      throw error;
    }
  }
}
