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
 * real API's field order.
 */
export function buildResponse(id: string, createdAt: Date, request: NormalizedRequest, state: ResponseState): ResponseObject {
  return {
    id,
    object: 'response',
    access_programs: null,
    created_at: unixSeconds(createdAt),
    status: state.status,
    background: request.background,
    completed_at: state.status === 'completed' && state.completedAt ? unixSeconds(state.completedAt) : null,
    // Only on responses of a conversation (the field is optional; the captured order lacks it).
    ...(request.conversation ? { conversation: request.conversation } : {}),
    error: (state.error ?? null) as ResponseObject['error'],
    // `max_tool_calls` is ours (an agent stopped by its tool-call bound); the SDK types know two.
    incomplete_details: state.incompleteReason ? ({ reason: state.incompleteReason } as ResponseObject['incomplete_details']) : null,
    instructions: request.instructions ?? null,
    max_output_tokens: request.max_output_tokens ?? null,
    max_tool_calls: request.max_tool_calls ?? null,
    model: request.model,
    output: state.output ?? [],
    parallel_tool_calls: request.parallel_tool_calls ?? true,
    previous_response_id: request.previous_response_id ?? null,
    prompt_cache_key: request.prompt_cache_key ?? null,
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
