import { Injectable } from '@nestjs/common';
import type { ChatCompletion } from 'openai/resources/chat/completions';
import type { CompletionUsage } from 'openai/resources/completions';
import type { ResponseOutputItem, ResponseUsage } from 'openai/resources/responses/responses';
import type { NormalizedRequest, StoredItem, UnsequencedEvent } from '../common/response-types';
import { toChatRequest } from '../inference/chat-request';
import type { ResolvedModel } from '../inference/model-registry';
import { isAbort, UpstreamError } from '../inference/upstream-error';
import { Metrics } from '../metrics/metrics';
import { OutputBuilder } from './output-builder';

/** What the agent needs for one response: its parameters, its full history and the model. */
export interface AgentTurn {
  request: NormalizedRequest;
  /** The `previous_response_id` chain's items followed by this request's input. */
  items: StoredItem[];
  model: ResolvedModel;
  /** Stream from upstream (someone watches the events) or ask for one whole reply. */
  streaming: boolean;
}

export interface AgentSink {
  emit(event: UnsequencedEvent): void;
  /** Each time an output item is complete. */
  itemDone?: (output: ResponseOutputItem[]) => void;
}

export type AgentOutcome =
  | { status: 'completed'; output: ResponseOutputItem[]; usage: ResponseUsage | null }
  | { status: 'incomplete'; output: ResponseOutputItem[]; usage: ResponseUsage | null; reason: 'max_output_tokens' | 'content_filter' }
  | { status: 'failed'; output: ResponseOutputItem[]; usage: ResponseUsage | null; error: UpstreamError }
  | { status: 'aborted'; output: ResponseOutputItem[]; usage: ResponseUsage | null };

function toUsage(usage: CompletionUsage | null | undefined): ResponseUsage | null {
  if (!usage) return null;
  return {
    input_tokens: usage.prompt_tokens,
    // Chat Completions reports no cache writes; the 6.49 types require the field.
    input_tokens_details: { cached_tokens: usage.prompt_tokens_details?.cached_tokens ?? 0, cache_write_tokens: 0 },
    output_tokens: usage.completion_tokens,
    output_tokens_details: { reasoning_tokens: usage.completion_tokens_details?.reasoning_tokens ?? 0 },
    total_tokens: usage.total_tokens,
  };
}

/**
 * The agent loop: turns a request and its history into upstream Chat Completions calls and the
 * Responses output and events. Knows nothing of HTTP, queues or SQL. Client-side function calls
 * end the turn (the client answers with `function_call_output` in its next request).
 * It never throws for upstream trouble: the outcome says what happened.
 */
@Injectable()
export class AgentRunner {
  constructor(private readonly metrics: Metrics) {}

  async run(turn: AgentTurn, signal: AbortSignal, sink: AgentSink): Promise<AgentOutcome> {
    const started = performance.now();
    const outcome = await this.call(turn, signal, sink);
    const provider = turn.model.backend.name;
    this.metrics.upstreamDuration.observe({ provider, outcome: outcome.status }, (performance.now() - started) / 1000);
    if (outcome.status === 'failed') this.metrics.upstreamErrors.inc({ provider, status: String(outcome.error.httpStatus) });
    return outcome;
  }

  private async call(turn: AgentTurn, signal: AbortSignal, sink: AgentSink): Promise<AgentOutcome> {
    const builder = new OutputBuilder(
      (e) => sink.emit(e),
      (output) => sink.itemDone?.(output),
    );
    let usage: ResponseUsage | null = null;
    try {
      const params = toChatRequest(turn.request, turn.items, turn.model);
      let finish: string | null = null;
      if (turn.streaming) {
        const chunks = turn.model.backend.stream({ ...params, stream: true, stream_options: { include_usage: true } }, signal);
        for await (const chunk of chunks) {
          builder.chunk(chunk);
          finish = chunk.choices?.[0]?.finish_reason ?? finish;
          if (chunk.usage) usage = toUsage(chunk.usage);
        }
      } else {
        const completion = await turn.model.backend.complete({ ...params, stream: false }, signal);
        this.replay(completion, builder);
        finish = completion.choices[0]?.finish_reason ?? null;
        usage = toUsage(completion.usage);
      }
      if (finish === 'length' || finish === 'content_filter') {
        builder.finish('incomplete');
        return { status: 'incomplete', output: builder.output, usage, reason: finish === 'length' ? 'max_output_tokens' : 'content_filter' };
      }
      builder.finish('completed');
      return { status: 'completed', output: builder.output, usage };
    } catch (error) {
      if (signal.aborted || isAbort(error)) return { status: 'aborted', output: builder.snapshot(), usage };
      if (error instanceof UpstreamError) return { status: 'failed', output: builder.snapshot(), usage, error };
      throw error; // a bug of ours: let the caller's error handling log it
    }
  }

  /** A whole reply goes through the same builder as a stream, as one delta per part. */
  private replay(completion: ChatCompletion, builder: OutputBuilder): void {
    const message = completion.choices[0]?.message as (ChatCompletion.Choice['message'] & { reasoning_content?: string | null; reasoning?: string | null }) | undefined;
    if (!message) return;
    const reasoning = message.reasoning_content ?? message.reasoning;
    if (reasoning) builder.reasoning(reasoning);
    if (message.refusal) builder.text(message.refusal, 'refusal');
    if (message.content) builder.text(message.content);
    (message.tool_calls ?? []).forEach((call, index) => {
      if (call.type !== 'function') return;
      builder.toolCall({ index, id: call.id, type: 'function', function: { name: call.function.name, arguments: call.function.arguments } });
    });
  }
}

