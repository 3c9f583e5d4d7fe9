import { BeforeApplicationShutdown, Injectable, Logger } from '@nestjs/common';
import { AppConfig } from '../../config/app-config';
import { Metrics } from '../../metrics/metrics';
import { RunRegistry } from '../lifecycle/run-registry';
import { BackgroundRunner } from './background-runner';
import { ResponseDispatcher } from './response-dispatcher';

/**
 * The embedded default (no Redis): runs background responses in this process with bounded
 * concurrency. What is unfinished when the process stops is picked up again at the next start
 * by the reconciler, from the database.
 */
@Injectable()
export class InlineDispatcher extends ResponseDispatcher implements BeforeApplicationShutdown {
  private readonly logger = new Logger('InlineDispatcher');
  private readonly pending: string[] = [];
  private stopping = false;

  constructor(
    private readonly runner: BackgroundRunner,
    /** What runs: in the embedded default, only what this dispatcher started. */
    private readonly runs: RunRegistry,
    private readonly config: AppConfig,
    metrics: Metrics,
  ) {
    super();
    metrics.setQueueCounts(() => this.counts());
  }

  counts(): Promise<{ waiting: number; active: number }> {
    return Promise.resolve({ waiting: this.pending.length, active: this.runs.size });
  }

  dispatch(responseId: string): Promise<void> {
    if (!this.runs.has(responseId) && !this.pending.includes(responseId)) {
      this.pending.push(responseId);
      this.pump();
    }
    return Promise.resolve();
  }

  withdraw(responseId: string): Promise<void> {
    const index = this.pending.indexOf(responseId);
    if (index >= 0) this.pending.splice(index, 1);
    return Promise.resolve();
  }

  isLive(responseId: string): Promise<boolean> {
    return Promise.resolve(this.runs.has(responseId) || this.pending.includes(responseId));
  }

  private pump(): void {
    while (!this.stopping && this.runs.size < this.config.backgroundConcurrency && this.pending.length) {
      const id = this.pending.shift()!;
      this.runner
        .run(id)
        .catch((error: unknown) => this.logger.error(`run ${id} failed`, error instanceof Error ? error.stack : String(error)))
        .finally(() => this.pump());
    }
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.stopping = true;
    await this.runs.drain(this.config.shutdownGraceMs);
  }
}
