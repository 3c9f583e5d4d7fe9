import type { Page } from '../../database/page';

/** The event types a webhook endpoint can subscribe to (OpenAI's names). */
export const WEBHOOK_EVENT_TYPES = ['response.completed', 'response.failed', 'response.cancelled', 'response.incomplete'] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

export interface StoredWebhookEndpoint {
  id: string;
  owner: string;
  url: string;
  eventTypes: WebhookEventType[];
  enabled: boolean;
  disabledReason: string | null;
  /** As stored: sealed (`v1.…`) when SECRETS_KEY is set, else the `whsec_…` secret itself. */
  secret: string;
  previousSecret: string | null;
  previousSecretExpiresAt: Date | null;
  failingSince: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

export interface NewWebhookEndpoint {
  id: string;
  owner: string;
  url: string;
  eventTypes: WebhookEventType[];
  enabled: boolean;
  secret: string;
}

export interface WebhookEndpointPatch {
  url?: string;
  eventTypes?: WebhookEventType[];
  enabled?: boolean;
}

export type DeliveryState = 'pending' | 'succeeded' | 'failed';

export interface StoredAttempt {
  attempt: number;
  startedAt: Date;
  durationMs: number;
  statusCode: number | null;
  error: string | null;
  responseExcerpt: string | null;
}

export interface StoredDelivery {
  id: string;
  endpointId: string;
  eventId: string;
  eventType: WebhookEventType;
  responseId: string;
  state: DeliveryState;
  attempts: number;
  nextAttemptAt: Date | null;
  lastStatusCode: number | null;
  lastError: string | null;
  createdAt: Date;
  updatedAt: Date;
  log: StoredAttempt[];
}

export interface DeliveryListOptions {
  /** A delivery id: list the ones older than it. */
  after?: string;
  eventId?: string;
  limit: number;
}

/** A delivery claimed by the relay: its id and the attempts made so far (the fence of its next attempt). */
export interface ClaimedDelivery {
  id: string;
  attempts: number;
}

/** Everything one attempt needs, read while renewing the claim. */
export interface DeliveryWork {
  id: string;
  /** Attempts made before this one. */
  attempts: number;
  createdAt: Date;
  event: { id: string; type: WebhookEventType; responseId: string; createdAt: Date };
  endpoint: { id: string; url: string; enabled: boolean; secret: string; previousSecret: string | null; previousSecretExpiresAt: Date | null };
}

export interface AttemptOutcome {
  deliveryId: string;
  /** This attempt's number (attempts before it + 1). */
  attempt: number;
  startedAt: Date;
  durationMs: number;
  statusCode: number | null;
  error: string | null;
  responseExcerpt: string | null;
  /** `pending` with `nextAttemptAt` to retry. */
  state: DeliveryState;
  nextAttemptAt?: Date;
  /** Disable the endpoint now, saying why (a 410). */
  disableEndpoint?: string;
  /** Given up after the retry window: disable the endpoint too if nothing has succeeded since this delivery's first attempt. */
  disableIfFailingThroughout?: string;
}

export class UnknownEventError extends Error {}

/**
 * The webhooks store (port): endpoints (scoped by owner), deliveries and their log. Events and
 * their deliveries are created by a database trigger, in the statement that ends a background
 * response. Every write is one SQL statement.
 */
export abstract class WebhooksStore {
  abstract createEndpoint(endpoint: NewWebhookEndpoint): Promise<StoredWebhookEndpoint>;

  abstract getEndpoint(owner: string, id: string): Promise<StoredWebhookEndpoint | null>;

  /** Oldest first; every owner's when `owner` is undefined (the admin CLI). */
  abstract listEndpoints(owner?: string): Promise<StoredWebhookEndpoint[]>;

  /** How many endpoints a tenant has. */
  abstract countEndpoints(owner: string): Promise<number>;

  /** Enabling clears the disabled reason and the failure streak; disabling records `disabledReason`. */
  abstract updateEndpoint(owner: string, id: string, patch: WebhookEndpointPatch, disabledReason?: string): Promise<StoredWebhookEndpoint | null>;

  /** Replaces the secret; the old one keeps signing until `graceUntil` (none when it is not in the future). */
  abstract rotateSecret(owner: string, id: string, secret: string, graceUntil: Date): Promise<StoredWebhookEndpoint | null>;

  /** Deletes the endpoint and its deliveries; false when there was none. */
  abstract deleteEndpoint(owner: string, id: string): Promise<boolean>;

  /** Newest first. @throws CursorNotFoundError for an `after` that is not one of the endpoint's deliveries. */
  abstract listDeliveries(endpointId: string, options: DeliveryListOptions): Promise<Page<StoredDelivery>>;

  /** A new delivery of one of the owner's events to the endpoint; null when the owner has no such event. */
  abstract redeliver(owner: string, endpointId: string, eventId: string, deliveryId: string): Promise<StoredDelivery | null>;

  /** Claims up to `limit` due deliveries of enabled endpoints for `leaseMs` (FOR UPDATE SKIP LOCKED). */
  abstract claimDue(limit: number, leaseMs: number): Promise<ClaimedDelivery[]>;

  /** Renews the claim of attempt `attempts + 1` and reads what it needs; null when it is no longer due (done, or another attempt ran). */
  abstract startAttempt(deliveryId: string, attempts: number, leaseMs: number): Promise<DeliveryWork | null>;

  /** Records an attempt and its consequences, fenced by the attempt number; false when another attempt got there first. */
  abstract finishAttempt(outcome: AttemptOutcome): Promise<boolean>;

  /** Ends every claim at once (the embedded default at start: no other process can hold one); returns how many. */
  abstract releaseClaims(): Promise<number>;

  /** Deliveries not yet succeeded or given up (the queue depth). */
  abstract countPending(): Promise<number>;

  /** Deletes events (with their deliveries and log) created before `olderThan`. */
  abstract prune(olderThan: Date): Promise<number>;
}
