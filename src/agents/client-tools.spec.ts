import type { ChatCompletionChunk, ChatCompletionMessageFunctionToolCall } from 'openai/resources/chat/completions';
import type { Tool } from 'openai/resources/responses/responses';
import {
  applyPatchCall,
  applyPatchOutput,
  applyPatchTool,
  execCommandTool,
  multiAgentNamespace,
  namespacedCall,
  namespacedOutput,
  toolSearchCall,
  toolSearchOutput,
  toolSearchTool,
} from '../../test/support/codex-shapes';
import type { NormalizedRequest, StoredItem, UnsequencedEvent } from '../common/response-types';
import type { ResolvedModel } from '../inference/model-registry';
import { toChatMessages, toChatRequest } from './chat-request';
import { ClientTools } from './client-tools';
import { flatToolName } from './mcp/mcp-naming';
import { customInputOf, OutputBuilder } from './output-builder';

const model: ResolvedModel = { id: 'm', upstreamModel: 'up', maxTokensParam: 'max_tokens', backend: {} as never };
const request = (tools: unknown[], fields: Partial<NormalizedRequest> = {}): NormalizedRequest => ({
  model: 'm',
  store: false,
  background: false,
  stream: true,
  tools: tools as Tool[],
  ...fields,
});
const items = (...list: unknown[]): StoredItem[] => list as StoredItem[];
const codexTools = [execCommandTool, multiAgentNamespace, applyPatchTool, toolSearchTool];
const namesOf = (params: ReturnType<typeof toChatRequest>): string[] => (params.tools ?? []).map((t) => (t.type === 'function' ? t.function.name : '?'));

function chunk(calls: NonNullable<ChatCompletionChunk.Choice.Delta['tool_calls']>): ChatCompletionChunk {
  return {
    id: 'c',
    object: 'chat.completion.chunk',
    created: 0,
    model: 'up',
    choices: [{ index: 0, delta: { tool_calls: calls }, finish_reason: null, logprobs: null }],
  };
}

/** Feeds one streamed upstream tool call (name first, arguments in pieces) and returns the builder's events and output. */
function streamCall(tools: ClientTools, name: string, argPieces: string[]): { events: UnsequencedEvent[]; builder: OutputBuilder } {
  const events: UnsequencedEvent[] = [];
  const builder = new OutputBuilder(
    (e) => events.push(e),
    () => undefined,
    () => false,
    (n) => tools.resolve(n),
  );
  builder.chunk(chunk([{ index: 0, id: 'call_1', type: 'function', function: { name, arguments: '' } }]));
  for (const piece of argPieces) builder.chunk(chunk([{ index: 0, function: { arguments: piece } }]));
  builder.finish('completed');
  return { events, builder };
}

describe('flatToolName', () => {
  it('joins group and name when that is a valid upstream name', () => {
    expect(flatToolName('multi_agent_v1', 'close_agent')).toBe('multi_agent_v1__close_agent');
  });

  it('keeps long or exotic names within ^[a-zA-Z0-9_-]{1,64}$ and apart from each other', () => {
    const long = 'x'.repeat(60);
    const a = flatToolName(long, 'tool_a');
    const b = flatToolName(long, 'tool_b');
    for (const name of [a, b, flatToolName('my.server', 'do it')]) expect(name).toMatch(/^[a-zA-Z0-9_-]{1,64}$/);
    expect(a).not.toBe(b);
    expect(flatToolName(long, 'tool_a')).toBe(a); // pure: a replayed call maps to the same name
  });
});

