import { Injectable, Logger } from '@nestjs/common';
import { AgentOutcome, AgentRunner } from '../agents/agent-runner';
import { NO_USAGE } from '../agents/usage';
import type { ResponseObject } from '../common/response-types';
import { UpstreamError } from '../inference/upstream-error';
import type { EventSequencer } from './event-sequencer';
import { ClaimLost, RunTimedOut, ShuttingDown } from './background/abort-reasons';
import type { Execution, ExecutionHooks } from './lifecycle/execution';
import { ResponseLifecycle } from './lifecycle/response-lifecycle';
import { buildResponse, ResponseState } from './response-object';

export type { Execution, ExecutionHooks } from './lifecycle/execution';

export interface ExecutionResult {
  /** What was saved, or — when another writer won — what that writer left (its own if deleted). */
  response: ResponseObject;
  outcome: AgentOutcome;
  /** False when another writer (a cancel, a delete, a retry) won and this result was discarded. */
  saved: boolean;
  /** Stopped by a shutdown: nothing was written; the run goes back to the queue. */
  requeue: boolean;
}

/** What a run's outcome writes. The abort reason decides an aborted one: a time limit fails it, a cancel cancels it. */
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
 * Runs an execution from `in_progress` to its end: the `response.in_progress` event, the agent
 * loop, then the lifecycle's `end()`. Shared by synchronous requests and background workers.
 */
@Injectable()
export class ResponseExecutor {
  private readonly logger = new Logger('ResponseExecutor');

  constructor(
    private readonly agent: AgentRunner,
    private readonly lifecycle: ResponseLifecycle,
  ) {}

  async execute(run: Execution, events: EventSequencer, signal: AbortSignal, hooks: ExecutionHooks = {}): Promise<ExecutionResult> {
    const { id, createdAt, request } = run;
    events.emit({ type: 'response.in_progress', response: buildResponse(id, createdAt, request, { status: 'in_progress' }) });
    let outcome: AgentOutcome;
    try {
      const sink = { emit: (e: Parameters<EventSequencer['emit']>[0]) => events.emit(e), itemDone: hooks.itemDone };
      // `generate: false` prepares state only: the input is stored, the model is not asked.
      outcome =
        request.generate === false
          ? { status: 'completed', output: [], usage: NO_USAGE }
          : await this.agent.run(
              {
                request,
                items: run.items,
                model: run.model,
                streaming: run.upstreamStreaming,
                mcpHeaders: run.mcpHeaders,
                upstreamRetries: run.upstreamRetries,
                tenant: run.owner,
              },
              signal,
              sink,
            );
    } catch (error) {
      // A bug of ours, not the upstream's: the response still ends, as failed.
      this.logger.error(`response ${id} failed unexpectedly`, error instanceof Error ? error.stack : String(error));
      outcome = {
        status: 'failed',
        output: [],
        usage: null,
        error: new UpstreamError(500, 'server_error', 'server_error', 'The server had an error while processing your request.'),
      };
    }
    if (outcome.status === 'aborted' && (signal.reason instanceof ShuttingDown || signal.reason instanceof ClaimLost)) {
      // Not this run's to end: a shutdown hands it back, a lost claim belongs to someone else.
      return {
        response: buildResponse(id, createdAt, request, { status: 'in_progress' }),
        outcome,
        saved: false,
        requeue: signal.reason instanceof ShuttingDown,
      };
    }
    const completedAt = new Date();
    const response = buildResponse(id, createdAt, request, stateOf(outcome, completedAt, signal.reason));
    const ended = await this.lifecycle.end({
      run,
      outcome: { response, completedAt: response.status === 'completed' ? completedAt : null },
      from: ['in_progress'],
      attempt: run.attempt,
      events,
    });
    return { response: ended.response ?? response, outcome, saved: ended.saved, requeue: false };
  }
}
