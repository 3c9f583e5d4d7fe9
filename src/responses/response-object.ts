import type { ResponseOutputItem, ResponseUsage } from 'openai/resources/responses/responses';
import type { IncompleteReason } from '../agents/agent-runner';
import { unixSeconds } from '../common/ids';
import type { NormalizedRequest, ResponseObject, ResponseStatus } from '../common/response-types';

export interface ResponseState {
  status: ResponseStatus;
  output?: ResponseOutputItem[];
  usage?: ResponseUsage | null;
  error?: { code: string; message: string } | null;
  incompleteReason?: IncompleteReason | null;
  completedAt?: Date | null;
}

/**
 * The Response object for a request in a given state, with every request field echoed, in the
 * real API's field order. `image` is the effective policy: this server never compresses image
 * context, so `auto` resolves to `disabled` (`enabled` is refused at create).
 */
export function buildResponse(id: string, createdAt: Date, request: NormalizedRequest, state: ResponseState): ResponseObject {
  return {
    id,
    object: 'response',
    // Null is OpenAI's "implicit standard": what a request that chose no program gets.
    access_programs: request.access_programs?.cyber ? { cyber: request.access_programs.cyber } : null,
    created_at: unixSeconds(createdAt),
    status: state.status,
    background: request.background,
    // Not in the SDK's Response type (nor scheduled here yet): echoed so a client sees what it asked for.
    ...(request.background_options ? { background_options: { completion_window: 'soonest', ...request.background_options } } : {}),
    completed_at: state.status === 'completed' && state.completedAt ? unixSeconds(state.completedAt) : null,
    // Only on responses of a conversation (the field is optional; the captured order lacks it).
    ...(request.conversation ? { conversation: request.conversation } : {}),
    error: (state.error ?? null) as ResponseObject['error'],
    // Required by Open Responses; 0 (the upstream's default) when not sent, and on requests stored before these existed.
    frequency_penalty: request.frequency_penalty ?? 0,
    // `max_tool_calls` is ours (an agent stopped by its tool-call bound); the SDK types know two.
    ...(request.image ? { image: { context_compression: 'disabled' } } : {}),
    incomplete_details: state.incompleteReason ? ({ reason: state.incompleteReason } as ResponseObject['incomplete_details']) : null,
    instructions: request.instructions ?? null,
    max_output_tokens: request.max_output_tokens ?? null,
    max_tool_calls: request.max_tool_calls ?? null,
    model: request.model,
    output: state.output ?? [],
    parallel_tool_calls: request.parallel_tool_calls ?? true,
    presence_penalty: request.presence_penalty ?? 0,
    previous_response_id: request.previous_response_id ?? null,
    prompt_cache_key: request.prompt_cache_key ?? null,
    ...(request.prompt_cache_options ? { prompt_cache_options: { mode: 'implicit', ttl: '30m', ...request.prompt_cache_options } } : {}),
    prompt_cache_retention: request.prompt_cache_retention ?? null,
    reasoning: request.reasoning ?? { effort: null, summary: null },
    safety_identifier: request.safety_identifier ?? null,
    service_tier: request.service_tier === 'auto' || !request.service_tier ? 'default' : request.service_tier,
    store: request.store,
    temperature: request.temperature ?? 1,
    text: { format: request.text?.format ?? { type: 'text' }, verbosity: request.text?.verbosity ?? 'medium' },
    tool_choice: request.tool_choice ?? 'auto',
    tools: request.tools ?? [],
    top_logprobs: request.top_logprobs ?? 0,
    top_p: request.top_p ?? 1,
    truncation: request.truncation ?? 'disabled',
    usage: state.usage ?? null,
    user: request.user ?? null,
    metadata: request.metadata ?? {},
  } as ResponseObject;
}
