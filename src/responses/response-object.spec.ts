import type { ResponseOutputMessage, ResponseUsage } from 'openai/resources/responses/responses';
import type { NormalizedRequest, ResponseStatus } from '../common/response-types';
import type { CreateResponseDto } from './dto/create-response.dto';
import { normalizeRequest } from './normalize-request';
import { buildResponse } from './response-object';

/**
 * The field order of a Response as captured from the real API (contract §3), with the fields
 * required since (`access_programs` by openai 7.59, the penalties by Open Responses) where the
 * real API puts them: `access_programs` after `object`, the others in alphabetical place.
 */
const CAPTURED_ORDER = [
  'id',
  'object',
  'access_programs',
  'created_at',
  'status',
  'background',
  'completed_at',
  'error',
  'frequency_penalty',
  'incomplete_details',
  'instructions',
  'max_output_tokens',
  'max_tool_calls',
  'model',
  'output',
  'parallel_tool_calls',
  'presence_penalty',
  'previous_response_id',
  'prompt_cache_key',
  'prompt_cache_retention',
  'reasoning',
  'safety_identifier',
  'service_tier',
  'store',
  'temperature',
  'text',
  'tool_choice',
  'tools',
  'top_logprobs',
  'top_p',
  'truncation',
  'usage',
  'user',
  'metadata',
];

const CREATED = new Date('2025-09-27T19:03:51.700Z'); // 1758999831.7
const COMPLETED = new Date('2025-09-27T19:03:53.200Z'); // 1758999833.2

function request(fields: Partial<NormalizedRequest> = {}): NormalizedRequest {
  return { model: 'gpt-test', store: true, background: false, stream: false, ...fields };
}

const message: ResponseOutputMessage = {
  id: 'msg_1',
  type: 'message',
  role: 'assistant',
  status: 'completed',
  content: [{ type: 'output_text', text: 'Hi', annotations: [] }],
};

const usage: ResponseUsage = {
  input_tokens: 69,
  input_tokens_details: { cached_tokens: 0, cache_write_tokens: 0 },
  output_tokens: 24,
  output_tokens_details: { reasoning_tokens: 0 },
  total_tokens: 93,
};

