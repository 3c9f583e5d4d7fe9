/**
 * The OpenAI Agents SDK (`@openai/agents` 0.20), unpatched, through the gateway to a scripted Chat
 * Completions upstream:
 *
 *   Agents SDK (OpenAI Responses model, official `openai` client) → gateway /v1/responses (and
 *   /v1/conversations) → fake upstream /v1/chat/completions, and the gateway → a loopback MCP server
 *
 * The SDK's client gets a recording `fetch` (the `openai` client's documented option), so each
 * test can check what the SDK sent, and a failing test prints the whole exchange (see `traced`).
 */
import {
  Agent,
  type AgentInputItem,
  handoff,
  hostedMcpTool,
  MemorySession,
  ModelBehaviorError,
  OpenAIConversationsSession,
  OpenAIResponsesCompactionSession,
  run,
  setDefaultOpenAIClient,
  setOpenAIAPI,
  setTracingDisabled,
  tool as agentTool,
} from '@openai/agents';
import OpenAI from 'openai';
import { z } from 'zod';
import { chatCall, MODEL, toolCallScript, useFrameworkSuite, userText } from '../support/frameworks/suite';
import { startMcpServer, TestMcpServer } from '../support/mcp-server';

let mcp: TestMcpServer;
beforeAll(async () => {
  mcp = await startMcpServer();
});
// The MCP server is on loopback: an internal server the operator allows (as in agents.e2e-spec.ts).
const { e2e, recorder, itTraced, upstreamMessages } = useFrameworkSuite({
  env: { SECRETS_KEY: 'a-test-secret-key-of-enough-length', MCP_ALLOWED_HOSTS: '127.0.0.1', MCP_ALLOW_HTTP: 'true' },
});
afterAll(() => mcp?.close());

let client: OpenAI;
beforeAll(() => {
  // The Agents SDK's global defaults (this test file has its own module registry).
  client = new OpenAI({ baseURL: `${e2e.url}/v1`, apiKey: 'k', maxRetries: 0, timeout: 20_000, fetch: recorder.fetch });
  setTracingDisabled(true);
  setOpenAIAPI('responses');
  setDefaultOpenAIClient(client);
});

beforeEach(() => {
  mcp.calls.length = 0;
  mcp.authorizations.length = 0;
});

