import {
  applyPatchOutput,
  applyPatchTool,
  clientMetadata,
  execCommandTool,
  execOutput,
  multiAgentNamespace,
  namespacedOutput,
  toolSearchOutput,
  toolSearchTool,
  webSearchTool,
} from '../support/codex-shapes';
import { useE2e } from '../support/e2e';

const MODEL = 'upstream-model';
const PATCH = '*** Begin Patch\n*** Update File: hello.txt\n@@\n-hello\n+hello patched\n*** End Patch\n';

type Json = Record<string, unknown>;
type Event = Json & { type: string; item?: Json; response?: Json };
type ChatBody = {
  messages: Array<{ role: string; content: unknown; tool_calls?: Array<{ id: string; function: { name: string; arguments: string } }>; tool_call_id?: string }>;
  tools?: Array<{ function: { name: string; parameters: unknown; description?: string } }>;
};

/** Codex's per-turn body (capture 04/06/07): streamed, not stored, the whole history every turn. */
const codexBody = (input: unknown[]) => ({
  model: MODEL,
  stream: true,
  input,
  tools: [execCommandTool, multiAgentNamespace, applyPatchTool, toolSearchTool, webSearchTool],
  tool_choice: 'auto',
  parallel_tool_calls: true,
  reasoning: { effort: 'medium', summary: 'auto' },
  store: false,
  prompt_cache_key: '01a231d9-99f9-7993-9f4f-e08e2f968504',
  text: { verbosity: 'low' },
  client_metadata: clientMetadata,
});

