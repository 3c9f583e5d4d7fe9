/**
 * Real agent frameworks, unpatched, through the gateway to a scripted Chat Completions upstream:
 *
 *   framework (Responses API client) → gateway /v1/responses → fake upstream /v1/chat/completions
 *
 * - OpenAI Agents SDK (`@openai/agents`), whose OpenAI model uses the Responses API through the
 *   official `openai` client;
 * - Vercel AI SDK (`ai`) with `@ai-sdk/openai`'s Responses model (its own HTTP client and zod
 *   schemas for every response and stream event).
 *
 * Both get a recording `fetch` (their documented option for it), so each test can check what the
 * framework sent, and a failing test prints the whole exchange (see `traced`).
 */
import { createOpenAI } from '@ai-sdk/openai';
import { Agent, handoff, run, setDefaultOpenAIClient, setOpenAIAPI, setTracingDisabled, tool as agentTool } from '@openai/agents';
import { generateText, ModelMessage, Output, stepCountIs, streamText, tool as aiTool } from 'ai';
import OpenAI from 'openai';
import { z } from 'zod';
import { useE2e } from '../support/e2e';
import type { UpstreamScript } from '../support/fake-upstream';
import { createFetchRecorder, FetchRecorder } from '../support/frameworks/recording-fetch';
import { traced } from '../support/frameworks/traced';
import { collect, eventTypes } from '../support/streams';

const MODEL = 'some-model';

const e2e = useE2e({ env: (upstream) => ({ INFERENCE_BASE_URL: upstream.url }), resetUpstream: true });
const recorder: FetchRecorder = createFetchRecorder();
/** `it`, with the framework ↔ gateway ↔ upstream transcript added to any failure. */
const itTraced = (name: string, body: () => Promise<void>): void =>
  it(
    name,
    traced(
      () => recorder,
      () => e2e.upstream,
      body,
    ),
  );

beforeAll(() => {
  // The Agents SDK's global defaults (this test file has its own module registry).
  setTracingDisabled(true);
  setOpenAIAPI('responses');
  setDefaultOpenAIClient(new OpenAI({ baseURL: `${e2e.url}/v1`, apiKey: 'k', maxRetries: 0, timeout: 20_000, fetch: recorder.fetch }));
});

beforeEach(() => recorder.reset());

/** The chat messages the upstream received in its request #i. */
const upstreamMessages = (i: number): unknown[] => e2e.upstream.requests[i].body.messages;

/** A chat `tool_calls` entry, as the upstream should see a replayed function call. */
const chatCall = (id: string, name: string, args: string) => ({ id, type: 'function', function: { name, arguments: args } });
const userText = (text: string) => ({ role: 'user', content: [{ type: 'text', text }] });

/**
 * Why OpenAI's strict mode would refuse this JSON schema as it stands (empty when it would not):
 * every object needs `additionalProperties: false` and every property listed in `required`.
 */
function strictModeProblems(schema: unknown, path = '$'): string[] {
  if (typeof schema !== 'object' || schema === null) return [];
  const node = schema as {
    type?: unknown;
    properties?: Record<string, unknown>;
    required?: unknown;
    additionalProperties?: unknown;
    items?: unknown;
    anyOf?: unknown[];
  };
  const problems: string[] = [];
  if (node.type === 'object' || node.properties) {
    const required = Array.isArray(node.required) ? (node.required as unknown[]) : [];
    if (node.additionalProperties !== false) problems.push(`${path}: additionalProperties is not false`);
    for (const [key, value] of Object.entries(node.properties ?? {})) {
      if (!required.includes(key)) problems.push(`${path}.${key}: not in required`);
      problems.push(...strictModeProblems(value, `${path}.${key}`));
    }
  }
  if (node.items) problems.push(...strictModeProblems(node.items, `${path}[]`));
  (node.anyOf ?? []).forEach((branch, i) => problems.push(...strictModeProblems(branch, `${path}|${i}`)));
  return problems;
}

const toolCallScript = (...calls: Array<[id: string, name: string, args: string]>): UpstreamScript => ({
  toolCalls: calls.map(([id, name, args]) => ({ id, name, arguments: args })),
  finishReason: 'tool_calls',
});