describe('Codex tools offered upstream', () => {
  it('flattens a namespace, offers apply_patch as a one-string-argument function with its grammar, and tool_search as a function', () => {
    const params = toChatRequest(request(codexTools), [], model);
    expect(namesOf(params)).toEqual(['exec_command', 'multi_agent_v1__close_agent', 'multi_agent_v1__resume_agent', 'apply_patch', 'tool_search']);
    const patch = params.tools!.find((t) => t.type === 'function' && t.function.name === 'apply_patch')!;
    expect(patch).toEqual({
      type: 'function',
      function: {
        name: 'apply_patch',
        description: expect.stringContaining('It must follow this lark grammar:\nstart: begin_patch hunk+ end_patch\n'),
        parameters: { type: 'object', properties: { input: { type: 'string' } }, required: ['input'], additionalProperties: false },
      },
    });
    const close = params.tools!.find((t) => t.type === 'function' && t.function.name === 'multi_agent_v1__close_agent');
    expect(close).toMatchObject({ function: { parameters: multiAgentNamespace.tools[0].parameters, strict: false } });
    expect(params.tools!.find((t) => t.type === 'function' && t.function.name === 'tool_search')).toMatchObject({
      function: { parameters: toolSearchTool.parameters, description: toolSearchTool.description },
    });
  });

  it('offers the tools a tool_search_output in the history loaded, once, though they are not in tools', () => {
    const history = items(toolSearchCall, toolSearchOutput, toolSearchOutput);
    const params = toChatRequest(request([execCommandTool, toolSearchTool]), history, model);
    expect(namesOf(params)).toEqual(['exec_command', 'tool_search', 'multi_agent_v1__resume_agent', 'multi_agent_v1__close_agent']);
  });

  it('gives a flattened name taken by a plain function a numbered suffix, and maps both back', () => {
    const clash = { type: 'function', name: 'multi_agent_v1__close_agent', parameters: { type: 'object', properties: {} } };
    const tools = ClientTools.of(request([multiAgentNamespace, clash]), []);
    expect(tools.chatTools().map((t) => (t.type === 'function' ? t.function.name : ''))).toEqual([
      'multi_agent_v1__close_agent',
      'multi_agent_v1__close_agent_2',
      'multi_agent_v1__resume_agent',
    ]);
    expect(tools.resolve('multi_agent_v1__close_agent')).toEqual({ kind: 'function', name: 'multi_agent_v1__close_agent' });
    expect(tools.resolve('multi_agent_v1__close_agent_2')).toEqual({ kind: 'function', name: 'close_agent', namespace: 'multi_agent_v1' });
    expect(tools.upstreamName('function', 'close_agent', 'multi_agent_v1')).toBe('multi_agent_v1__close_agent_2');
  });

  it('narrows to allowed_tools by type and name, a namespace allowing all its functions', () => {
    const choice = {
      type: 'allowed_tools' as const,
      mode: 'required' as const,
      tools: [
        { type: 'custom', name: 'apply_patch' },
        { type: 'namespace', name: 'multi_agent_v1' },
      ],
    };
    expect(namesOf(toChatRequest(request(codexTools, { tool_choice: choice }), [], model))).toEqual([
      'multi_agent_v1__close_agent',
      'multi_agent_v1__resume_agent',
      'apply_patch',
    ]);
  });

  it('forces a custom tool as the function it is offered as', () => {
    expect(toChatRequest(request(codexTools, { tool_choice: { type: 'custom', name: 'apply_patch' } }), [], model).tool_choice).toEqual({
      type: 'function',
      function: { name: 'apply_patch' },
    });
  });
});

describe('Codex items replayed upstream', () => {
  const toolCalls = (messages: ReturnType<typeof toChatMessages>) =>
    messages.flatMap((m) => (m.role === 'assistant' ? ((m.tool_calls ?? []) as ChatCompletionMessageFunctionToolCall[]) : []));

  it('replays a custom_tool_call as the function call it was offered as, and its output as the tool result', () => {
    const tools = ClientTools.of(request(codexTools), []);
    const messages = toChatMessages(null, items(applyPatchCall, applyPatchOutput), tools);
    expect(messages).toEqual([
      {
        role: 'assistant',
        content: null,
        tool_calls: [
          { id: applyPatchCall.call_id, type: 'function', function: { name: 'apply_patch', arguments: JSON.stringify({ input: applyPatchCall.input }) } },
        ],
      },
      { role: 'tool', tool_call_id: applyPatchCall.call_id, content: applyPatchOutput.output },
    ]);
  });

  it('replays a namespaced function_call under its flattened name', () => {
    const history = items(toolSearchCall, toolSearchOutput, namespacedCall, namespacedOutput);
    const messages = toChatRequest(request(codexTools), history, model).messages;
    expect(toolCalls(messages).map((c) => c.function.name)).toEqual(['tool_search', 'multi_agent_v1__close_agent']);
    expect(messages.at(-1)).toEqual({ role: 'tool', tool_call_id: namespacedCall.call_id, content: namespacedOutput.output });
  });

  it('replays a tool_search_call with its arguments, and its output as the names now callable', () => {
    const messages = toChatRequest(request(codexTools), items(toolSearchCall, toolSearchOutput), model).messages;
    expect(toolCalls(messages)).toEqual([
      { id: toolSearchCall.call_id, type: 'function', function: { name: 'tool_search', arguments: JSON.stringify(toolSearchCall.arguments) } },
    ]);
    expect(messages.at(-1)).toEqual({
      role: 'tool',
      tool_call_id: toolSearchCall.call_id,
      content: 'Tools loaded, callable from now on: multi_agent_v1__resume_agent, multi_agent_v1__close_agent.',
    });
  });
});

