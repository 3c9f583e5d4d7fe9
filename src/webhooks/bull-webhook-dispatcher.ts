import { InjectQueue } from '@nestjs/bull';
import { BeforeApplicationShutdown, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import type { Job, Queue } from 'bull';
import { settleWithin } from '../common/deadline';
import { AppConfig } from '../config/app-config';
import type { ClaimedDelivery } from './persistence/webhooks.store';
import { WebhookDeliverer } from './webhook-deliverer';
import { WebhookDispatcher } from './webhook-dispatcher';

export const WEBHOOKS_QUEUE = 'webhooks';

/**
 * Bull producer: one job per attempt, job id = delivery id and attempt count, so a delivery
 * claimed again before its job ran is queued once.
 */
@Injectable()
export class BullWebhookDispatcher extends WebhookDispatcher {
  constructor(
    @InjectQueue(WEBHOOKS_QUEUE) private readonly queue: Queue<ClaimedDelivery>,
    private readonly config: AppConfig,
  ) {
    super();
  }

  /** Keeps the queue short (twice what this process runs at once): due deliveries wait in Postgres, not in Redis. */
  async capacity(): Promise<number> {
    const counts = await this.queue.getJobCounts();
    return Math.max(0, 2 * this.config.webhookConcurrency - (counts.waiting + counts.active + counts.delayed));
  }

  async dispatch(deliveries: ClaimedDelivery[]): Promise<void> {
    await Promise.all(
      deliveries.map((d) =>
        this.queue.add({ id: d.id, attempts: d.attempts }, { jobId: `${d.id}:${d.attempts}`, removeOnComplete: true, removeOnFail: true, attempts: 1 }),
      ),
    );
  }
}

/** The Bull processor of webhook attempts, in processes whose ROLE runs jobs. */
@Injectable()
export class BullWebhookWorker implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('Webhooks');

  constructor(
    @InjectQueue(WEBHOOKS_QUEUE) private readonly queue: Queue<ClaimedDelivery>,
    private readonly deliverer: WebhookDeliverer,
    private readonly config: AppConfig,
  ) {}

  onApplicationBootstrap(): void {
    if (!this.config.runsJobs) return;
    void this.queue.process(this.config.webhookConcurrency, (job: Job<ClaimedDelivery>) => this.deliverer.deliver(job.data));
    this.logger.log(`processing '${WEBHOOKS_QUEUE}' jobs, ${this.config.webhookConcurrency} at a time`);
  }

  /** SIGTERM: take no new attempts; running ones may finish within the grace period (else their claim expires and they run again). */
  async beforeApplicationShutdown(): Promise<void> {
    if (!this.config.runsJobs) return;
    await settleWithin(this.queue.pause(true, false), this.config.shutdownGraceMs);
  }
}