describe('buildResponse', () => {
  it('lists its fields in the order the real API sends them', () => {
    const response = buildResponse('resp_1', CREATED, request(), { status: 'completed', output: [message], usage, completedAt: COMPLETED });
    expect(Object.keys(response)).toEqual(CAPTURED_ORDER);
    // …and that is the order on the wire.
    expect(Object.keys(JSON.parse(JSON.stringify(response)) as object)).toEqual(CAPTURED_ORDER);
  });

  it('keeps the same fields, in the same order, in every state', () => {
    for (const status of ['queued', 'in_progress', 'failed', 'cancelled', 'incomplete'] as const) {
      expect(Object.keys(buildResponse('resp_1', CREATED, request(), { status }))).toEqual(CAPTURED_ORDER);
    }
  });

  it('reports times in whole Unix seconds', () => {
    const response = buildResponse('resp_1', CREATED, request(), { status: 'completed', completedAt: COMPLETED });
    expect(response).toMatchObject({ id: 'resp_1', object: 'response', created_at: 1758999831, completed_at: 1758999833 });
  });

  it.each<ResponseStatus>(['queued', 'in_progress', 'failed', 'cancelled', 'incomplete'])('sets completed_at to null while %s', (status) => {
    expect(buildResponse('resp_1', CREATED, request(), { status, completedAt: COMPLETED }).completed_at).toBeNull();
  });

  it('sets incomplete_details from incompleteReason', () => {
    expect(buildResponse('resp_1', CREATED, request(), { status: 'incomplete', incompleteReason: 'max_output_tokens' }).incomplete_details).toEqual({
      reason: 'max_output_tokens',
    });
    expect(buildResponse('resp_1', CREATED, request(), { status: 'incomplete', incompleteReason: 'content_filter' }).incomplete_details).toEqual({
      reason: 'content_filter',
    });
    expect(buildResponse('resp_1', CREATED, request(), { status: 'completed', incompleteReason: null }).incomplete_details).toBeNull();
    expect(buildResponse('resp_1', CREATED, request(), { status: 'completed' }).incomplete_details).toBeNull();
  });

  it('carries the error of a failed response, and null otherwise', () => {
    const error = { code: 'server_error', message: 'Upstream failed.' };
    expect(buildResponse('resp_1', CREATED, request(), { status: 'failed', error }).error).toEqual(error);
    expect(buildResponse('resp_1', CREATED, request(), { status: 'completed' }).error).toBeNull();
  });

  it("echoes service_tier 'auto' (or unset) as 'default', and other tiers as given", () => {
    expect(buildResponse('resp_1', CREATED, request({ service_tier: 'auto' }), { status: 'completed' }).service_tier).toBe('default');
    expect(buildResponse('resp_1', CREATED, request(), { status: 'completed' }).service_tier).toBe('default');
    expect(buildResponse('resp_1', CREATED, request({ service_tier: 'flex' }), { status: 'completed' }).service_tier).toBe('flex');
  });

  it('has empty output and null usage until there are some', () => {
    const queued = buildResponse('resp_1', CREATED, request({ background: true }), { status: 'queued' });
    expect(queued).toMatchObject({ status: 'queued', background: true, output: [], usage: null, completed_at: null });
  });

  it('carries the output and usage it is given', () => {
    const response = buildResponse('resp_1', CREATED, request(), { status: 'completed', output: [message], usage, completedAt: COMPLETED });
    expect(response.output).toEqual([message]);
    expect(response.usage).toEqual(usage);
  });

  it('echoes the request fields', () => {
    const tools = [{ type: 'function' as const, name: 'f', description: null, parameters: null, strict: true }];
    const response = buildResponse(
      'resp_2',
      CREATED,
      request({
        instructions: 'Be brief.',
        max_output_tokens: 50,
        max_tool_calls: 3,
        parallel_tool_calls: false,
        previous_response_id: 'resp_1',
        prompt_cache_key: 'k',
        prompt_cache_retention: '24h',
        prompt_cache_options: { mode: 'explicit' },
        presence_penalty: 0.5,
        frequency_penalty: -1,
        access_programs: { cyber: 'daybreak_blue' },
        image: { context_compression: 'auto' },
        background_options: { continuation_id: 'c1' },
        reasoning: { effort: 'low', summary: 'auto' },
        safety_identifier: 'sid',
        store: false,
        temperature: 0,
        text: { format: { type: 'json_object' }, verbosity: 'low' },
        tool_choice: 'required',
        tools,
        top_p: 0.5,
        user: 'u',
        metadata: { team: 'search' },
      }),
      { status: 'completed', completedAt: COMPLETED },
    );
    expect(response).toMatchObject({
      model: 'gpt-test',
      instructions: 'Be brief.',
      max_output_tokens: 50,
      max_tool_calls: 3,
      parallel_tool_calls: false,
      previous_response_id: 'resp_1',
      prompt_cache_key: 'k',
      prompt_cache_retention: '24h',
      // The defaults fill what was not sent; `image` is the effective policy (never compressed here).
      prompt_cache_options: { mode: 'explicit', ttl: '30m' },
      presence_penalty: 0.5,
      frequency_penalty: -1,
      access_programs: { cyber: 'daybreak_blue' },
      image: { context_compression: 'disabled' },
      background_options: { completion_window: 'soonest', continuation_id: 'c1' },
      reasoning: { effort: 'low', summary: 'auto' },
      safety_identifier: 'sid',
      store: false,
      temperature: 0,
      text: { format: { type: 'json_object' }, verbosity: 'low' },
      tool_choice: 'required',
      tools,
      top_p: 0.5,
      user: 'u',
      metadata: { team: 'search' },
    });
  });

  it("matches the real API's defaults for a minimal request", () => {
    const minimal: CreateResponseDto = { model: 'gpt-test', input: 'hi' };
    const normalized = normalizeRequest(minimal);
    const response = buildResponse('resp_1', CREATED, normalized, { status: 'completed', completedAt: COMPLETED });
    expect(response).toEqual({
      id: 'resp_1',
      object: 'response',
      access_programs: null,
      created_at: 1758999831,
      status: 'completed',
      background: false,
      completed_at: 1758999833,
      error: null,
      frequency_penalty: 0,
      incomplete_details: null,
      instructions: null,
      max_output_tokens: null,
      max_tool_calls: null,
      model: 'gpt-test',
      output: [],
      parallel_tool_calls: true,
      presence_penalty: 0,
      previous_response_id: null,
      prompt_cache_key: null,
      prompt_cache_retention: null,
      reasoning: { effort: null, summary: null },
      safety_identifier: null,
      service_tier: 'default',
      store: true,
      temperature: 1,
      text: { format: { type: 'text' }, verbosity: 'medium' },
      tool_choice: 'auto',
      tools: [],
      top_logprobs: 0,
      top_p: 1,
      truncation: 'disabled',
      usage: null,
      user: null,
      metadata: {},
    });
  });
});