describe('Codex tool calls mapped back', () => {
  const tools = ClientTools.of(request(codexTools), items(toolSearchCall, toolSearchOutput));
  const patch = applyPatchCall.input;

  it('turns an apply_patch call into a custom_tool_call with input events and no function-call events', () => {
    const args = JSON.stringify({ input: patch });
    const { events, builder } = streamCall(tools, 'apply_patch', [args.slice(0, 20), args.slice(20)]);
    expect(builder.output).toEqual([
      { id: expect.stringMatching(/^ctc_/), type: 'custom_tool_call', status: 'completed', call_id: 'call_1', name: 'apply_patch', input: patch },
    ]);
    expect(events.map((e) => e.type)).toEqual([
      'response.output_item.added',
      'response.custom_tool_call_input.delta',
      'response.custom_tool_call_input.done',
      'response.output_item.done',
    ]);
    expect(events[0]).toMatchObject({ item: { type: 'custom_tool_call', status: 'in_progress', input: '' } });
    expect(events[1]).toMatchObject({ delta: patch, item_id: builder.output[0].id, output_index: 0 });
    expect(events[2]).toMatchObject({ input: patch });
    expect(builder.clientCalled).toBe(true);
  });

  it('takes the raw arguments as the input when the model wrote the patch instead of JSON', () => {
    expect(customInputOf(patch)).toBe(patch);
    expect(customInputOf('{"patch": "x"}')).toBe('{"patch": "x"}'); // JSON, but not the shape offered
    expect(customInputOf('"just a string"')).toBe('"just a string"');
    expect(customInputOf(JSON.stringify({ input: 'ok' }))).toBe('ok');
    const { builder } = streamCall(tools, 'apply_patch', [patch]);
    expect(builder.output[0]).toMatchObject({ type: 'custom_tool_call', input: patch });
  });

  it('turns a flattened namespace call into a function_call with namespace and name', () => {
    const { events, builder } = streamCall(tools, 'multi_agent_v1__close_agent', ['{"target":', '"a1"}']);
    expect(builder.output).toEqual([
      {
        id: expect.stringMatching(/^fc_/),
        type: 'function_call',
        status: 'completed',
        call_id: 'call_1',
        name: 'close_agent',
        namespace: 'multi_agent_v1',
        arguments: '{"target":"a1"}',
      },
    ]);
    expect(events.filter((e) => e.type === 'response.function_call_arguments.delta')).toHaveLength(2);
    expect(events.find((e) => e.type === 'response.function_call_arguments.done')).toMatchObject({ name: 'close_agent' });
  });

  it('turns a tool_search call into a client tool_search_call with an arguments object', () => {
    const { events, builder } = streamCall(tools, 'tool_search', ['{"query":"close agent",', '"limit":2}']);
    expect(builder.output).toEqual([
      {
        id: expect.stringMatching(/^tsc_/),
        type: 'tool_search_call',
        status: 'completed',
        call_id: 'call_1',
        execution: 'client',
        arguments: { query: 'close agent', limit: 2 },
      },
    ]);
    expect(events.map((e) => e.type)).toEqual(['response.output_item.added', 'response.output_item.done']);
    expect(streamCall(tools, 'tool_search', ['close agent']).builder.output[0]).toMatchObject({ arguments: { query: 'close agent' } });
  });

  it('resolves a call whose name comes after its first delta, as when the name comes first', () => {
    const lateName = (name: string, args: string[]) => {
      const events: UnsequencedEvent[] = [];
      const builder = new OutputBuilder(
        (e) => events.push(e),
        () => undefined,
        () => false,
        (n) => tools.resolve(n),
      );
      builder.chunk(chunk([{ index: 0, id: 'call_1', type: 'function' }]));
      builder.chunk(chunk([{ index: 0, function: { name, arguments: args[0] } }]));
      for (const piece of args.slice(1)) builder.chunk(chunk([{ index: 0, function: { arguments: piece } }]));
      builder.finish('completed');
      return { events, builder };
    };
    const patchCall = lateName('apply_patch', [JSON.stringify({ input: patch })]);
    expect(patchCall.builder.output).toEqual(
      streamCall(tools, 'apply_patch', [JSON.stringify({ input: patch })]).builder.output.map((item) => ({ ...item, id: expect.stringMatching(/^ctc_/) })),
    );
    expect(patchCall.events[0]).toMatchObject({ type: 'response.output_item.added', item: { type: 'custom_tool_call', name: 'apply_patch' } });
    expect(lateName('multi_agent_v1__close_agent', ['{"target":', '"a1"}']).builder.output[0]).toMatchObject({
      type: 'function_call',
      call_id: 'call_1',
      name: 'close_agent',
      namespace: 'multi_agent_v1',
      arguments: '{"target":"a1"}',
    });
    expect(lateName('tool_search', ['{"query":"close agent"}']).builder.output[0]).toMatchObject({
      type: 'tool_search_call',
      call_id: 'call_1',
      arguments: { query: 'close agent' },
    });
  });

  it('leaves a plain function call as it was', () => {
    const { builder } = streamCall(tools, 'exec_command', ['{"cmd":"ls"}']);
    expect(builder.output[0]).toEqual(expect.objectContaining({ type: 'function_call', name: 'exec_command', arguments: '{"cmd":"ls"}' }));
    expect(builder.output[0]).not.toHaveProperty('namespace');
  });
});
