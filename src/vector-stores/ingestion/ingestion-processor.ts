import { BeforeApplicationShutdown, Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { AppConfig } from '../../config/app-config';
import { QueueDriver } from '../../queue/queue-driver';
import { QueueName } from '../../queue/queue-names';
import type { IngestionJob } from './ingestion-queue';
import { IngestionRunner } from './ingestion-runner';

/** Runs the `ingestion` queue's jobs (WorkerModule: processes whose role runs jobs). */
@Injectable()
export class IngestionProcessor implements OnApplicationBootstrap, BeforeApplicationShutdown {
  constructor(
    private readonly queue: QueueDriver,
    private readonly runner: IngestionRunner,
    private readonly config: AppConfig,
  ) {}

  onApplicationBootstrap(): void {
    this.queue.process<IngestionJob>(QueueName.Ingestion, this.config.ingestionConcurrency, async (job) => {
      await this.runner.run(job);
    });
  }

  /** SIGTERM: no new jobs; a run cut short is claimed again elsewhere (its attempt fences this one). */
  async beforeApplicationShutdown(): Promise<void> {
    await this.queue.stop(QueueName.Ingestion, this.config.shutdownGraceMs);
  }
}
