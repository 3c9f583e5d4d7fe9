import OpenAI from 'openai';
import type { ResponseStreamEvent } from 'openai/resources/responses/responses';
import { useE2e } from '../support/e2e';
import { startMcpServer, TestMcpServer } from '../support/mcp-server';
import { collect, eventTypes } from '../support/streams';

const MODEL = 'upstream-model';
type Body = {
  messages: Array<{ role: string; content: unknown; tool_calls?: Array<{ id: string; function: { name: string; arguments: string } }>; tool_call_id?: string }>;
  tools?: Array<{ function: { name: string } }>;
  reasoning_effort?: string;
};

describe('agents: function tools, MCP tools, structured outputs, reasoning', () => {
  let mcp: TestMcpServer;
  const body = (i: number) => e2e.upstream.requests[i].body as Body;
  const mcpTool = (extra: Record<string, unknown> = {}) =>
    ({
      type: 'mcp',
      server_label: 'calc',
      server_url: mcp.url,
      headers: { Authorization: 'Bearer mcp-secret-token' },
      require_approval: 'never',
      ...extra,
    }) as OpenAI.Responses.Tool;

  beforeAll(async () => {
    mcp = await startMcpServer();
  });
  // The test MCP server is on loopback: an internal server the operator allows.
  const e2e = useE2e({
    env: (upstream) => ({
      INFERENCE_BASE_URL: upstream.url,
      SECRETS_KEY: 'a-test-secret-key-of-enough-length',
      MCP_ALLOWED_HOSTS: '127.0.0.1',
      MCP_ALLOW_HTTP: 'true',
    }),
    resetUpstream: true,
  });
  afterAll(() => mcp?.close());

  beforeEach(() => {
    mcp.calls.length = 0;
    mcp.authorizations.length = 0;
  });

  describe('function tools', () => {
    const weather = { type: 'function' as const, name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } }, strict: false };

    it('returns parallel calls as function_call items and continues with both outputs', async () => {
      e2e.upstream.enqueue(
        {
          toolCalls: [
            { id: 'call_p', name: 'get_weather', arguments: '{"city":"Paris"}' },
            { id: 'call_r', name: 'get_weather', arguments: '{"city":"Rome"}' },
          ],
          finishReason: 'tool_calls',
        },
        { text: 'Paris sunny, Rome rainy.' },
      );
      const first = await e2e.client.responses.create({ model: MODEL, input: 'Weather?', tools: [weather], parallel_tool_calls: true });
      expect(first.output.map((o) => o.type)).toEqual(['function_call', 'function_call']);
      const calls = first.output as OpenAI.Responses.ResponseFunctionToolCall[];
      expect(calls.map((c) => c.call_id)).toEqual(['call_p', 'call_r']);
      const second = await e2e.client.responses.create({
        model: MODEL,
        previous_response_id: first.id,
        tools: [weather],
        input: calls.map((c) => ({ type: 'function_call_output' as const, call_id: c.call_id, output: c.call_id === 'call_p' ? 'sunny' : 'rainy' })),
      });
      expect(second.output_text).toBe('Paris sunny, Rome rainy.');
      const messages = body(1).messages;
      expect(messages.slice(-3).map((m) => m.role)).toEqual(['assistant', 'tool', 'tool']);
      expect(messages[messages.length - 3].tool_calls?.map((t) => t.id)).toEqual(['call_p', 'call_r']);
    });

    it('runs a two-turn exchange in streaming mode', async () => {
      e2e.upstream.enqueue(
        { toolCalls: [{ id: 'call_s', name: 'get_weather', arguments: '{"city":"Oslo"}' }], finishReason: 'tool_calls' },
        { chunks: ['Cold ', 'in Oslo.'] },
      );
      const stream = e2e.client.responses.stream({ model: MODEL, input: 'Weather in Oslo?', tools: [weather] });
      const first = await stream.finalResponse();
      expect(first.output[0]).toMatchObject({ type: 'function_call', call_id: 'call_s', arguments: '{"city":"Oslo"}' });
      const second = e2e.client.responses.stream({
        model: MODEL,
        previous_response_id: first.id,
        tools: [weather],
        input: [{ type: 'function_call_output', call_id: 'call_s', output: '-5C' }],
      });
      const deltas: string[] = [];
      second.on('response.output_text.delta', (e) => deltas.push(e.delta));
      const final = await second.finalResponse();
      expect(deltas.join('')).toBe('Cold in Oslo.');
      expect(final.status).toBe('completed');
    });

    it('passes tool_choice none/required/named/allowed_tools', async () => {
      e2e.upstream.setDefault({ text: 'ok' });
      const other = { type: 'function' as const, name: 'other', parameters: {}, strict: false };
      await e2e.client.responses.create({ model: MODEL, input: 'x', tools: [weather, other], tool_choice: 'required' });
      expect(e2e.upstream.requests[0].body).toMatchObject({ tool_choice: 'required' });
      await e2e.client.responses.create({ model: MODEL, input: 'x', tools: [weather, other], tool_choice: { type: 'function', name: 'other' } });
      expect(e2e.upstream.requests[1].body).toMatchObject({ tool_choice: { type: 'function', function: { name: 'other' } } });
      await e2e.client.responses.create({
        model: MODEL,
        input: 'x',
        tools: [weather, other],
        tool_choice: { type: 'allowed_tools', mode: 'auto', tools: [{ type: 'function', name: 'other' }] },
      });
      expect(body(2).tools?.map((t) => t.function.name)).toEqual(['other']);
      await e2e.client.responses.create({ model: MODEL, input: 'x', tools: [weather], tool_choice: 'none' });
      expect(e2e.upstream.requests[3].body).toMatchObject({ tool_choice: 'none' });
    });
  });

  describe('MCP tools run by the server', () => {
    it('lists the tools, runs a call, feeds the result back, and never stores or echoes the headers', async () => {
      e2e.upstream.enqueue({ toolCalls: [{ id: 'call_m', name: 'calc__add', arguments: '{"a":2,"b":3}' }], finishReason: 'tool_calls' }, { text: 'It is 5.' });
      const r = await e2e.client.responses.create({ model: MODEL, input: 'What is 2+3?', tools: [mcpTool()] });
      expect(r.status).toBe('completed');
      expect(r.output.map((o) => o.type)).toEqual(['mcp_list_tools', 'mcp_call', 'message']);
      const list = r.output[0] as OpenAI.Responses.ResponseOutputItem.McpListTools;
      expect(list.tools.map((t) => t.name).sort()).toEqual(['add', 'explode']);
      expect(r.output[1]).toMatchObject({ type: 'mcp_call', server_label: 'calc', name: 'add', arguments: '{"a":2,"b":3}', output: '5', error: null });
      expect(r.output_text).toBe('It is 5.');
      expect(mcp.calls).toEqual([{ name: 'add', args: { a: 2, b: 3 } }]);
      expect(mcp.authorizations.every((a) => a === 'Bearer mcp-secret-token')).toBe(true);
      expect(
        body(0)
          .tools?.map((t) => t.function.name)
          .sort(),
      ).toEqual(['calc__add', 'calc__explode']);
      expect(body(1).messages.slice(-1)[0]).toMatchObject({ role: 'tool', tool_call_id: 'call_m', content: '5' });
      const stored = await e2e.client.responses.retrieve(r.id);
      expect(JSON.stringify(stored)).not.toContain('mcp-secret-token');
      expect(stored.tools[0]).toMatchObject({ type: 'mcp', server_label: 'calc', headers: null });
    });

    it('completes a replayed mcp_call without `output` from the stored call (the Agents SDK leaves it out), and takes an unknown one as it is', async () => {
      e2e.upstream.enqueue({ toolCalls: [{ id: 'call_m', name: 'calc__add', arguments: '{"a":2,"b":3}' }], finishReason: 'tool_calls' }, { text: 'It is 5.' });
      const first = await e2e.client.responses.create({ model: MODEL, input: 'What is 2+3?', tools: [mcpTool()] });
      const { output: _output, ...call } = first.output[1] as OpenAI.Responses.ResponseOutputItem.McpCall;
      const unknown = { ...call, id: 'mcp_unknown', arguments: '{"a":1,"b":1}' };
      await e2e.client.responses.create({
        model: MODEL,
        input: [{ role: 'user', content: 'What is 2+3?' }, call, unknown, { role: 'user', content: 'Again?' }],
      });
      expect(body(2).messages.filter((m) => m.role === 'tool')).toEqual([
        { role: 'tool', tool_call_id: call.id, content: '5' },
        { role: 'tool', tool_call_id: 'mcp_unknown', content: '' },
      ]);
    });

    it('streams the MCP events in order', async () => {
      e2e.upstream.enqueue({ toolCalls: [{ id: 'call_m', name: 'calc__add', arguments: '{"a":1,"b":1}' }], finishReason: 'tool_calls' }, { chunks: ['two'] });
      const stream = await e2e.client.responses.create({ model: MODEL, input: '1+1?', tools: [mcpTool({ allowed_tools: ['add'] })], stream: true });
      const types = await eventTypes(stream);
      const mcpTypes = types.filter((t) => t.includes('mcp'));
      expect(mcpTypes).toEqual([
        'response.mcp_list_tools.in_progress',
        'response.mcp_list_tools.completed',
        'response.mcp_call_arguments.delta',
        'response.mcp_call_arguments.done',
        'response.mcp_call.in_progress',
        'response.mcp_call.completed',
      ]);
      expect(types[types.length - 1]).toBe('response.completed');
      expect(body(0).tools?.map((t) => t.function.name)).toEqual(['calc__add']); // allowed_tools
    });

    it('asks for approval, then runs the call once approved in the next turn', async () => {
      e2e.upstream.enqueue(
        { toolCalls: [{ id: 'call_a', name: 'calc__add', arguments: '{"a":20,"b":22}' }], finishReason: 'tool_calls' },
        { text: '42, as approved.' },
      );
      const tool = mcpTool({ require_approval: 'always' });
      const asked = await e2e.client.responses.create({ model: MODEL, input: '20+22?', tools: [tool] });
      expect(asked.output.map((o) => o.type)).toEqual(['mcp_list_tools', 'mcp_approval_request']);
      const request = asked.output[1] as OpenAI.Responses.ResponseOutputItem.McpApprovalRequest;
      expect(request).toMatchObject({ server_label: 'calc', name: 'add', arguments: '{"a":20,"b":22}' });
      expect(mcp.calls).toHaveLength(0);
      const answered = await e2e.client.responses.create({
        model: MODEL,
        previous_response_id: asked.id,
        tools: [tool],
        input: [{ type: 'mcp_approval_response', approval_request_id: request.id, approve: true }],
      });
      expect(answered.output.map((o) => o.type)).toEqual(['mcp_list_tools', 'mcp_call', 'message']);
      expect(answered.output[1]).toMatchObject({ output: '42', approval_request_id: request.id });
      expect(answered.output_text).toBe('42, as approved.');
      expect(mcp.calls).toEqual([{ name: 'add', args: { a: 20, b: 22 } }]);
    });

    it('refuses an approval answer that matches no approval request with a 400 instead of running (or queueing) it', async () => {
      const tool = mcpTool({ require_approval: 'always' });
      for (const background of [false, true]) {
        const error = (await e2e.client.responses
          .create({ model: MODEL, background, tools: [tool], input: [{ type: 'mcp_approval_response', approval_request_id: 'mcpr_nope', approve: true }] })
          .then(
            () => null,
            (e: unknown) => e,
          )) as InstanceType<typeof OpenAI.APIError> | null;
        expect(error?.status).toBe(400);
        expect(error?.error).toMatchObject({
          type: 'invalid_request_error',
          param: 'input[0].approval_request_id',
          message: "No MCP approval request with id 'mcpr_nope' in this conversation.",
        });
      }
      expect(e2e.upstream.requests).toHaveLength(0);
    });

    it('tells the model when the user declines', async () => {
      e2e.upstream.enqueue(
        { toolCalls: [{ id: 'call_d', name: 'calc__add', arguments: '{"a":1,"b":2}' }], finishReason: 'tool_calls' },
        { text: 'Understood, not calling it.' },
      );
      const tool = mcpTool({ require_approval: { never: { tool_names: ['explode'] } } });
      const asked = await e2e.client.responses.create({ model: MODEL, input: '1+2?', tools: [tool] });
      const request = asked.output.find((o) => o.type === 'mcp_approval_request')!;
      const answered = await e2e.client.responses.create({
        model: MODEL,
        previous_response_id: asked.id,
        tools: [tool],
        input: [{ type: 'mcp_approval_response', approval_request_id: request.id, approve: false, reason: 'not now' }],
      });
      expect(answered.output_text).toBe('Understood, not calling it.');
      expect(mcp.calls).toHaveLength(0);
      expect(body(1).messages.slice(-1)[0]).toMatchObject({ role: 'tool', content: 'The user declined this call: not now' });
    });

    it('reports a failing tool to the model as an mcp_call error, and goes on', async () => {
      e2e.upstream.enqueue(
        { toolCalls: [{ id: 'call_x', name: 'calc__explode', arguments: '{}' }], finishReason: 'tool_calls' },
        { text: 'The tool failed, sorry.' },
      );
      const r = await e2e.client.responses.create({ model: MODEL, input: 'boom', tools: [mcpTool()] });
      expect(r.output[1]).toMatchObject({
        type: 'mcp_call',
        name: 'explode',
        status: 'failed',
        output: null,
        error: { type: 'mcp_tool_execution_error', content: [{ type: 'text', text: 'the tool blew up' }] },
      });
      expect(r.output_text).toBe('The tool failed, sorry.');
      expect(body(1).messages.slice(-1)[0]).toMatchObject({ role: 'tool', content: 'Error: the tool blew up' });
    });

    it('fails with 424 when an MCP server is unreachable, and stores the response failed', async () => {
      const error = await e2e.client.responses
        .create({ model: MODEL, input: 'x', tools: [mcpTool({ server_url: 'http://127.0.0.1:9/mcp' })] })
        .catch((e: unknown) => e);
      expect(error).toMatchObject({ status: 424, message: expect.stringContaining("Error retrieving tool list from MCP server 'calc'") });
      const page = (await fetch(`${e2e.url}/v1/responses?limit=1`).then((r) => r.json())) as {
        data: Array<{ status: string; output: Array<{ type: string; error: string }> }>;
      };
      expect(page.data[0].status).toBe('failed');
      expect(page.data[0].output[0]).toMatchObject({ type: 'mcp_list_tools', error: expect.any(String) });
      expect(e2e.upstream.requests).toHaveLength(0);
    });

    it('ends incomplete at max_tool_calls instead of looping', async () => {
      e2e.upstream.setDefault({ toolCalls: [{ id: 'call_loop', name: 'calc__add', arguments: '{"a":1,"b":1}' }], finishReason: 'tool_calls' });
      const r = await e2e.client.responses.create({
        model: MODEL,
        input: 'loop',
        tools: [mcpTool()],
        max_tool_calls: 2,
      } as OpenAI.Responses.ResponseCreateParamsNonStreaming);
      expect(r.status).toBe('incomplete');
      expect(r.incomplete_details).toEqual({ reason: 'max_tool_calls' });
      expect(mcp.calls).toHaveLength(2);
    });

    it('runs MCP tools in background mode with sealed headers', async () => {
      e2e.upstream.enqueue({ toolCalls: [{ id: 'call_b', name: 'calc__add', arguments: '{"a":4,"b":4}' }], finishReason: 'tool_calls' }, { text: 'eight' });
      const queued = await e2e.client.responses.create({ model: MODEL, input: '4+4', tools: [mcpTool()], background: true });
      let r = await e2e.client.responses.retrieve(queued.id);
      for (let i = 0; i < 200 && (r.status === 'queued' || r.status === 'in_progress'); i++) {
        await new Promise((resolve) => setTimeout(resolve, 25));
        r = await e2e.client.responses.retrieve(queued.id);
      }
      expect(r.output_text).toBe('eight');
      expect(mcp.authorizations.every((a) => a === 'Bearer mcp-secret-token')).toBe(true);
      expect(JSON.stringify(r)).not.toContain('mcp-secret-token');
    });
  });

  describe('conversations', () => {
    it('carries a conversation of four turns, appending each turn, one of them in the background', async () => {
      e2e.upstream.enqueue({ text: 'A1' }, { text: 'A2' }, { text: 'A3' }, { text: 'A4' });
      const conversation = await e2e.client.conversations.create({
        metadata: { topic: 'test' },
        items: [{ type: 'message', role: 'system', content: 'Be brief.' }],
      });
      const r1 = await e2e.client.responses.create({ model: MODEL, input: 'Q1', conversation: conversation.id });
      expect(r1.conversation).toEqual({ id: conversation.id });
      await e2e.client.responses.create({ model: MODEL, input: 'Q2', conversation: { id: conversation.id } });
      const queued = await e2e.client.responses.create({ model: MODEL, input: 'Q3', conversation: conversation.id, background: true });
      let r3 = await e2e.client.responses.retrieve(queued.id);
      for (let i = 0; i < 200 && r3.status !== 'completed'; i++) {
        await new Promise((resolve) => setTimeout(resolve, 25));
        r3 = await e2e.client.responses.retrieve(queued.id);
      }
      expect(r3.output_text).toBe('A3');
      const r4 = await e2e.client.responses.create({ model: MODEL, input: 'Q4', conversation: conversation.id });
      expect(r4.output_text).toBe('A4');
      expect(body(3).messages.map((m) => [m.role, typeof m.content === 'string' ? m.content : (m.content as Array<{ text: string }>)[0].text])).toEqual([
        ['system', 'Be brief.'],
        ['user', 'Q1'],
        ['assistant', 'A1'],
        ['user', 'Q2'],
        ['assistant', 'A2'],
        ['user', 'Q3'],
        ['assistant', 'A3'],
        ['user', 'Q4'],
      ]);
      const items = [];
      for await (const item of e2e.client.conversations.items.list(conversation.id, { order: 'asc', limit: 3 })) items.push(item);
      expect(items).toHaveLength(9);
      await expect(e2e.client.responses.create({ model: MODEL, input: 'x', conversation: conversation.id, previous_response_id: r4.id })).rejects.toMatchObject(
        { status: 400, param: 'conversation' },
      );
      await expect(e2e.client.responses.create({ model: MODEL, input: 'x', conversation: 'conv_missing' })).rejects.toMatchObject({
        status: 404,
        param: 'conversation',
      });
    });
  });

  describe('structured outputs', () => {
    const schema = { type: 'object', properties: { answer: { type: 'number' } }, required: ['answer'], additionalProperties: false };

    it('accepts output that follows a strict schema', async () => {
      e2e.upstream.enqueue({ text: '{"answer": 42}' });
      const r = await e2e.client.responses.create({
        model: MODEL,
        input: 'x',
        text: { format: { type: 'json_schema', name: 'result', schema, strict: true } },
      });
      expect(JSON.parse(r.output_text)).toEqual({ answer: 42 });
    });

    it('reports a strict schema violation instead of passing it on', async () => {
      e2e.upstream.enqueue({ text: '{"answer": "forty-two"}' }, { chunks: ['{"answer": "x"}'] });
      const error = await e2e.client.responses
        .create({ model: MODEL, input: 'x', text: { format: { type: 'json_schema', name: 'result', schema, strict: true } } })
        .catch((e: unknown) => e);
      expect(error).toMatchObject({
        status: 502,
        message: expect.stringContaining("does not match the strict json_schema format 'result': /answer must be number"),
      });
      const stream = await e2e.client.responses.create({
        model: MODEL,
        input: 'x',
        stream: true,
        text: { format: { type: 'json_schema', name: 'result', schema, strict: true } },
      });
      const events = await collect(stream);
      const last = events[events.length - 1] as Extract<ResponseStreamEvent, { type: 'response.failed' }>;
      expect(last.type).toBe('response.failed');
      expect(last.response.error?.message).toContain('does not match');
      expect(last.response.output_text ?? last.response.output.length).toBeTruthy(); // the output is kept for inspection
    });
  });

  describe('reasoning', () => {
    it('passes reasoning.effort and surfaces reasoning_content as a reasoning item with its events', async () => {
      e2e.upstream.enqueue({ reasoning: 'Let me think.', chunks: ['Done.'] });
      const stream = await e2e.client.responses.create({ model: MODEL, input: 'think', stream: true, reasoning: { effort: 'high' } });
      const events = await collect(stream);
      expect(body(0).reasoning_effort).toBe('high');
      const types = events.map((e) => e.type);
      expect(types).toContain('response.reasoning_text.delta');
      expect(types).toContain('response.reasoning_text.done');
      const done = events[events.length - 1] as Extract<ResponseStreamEvent, { type: 'response.completed' }>;
      expect(done.response.output[0]).toMatchObject({ type: 'reasoning', content: [{ type: 'reasoning_text', text: 'Let me think.' }] });
      expect(done.response.usage?.output_tokens_details).toEqual({ reasoning_tokens: expect.any(Number) });
    });
  });
});
