import { BeforeApplicationShutdown, Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { QueueDriver } from '../queue/queue-driver';
import { QueueName } from '../queue/queue-names';
import type { ClaimedDelivery } from './persistence/webhooks.store';
import { WebhookDeliverer } from './webhook-deliverer';

/** Makes the `webhooks` queue's attempts (WorkerModule: processes whose role runs jobs). */
@Injectable()
export class WebhooksProcessor implements OnApplicationBootstrap, BeforeApplicationShutdown {
  constructor(
    private readonly queue: QueueDriver,
    private readonly deliverer: WebhookDeliverer,
    private readonly config: AppConfig,
  ) {}

  onApplicationBootstrap(): void {
    this.queue.process<ClaimedDelivery>(QueueName.Webhooks, this.config.webhookConcurrency, (delivery) => this.deliverer.deliver(delivery));
  }

  /** SIGTERM: take no new attempts; running ones may finish within the grace period (else their claim expires and they run again). */
  async beforeApplicationShutdown(): Promise<void> {
    await this.queue.stop(QueueName.Webhooks, this.config.shutdownGraceMs);
  }
}
