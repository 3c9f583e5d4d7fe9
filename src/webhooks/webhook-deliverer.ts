import { Injectable, Logger } from '@nestjs/common';
import { unixSeconds } from '../common/ids';
import { AppConfig } from '../config/app-config';
import { Metrics } from '../metrics/metrics';
import { AttemptOutcome, ClaimedDelivery, DeliveryWork, WebhooksStore } from './persistence/webhooks.store';
import { signatureHeader, WebhookSecrets } from './webhook-secrets';
import { type SendResult, WebhookSender } from './webhook-sender';

/** The event as receivers get it: OpenAI's shape. The same bytes on every attempt. */
export function eventBody(event: DeliveryWork['event']): string {
  return JSON.stringify({ id: event.id, object: 'event', created_at: unixSeconds(event.createdAt), type: event.type, data: { id: event.responseId } });
}

/** Delay before attempt `n + 1` after `n` failed ones: exponential, capped, ±20 % jitter. */
export function backoffMs(failedAttempts: number, baseMs: number, maxMs: number, random = Math.random): number {
  const exponential = Math.min(maxMs, baseMs * 2 ** Math.min(failedAttempts - 1, 40));
  return Math.round(exponential * (0.8 + 0.4 * random()));
}

/**
 * One attempt of one delivery: renew the claim (fenced by the attempt count), sign, POST, and
 * record what happened in one statement — success, a retry at the next backoff, or, past the
 * retry window, giving up (and disabling an endpoint that failed all along). A 410 disables the
 * endpoint at once. A worker that dies mid-attempt leaves the claim to expire: the attempt runs
 * again, with the same `webhook-id` (at least once).
 */
@Injectable()
export class WebhookDeliverer {
  private readonly logger = new Logger('Webhooks');

  constructor(
    private readonly store: WebhooksStore,
    private readonly secrets: WebhookSecrets,
    private readonly sender: WebhookSender,
    private readonly config: AppConfig,
    private readonly metrics: Metrics,
  ) {}

  async deliver(claim: ClaimedDelivery): Promise<void> {
    const work = await this.store.startAttempt(claim.id, claim.attempts, this.config.webhookLeaseMs);
    if (!work || !work.endpoint.enabled) return; // done meanwhile, or disabled: the claim lapses
    const attempt = work.attempts + 1;
    const startedAt = new Date();
    const windowEnd = work.createdAt.getTime() + this.config.webhookRetryWindowMs;
    const base = { deliveryId: work.id, attempt, startedAt };
    // Every delivery gets one attempt, however late (workers down for a day lose nothing); a
    // retry that falls due past the window (its endpoint was disabled meanwhile) is given up.
    if (work.attempts > 0 && startedAt.getTime() > windowEnd) {
      await this.finish(
        { ...base, durationMs: 0, statusCode: null, error: 'Not attempted: the retry window had ended.', responseExcerpt: null, state: 'failed' },
        'gave_up',
        work,
      );
      return;
    }

    const body = eventBody(work.event);
    let result: SendResult;
    try {
      const keys = [this.secrets.open(work.endpoint.secret, work.endpoint.id)];
      if (work.endpoint.previousSecret && work.endpoint.previousSecretExpiresAt && work.endpoint.previousSecretExpiresAt > startedAt) {
        keys.push(this.secrets.open(work.endpoint.previousSecret, work.endpoint.id));
      }
      const headers = {
        'webhook-id': work.id,
        'webhook-timestamp': String(unixSeconds(startedAt)),
        'webhook-signature': signatureHeader(work.id, startedAt, body, keys),
      };
      result = await this.sender.send(work.endpoint.url, headers, body, this.config.webhookTimeoutMs);
    } catch (error) {
      // A secret that cannot be opened (SECRETS_KEY missing or changed): logged on the delivery, retried.
      result = { statusCode: null, error: `Not sent: ${error instanceof Error ? error.message : String(error)}`, excerpt: null, durationMs: 0, refused: false };
    }
    const recorded = { ...base, durationMs: result.durationMs, statusCode: result.statusCode, error: result.error, responseExcerpt: result.excerpt };

    if (result.statusCode !== null && result.statusCode >= 200 && result.statusCode < 300) {
      await this.finish({ ...recorded, state: 'succeeded' }, 'success', work);
      this.metrics.webhookDeliveryLag.observe((Date.now() - work.event.createdAt.getTime()) / 1000);
      return;
    }
    if (result.statusCode === 410) {
      await this.finish({ ...recorded, state: 'failed', disableEndpoint: 'The endpoint answered 410 Gone.' }, 'gone', work);
      return;
    }
    const failure = result.statusCode !== null ? `HTTP ${result.statusCode}` : (result.error ?? 'no answer');
    const next = Date.now() + backoffMs(attempt, this.config.webhookBackoffBaseMs, this.config.webhookBackoffMaxMs);
    if (next > windowEnd) {
      const reason = `Every delivery failed for the whole retry window (${Math.round(this.config.webhookRetryWindowMs / 1000)} s); last: ${failure}.`;
      await this.finish({ ...recorded, state: 'failed', disableIfFailingThroughout: reason }, 'gave_up', work);
      return;
    }
    await this.finish({ ...recorded, state: 'pending', nextAttemptAt: new Date(next) }, result.refused ? 'refused' : 'retry', work);
  }

  private async finish(outcome: AttemptOutcome, label: string, work: DeliveryWork): Promise<void> {
    const applied = await this.store.finishAttempt(outcome);
    if (!applied) return; // another attempt of this delivery recorded first
    this.metrics.webhookDeliveries.inc({ outcome: label });
    this.metrics.webhookAttemptDuration.observe({ outcome: label }, outcome.durationMs / 1000);
    // Status codes and our own error text only: a receiver's answer is never logged.
    const what = `delivery ${work.id} (${work.event.type}) to endpoint ${work.endpoint.id}, attempt ${outcome.attempt}`;
    const detail = outcome.statusCode !== null ? `HTTP ${outcome.statusCode}` : (outcome.error ?? '');
    if (label === 'success') this.logger.debug(`${what}: ${detail} in ${outcome.durationMs} ms`);
    else if (label === 'retry' || label === 'refused') this.logger.log(`${what} failed (${detail}); next attempt at ${outcome.nextAttemptAt?.toISOString()}`);
    else this.logger.warn(`${what}: ${label === 'gone' ? 'the endpoint answered 410 and is disabled' : `given up (${detail})`}`);
  }
}
