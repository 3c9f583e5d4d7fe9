import { InjectQueue } from '@nestjs/bull';
import { BeforeApplicationShutdown, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import type { Job, Queue } from 'bull';
import { AppConfig } from '../../config/app-config';
import { BackgroundRunner } from './background-runner';
import { RESPONSES_QUEUE, type ResponseJob } from './bull-dispatcher';

/**
 * The Bull processor, in processes whose ROLE runs jobs. Registered by hand rather than with
 * `@Process()` because its concurrency is configuration, which a decorator cannot read.
 */
@Injectable()
export class BullWorker implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('BullWorker');

  constructor(
    @InjectQueue(RESPONSES_QUEUE) private readonly queue: Queue<ResponseJob>,
    private readonly runner: BackgroundRunner,
    private readonly config: AppConfig,
  ) {}

  onApplicationBootstrap(): void {
    if (!this.config.runsJobs) return;
    void this.queue.process(this.config.backgroundConcurrency, (job: Job<ResponseJob>) => this.handle(job));
    this.logger.log(`processing '${RESPONSES_QUEUE}' jobs, ${this.config.backgroundConcurrency} at a time`);
  }

  private async handle(job: Job<ResponseJob>): Promise<void> {
    const started = Date.now();
    this.logger.debug(`job ${job.id} started`);
    try {
      await this.runner.run(job.data.responseId);
      this.logger.debug(`job ${job.id} ended in ${Date.now() - started} ms`);
    } catch (error) {
      this.logger.error(`job ${job.id} failed after ${Date.now() - started} ms`, error instanceof Error ? error.stack : String(error));
      throw error;
    }
  }

  /** SIGTERM: take no new jobs, let running ones finish within the grace period, hand back the rest. */
  async beforeApplicationShutdown(): Promise<void> {
    if (!this.config.runsJobs) return;
    await this.queue.pause(true, true).catch(() => undefined);
    await this.runner.drain(this.config.shutdownGraceMs);
  }
}
