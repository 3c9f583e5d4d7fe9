import { BeforeApplicationShutdown, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { AppConfig } from '../../config/app-config';
import { QueueDriver } from '../../queue/queue-driver';
import { QueueName } from '../../queue/queue-names';
import { BackgroundRunner } from './background-runner';
import type { ResponseJob } from './response-dispatcher';

/** Runs the `responses` queue's jobs (WorkerModule: processes whose role runs jobs). */
@Injectable()
export class ResponsesProcessor implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('ResponsesProcessor');

  constructor(
    private readonly queue: QueueDriver,
    private readonly runner: BackgroundRunner,
    private readonly config: AppConfig,
  ) {}

  onApplicationBootstrap(): void {
    this.queue.process<ResponseJob>(QueueName.Responses, this.config.backgroundConcurrency, (job) => this.handle(job));
  }

  private async handle(job: ResponseJob): Promise<void> {
    const started = Date.now();
    this.logger.debug(`job ${job.responseId} started`);
    await this.runner.run(job.responseId); // a failure is logged by the queue driver
    this.logger.debug(`job ${job.responseId} ended in ${Date.now() - started} ms`);
  }

  /** SIGTERM: take no new jobs, let running ones finish within the grace period, hand back the rest. */
  async beforeApplicationShutdown(): Promise<void> {
    await this.queue.stop(QueueName.Responses);
    await this.runner.drain(this.config.shutdownGraceMs);
  }
}
