import { Injectable, Logger } from '@nestjs/common';
import type { ResponseOutputItem } from 'openai/resources/responses/responses';
import { AppConfig } from '../../config/app-config';
import { settleWithin } from '../../common/deadline';
import { isTerminal } from '../../common/response-types';
import { mcpHeadersContext } from '../normalize-request';
import { ModelRegistry } from '../../inference/model-registry';
import { ConversationsService } from '../../conversations/conversations.service';
import { Metrics } from '../../metrics/metrics';
import { ResponsesStore, type StoredResponse } from '../persistence/responses.store';
import { EventSequencer } from '../event-sequencer';
import { ResponseEventLog } from '../events/response-event-log';
import { buildResponse } from '../response-object';
import { ResponseExecutor } from '../response-executor';
import { ClaimLost, RunTimedOut, ShuttingDown } from './abort-reasons';
import { CancelSignals } from './cancel-signals';

/** How often, at most, a running background response saves its progress. */
const PROGRESS_SAVE_MS = 200;

/**
 * Runs one background response, wherever a job lands: claims it (`queued → in_progress`,
 * `attempt + 1`), runs it with an AbortSignal that a cancel, a time limit or a shutdown fires,
 * saves progress (at item boundaries, at most every PROGRESS_SAVE_MS), and ends with the executor's
 * fenced terminal write.
 */
@Injectable()
export class BackgroundRunner {
  private readonly logger = new Logger('BackgroundRunner');
  private readonly active = new Map<string, { controller: AbortController; done: Promise<void> }>();

  constructor(
    private readonly store: ResponsesStore,
    private readonly models: ModelRegistry,
    private readonly executor: ResponseExecutor,
    private readonly events: ResponseEventLog,
    private readonly cancels: CancelSignals,
    private readonly config: AppConfig,
    private readonly metrics: Metrics,
    private readonly conversations: ConversationsService,
  ) {}

  /** Runs the response unless this process runs it already. */
  run(responseId: string): Promise<void> {
    const current = this.active.get(responseId);
    if (current) return current.done;
    const controller = new AbortController();
    const started = Date.now();
    const done = this.execute(responseId, controller)
      .then((outcome) => {
        if (outcome) this.metrics.jobDuration.observe({ outcome }, (Date.now() - started) / 1000);
      })
      .finally(() => this.active.delete(responseId));
    this.active.set(responseId, { controller, done });
    return done;
  }

  /** Waits up to `graceMs` for running responses, then hands the rest back to the queue. */
  async drain(graceMs: number): Promise<void> {
    const all = () => Promise.all([...this.active.values()].map((a) => a.done));
    await settleWithin(all(), graceMs);
    for (const { controller } of this.active.values()) controller.abort(new ShuttingDown());
    await all();
  }

  /** Runs it; returns how the run ended, or nothing when there was nothing to run. */
  private async execute(id: string, controller: AbortController): Promise<string | void> {
    // The claim, in one statement: `queued|in_progress → in_progress`, attempt + 1 (which fences
    // any older run's writes), output emptied (an attempt never continues another's partial
    // output), within the attempt budget. The latest claim wins.
    const claimed = await this.store.updateResponseObject(
      id,
      { status: 'in_progress', attempt: 'next', clearOutput: true },
      { allowedStatuses: ['queued', 'in_progress'], attemptBelow: this.config.backgroundMaxAttempts },
    );
    if (!claimed) {
      // Cancelled, deleted or finished — or out of attempts (its runs kept dying): then it fails.
      const row = await this.store.getById(id);
      if (!row || !row.background || isTerminal(row.status) || row.attempt < this.config.backgroundMaxAttempts) return;
      await this.giveUp(row);
      return 'gave_up';
    }
    const row = claimed;
    const attempt = claimed.attempt;
    this.logger.log({ msg: 'background run started', responseId: id, requestId: row.request.request_id, owner: row.owner, attempt });
    const model = this.models.resolve(row.request.model);
    // The chain ends with this response's own input (its output was reset by the claim).
    const history = await this.store.chainHistory(row.owner, id, this.config.maxChainDepth + 1);
    const own = history && !row.previousResponseId ? history.items : [];
    const conversation = row.request.conversation ? await this.conversations.contextItems(row.owner, row.request.conversation.id).catch(() => null) : [];
    if (!model || !history || !conversation) {
      const reason = !model ? `The model '${row.request.model}' is no longer served here.` : 'Its conversation no longer exists.';
      await this.fail(claimed, attempt, reason);
      return 'failed';
    }
    let mcpHeaders: Record<string, Record<string, string>>;
    try {
      mcpHeaders = this.mcpHeaders(row);
    } catch {
      await this.fail(claimed, attempt, 'Its MCP tool headers cannot be opened: SECRETS_KEY changed, and the key that sealed them is not in SECRETS_KEY_PREVIOUS.');
      return 'failed';
    }
    const untrack = this.cancels.track(id, controller);
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
      const result = await this.executor.execute(
        {
          id,
          createdAt: row.createdAt,
          request: row.request,
          items: [...conversation, ...history.items],
          input: own,
          model,
          owner: row.owner,
          persistence: 'row',
          attempt,
          upstreamStreaming: true,
          mcpHeaders,
          upstreamRetries: this.config.backgroundUpstreamRetries,
        },
        sequencer,
        controller.signal,
        { itemDone },
      );
      clearTimeout(saveTimer);
      await saving;
      if (result.requeue) {
        await this.store.updateResponseObject(
          id,
          { status: 'queued', response: buildResponse(id, row.createdAt, row.request, { status: 'queued' }) },
          { allowedStatuses: ['in_progress'], attempt },
        );
        return 'requeued';
      }
      // Whoever wrote the terminal state ends the stream; a run that lost to a cancel ends it too,
      // since it was the stream's writer until now.
      if (streaming && (result.saved || result.response.status === 'cancelled')) {
        if (!result.saved) this.executor.emitTerminal(result.response, sequencer);
        await this.events.finish(id);
      }
      return result.saved ? result.response.status : 'discarded';
    } finally {
      clearTimeout(timer);
      untrack();
    }
  }

  /** The MCP headers sealed at creation (SECRETS_KEY must be the same on every process). */
  private mcpHeaders(row: StoredResponse): Record<string, Record<string, string>> {
    const sealed = row.request.mcp_headers_sealed;
    const box = this.config.secretBox;
    if (!sealed || !box) return {};
    return JSON.parse(box.open(sealed, mcpHeadersContext(row.owner, row.id))) as Record<string, Record<string, string>>;
  }

  /** Too many attempts (its workers kept dying): failed, with server_error. */
  private async giveUp(row: StoredResponse): Promise<void> {
    this.logger.warn(`response ${row.id} failed after ${row.attempt} attempts`);
    await this.fail(row, row.attempt, `The response could not be completed: its run was interrupted ${row.attempt} times.`);
  }

  private async fail(row: StoredResponse, attempt: number, message: string): Promise<void> {
    const failed = buildResponse(row.id, row.createdAt, row.request, { status: 'failed', error: { code: 'server_error', message } });
    const saved = await this.store.updateResponseObject(row.id, { status: 'failed', response: failed }, { allowedStatuses: ['queued', 'in_progress'], attempt });
    if (saved) this.metrics.responseEnded('failed', true);
    if (saved && row.request.stream) await this.events.end(row.id, failed);
  }
}