describe('Codex tools through the gateway (namespace, apply_patch, tool_search, web_search)', () => {
  const e2e = useE2e({ env: (upstream) => ({ INFERENCE_BASE_URL: upstream.url }), resetUpstream: true });
  const body = (i: number) => e2e.upstream.requests[i].body as ChatBody;

  /** POSTs like Codex does and reads the SSE stream to its end. */
  async function turn(input: unknown[]): Promise<{ headers: Headers; events: Event[]; output: Json[] }> {
    const res = await fetch(`${e2e.url}/v1/responses`, {
      method: 'POST',
      headers: { authorization: 'Bearer test-key', 'content-type': 'application/json', accept: 'text/event-stream', originator: 'codex_exec' },
      body: JSON.stringify(codexBody(input)),
    });
    const text = await res.text();
    expect({ status: res.status, text: res.status === 200 ? '' : text }).toEqual({ status: 200, text: '' });
    const events = text
      .split('\n\n')
      .map((block) => block.split('\n').find((line) => line.startsWith('data: ')))
      .filter((line): line is string => !!line)
      .map((line) => JSON.parse(line.slice(6)) as Event);
    // What Codex keeps: the items of output_item.done, replayed verbatim next turn.
    const output = events.filter((e) => e.type === 'response.output_item.done').map((e) => e.item!);
    return { headers: res.headers, events, output };
  }

  it('runs a coding session: shell call, apply_patch, tool search, a loaded namespaced call, an answer', async () => {
    const history: unknown[] = [
      { type: 'message', id: 'msg_dev', role: 'developer', content: [{ type: 'input_text', text: 'You are Codex.' }] },
      { type: 'message', id: 'msg_user', role: 'user', content: [{ type: 'input_text', text: 'read hello.txt and patch it' }] },
    ];
    e2e.upstream.enqueue(
      { toolCalls: [{ id: 'call_exec', name: 'exec_command', arguments: '{"cmd":"cat hello.txt"}' }] },
      { toolCalls: [{ id: 'call_patch', name: 'apply_patch', arguments: JSON.stringify({ input: PATCH }) }] },
      { toolCalls: [{ id: 'call_search', name: 'tool_search', arguments: '{"query":"close agent","limit":2}' }] },
      { toolCalls: [{ id: 'call_close', name: 'multi_agent_v1__close_agent', arguments: '{"target":"a1"}' }] },
      { text: 'done' },
    );

    // 1. A plain function call; web_search is left out, and the response says so.
    const first = await turn(history);
    expect(first.headers.get('x-omitted-tools')).toBe('web_search');
    const completed = first.events.at(-1)!;
    expect(completed.type).toBe('response.completed');
    expect((completed.response!.tools as Json[]).map((t) => t.type)).toEqual(['function', 'namespace', 'custom', 'tool_search']);
    expect(first.output).toEqual([expect.objectContaining({ type: 'function_call', name: 'exec_command', call_id: 'call_exec' })]);
    expect(body(0).tools!.map((t) => t.function.name)).toEqual([
      'exec_command',
      'multi_agent_v1__close_agent',
      'multi_agent_v1__resume_agent',
      'apply_patch',
      'tool_search',
    ]);
    expect(body(0).tools![3].function.description).toContain('start: begin_patch hunk+ end_patch');
    history.push(...first.output, { ...execOutput, call_id: 'call_exec' });

    // 2. apply_patch comes back as a custom_tool_call, streamed with its input events.
    const second = await turn(history);
    expect(second.output).toEqual([
      { id: expect.stringMatching(/^ctc_/), type: 'custom_tool_call', status: 'completed', call_id: 'call_patch', name: 'apply_patch', input: PATCH },
    ]);
    const types = second.events.map((e) => e.type);
    expect(types).toEqual(expect.arrayContaining(['response.custom_tool_call_input.delta', 'response.custom_tool_call_input.done']));
    expect(types).not.toContain('response.function_call_arguments.delta');
    expect(second.events.find((e) => e.type === 'response.custom_tool_call_input.done')).toMatchObject({ input: PATCH, output_index: 0 });
    history.push(...second.output, { ...applyPatchOutput, call_id: 'call_patch' });

    // 3. A client tool search.
    const third = await turn(history);
    expect(third.output).toEqual([
      {
        id: expect.stringMatching(/^tsc_/),
        type: 'tool_search_call',
        status: 'completed',
        call_id: 'call_search',
        execution: 'client',
        arguments: { query: 'close agent', limit: 2 },
      },
    ]);
    history.push(...third.output, { ...toolSearchOutput, call_id: 'call_search' });

    // 4. The tools it loaded are offered although `tools` did not change; the call maps back to namespace + name.
    const fourth = await turn(history);
    expect(body(3).tools!.map((t) => t.function.name)).toEqual([
      'exec_command',
      'multi_agent_v1__close_agent',
      'multi_agent_v1__resume_agent',
      'apply_patch',
      'tool_search',
    ]);
    expect(fourth.output).toEqual([
      expect.objectContaining({ type: 'function_call', name: 'close_agent', namespace: 'multi_agent_v1', arguments: '{"target":"a1"}' }),
    ]);
    history.push(...fourth.output, { ...namespacedOutput, call_id: 'call_close' });

    // 5. The answer; the upstream saw every call under the name it was offered as, with its result.
    const fifth = await turn(history);
    expect(fifth.output).toEqual([expect.objectContaining({ type: 'message', content: [expect.objectContaining({ text: 'done' })] })]);
    const messages = body(4).messages;
    const calls = messages.flatMap((m) => m.tool_calls ?? []);
    expect(calls.map((c) => [c.id, c.function.name])).toEqual([
      ['call_exec', 'exec_command'],
      ['call_patch', 'apply_patch'],
      ['call_search', 'tool_search'],
      ['call_close', 'multi_agent_v1__close_agent'],
    ]);
    expect(JSON.parse(calls[1].function.arguments)).toEqual({ input: PATCH });
    const results = messages.filter((m) => m.role === 'tool').map((m) => [m.tool_call_id, m.content]);
    expect(results).toEqual([
      ['call_exec', execOutput.output],
      ['call_patch', applyPatchOutput.output],
      ['call_search', 'Tools loaded, callable from now on: multi_agent_v1__resume_agent, multi_agent_v1__close_agent.'],
      ['call_close', namespacedOutput.output],
    ]);
  });

  it('takes a model that writes the patch itself instead of JSON arguments as the input', async () => {
    e2e.upstream.enqueue({ toolCalls: [{ id: 'call_raw', name: 'apply_patch', arguments: PATCH }] });
    const { output } = await turn([{ type: 'message', id: 'msg_u', role: 'user', content: [{ type: 'input_text', text: 'patch it' }] }]);
    expect(output).toEqual([expect.objectContaining({ type: 'custom_tool_call', call_id: 'call_raw', input: PATCH })]);
  });

  it('refuses a forced web_search with a 400 naming tool_choice, and offers an unforced one nothing', async () => {
    const forced = await e2e.client.responses
      .create({ model: MODEL, input: 'x', tools: [{ type: 'web_search' }], tool_choice: { type: 'web_search' } } as never)
      .catch((e: unknown) => e);
    expect(forced).toMatchObject({ status: 400, code: 'unsupported_parameter', param: 'tool_choice' });
    expect(e2e.upstream.requests).toHaveLength(0);
    const { data: plain, response } = await e2e.client.responses.create({ model: MODEL, input: 'x', tools: [{ type: 'web_search' }] }).withResponse();
    expect(response.headers.get('x-omitted-tools')).toBe('web_search');
    expect(plain.tools).toEqual([]);
    expect(body(0)).not.toHaveProperty('tools');
  });
});
