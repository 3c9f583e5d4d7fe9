import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { AppConfig } from '../../config/app-config';
import { VectorStoresStore } from '../persistence/vector-stores.store';
import { IngestionQueue } from './ingestion-queue';

/**
 * Postgres is the truth, the queue only transport: every interval, files in progress that no job
 * carries (a lost dispatch, Redis flushed, a run postponed after an upstream failure) are
 * dispatched again; their attempts bound how often.
 */
@Injectable()
export class IngestionReconciler implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('IngestionReconciler');
  private timer?: NodeJS.Timeout;
  private running = false;

  constructor(
    private readonly store: VectorStoresStore,
    private readonly queue: IngestionQueue,
    private readonly config: AppConfig,
  ) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => void this.tick(), this.config.reconcileIntervalMs);
    this.timer.unref();
  }

  async tick(olderThan = new Date(Date.now() - this.config.reconcileIntervalMs)): Promise<number> {
    if (this.running) return 0;
    this.running = true;
    let dispatched = 0;
    try {
      for (const job of await this.store.findUnfinished(olderThan, 500)) {
        if (await this.queue.isLive(job)) continue;
        await this.queue.dispatch(job);
        dispatched++;
      }
      if (dispatched) this.logger.log(`dispatched ${dispatched} unfinished file ingestion(s) again`);
    } catch (error) {
      this.logger.warn(`ingestion reconcile pass failed: ${error instanceof Error ? error.message : String(error)}`);
    } finally {
      this.running = false;
    }
    return dispatched;
  }

  onApplicationShutdown(): void {
    clearInterval(this.timer);
  }
}