describe('OpenAI Agents SDK (@openai/agents 0.14, Responses API) → gateway → upstream', () => {
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
    // Reasoning has no Chat Completions input form: the gateway drops it.
    expect(upstreamMessages(1)).toEqual([
      { role: 'system', content: INSTRUCTIONS },
      userText('Weather in Cairo?'),
      { role: 'assistant', content: null, tool_calls: [chatCall('call_r1', 'get_weather', '{"city":"Cairo"}')] },
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

  itTraced('an upstream failure mid-stream reaches the run as response.failed with the partial output', async () => {
    e2e.upstream.enqueue({ chunks: ['Par', 'tial', ' answer'], dropAfterChunks: 3 }); // role chunk + 2 pieces, then the socket dies
    const agent = new Agent({ name: 'Plain', instructions: 'Answer.', model: MODEL });

    const result = await run(agent, 'Question', { stream: true });
    const rawEvents: Array<{ type: string; response?: { status: string; error: unknown; output: unknown[] } }> = [];
    for await (const event of result) {
      if (event.type === 'raw_model_stream_event' && event.data.type === 'model') rawEvents.push(event.data.event as (typeof rawEvents)[number]);
    }
    await result.completed;

    // The gateway ends the stream as the contract says (§5): `response.failed` with `error`.
    // (@openai/agents 0.14 treats every terminal event like `response.completed`: the run itself
    // then ends without an error, with the partial text as its final output.)
    const last = rawEvents[rawEvents.length - 1];
    expect(last).toMatchObject({
      type: 'response.failed',
      response: { status: 'failed', error: { code: 'server_error', message: expect.any(String) } },
    });
    expect(last.response?.output).toMatchObject([{ type: 'message', content: [{ type: 'output_text', text: 'Partial' }] }]);
  });
});

describe('Vercel AI SDK (ai 6 + @ai-sdk/openai 3 Responses model) → gateway → upstream', () => {
  const model = () => createOpenAI({ baseURL: `${e2e.url}/v1`, apiKey: 'k', fetch: recorder.fetch }).responses(MODEL);

  function weatherTools(calls: Array<{ city: string }>) {
    return {
      get_weather: aiTool({
        description: 'Current weather for a city',
        inputSchema: z.object({ city: z.string() }),
        execute: ({ city }) => {
          calls.push({ city });
          return Promise.resolve({ sky: 'clear', city });
        },
      }),
    };
  }

  itTraced('generateText: plain text, with system prompt and settings', async () => {
    e2e.upstream.enqueue({ text: 'Hello, AI SDK.', usage: { prompt_tokens: 12, completion_tokens: 4 } });

    const result = await generateText({
      model: model(),
      system: 'Be brief.',
      prompt: 'Say hello',
      temperature: 0.2,
      maxOutputTokens: 40,
      maxRetries: 0,
    });

    expect(result.text).toBe('Hello, AI SDK.');
    expect(result.finishReason).toBe('stop');
    expect(result.usage).toMatchObject({ inputTokens: 12, outputTokens: 4, totalTokens: 16 });
    expect(result.response.id).toMatch(/^resp_/);
    expect(result.providerMetadata?.openai?.responseId).toBe(result.response.id);
    expect(result.warnings ?? []).toEqual([]);
    expect(e2e.upstream.requests[0].body).toMatchObject({
      model: MODEL,
      messages: [{ role: 'system', content: 'Be brief.' }, userText('Say hello')],
      temperature: 0.2,
      max_tokens: 40,
    });
  });

  itTraced('generateText with a tool and stopWhen: stepCountIs(3) completes the round trip', async () => {
    e2e.upstream.enqueue(toolCallScript(['call_a1', 'get_weather', '{"city":"Rome"}']), { text: 'Warm in Rome.' });
    const calls: Array<{ city: string }> = [];

    const result = await generateText({
      model: model(),
      prompt: 'Weather in Rome?',
      tools: weatherTools(calls),
      stopWhen: stepCountIs(3),
      maxRetries: 0,
    });

    expect(calls).toEqual([{ city: 'Rome' }]);
    expect(result.text).toBe('Warm in Rome.');
    expect(result.steps.map((s) => s.finishReason)).toEqual(['tool-calls', 'stop']);
    expect(result.steps[0].toolCalls).toMatchObject([{ toolCallId: 'call_a1', toolName: 'get_weather', input: { city: 'Rome' } }]);
    expect(result.steps[0].toolResults).toMatchObject([{ toolCallId: 'call_a1', output: { sky: 'clear', city: 'Rome' } }]);
    expect(result.totalUsage).toMatchObject({ inputTokens: 20, outputTokens: 10 });

    expect(recorder.responsesCalls()[1].body.input).toEqual([
      { role: 'user', content: [{ type: 'input_text', text: 'Weather in Rome?' }] },
      { type: 'function_call', call_id: 'call_a1', name: 'get_weather', arguments: '{"city":"Rome"}' },
      { type: 'function_call_output', call_id: 'call_a1', output: '{"sky":"clear","city":"Rome"}' },
    ]);
    expect(upstreamMessages(1)).toEqual([
      userText('Weather in Rome?'),
      { role: 'assistant', content: null, tool_calls: [chatCall('call_a1', 'get_weather', '{"city":"Rome"}')] },
      { role: 'tool', tool_call_id: 'call_a1', content: '{"sky":"clear","city":"Rome"}' },
    ]);
    expect(e2e.upstream.requests[1].body).toMatchObject({
      tool_choice: 'auto',
      tools: [{ type: 'function', function: { name: 'get_weather', parameters: { properties: { city: { type: 'string' } } } } }],
    });
  });

  itTraced('streamText: textStream yields the upstream chunks', async () => {
    e2e.upstream.enqueue({ chunks: ['Str', 'eam', 'ed.'] });

    const result = streamText({ model: model(), prompt: 'Stream', maxRetries: 0, onError: () => undefined });
    const parts = await collect(result.textStream);

    expect(parts).toEqual(['Str', 'eam', 'ed.']);
    expect(await result.text).toBe('Streamed.');
    expect(await result.finishReason).toBe('stop');
    expect(await result.usage).toMatchObject({ inputTokens: 10, outputTokens: 5, totalTokens: 15 });
    expect((await result.response).id).toMatch(/^resp_/);
    expect(e2e.upstream.requests[0].body).toMatchObject({ stream: true, messages: [userText('Stream')] });
  });

  itTraced('streamText with a tool: streamed call, execution, streamed answer', async () => {
    e2e.upstream.enqueue(toolCallScript(['call_s1', 'get_weather', '{"city":"Kyiv"}']), { chunks: ['Cold ', 'in ', 'Kyiv.'] });
    const calls: Array<{ city: string }> = [];
    const errors: unknown[] = [];

    const result = streamText({
      model: model(),
      prompt: 'Weather in Kyiv?',
      tools: weatherTools(calls),
      stopWhen: stepCountIs(3),
      maxRetries: 0,
      onError: ({ error }) => {
        errors.push(error);
      },
    });
    const types: string[] = [];
    const deltas: string[] = [];
    for await (const part of result.fullStream) {
      types.push(part.type);
      if (part.type === 'text-delta') deltas.push(part.text);
    }

    expect(errors).toEqual([]);
    expect(calls).toEqual([{ city: 'Kyiv' }]);
    expect(deltas).toEqual(['Cold ', 'in ', 'Kyiv.']);
    expect(await result.text).toBe('Cold in Kyiv.');
    expect(types.filter((t) => ['tool-input-start', 'tool-call', 'tool-result', 'finish-step', 'finish'].includes(t))).toEqual([
      'tool-input-start',
      'tool-call',
      'tool-result',
      'finish-step',
      'finish-step',
      'finish',
    ]);
    expect((await result.steps).map((s) => s.finishReason)).toEqual(['tool-calls', 'stop']);
    expect(upstreamMessages(1)).toEqual([
      userText('Weather in Kyiv?'),
      { role: 'assistant', content: null, tool_calls: [chatCall('call_s1', 'get_weather', '{"city":"Kyiv"}')] },
      { role: 'tool', tool_call_id: 'call_s1', content: '{"sky":"clear","city":"Kyiv"}' },
    ]);
  });

  itTraced('structured output (Output.object) becomes the upstream response_format', async () => {
    e2e.upstream.enqueue({ text: '{"city":"Lisbon","celsius":21}' });

    const result = await generateText({
      model: model(),
      prompt: 'Lisbon, 21 degrees',
      output: Output.object({ schema: z.object({ city: z.string(), celsius: z.number() }) }),
      maxRetries: 0,
    });

    expect(result.output).toEqual({ city: 'Lisbon', celsius: 21 });
    expect(e2e.upstream.requests[0].body.response_format).toMatchObject({
      type: 'json_schema',
      json_schema: { schema: { type: 'object', properties: { city: { type: 'string' }, celsius: { type: 'number' } } } },
    });
  });

  itTraced('providerOptions.openai.previousResponseId continues a stored conversation', async () => {
    e2e.upstream.enqueue({ text: 'Hi, I am here.' }, { text: 'You said hello.' });

    const first = await generateText({ model: model(), prompt: 'Hello', maxRetries: 0 });
    const second = await generateText({
      model: model(),
      prompt: 'What did I say?',
      providerOptions: { openai: { previousResponseId: first.response.id } },
      maxRetries: 0,
    });

    expect(second.text).toBe('You said hello.');
    expect(recorder.responsesCalls()[1].body).toMatchObject({ previous_response_id: first.response.id });
    expect(upstreamMessages(1)).toEqual([userText('Hello'), { role: 'assistant', content: 'Hi, I am here.' }, userText('What did I say?')]);
  });

  itTraced('with store: false, text before a tool call is replayed as a full assistant message (works)', async () => {
    e2e.upstream.enqueue({ text: 'Let me check.', ...toolCallScript(['call_n1', 'get_weather', '{"city":"Oslo"}']) }, { text: 'Cold in Oslo.' });
    const calls: Array<{ city: string }> = [];

    const result = await generateText({
      model: model(),
      prompt: 'Weather in Oslo?',
      tools: weatherTools(calls),
      stopWhen: stepCountIs(3),
      providerOptions: { openai: { store: false } },
      maxRetries: 0,
    });

    expect(result.text).toBe('Cold in Oslo.');
    expect(recorder.responsesCalls()[1].body.input[1]).toMatchObject({ role: 'assistant', content: [{ type: 'output_text', text: 'Let me check.' }] });
    expect(upstreamMessages(1)).toEqual([
      userText('Weather in Oslo?'),
      { role: 'assistant', content: 'Let me check.', tool_calls: [chatCall('call_n1', 'get_weather', '{"city":"Oslo"}')] },
      { role: 'tool', tool_call_id: 'call_n1', content: '{"sky":"clear","city":"Oslo"}' },
    ]);
  });

  itTraced('a streamed upstream failure becomes an error part and finishReason "error"', async () => {
    e2e.upstream.enqueue({ chunks: ['Par', 'tial', ' answer'], dropAfterChunks: 3 });
    const errors: unknown[] = [];

    const result = streamText({ model: model(), prompt: 'Question', maxRetries: 0, onError: ({ error }) => void errors.push(error) });
    const types = await eventTypes(result.fullStream);

    expect(types).toEqual(['start', 'start-step', 'text-start', 'text-delta', 'text-delta', 'error', 'finish-step', 'finish']);
    expect(errors).toMatchObject([{ type: 'response.failed', code: 'server_error' }]);
    expect(await result.finishReason).toBe('error');
  });

  itTraced('generateText surfaces an upstream 400 as an APICallError with its status and message', async () => {
    e2e.upstream.enqueue({ status: 400, errorMessage: "This model's maximum context length is 8 tokens." });

    const error = await generateText({ model: model(), prompt: 'A long question', maxRetries: 0 }).catch((e: unknown) => e);

    expect(error).toMatchObject({ name: 'AI_APICallError', statusCode: 400, message: expect.stringContaining('maximum context length') });
  });

  // The AI SDK sends no `strict` on function tools. OpenAI's function-calling guide: "If you omit
  // strict, ... Responses requests will attempt to normalize your schema into strict mode when
  // possible, and will fall back to non-strict, best-effort function calling if the schema cannot
  // be made compatible with strict mode." A zod `.optional()` property is left out of `required`,
  // which strict mode does not take as it is (Chat Completions answers 400 to `strict: true` with
  // it). So the upstream must get either non-strict, or strict with a schema strict mode accepts.
  itTraced('a tool with an optional parameter and no `strict`: no strict mode upstream for a schema it rejects', async () => {
    e2e.upstream.enqueue(toolCallScript(['call_o1', 'get_weather', '{"city":"Rome"}']), { text: 'Warm in Rome.' });
    const calls: Array<{ city: string; unit?: string }> = [];

    const result = await generateText({
      model: model(),
      prompt: 'Weather in Rome?',
      tools: {
        get_weather: aiTool({
          description: 'Current weather for a city',
          inputSchema: z.object({ city: z.string(), unit: z.enum(['C', 'F']).optional() }),
          execute: (input) => {
            calls.push(input);
            return Promise.resolve({ sky: 'clear' });
          },
        }),
      },
      stopWhen: stepCountIs(3),
      maxRetries: 0,
    });

    expect(result.text).toBe('Warm in Rome.');
    expect(calls).toEqual([{ city: 'Rome' }]);
    const sentTool = recorder.responsesCalls()[0].body.tools[0];
    expect(sentTool.strict).toBeUndefined();
    expect(sentTool.parameters.required).toEqual(['city']);
    for (const request of e2e.upstream.requests) {
      const { strict, parameters } = request.body.tools[0].function;
      expect({ strict, strictModeProblems: strict === true ? strictModeProblems(parameters) : [] }).toEqual({
        strict,
        strictModeProblems: [],
      });
    }
  });

  // With its default `store: true`, the AI SDK does not resend output items the server has
  // stored: it sends `{type: "item_reference", id}` for earlier assistant text and reasoning (an
  // input item of the contract, §7). These runs need the gateway to resolve such references.
  describe('item_reference (the default with store: true)', () => {
    itTraced('text before a tool call in one step: the next step references the message item', async () => {
      e2e.upstream.enqueue({ text: 'Let me check.', ...toolCallScript(['call_i1', 'get_weather', '{"city":"Oslo"}']) }, { text: 'Cold in Oslo.' });
      const calls: Array<{ city: string }> = [];

      const result = await generateText({ model: model(), prompt: 'Weather in Oslo?', tools: weatherTools(calls), stopWhen: stepCountIs(3), maxRetries: 0 });

      expect(calls).toEqual([{ city: 'Oslo' }]);
      expect(result.text).toBe('Cold in Oslo.');
      const firstOutput = JSON.parse(recorder.responsesCalls()[0].responseText ?? '{}').output;
      expect(recorder.responsesCalls()[1].body.input).toEqual([
        { role: 'user', content: [{ type: 'input_text', text: 'Weather in Oslo?' }] },
        { type: 'item_reference', id: firstOutput[0].id },
        { type: 'function_call', call_id: 'call_i1', name: 'get_weather', arguments: '{"city":"Oslo"}' },
        { type: 'function_call_output', call_id: 'call_i1', output: '{"sky":"clear","city":"Oslo"}' },
      ]);
      expect(upstreamMessages(1)).toEqual([
        userText('Weather in Oslo?'),
        { role: 'assistant', content: 'Let me check.', tool_calls: [chatCall('call_i1', 'get_weather', '{"city":"Oslo"}')] },
        { role: 'tool', tool_call_id: 'call_i1', content: '{"sky":"clear","city":"Oslo"}' },
      ]);
    });

    itTraced('a multi-turn chat (history from response.messages): earlier assistant text is referenced', async () => {
      e2e.upstream.enqueue({ text: 'Hi! How can I help?' }, { text: 'You greeted me.' });
      const history: ModelMessage[] = [{ role: 'user', content: 'Hello' }];

      const first = await generateText({ model: model(), messages: history, maxRetries: 0 });
      history.push(...first.response.messages, { role: 'user', content: 'What did I just do?' });
      const second = await generateText({ model: model(), messages: history, maxRetries: 0 });

      expect(second.text).toBe('You greeted me.');
      expect(recorder.responsesCalls()[1].body.input[1]).toEqual({ type: 'item_reference', id: expect.stringMatching(/^msg_/) });
      expect(upstreamMessages(1)).toEqual([userText('Hello'), { role: 'assistant', content: 'Hi! How can I help?' }, userText('What did I just do?')]);
    });

    itTraced('reasoning before a tool call: the next step references the reasoning item', async () => {
      e2e.upstream.enqueue(
        { reasoning: 'The user wants Cairo.', ...toolCallScript(['call_i2', 'get_weather', '{"city":"Cairo"}']) },
        { text: 'Hot in Cairo.' },
      );
      const calls: Array<{ city: string }> = [];

      const result = await generateText({ model: model(), prompt: 'Weather in Cairo?', tools: weatherTools(calls), stopWhen: stepCountIs(3), maxRetries: 0 });

      expect(calls).toEqual([{ city: 'Cairo' }]);
      expect(result.text).toBe('Hot in Cairo.');
      expect(recorder.responsesCalls()[1].body.input[1]).toEqual({ type: 'item_reference', id: expect.stringMatching(/^rs_/) });
      expect(upstreamMessages(1)).toEqual([
        userText('Weather in Cairo?'),
        { role: 'assistant', content: null, tool_calls: [chatCall('call_i2', 'get_weather', '{"city":"Cairo"}')] },
        { role: 'tool', tool_call_id: 'call_i2', content: '{"sky":"clear","city":"Cairo"}' },
      ]);
    });
  });
});
