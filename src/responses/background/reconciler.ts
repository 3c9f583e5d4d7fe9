import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { AppConfig } from '../../config/app-config';
import { Metrics } from '../../metrics/metrics';
import { ResponsesStore } from '../persistence/responses.store';
import { storedIdentity } from '../lifecycle/execution-factory';
import { ResponseLifecycle } from '../lifecycle/response-lifecycle';
import { buildResponse } from '../response-object';
import { ResponseDispatcher } from './response-dispatcher';

/**
 * Postgres is the truth and the queue only transport: every interval, unfinished background
 * responses that no job carries (Redis flushed or restarted, a dispatch lost, a job that died
 * for good) are dispatched again. A stale run is fenced out by its attempt number, and a response
 * whose runs keep dying fails after BACKGROUND_MAX_ATTEMPTS, so nothing stays queued forever.
 */
@Injectable()
export class Reconciler implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('Reconciler');
  private timer?: NodeJS.Timeout;
  private running = false;
  private bootedAt?: Date;
  private bootSweepDone = false;

  constructor(
    private readonly store: ResponsesStore,
    private readonly dispatcher: ResponseDispatcher,
    private readonly lifecycle: ResponseLifecycle,
    private readonly config: AppConfig,
    metrics: Metrics,
  ) {
    metrics.setQueueDepths(() => this.store.queueDepths());
  }

  onApplicationBootstrap(): void {
    // In the embedded default this process is the only runner: whatever is unfinished at start
    // was left by a previous run of it.
    this.bootedAt = new Date();
    void this.tick(this.config.redisUrl ? undefined : this.bootedAt);
    this.timer = setInterval(() => void this.tick(), this.config.reconcileIntervalMs);
    this.timer.unref();
  }

  /** One pass; returns how many responses were dispatched again. */
  async tick(olderThan = new Date(Date.now() - this.config.reconcileIntervalMs)): Promise<number> {
    if (this.running) return 0;
    this.running = true;
    let redispatched = 0;
    try {
      await this.sweepWindows();
      const unfinished = await this.store.findUnfinishedBackground(olderThan, 500);
      // A job runs whichever queued response is next in the fair order, not necessarily the one
      // it was queued for (docs/background.md#scheduling): a queued response needs a job waiting,
      // not its own. So jobs are added only for as many as the waiting ones do not cover.
      let uncovered = unfinished.some((r) => r.status === 'queued') ? (await this.store.countQueuedBackground()) - (await this.dispatcher.counts()).waiting : 0;
      for (const run of unfinished) {
        // In progress: the job that claimed it resumes it, if its worker died.
        const job = run.status === 'in_progress' ? (run.runToken ?? run.id) : run.id;
        if (run.status === 'queued' && uncovered <= 0) continue;
        if (await this.dispatcher.isLive(job)) continue;
        await this.dispatcher.dispatch(job);
        if (run.status === 'queued') uncovered--;
        redispatched++;
      }
      if (redispatched) this.logger.log(`dispatched ${redispatched} unfinished background response(s) again`);
      await this.failAbandonedSynchronous();
    } catch (error) {
      this.logger.warn(`reconcile pass failed: ${error instanceof Error ? error.message : String(error)}`);
    } finally {
      this.running = false;
    }
    return redispatched;
  }

  /**
   * Completion windows (docs/background.md#scheduling): a windowed response whose latest start
   * has come goes ahead of `soonest` work; one still queued at the end of its window will not
   * finish in it, and fails rather than run late. Its code is `rate_limit_exceeded` (the server
   * had no capacity for it; retry later): the SDK's error codes are a closed list without a better
   * one, and OpenAI does not say how a missed window ends.
   */
  private async sweepWindows(): Promise<void> {
    const promoted = await this.store.promoteDueWindows();
    if (promoted) this.logger.log(`${promoted} windowed response(s) due to start: ahead of soonest work now`);
    for (const id of await this.store.findExpiredWindows(100)) {
      const row = await this.store.getById(id);
      if (!row) continue;
      const window = row.request.background_options?.completion_window;
      const failed = buildResponse(row.id, row.createdAt, row.request, {
        status: 'failed',
        error: {
          code: 'rate_limit_exceeded',
          message: `The response could not be started within its ${window} completion window: the server had no capacity for it. Try again later.`,
        },
      });
      const ended = await this.lifecycle.end({
        run: storedIdentity(row),
        outcome: { response: failed },
        from: ['queued'],
        attempt: row.attempt,
        events: 'log',
      });
      if (ended.saved) await this.dispatcher.withdraw(id).catch(() => undefined);
    }
  }

  /**
   * A synchronous response runs inside its HTTP request; if its process died, nothing will end
   * it. Past twice the upstream timeout it cannot still be running: it is failed. In the embedded
   * default, whatever was in progress before this process started is abandoned at once.
   */
  private async failAbandonedSynchronous(): Promise<void> {
    const cutoff = this.bootedAt && !this.config.redisUrl && !this.bootSweepDone ? this.bootedAt : new Date(Date.now() - 2 * this.config.inferenceTimeoutMs);
    this.bootSweepDone = true;
    const failed = await this.lifecycle.endAbandonedSynchronous(cutoff, {
      code: 'server_error',
      message: 'The response was interrupted: the server process handling it stopped.',
    });
    if (failed) this.logger.warn(`failed ${failed} abandoned synchronous response(s)`);
  }

  onApplicationShutdown(): void {
    clearInterval(this.timer);
  }
}
