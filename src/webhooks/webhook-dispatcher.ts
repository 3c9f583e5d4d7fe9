import { Injectable } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { QueueDriver } from '../queue/queue-driver';
import { QueueName } from '../queue/queue-names';
import type { ClaimedDelivery } from './persistence/webhooks.store';

/**
 * Hands claimed deliveries to whatever makes the attempts (the `webhooks` queue: Bull with
 * REDIS_URL, this process otherwise). Postgres keeps the truth (attempts, next attempt, state); a
 * lost hand-over only delays a delivery until its claim expires.
 */
@Injectable()
export class WebhookDispatcher {
  constructor(
    private readonly queue: QueueDriver,
    private readonly config: AppConfig,
  ) {}

  /** How many more deliveries it takes now: the queue is kept short (twice what a process runs at once); due deliveries wait in Postgres. */
  async capacity(): Promise<number> {
    const { waiting, active } = await this.queue.counts(QueueName.Webhooks);
    return Math.max(0, 2 * this.config.webhookConcurrency - (waiting + active));
  }

  /** One job per attempt (job id = delivery id and attempt count): a delivery claimed again before its job ran is queued once. */
  async dispatch(deliveries: ClaimedDelivery[]): Promise<void> {
    await Promise.all(deliveries.map((d) => this.queue.add<ClaimedDelivery>(QueueName.Webhooks, `${d.id}:${d.attempts}`, { id: d.id, attempts: d.attempts })));
  }
}
