import { Injectable, Logger } from '@nestjs/common';
import type { ResponseOutputItem } from 'openai/resources/responses/responses';
import { AppConfig } from '../../config/app-config';
import { Metrics } from '../../metrics/metrics';
import { ResponsesStore, type StoredResponse } from '../persistence/responses.store';
import { EventSequencer } from '../event-sequencer';
import { ResponseEventLog } from '../events/response-event-log';
import { ExecutionFactory, storedIdentity } from '../lifecycle/execution-factory';
import { ResponseLifecycle } from '../lifecycle/response-lifecycle';
import { RunRegistry } from '../lifecycle/run-registry';
import { buildResponse } from '../response-object';
import { ResponseExecutor } from '../response-executor';
import { newId } from '../../common/ids';
import { ModelRegistry } from '../../inference/model-registry';
import { ResponseDispatcher } from './response-dispatcher';
import { ClaimLost, RunTimedOut } from './abort-reasons';

/** How often, at most, a running background response saves its progress. */
const PROGRESS_SAVE_MS = 200;

/**
 * Runs one background response, wherever a job lands: claims it (`queued → in_progress`,
 * `attempt + 1`), runs it in this process's RunRegistry (whose AbortController a cancel, a time
 * limit or a shutdown fires), saves progress (at item boundaries, at most every PROGRESS_SAVE_MS),
 * and ends through the lifecycle.
 */
@Injectable()
export class BackgroundRunner {
  private readonly logger = new Logger('BackgroundRunner');

  constructor(
    private readonly store: ResponsesStore,
    private readonly executions: ExecutionFactory,
    private readonly executor: ResponseExecutor,
    private readonly lifecycle: ResponseLifecycle,
    private readonly runs: RunRegistry,
    private readonly events: ResponseEventLog,
    private readonly config: AppConfig,
    private readonly metrics: Metrics,
    private readonly models: ModelRegistry,
    private readonly dispatcher: ResponseDispatcher,
  ) {}

  /**
   * Runs what job `token` stands for: the response it claimed before, when its worker died and
   * the job runs again; otherwise the next queued response in the fair order
   * (docs/background.md#scheduling), which need not be the one the job was queued for — every
   * queued response has a job, and every job claims at most one.
   */
  async run(token: string): Promise<void> {
    const claimed = await this.claim(token);
    if (!claimed) return;
    const started = Date.now();
    await this.runs.start(claimed.id, async (controller) => {
      const outcome = await this.execute(claimed, controller);
      if (outcome) this.metrics.jobDuration.observe({ outcome }, (Date.now() - started) / 1000);
    });
    // A model at its concurrency limit had its queued responses passed over, and the jobs that
    // passed them ran others or nothing: a slot of it is free now, so one more job goes in (a
    // spare one is a no-op).
    if (this.models.concurrencyLimits().has(claimed.model)) await this.dispatcher.dispatch(newId('job')).catch(() => undefined);
  }

  /** Waits up to `graceMs` for running responses, then hands the rest back to the queue. */
  drain(graceMs: number): Promise<void> {
    return this.runs.drain(graceMs);
  }

  /**
   * The claim, in one statement: `→ in_progress`, attempt + 1 (which fences any older run's
   * writes), output emptied (an attempt never continues another's partial output), within the
   * attempt budget. The latest claim wins.
   */
  private async claim(token: string): Promise<StoredResponse | null> {
    const max = this.config.backgroundMaxAttempts;
    const resumed = await this.store.findRunOf(token);
    // This process runs it already (a job that Bull thought stalled): nothing to resume.
    if (resumed && this.runs.has(resumed)) return null;
    if (resumed) {
      const claimed = await this.store.updateResponseObject(
        resumed,
        { status: 'in_progress', attempt: 'next', clearOutput: true },
        { allowedStatuses: ['in_progress'], attemptBelow: max },
      );
      if (claimed) return claimed;
      // Cancelled or finished meanwhile — or out of attempts (its runs kept dying): then it fails.
      const row = await this.store.getById(resumed);
      if (row?.background && row.status === 'in_progress' && row.attempt >= max) {
        this.logger.warn(`response ${row.id} failed after ${row.attempt} attempts`);
        await this.fail(row, `The response could not be completed: its run was interrupted ${row.attempt} times.`);
        this.metrics.jobDuration.observe({ outcome: 'gave_up' }, 0);
      }
    }
    return this.store.claimNext(token, max, await this.saturatedModels());
  }