describe('OpenAI Agents SDK (@openai/agents 0.20, Responses API) → gateway → upstream', () => {
  const INSTRUCTIONS = 'Answer weather questions.';

  function weatherTool(calls: Array<{ city: string }>) {
    return agentTool({
      name: 'get_weather',
      description: 'Current weather for a city',
      parameters: z.object({ city: z.string() }),
      execute: ({ city }) => {
        calls.push({ city });
        return `{"sky":"clear","city":"${city}"}`;
      },
    });
  }

  function weatherAgent(calls: Array<{ city: string }>) {
    return new Agent({ name: 'Weather', instructions: INSTRUCTIONS, model: MODEL, tools: [weatherTool(calls)] });
  }

  itTraced('run(): the model calls a function tool, the tool runs, the second turn answers', async () => {
    e2e.upstream.enqueue(toolCallScript(['call_w1', 'get_weather', '{"city":"Paris"}']), { text: 'It is sunny in Paris.' });
    const calls: Array<{ city: string }> = [];

    const result = await run(weatherAgent(calls), 'Weather in Paris?');

    expect(calls).toEqual([{ city: 'Paris' }]);
    expect(result.finalOutput).toBe('It is sunny in Paris.');
    expect(result.newItems.map((item) => item.type)).toEqual(['tool_call_item', 'tool_call_output_item', 'message_output_item']);
    expect(result.lastResponseId).toMatch(/^resp_/);
    expect(result.state.usage).toMatchObject({ requests: 2, inputTokens: 20, outputTokens: 10, totalTokens: 30 });

    // What the framework sent: two plain Responses calls, the second replaying the call and its output.
    const sent = recorder.responsesCalls();
    expect(sent.map((e) => [e.method, e.path, e.status])).toEqual([
      ['POST', '/v1/responses', 200],
      ['POST', '/v1/responses', 200],
    ]);
    expect(sent[1].body.input).toMatchObject([
      { role: 'user', content: 'Weather in Paris?' },
      { type: 'function_call', call_id: 'call_w1', name: 'get_weather', arguments: '{"city":"Paris"}' },
      { type: 'function_call_output', call_id: 'call_w1', output: '{"sky":"clear","city":"Paris"}' },
    ]);

    // What the upstream got.
    expect(e2e.upstream.requests).toHaveLength(2);
    expect(e2e.upstream.requests[0].body).toMatchObject({
      model: MODEL,
      tools: [
        {
          type: 'function',
          function: {
            name: 'get_weather',
            description: 'Current weather for a city',
            parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
          },
        },
      ],
    });
    expect(upstreamMessages(1)).toEqual([
      { role: 'system', content: INSTRUCTIONS },
      userText('Weather in Paris?'),
      { role: 'assistant', content: null, tool_calls: [chatCall('call_w1', 'get_weather', '{"city":"Paris"}')] },
      { role: 'tool', tool_call_id: 'call_w1', content: '{"sky":"clear","city":"Paris"}' },
    ]);
  });

  itTraced('run({stream: true}): streamed tool call, tool execution and streamed answer', async () => {
    e2e.upstream.enqueue(toolCallScript(['call_w2', 'get_weather', '{"city":"Oslo"}']), { chunks: ['Snow', 'ing in ', 'Oslo.'] });
    const calls: Array<{ city: string }> = [];

    const result = await run(weatherAgent(calls), 'Weather in Oslo?', { stream: true });
    const deltas: string[] = [];
    const itemEvents: string[] = [];
    const rawTypes: string[] = [];
    for await (const event of result) {
      if (event.type === 'raw_model_stream_event') {
        rawTypes.push(event.data.type);
        if (event.data.type === 'output_text_delta') deltas.push(event.data.delta);
      } else if (event.type === 'run_item_stream_event') {
        itemEvents.push(event.name);
      }
    }
    await result.completed;

    expect(result.error).toBeNull();
    expect(calls).toEqual([{ city: 'Oslo' }]);
    expect(deltas).toEqual(['Snow', 'ing in ', 'Oslo.']);
    expect(result.finalOutput).toBe('Snowing in Oslo.');
    expect(itemEvents).toEqual(['tool_called', 'tool_output', 'message_output_created']);
    expect(rawTypes.filter((t) => t === 'response_started' || t === 'response_done')).toEqual([
      'response_started',
      'response_done',
      'response_started',
      'response_done',
    ]);

    const sent = recorder.responsesCalls();
    expect(sent.map((e) => [e.body.stream, e.status, e.contentType])).toEqual([
      [true, 200, expect.stringContaining('text/event-stream')],
      [true, 200, expect.stringContaining('text/event-stream')],
    ]);
    expect(upstreamMessages(1)).toEqual([
      { role: 'system', content: INSTRUCTIONS },
      userText('Weather in Oslo?'),
      { role: 'assistant', content: null, tool_calls: [chatCall('call_w2', 'get_weather', '{"city":"Oslo"}')] },
      { role: 'tool', tool_call_id: 'call_w2', content: '{"sky":"clear","city":"Oslo"}' },
    ]);
  });

  itTraced('text and a tool call in one model turn, then two parallel tool calls', async () => {
    e2e.upstream.enqueue(
      { text: 'Let me check.', ...toolCallScript(['call_t1', 'get_weather', '{"city":"Lima"}']) },
      toolCallScript(['call_t2', 'get_weather', '{"city":"Quito"}'], ['call_t3', 'get_weather', '{"city":"Bogota"}']),
      { text: 'Lima, Quito and Bogota are clear.' },
    );
    const calls: Array<{ city: string }> = [];

    const result = await run(weatherAgent(calls), 'Weather in the Andes?');

    expect(calls).toEqual([{ city: 'Lima' }, { city: 'Quito' }, { city: 'Bogota' }]);
    expect(result.finalOutput).toBe('Lima, Quito and Bogota are clear.');
    // The SDK replays the assistant text as the output `message` item it got, id and all.
    expect(recorder.responsesCalls()[1].body.input[1]).toMatchObject({
      id: expect.stringMatching(/^msg_/),
      type: 'message',
      role: 'assistant',
      content: [{ type: 'output_text', text: 'Let me check.' }],
    });
    // The replayed assistant text (a `message` item with `output_text`) and its call become one
    // assistant message; both parallel calls share the next one, followed by both results.
    expect(upstreamMessages(2)).toEqual([
      { role: 'system', content: INSTRUCTIONS },
      userText('Weather in the Andes?'),
      { role: 'assistant', content: 'Let me check.', tool_calls: [chatCall('call_t1', 'get_weather', '{"city":"Lima"}')] },
      { role: 'tool', tool_call_id: 'call_t1', content: '{"sky":"clear","city":"Lima"}' },
      {
        role: 'assistant',
        content: null,
        tool_calls: [chatCall('call_t2', 'get_weather', '{"city":"Quito"}'), chatCall('call_t3', 'get_weather', '{"city":"Bogota"}')],
      },
      { role: 'tool', tool_call_id: 'call_t2', content: '{"sky":"clear","city":"Quito"}' },
      { role: 'tool', tool_call_id: 'call_t3', content: '{"sky":"clear","city":"Bogota"}' },
    ]);
  });

  itTraced('reasoning from the upstream comes back as a reasoning item, which the SDK replays and the gateway accepts', async () => {
    e2e.upstream.enqueue({ reasoning: 'The user wants Cairo.', ...toolCallScript(['call_r1', 'get_weather', '{"city":"Cairo"}']) }, { text: 'Hot in Cairo.' });
    const calls: Array<{ city: string }> = [];

    const result = await run(weatherAgent(calls), 'Weather in Cairo?');

    expect(calls).toEqual([{ city: 'Cairo' }]);
    expect(result.finalOutput).toBe('Hot in Cairo.');
    expect(result.newItems.map((item) => item.type)).toEqual(['reasoning_item', 'tool_call_item', 'tool_call_output_item', 'message_output_item']);
    const replayed = recorder.responsesCalls()[1].body.input as Array<{ type?: string; id?: string }>;
    expect(replayed.map((item) => item.type)).toEqual([undefined, 'reasoning', 'function_call', 'function_call_output']);
    expect(replayed[1].id).toMatch(/^rs_/);
    // The replayed reasoning rides on the assistant message of its turn (the model's reasoningReplay; default `reasoning`).
    expect(upstreamMessages(1)).toEqual([
      { role: 'system', content: INSTRUCTIONS },
      userText('Weather in Cairo?'),
      { role: 'assistant', content: null, reasoning: 'The user wants Cairo.', tool_calls: [chatCall('call_r1', 'get_weather', '{"city":"Cairo"}')] },
      { role: 'tool', tool_call_id: 'call_r1', content: '{"sky":"clear","city":"Cairo"}' },
    ]);
  });

  itTraced('previousResponseId: a second run continues the stored conversation, sending only new items', async () => {
    e2e.upstream.enqueue(
      toolCallScript(['call_p1', 'get_weather', '{"city":"Paris"}']),
      { text: 'Sunny in Paris.' },
      toolCallScript(['call_p2', 'get_weather', '{"city":"Rome"}']),
      { text: 'Warm in Rome.' },
    );
    const calls: Array<{ city: string }> = [];
    const agent = weatherAgent(calls);

    const first = await run(agent, 'Weather in Paris?');
    const second = await run(agent, 'And in Rome?', { previousResponseId: first.lastResponseId });

    expect(calls).toEqual([{ city: 'Paris' }, { city: 'Rome' }]);
    expect(second.finalOutput).toBe('Warm in Rome.');
    const sent = recorder.responsesCalls();
    expect(sent).toHaveLength(4);
    // The second run chains on the server: previous_response_id, and only the items it adds.
    expect(sent[2].body).toMatchObject({ previous_response_id: first.lastResponseId, input: [{ role: 'user', content: 'And in Rome?' }] });
    expect(sent[3].body.previous_response_id).toBe(JSON.parse(sent[2].responseText ?? '{}').id);
    expect(sent[3].body.input).toMatchObject([{ type: 'function_call_output', call_id: 'call_p2' }]);
    // The upstream, which is stateless, gets the whole conversation rebuilt by the gateway.
    expect(upstreamMessages(3)).toEqual([
      { role: 'system', content: INSTRUCTIONS },
      userText('Weather in Paris?'),
      { role: 'assistant', content: null, tool_calls: [chatCall('call_p1', 'get_weather', '{"city":"Paris"}')] },
      { role: 'tool', tool_call_id: 'call_p1', content: '{"sky":"clear","city":"Paris"}' },
      { role: 'assistant', content: 'Sunny in Paris.' },
      userText('And in Rome?'),
      { role: 'assistant', content: null, tool_calls: [chatCall('call_p2', 'get_weather', '{"city":"Rome"}')] },
      { role: 'tool', tool_call_id: 'call_p2', content: '{"sky":"clear","city":"Rome"}' },
    ]);
  });

  itTraced('a handoff to another agent, whose tool then runs', async () => {
    const calls: Array<{ city: string }> = [];
    const weather = weatherAgent(calls);
    const toWeather = handoff(weather);
    const triage = new Agent({ name: 'Triage', instructions: 'Route the user.', model: MODEL, handoffs: [toWeather] });
    e2e.upstream.enqueue(toolCallScript(['call_h1', toWeather.toolName, '{}']), toolCallScript(['call_h2', 'get_weather', '{"city":"Nairobi"}']), {
      text: 'Mild in Nairobi.',
    });

    const result = await run(triage, 'Weather in Nairobi?');

    expect(result.lastAgent?.name).toBe('Weather');
    expect(result.finalOutput).toBe('Mild in Nairobi.');
    expect(calls).toEqual([{ city: 'Nairobi' }]);
    expect(e2e.upstream.requests[0].body.tools.map((t: { function: { name: string } }) => t.function.name)).toEqual([toWeather.toolName]);
    expect(e2e.upstream.requests[1].body.tools.map((t: { function: { name: string } }) => t.function.name)).toEqual(['get_weather']);
    expect(upstreamMessages(1)).toEqual([
      { role: 'system', content: INSTRUCTIONS },
      userText('Weather in Nairobi?'),
      { role: 'assistant', content: null, tool_calls: [chatCall('call_h1', toWeather.toolName, '{}')] },
      { role: 'tool', tool_call_id: 'call_h1', content: expect.stringContaining('Weather') },
    ]);
  });

  itTraced('outputType (structured output) and model settings reach the upstream', async () => {
    const agent = new Agent({
      name: 'Extractor',
      instructions: 'Extract the forecast.',
      model: MODEL,
      outputType: z.object({ city: z.string(), celsius: z.number() }),
      modelSettings: { temperature: 0.3, topP: 0.8, maxTokens: 64 },
    });
    e2e.upstream.enqueue({ text: '{"city":"Lisbon","celsius":21}' });

    const result = await run(agent, 'Lisbon, 21 degrees');

    expect(result.finalOutput).toEqual({ city: 'Lisbon', celsius: 21 });
    expect(recorder.responsesCalls()[0].body).toMatchObject({
      temperature: 0.3,
      top_p: 0.8,
      max_output_tokens: 64,
      text: { format: { type: 'json_schema', strict: true, schema: { required: ['city', 'celsius'] } } },
    });
    const name: unknown = recorder.responsesCalls()[0].body.text.format.name;
    expect(e2e.upstream.requests[0].body).toMatchObject({
      temperature: 0.3,
      top_p: 0.8,
      max_tokens: 64,
      response_format: {
        type: 'json_schema',
        json_schema: {
          name,
          strict: true,
          schema: { type: 'object', properties: { city: { type: 'string' }, celsius: { type: 'number' } }, required: ['city', 'celsius'] },
        },
      },
    });
  });

  itTraced("an upstream error surfaces as the SDK's typed error (non-streamed)", async () => {
    e2e.upstream.enqueue({ status: 400, errorMessage: "This model's maximum context length is 8 tokens." });
    const agent = new Agent({ name: 'Plain', instructions: 'Answer.', model: MODEL });

    const error = await run(agent, 'A long question').catch((e: unknown) => e);

    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    expect(error).toMatchObject({ status: 400, type: 'invalid_request_error', message: expect.stringContaining('maximum context length') });
  });

  itTraced('an upstream failure mid-stream: the gateway ends with response.failed and the partial output, the run fails', async () => {
    e2e.upstream.enqueue({ chunks: ['Par', 'tial', ' answer'], dropAfterChunks: 3 }); // role chunk + 2 pieces, then the socket dies
    const agent = new Agent({ name: 'Plain', instructions: 'Answer.', model: MODEL });

    const result = await run(agent, 'Question', { stream: true });
    const rawEvents: Array<{ type: string; response?: { status: string; error: unknown; output: unknown[] } }> = [];
    let iterationError: unknown;
    try {
      for await (const event of result) {
        if (event.type === 'raw_model_stream_event' && event.data.type === 'model') rawEvents.push(event.data.event as (typeof rawEvents)[number]);
      }
    } catch (error) {
      iterationError = error;
    }
    const completedError = await result.completed.then(
      () => undefined,
      (error: unknown) => error,
    );

    // The gateway ends the stream as the contract says (§5): `response.failed` with `error` and
    // the output so far.
    const last = rawEvents[rawEvents.length - 1];
    expect(rawEvents.map((e) => e.type)).toEqual([
      'response.created',
      'response.in_progress',
      'response.output_item.added',
      'response.content_part.added',
      'response.output_text.delta',
      'response.output_text.delta',
      'response.failed',
    ]);
    expect(last).toMatchObject({
      type: 'response.failed',
      response: { status: 'failed', error: { code: 'server_error', message: expect.any(String) } },
    });
    expect(last.response?.output).toMatchObject([{ type: 'message', content: [{ type: 'output_text', text: 'Partial' }] }]);
    // @openai/agents 0.14 took any terminal event for `response.completed` (the run "succeeded"
    // with the partial text); 0.20 fails the run on `response.failed` / `response.incomplete`:
    // the iteration, `completed` and `error` all carry the same ModelBehaviorError.
    expect(iterationError).toBeInstanceOf(ModelBehaviorError);
    expect(iterationError).toMatchObject({ message: expect.stringContaining('"response.failed"') });
    expect(completedError).toBe(iterationError);
    expect(result.error).toBe(iterationError);
    expect(recorder.responsesCalls()).toHaveLength(1); // not retried: the SDK marks it unsafe to replay
  });

  describe("OpenAIConversationsSession: the history lives in the gateway's /v1/conversations", () => {
    itTraced('a tool run, then a streamed run: the session reads and appends the conversation, the upstream gets it all', async () => {
      e2e.upstream.enqueue(
        toolCallScript(['call_c1', 'get_weather', '{"city":"Paris"}']),
        { text: 'Sunny in Paris.' },
        { chunks: ['You asked ', 'about Paris.'] },
      );
      const calls: Array<{ city: string }> = [];
      const agent = weatherAgent(calls);
      const session = new OpenAIConversationsSession({ client });

      const first = await run(agent, 'Weather in Paris?', { session });
      const second = await run(agent, 'What did I ask?', { session, stream: true });
      const deltas: string[] = [];
      for await (const event of second) {
        if (event.type === 'raw_model_stream_event' && event.data.type === 'output_text_delta') deltas.push(event.data.delta);
      }
      await second.completed;

      expect(first.finalOutput).toBe('Sunny in Paris.');
      expect(second.error).toBeNull();
      expect(deltas).toEqual(['You asked ', 'about Paris.']);
      expect(second.finalOutput).toBe('You asked about Paris.');
      const conversationId = await session.getSessionId();
      expect(conversationId).toMatch(/^conv_/);
      // The session keeps the history client-side: it reads the items, sends them all as `input`
      // (no `conversation` parameter), then appends the turn's new items.
      const conv = `/v1/conversations/${conversationId}`;
      expect(recorder.exchanges.map((e) => [e.method, e.path.replace(conv, '{conv}'), e.status])).toEqual([
        ['POST', '/v1/conversations', 200],
        ['GET', '{conv}/items?order=asc', 200],
        ['POST', '/v1/responses', 200],
        ['POST', '/v1/responses', 200],
        ['POST', '{conv}/items', 200],
        ['GET', '{conv}/items?order=asc', 200],
        ['POST', '/v1/responses', 200],
        ['POST', '{conv}/items', 200],
      ]);
      expect(recorder.responsesCalls().every((e) => e.body.conversation === undefined)).toBe(true);
      const items = await client.conversations.items.list(conversationId, { order: 'asc' });
      expect(items.data.map((item) => [item.type, 'role' in item ? item.role : undefined])).toEqual([
        ['message', 'user'],
        ['function_call', undefined],
        ['function_call_output', undefined],
        ['message', 'assistant'],
        ['message', 'user'],
        ['message', 'assistant'],
      ]);
      expect(upstreamMessages(2)).toEqual([
        { role: 'system', content: INSTRUCTIONS },
        userText('Weather in Paris?'),
        { role: 'assistant', content: null, tool_calls: [chatCall('call_c1', 'get_weather', '{"city":"Paris"}')] },
        { role: 'tool', tool_call_id: 'call_c1', content: '{"sky":"clear","city":"Paris"}' },
        { role: 'assistant', content: 'Sunny in Paris.' },
        userText('What did I ask?'),
      ]);
      expect(e2e.upstream.requests[2].body.stream).toBe(true);
    });

    itTraced('popItem and clearSession: item and conversation deletes', async () => {
      e2e.upstream.enqueue({ text: 'Hi.' });
      const session = new OpenAIConversationsSession({ client });
      await run(new Agent({ name: 'Plain', instructions: 'Answer.', model: MODEL }), 'Hello', { session });
      const conversationId = await session.getSessionId();

      expect(await session.popItem()).toMatchObject({ role: 'assistant', content: [{ type: 'output_text', text: 'Hi.' }] });
      expect((await session.getItems()).map((item) => ('role' in item ? item.role : item.type))).toEqual(['user']);
      await session.clearSession();

      expect(session.sessionId).toBeUndefined();
      const gone = await client.conversations.retrieve(conversationId).catch((e: unknown) => e);
      expect(gone).toBeInstanceOf(OpenAI.NotFoundError);
    });
  });

  describe('OpenAIResponsesCompactionSession: responses.compact replaces the history the session keeps', () => {
    /** The session's model must look like an OpenAI one; the gateway forwards it to the fake upstream as it is. */
    const COMPACTION_MODEL = 'gpt-5.4';
    type ChatMessage = { role: string; content: unknown };
    const chatText = (m: ChatMessage) =>
      typeof m.content === 'string' ? m.content : Array.isArray(m.content) ? (m.content as Array<{ text?: string }>).map((p) => p.text ?? '').join('') : '';
    const upstreamText = (i: number) => (upstreamMessages(i) as ChatMessage[]).map(chatText).join('\n');
    const summaryOf = (i: number) =>
      (upstreamMessages(i) as ChatMessage[]).filter((m) => m.role === 'user' && chatText(m).startsWith('Summary of the earlier conversation')).map(chatText);
    /** `message:<role>` for messages, else the item's type. */
    const kinds = (items: AgentInputItem[]) => items.map((item) => (item.type === 'compaction' || !('role' in item) ? item.type : `message:${item.role}`));

    itTraced(
      'automatic, once the turns pass shouldTriggerCompaction (previous_response_id): the next run sends the compacted window, the upstream the summary',
      async () => {
        e2e.upstream.enqueue(
          { text: 'OLD-ANSWER-1: Rome it is.' },
          { text: 'OLD-ANSWER-2: the Hotel Roma is booked.' },
          { text: 'SUMMARY-A: a trip to Rome, at the Hotel Roma.' },
          { text: 'Check-in is at three.' },
        );
        const agent = new Agent({ name: 'Planner', instructions: 'Answer.', model: MODEL });
        // (Text turns only: in Jest's module realm the SDK's check that a turn's items match what
        // the model saw misses the ids it strips from function calls, and it skips automatic
        // compaction; the forced compaction below carries tool calls.)
        const session = new OpenAIResponsesCompactionSession({
          client,
          underlyingSession: new MemorySession(),
          model: COMPACTION_MODEL,
          shouldTriggerCompaction: ({ compactionCandidateItems }) => compactionCandidateItems.length >= 2,
        });

        await run(agent, 'Plan a trip to Rome.', { session });
        expect(recorder.responsesCalls('/v1/responses/compact')).toHaveLength(0);
        const second = await run(agent, 'Book a hotel.', { session });

        expect(second.finalOutput).toBe('OLD-ANSWER-2: the Hotel Roma is booked.');
        const sent = recorder.responsesCalls();
        expect(sent.map((e) => [e.path, e.status])).toEqual([
          ['/v1/responses', 200],
          ['/v1/responses', 200],
          ['/v1/responses/compact', 200],
        ]);
        expect(sent[2].body).toEqual({ model: COMPACTION_MODEL, previous_response_id: second.lastResponseId });
        // The gateway summarized the stored chain with the session's model.
        expect(e2e.upstream.requests[2].body).toMatchObject({ model: COMPACTION_MODEL });
        expect(upstreamText(2)).toContain('OLD-ANSWER-1');
        expect(upstreamText(2)).toContain('OLD-ANSWER-2');
        // The session now holds the compacted window only: the user's messages and the compaction item.
        const items = await session.getItems();
        expect(kinds(items)).toEqual(['message:user', 'message:user', 'compaction']);
        expect(items[2]).toMatchObject({ type: 'compaction', encrypted_content: expect.any(String) });

        const third = await run(agent, 'When is check-in?', { session });

        expect(third.finalOutput).toBe('Check-in is at three.');
        // The SDK's runner sends the history from its latest compaction item on (trimToLatestCompaction):
        // the user messages kept before it stay in the session but are not sent, so the summary carries them.
        expect(recorder.responsesCalls()[3].body.input).toEqual([
          expect.objectContaining({ type: 'compaction', encrypted_content: (items[2] as { encrypted_content: string }).encrypted_content }),
          expect.objectContaining({ role: 'user', content: 'When is check-in?' }),
        ]);
        expect(upstreamMessages(3)).toEqual([
          { role: 'system', content: 'Answer.' },
          {
            role: 'user',
            content: [{ type: 'text', text: expect.stringMatching(/^Summary of the earlier conversation[^]*SUMMARY-A: a trip to Rome, at the Hotel Roma\.$/) }],
          },
          userText('When is check-in?'),
        ]);
        // One candidate (the answer) since the compaction: no second compaction.
        expect(recorder.responsesCalls('/v1/responses/compact')).toHaveLength(1);
      },
    );

    itTraced(
      "runCompaction({force: true}) in 'input' mode, after a tool turn: the session's items go to responses.compact and are replaced by its output",
      async () => {
        e2e.upstream.enqueue(
          toolCallScript(['call_k1', 'get_weather', '{"city":"Paris"}']),
          { text: 'OLD-ANSWER-3: sunny in Paris.' },
          { text: 'SUMMARY-B: the weather in Paris is sunny.' },
          { text: 'Cloudy in Rome.' },
        );
        const calls: Array<{ city: string }> = [];
        const agent = weatherAgent(calls);
        const session = new OpenAIResponsesCompactionSession({
          client,
          model: COMPACTION_MODEL,
          compactionMode: 'input',
          shouldTriggerCompaction: () => false,
        });
        await run(agent, 'Weather in Paris?', { session });
        expect(recorder.responsesCalls('/v1/responses/compact')).toHaveLength(0);

        const compacted = await session.runCompaction({ force: true });

        expect(compacted?.usage).toMatchObject({ endpoint: 'responses.compact' });
        const [compact] = recorder.responsesCalls('/v1/responses/compact');
        expect(compact.status).toBe(200);
        expect(compact.body.model).toBe(COMPACTION_MODEL);
        expect(kinds(compact.body.input as AgentInputItem[])).toEqual(['message:user', 'function_call', 'function_call_output', 'message:assistant']);
        expect(upstreamText(2)).toContain('OLD-ANSWER-3');
        expect(kinds(await session.getItems())).toEqual(['message:user', 'compaction']);

        const next = await run(agent, 'And in Rome?', { session });

        expect(next.finalOutput).toBe('Cloudy in Rome.');
        expect(calls).toEqual([{ city: 'Paris' }]);
        // From the compaction item on (see above): the summary, then the new message; no old call or answer.
        expect(recorder.responsesCalls()[3].body.input).toEqual([
          expect.objectContaining({ type: 'compaction' }),
          expect.objectContaining({ role: 'user', content: 'And in Rome?' }),
        ]);
        expect(summaryOf(3)).toEqual([expect.stringContaining('SUMMARY-B: the weather in Paris is sunny.')]);
        expect(upstreamText(3)).not.toContain('OLD-ANSWER');
        expect((upstreamMessages(3) as ChatMessage[]).filter((m) => m.role === 'tool' || m.role === 'assistant')).toEqual([]);
        expect(upstreamMessages(3).at(-1)).toEqual(userText('And in Rome?'));
      },
    );
  });

  itTraced('conversationId: the server-side conversation (`conversation` parameter) carries the history', async () => {
    e2e.upstream.enqueue({ text: 'Noted: blue.' }, { text: 'Blue.' });
    const conversation = await client.conversations.create({});
    const agent = new Agent({ name: 'Plain', instructions: 'Answer.', model: MODEL });

    await run(agent, 'My colour is blue.', { conversationId: conversation.id });
    const second = await run(agent, 'What is my colour?', { conversationId: conversation.id });

    expect(second.finalOutput).toBe('Blue.');
    expect(recorder.responsesCalls()[1].body).toMatchObject({ conversation: conversation.id, input: [{ role: 'user', content: 'What is my colour?' }] });
    expect(upstreamMessages(1)).toEqual([
      { role: 'system', content: 'Answer.' },
      userText('My colour is blue.'),
      { role: 'assistant', content: 'Noted: blue.' },
      userText('What is my colour?'),
    ]);
  });

  describe("hostedMcpTool: the gateway runs the loopback MCP server's tools", () => {
    const MCP_INSTRUCTIONS = 'Use the tools.';
    const calc = (requireApproval: 'never' | 'always' = 'never') => {
      const server = { serverLabel: 'calc', serverUrl: mcp.url, headers: { Authorization: 'Bearer mcp-secret' } };
      return requireApproval === 'never' ? hostedMcpTool({ ...server, requireApproval }) : hostedMcpTool({ ...server, requireApproval });
    };
    const calcAgent = (requireApproval: 'never' | 'always' = 'never') =>
      new Agent({ name: 'Calc', instructions: MCP_INSTRUCTIONS, model: MODEL, tools: [calc(requireApproval)] });
    /** The upstream's view of one MCP call the gateway ran: its own tool call, and the tool's answer. */
    const mcpExchange = (callId: string, args: string, output: string) => [
      { role: 'assistant', content: null, tool_calls: [chatCall(callId, 'calc__add', args)] },
      { role: 'tool', tool_call_id: callId, content: output },
    ];

    itTraced('run(): one request; the tool list, the call and the answer come back as hosted tool items', async () => {
      e2e.upstream.enqueue(toolCallScript(['call_m1', 'calc__add', '{"a":2,"b":3}']), { text: 'It is 5.' });

      const result = await run(calcAgent(), 'What is 2+3?');

      expect(result.finalOutput).toBe('It is 5.');
      expect(result.newItems.map((item) => [item.type, item.rawItem.type, 'name' in item.rawItem ? item.rawItem.name : undefined])).toEqual([
        ['tool_call_item', 'hosted_tool_call', 'mcp_list_tools'],
        ['tool_call_item', 'hosted_tool_call', 'mcp_call'],
        ['message_output_item', 'message', undefined],
      ]);
      expect(result.newItems[1].rawItem).toMatchObject({ output: '5', providerData: { server_label: 'calc', name: 'add', arguments: '{"a":2,"b":3}' } });
      expect(mcp.calls).toEqual([{ name: 'add', args: { a: 2, b: 3 } }]);
      expect(mcp.authorizations.length).toBeGreaterThan(0);
      expect(mcp.authorizations.every((a) => a === 'Bearer mcp-secret')).toBe(true);
      // The SDK sent the tool as the contract has it; the gateway never echoes the headers.
      const sent = recorder.responsesCalls();
      expect(sent).toHaveLength(1);
      expect(sent[0].body.tools).toEqual([
        { type: 'mcp', server_label: 'calc', server_url: mcp.url, headers: { Authorization: 'Bearer mcp-secret' }, require_approval: 'never' },
      ]);
      expect(sent[0].responseText).not.toContain('mcp-secret');
      // Two upstream turns inside that one request: the MCP tools offered as functions, then the result.
      expect(e2e.upstream.requests.map((r) => r.body.tools.map((t: { function: { name: string } }) => t.function.name).sort())).toEqual([
        ['calc__add', 'calc__explode'],
        ['calc__add', 'calc__explode'],
      ]);
      expect(upstreamMessages(1)).toEqual([
        { role: 'system', content: MCP_INSTRUCTIONS },
        userText('What is 2+3?'),
        ...mcpExchange('call_m1', '{"a":2,"b":3}', '5'),
      ]);
    });

    itTraced('run({stream: true}): the MCP events arrive in order, then the streamed answer', async () => {
      e2e.upstream.enqueue(toolCallScript(['call_m2', 'calc__add', '{"a":1,"b":1}']), { chunks: ['Two', '.'] });

      const result = await run(calcAgent(), '1+1?', { stream: true });
      const modelTypes: string[] = [];
      const deltas: string[] = [];
      const itemEvents: string[] = [];
      for await (const event of result) {
        if (event.type === 'raw_model_stream_event' && event.data.type === 'model') modelTypes.push((event.data.event as { type: string }).type);
        if (event.type === 'raw_model_stream_event' && event.data.type === 'output_text_delta') deltas.push(event.data.delta);
        if (event.type === 'run_item_stream_event') itemEvents.push(event.name);
      }
      await result.completed;

      expect(result.error).toBeNull();
      expect(result.finalOutput).toBe('Two.');
      expect(deltas).toEqual(['Two', '.']);
      expect(mcp.calls).toEqual([{ name: 'add', args: { a: 1, b: 1 } }]);
      expect(modelTypes.filter((t) => t.includes('mcp'))).toEqual([
        'response.mcp_list_tools.in_progress',
        'response.mcp_list_tools.completed',
        'response.mcp_call_arguments.delta',
        'response.mcp_call_arguments.done',
        'response.mcp_call.in_progress',
        'response.mcp_call.completed',
      ]);
      expect(modelTypes[modelTypes.length - 1]).toBe('response.completed');
      expect(itemEvents).toEqual(['tool_called', 'tool_called', 'message_output_created']);
      expect(recorder.responsesCalls().map((e) => [e.body.stream, e.status])).toEqual([[true, 200]]);
    });

    itTraced('previousResponseId: the second run sends only its input, the gateway replays the stored MCP call', async () => {
      e2e.upstream.enqueue(
        toolCallScript(['call_m3', 'calc__add', '{"a":2,"b":3}']),
        { text: 'It is 5.' },
        toolCallScript(['call_m4', 'calc__add', '{"a":5,"b":10}']),
        {
          chunks: ['15.'],
        },
      );
      const agent = calcAgent();

      const first = await run(agent, 'What is 2+3?');
      const second = await run(agent, 'Plus 10?', { previousResponseId: first.lastResponseId, stream: true });
      for await (const event of second) void event;
      await second.completed;

      expect(second.error).toBeNull();
      expect(second.finalOutput).toBe('15.');
      expect(mcp.calls).toEqual([
        { name: 'add', args: { a: 2, b: 3 } },
        { name: 'add', args: { a: 5, b: 10 } },
      ]);
      expect(recorder.responsesCalls()[1].body).toMatchObject({ previous_response_id: first.lastResponseId, input: [{ role: 'user', content: 'Plus 10?' }] });
      const mcpCallIds = [first, second].map(
        (r) => (r.newItems.find((item) => item.rawItem.type === 'hosted_tool_call' && item.rawItem.name === 'mcp_call')?.rawItem as { id: string }).id,
      );
      expect(upstreamMessages(3)).toEqual([
        { role: 'system', content: MCP_INSTRUCTIONS },
        userText('What is 2+3?'),
        ...mcpExchange(mcpCallIds[0], '{"a":2,"b":3}', '5'),
        { role: 'assistant', content: 'It is 5.' },
        userText('Plus 10?'),
        ...mcpExchange('call_m4', '{"a":5,"b":10}', '15'),
      ]);
    });

    itTraced("the history replayed as input: mcp_list_tools and mcp_call items (the SDK leaves out the call's output)", async () => {
      e2e.upstream.enqueue(toolCallScript(['call_m5', 'calc__add', '{"a":2,"b":3}']), { text: 'It is 5.' }, { text: 'Still 5.' });
      const agent = calcAgent();

      const first = await run(agent, 'What is 2+3?');
      const second = await run(agent, [...first.history, { role: 'user', content: 'Again?' }]);

      expect(second.finalOutput).toBe('Still 5.');
      const replayed = recorder.responsesCalls()[1].body.input as Array<{ type?: string; output?: unknown }>;
      expect(replayed.map((item) => item.type)).toEqual([undefined, 'mcp_list_tools', 'mcp_call', 'message', undefined]);
      expect(replayed[2]).not.toHaveProperty('output');
      const callId = (first.newItems[1].rawItem as { id: string }).id;
      // The gateway takes the output from the stored call with that id.
      expect(upstreamMessages(2)).toEqual([
        { role: 'system', content: MCP_INSTRUCTIONS },
        userText('What is 2+3?'),
        ...mcpExchange(callId, '{"a":2,"b":3}', '5'),
        { role: 'assistant', content: 'It is 5.' },
        userText('Again?'),
      ]);
    });

    itTraced("requireApproval: 'always': the run stops at the approval request, the approved state resumes it", async () => {
      e2e.upstream.enqueue(toolCallScript(['call_m6', 'calc__add', '{"a":20,"b":22}']), { text: 'It is 42.' });
      const agent = calcAgent('always');

      const asked = await run(agent, 'What is 20+22?');
      expect(asked.interruptions.map((i) => [i.type, i.toolName])).toEqual([['tool_approval_item', 'add']]);
      expect(mcp.calls).toEqual([]);
      for (const interruption of asked.interruptions) asked.state.approve(interruption);
      const answered = await run(agent, asked.state);

      expect(answered.finalOutput).toBe('It is 42.');
      expect(mcp.calls).toEqual([{ name: 'add', args: { a: 20, b: 22 } }]);
      const resumed = recorder.responsesCalls()[1].body.input as Array<{ type?: string }>;
      expect(resumed.map((item) => item.type)).toEqual([undefined, 'mcp_list_tools', 'mcp_approval_request', 'mcp_approval_response']);
      expect(resumed[3]).toMatchObject({ approve: true, approval_request_id: (resumed[2] as { id: string }).id });
      expect(upstreamMessages(1)).toEqual([
        { role: 'system', content: MCP_INSTRUCTIONS },
        userText('What is 20+22?'),
        // The approved call goes upstream under the approval request's id.
        ...mcpExchange((resumed[2] as { id: string }).id, '{"a":20,"b":22}', '42'),
      ]);
    });

    itTraced("the SDK's `authorization` option is refused with a 400 that names it (docs/agents.md: give `headers`)", async () => {
      const tool = hostedMcpTool({ serverLabel: 'calc', serverUrl: mcp.url, authorization: 'token', requireApproval: 'never' });
      const agent = new Agent({ name: 'Calc', instructions: MCP_INSTRUCTIONS, model: MODEL, tools: [tool] });

      const error = await run(agent, 'What is 2+3?').catch((e: unknown) => e);

      expect(error).toBeInstanceOf(OpenAI.BadRequestError);
      expect(error).toMatchObject({ status: 400, type: 'invalid_request_error', code: 'unsupported_parameter', param: 'tools[0].authorization' });
      expect(e2e.upstream.requests).toHaveLength(0);
      expect(mcp.calls).toHaveLength(0);
    });
  });
});
