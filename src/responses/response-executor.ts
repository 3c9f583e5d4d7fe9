import { Injectable, Logger } from '@nestjs/common';
import { AgentOutcome, AgentRunner } from '../agents/agent-runner';
import type { ResponseOutputItem } from 'openai/resources/responses/responses';
import type { NormalizedRequest, ResponseObject, StoredItem } from '../common/response-types';
import type { ResolvedModel } from '../inference/model-registry';
import { UpstreamError } from '../inference/upstream-error';
import { ConversationsService } from '../conversations/conversations.service';
import { Metrics } from '../metrics/metrics';
import { ResponsesStore } from './persistence/responses.store';
import { terminalEvent, type EventSequencer } from './event-sequencer';
import { ClaimLost, RunTimedOut, ShuttingDown } from './background/abort-reasons';
import { buildResponse, ResponseState } from './response-object';

/** A response ready to run: its identity, parameters, full history and model. */
export interface Execution {
  id: string;
  createdAt: Date;
  request: NormalizedRequest;
  /** History (the previous_response_id chain, or the conversation) followed by this request's input. */
  items: StoredItem[];
  /** This request's own input items (appended to its conversation when it completes). */
  input: StoredItem[];
  model: ResolvedModel;
  /** The owner's tenant. */
  owner: string;
  /**
   * How it is stored: `row` — a row exists (in_progress), the end is a conditional update; `at-end`
   * — one INSERT of the finished response (a non-streaming synchronous one: nobody knows its id
   * before it ends, so nothing can read, cancel or delete it meanwhile); `none` — `store: false`.
   */
  persistence: 'row' | 'at-end' | 'none';
  /** The INSERT of a `row` response, when still in flight: its terminal write waits for it. */
  stored?: Promise<void>;
  /** The attempt that fences the final write. */
  attempt: number;
  /** Ask the upstream for a stream (someone follows the events, or progress is saved per item). */
  upstreamStreaming: boolean;
  /** Secret headers of the MCP servers, by label (in memory only). */
  mcpHeaders?: Record<string, Record<string, string>>;
  /** Upstream retries before any output; default: the provider's. */
  upstreamRetries?: number;
}

export interface ExecutionHooks {
  /** Each time an output item is complete. */
  itemDone?: (output: ResponseOutputItem[]) => void;
}

export interface ExecutionResult {
  /** What was saved, or — when another writer won — what that writer left (null if deleted). */
  response: ResponseObject;
  outcome: AgentOutcome;
  /** False when another writer (a cancel, a delete, a retry) won and this result was discarded. */
  saved: boolean;
  /** Stopped by a shutdown: nothing was written; the run goes back to the queue. */
  requeue: boolean;
}

function stateOf(outcome: AgentOutcome, completedAt: Date, abortReason: unknown): ResponseState {
  switch (outcome.status) {
    case 'completed':
      return { status: 'completed', output: outcome.output, usage: outcome.usage, completedAt };
    case 'incomplete':
      return { status: 'incomplete', output: outcome.output, usage: outcome.usage, incompleteReason: outcome.reason };
    case 'failed':
      return { status: 'failed', output: outcome.output, usage: outcome.usage, error: { code: outcome.error.code, message: outcome.error.message } };
    case 'aborted':
      if (abortReason instanceof RunTimedOut) {
        return { status: 'failed', output: outcome.output, usage: outcome.usage, error: { code: 'server_error', message: abortReason.message } };
      }
      return { status: 'cancelled', output: outcome.output, usage: outcome.usage };
  }
}

/**
 * Runs a response from `in_progress` to its terminal state: the `response.in_progress` event,
 * the agent loop, the conditional terminal write, and — when that write won — the terminal
 * event. Shared by synchronous requests and background workers.
 */
@Injectable()
export class ResponseExecutor {
  private readonly logger = new Logger('ResponseExecutor');

  constructor(
    private readonly agent: AgentRunner,
    private readonly store: ResponsesStore,
    private readonly metrics: Metrics,
    private readonly conversations: ConversationsService,
  ) {}

  async execute(run: Execution, events: EventSequencer, signal: AbortSignal, hooks: ExecutionHooks = {}): Promise<ExecutionResult> {
    const { id, createdAt, request } = run;
    events.emit({ type: 'response.in_progress', response: buildResponse(id, createdAt, request, { status: 'in_progress' }) });
    let outcome: AgentOutcome;
    try {
      const sink = { emit: (e: Parameters<EventSequencer['emit']>[0]) => events.emit(e), itemDone: hooks.itemDone };
      outcome = await this.agent.run({ request, items: run.items, model: run.model, streaming: run.upstreamStreaming, mcpHeaders: run.mcpHeaders, upstreamRetries: run.upstreamRetries }, signal, sink);
    } catch (error) {
      // A bug of ours, not the upstream's: the response still ends, as failed.
      this.logger.error(`response ${id} failed unexpectedly`, error instanceof Error ? error.stack : String(error));
      outcome = { status: 'failed', output: [], usage: null, error: new UpstreamError(500, 'server_error', 'server_error', 'The server had an error while processing your request.') };
    }
    if (outcome.status === 'aborted' && (signal.reason instanceof ShuttingDown || signal.reason instanceof ClaimLost)) {
      // Not this run's to end: a shutdown hands it back, a lost claim belongs to someone else.
      return { response: buildResponse(id, createdAt, request, { status: 'in_progress' }), outcome, saved: false, requeue: signal.reason instanceof ShuttingDown };
    }
    const completedAt = new Date();
    let response = buildResponse(id, createdAt, request, stateOf(outcome, completedAt, signal.reason));
    let saved = true;
    if (run.persistence === 'at-end') {
      await this.store.create({
        id,
        owner: run.owner,
        status: response.status!,
        background: false,
        model: request.model,
        previousResponseId: request.previous_response_id ?? null,
        attempt: run.attempt,
        request,
        response,
        createdAt,
        completedAt: response.status === 'completed' ? completedAt : null,
        inputItems: run.input,
      });
    } else if (run.persistence === 'row') {
      await run.stored;
      const stored = await this.store.updateResponseObject(
        id,
        { status: response.status, response, completedAt: response.status === 'completed' ? completedAt : null },
        { allowedStatuses: ['in_progress'], attempt: run.attempt },
      );
      if (!stored) {
        saved = false;
        // Another writer decided this response's fate; what it wrote is the truth, if it still exists.
        const current = await this.store.getById(id);
        if (current) response = current.response;
      }
    }
    if (saved) {
      this.metrics.responseEnded(response.status ?? 'unknown', request.background);
      await this.appendToConversation(run, response);
      this.emitTerminal(response, events);
    }
    return { response, outcome, saved, requeue: false };
  }

  /** A response on a conversation adds its input and output to it once it completed (or ran out of tokens). */
  private async appendToConversation(run: Execution, response: ResponseObject): Promise<void> {
    const conversation = run.request.conversation;
    if (!conversation || (response.status !== 'completed' && response.status !== 'incomplete')) return;
    try {
      await this.conversations.append(conversation.id, [...run.input, ...(response.output as StoredItem[])]);
    } catch (error) {
      // The response stands; the conversation just misses this turn (deleted meanwhile, say).
      this.logger.warn(`response ${run.id}: not appended to ${conversation.id}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  /** The terminal event (see terminalEvent). */
  emitTerminal(response: ResponseObject, events: EventSequencer): void {
    events.emit(terminalEvent(response));
  }
}