  /** The models whose `maxConcurrency` their in-progress responses reach: their queued ones wait. */
  private async saturatedModels(): Promise<string[]> {
    const limits = this.models.concurrencyLimits();
    if (!limits.size) return [];
    const running = await this.store.runningByModel([...limits.keys()]);
    return [...limits].filter(([model, limit]) => (running.get(model) ?? 0) >= limit).map(([model]) => model);
  }

  /** Runs a claimed response; returns how the run ended. */
  private async execute(claimed: StoredResponse, controller: AbortController): Promise<string | undefined> {
    const { id, attempt } = claimed;
    const row = claimed;
    this.logger.log({ msg: 'background run started', responseId: id, requestId: row.request.request_id, owner: row.owner, attempt });
    const execution = await this.executions.forClaim(claimed);
    if ('cannotRun' in execution) {
      await this.fail(claimed, execution.cannotRun);
      return 'failed';
    }
    const limit = this.config.backgroundTimeoutMs;
    const timer = limit > 0 ? setTimeout(() => controller.abort(new RunTimedOut(limit)), limit) : undefined;
    try {
      const streaming = row.request.stream;
      const sequencer = new EventSequencer(streaming ? (e) => this.events.append(id, e) : null, streaming ? (await this.events.lastSequence(id)) + 1 : 0);
      // Progress (the output so far) is saved at item boundaries, at most every PROGRESS_SAVE_MS:
      // a short response ends before its first save, and its terminal write is its only one.
      let saving: Promise<unknown> = Promise.resolve();
      let pending: ResponseOutputItem[] | undefined;
      let saveTimer: NodeJS.Timeout | undefined;
      const save = () => {
        saveTimer = undefined;
        const output = pending;
        pending = undefined;
        if (!output) return;
        const partial = buildResponse(id, row.createdAt, row.request, { status: 'in_progress', output });
        saving = saving
          .then(() => this.store.updateResponseObject(id, { response: partial }, { allowedStatuses: ['in_progress'], attempt }))
          .then((saved) => saved || controller.abort(new ClaimLost()))
          .catch((error: unknown) => this.logger.warn(`progress of ${id} not saved: ${String(error)}`));
      };
      const itemDone = (output: ResponseOutputItem[]) => {
        pending = structuredClone(output);
        saveTimer ??= setTimeout(save, PROGRESS_SAVE_MS);
      };
      const result = await this.executor.execute(execution, sequencer, controller.signal, { itemDone });
      clearTimeout(saveTimer);
      await saving;
      if (result.requeue) {
        // Out of attempts: no later claim could take it (the claim is within the budget).
        if (attempt >= this.config.backgroundMaxAttempts) {
          await this.fail(row, `The response could not be completed: its run was interrupted ${attempt} times.`);
          return 'gave_up';
        }
        // Not an end: a shutdown hands the run back to the queue.
        await this.store.updateResponseObject(
          id,
          { status: 'queued', response: buildResponse(id, row.createdAt, row.request, { status: 'queued' }) },
          { allowedStatuses: ['in_progress'], attempt },
        );
        return 'requeued';
      }
      return result.saved ? result.response.status : 'discarded';
    } finally {
      clearTimeout(timer);
    }
  }

  /** Fails a response this run cannot carry on (server_error), unless someone else ended it first. */
  private async fail(row: StoredResponse, message: string): Promise<void> {
    const failed = buildResponse(row.id, row.createdAt, row.request, { status: 'failed', error: { code: 'server_error', message } });
    await this.lifecycle.end({ run: storedIdentity(row), outcome: { response: failed }, from: ['queued', 'in_progress'], attempt: row.attempt, events: 'log' });
  }
}
