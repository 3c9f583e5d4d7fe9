import { BeforeApplicationShutdown, Injectable, Logger } from '@nestjs/common';
import { settleWithin } from '../common/deadline';
import { AppConfig } from '../config/app-config';
import type { ClaimedDelivery } from './persistence/webhooks.store';
import { WebhookDeliverer } from './webhook-deliverer';

/**
 * Hands claimed deliveries to whatever makes the attempts (port): a Bull queue when REDIS_URL is
 * set, this process otherwise. Postgres keeps the truth (attempts, next attempt, state); a lost
 * hand-over only delays a delivery until its claim expires.
 */
export abstract class WebhookDispatcher {
  /** How many more deliveries it takes now. */
  abstract capacity(): Promise<number>;
  abstract dispatch(deliveries: ClaimedDelivery[]): Promise<void>;
}

/** In-process attempts, at most WEBHOOK_CONCURRENCY at once (the embedded default). */
@Injectable()
export class InlineWebhookDispatcher extends WebhookDispatcher implements BeforeApplicationShutdown {
  private readonly logger = new Logger('Webhooks');
  private readonly running = new Set<Promise<void>>();

  constructor(
    private readonly deliverer: WebhookDeliverer,
    private readonly config: AppConfig,
  ) {
    super();
  }

  capacity(): Promise<number> {
    return Promise.resolve(Math.max(0, this.config.webhookConcurrency - this.running.size));
  }

  dispatch(deliveries: ClaimedDelivery[]): Promise<void> {
    for (const claim of deliveries) {
      const run: Promise<void> = this.deliverer
        .deliver(claim)
        .catch((error: unknown) => this.logger.warn(`delivery ${claim.id} failed: ${error instanceof Error ? error.message : String(error)}`))
        .finally(() => this.running.delete(run));
      this.running.add(run);
    }
    return Promise.resolve();
  }

  /** Before the database closes: running attempts may finish within the grace period. */
  async beforeApplicationShutdown(): Promise<void> {
    await settleWithin(Promise.allSettled([...this.running]), this.config.shutdownGraceMs);
  }
}
