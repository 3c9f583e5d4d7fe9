/**
 * The Vercel AI SDK (`ai` 7 with `@ai-sdk/openai` 4's Responses model: its own HTTP client and zod
 * schemas for every response and stream event), unpatched, through the gateway to a scripted Chat
 * Completions upstream:
 *
 *   AI SDK → gateway /v1/responses → fake upstream /v1/chat/completions
 *
 * The provider gets a recording `fetch` (its documented option), so each test can check what the
 * SDK sent, and a failing test prints the whole exchange (see `traced`).
 */
import { createOpenAI } from '@ai-sdk/openai';
import { generateText, hasToolCall, ModelMessage, Output, stepCountIs, streamText, tool as aiTool } from 'ai';
import { z } from 'zod';
import { chatCall, MODEL, toolCallScript, useFrameworkSuite, userText } from '../support/frameworks/suite';
import { collect, eventTypes } from '../support/streams';

const { e2e, recorder, itTraced, upstreamMessages } = useFrameworkSuite();

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

describe('Vercel AI SDK (ai 7 + @ai-sdk/openai 4 Responses model) → gateway → upstream', () => {
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

  itTraced('a multi-step loop: stopWhen stepCountIs(2) ends after two tool steps, hasToolCall ends at the named tool', async () => {
    e2e.upstream.enqueue(
      toolCallScript(['call_l1', 'get_weather', '{"city":"Oslo"}']),
      toolCallScript(['call_l2', 'get_weather', '{"city":"Bergen"}']),
      toolCallScript(['call_l3', 'get_weather', '{"city":"Oslo"}']),
      { text: 'Let me report.', ...toolCallScript(['call_l4', 'report', '{"summary":"clear"}']) },
    );
    const calls: Array<{ city: string }> = [];

    const capped = await generateText({ model: model(), prompt: 'Weather in Norway?', tools: weatherTools(calls), stopWhen: stepCountIs(2), maxRetries: 0 });

    expect(capped.steps.map((s) => s.finishReason)).toEqual(['tool-calls', 'tool-calls']);
    expect(capped.text).toBe('');
    expect(calls).toEqual([{ city: 'Oslo' }, { city: 'Bergen' }]);
    expect(recorder.responsesCalls()).toHaveLength(2);
    // Each step resends the whole history (item_references for stored output, here none).
    expect(recorder.responsesCalls()[1].body.input.map((item: { type?: string }) => item.type)).toEqual([undefined, 'function_call', 'function_call_output']);

    const reported: unknown[] = [];
    const stopped = await generateText({
      model: model(),
      prompt: 'Weather in Oslo, then report?',
      tools: {
        ...weatherTools(calls),
        report: aiTool({ inputSchema: z.object({ summary: z.string() }), execute: (input) => Promise.resolve(void reported.push(input)) }),
      },
      stopWhen: hasToolCall('report'),
      maxRetries: 0,
    });

    expect(stopped.steps.map((s) => s.toolCalls.map((c) => c.toolName))).toEqual([['get_weather'], ['report']]);
    expect(stopped.text).toBe('Let me report.');
    expect(reported).toEqual([{ summary: 'clear' }]);
    expect(e2e.upstream.requests).toHaveLength(4);
    expect(upstreamMessages(3)).toEqual([
      userText('Weather in Oslo, then report?'),
      { role: 'assistant', content: null, tool_calls: [chatCall('call_l3', 'get_weather', '{"city":"Oslo"}')] },
      { role: 'tool', tool_call_id: 'call_l3', content: '{"sky":"clear","city":"Oslo"}' },
    ]);
  });

  itTraced('streamText with Output.object: partial objects as the JSON streams, the parsed object at the end', async () => {
    e2e.upstream.enqueue({ chunks: ['{"city":', '"Lisbon",', '"celsius":21}'] });

    const result = streamText({
      model: model(),
      prompt: 'Lisbon, 21 degrees',
      output: Output.object({ schema: z.object({ city: z.string(), celsius: z.number() }) }),
      maxRetries: 0,
      onError: () => undefined,
    });
    const partials = await collect(result.partialOutputStream);

    expect(partials[partials.length - 1]).toEqual({ city: 'Lisbon', celsius: 21 });
    expect(partials.length).toBeGreaterThan(1);
    expect(await result.output).toEqual({ city: 'Lisbon', celsius: 21 });
    expect(recorder.responsesCalls()[0].body).toMatchObject({ stream: true, text: { format: { type: 'json_schema', strict: true } } });
    expect(e2e.upstream.requests[0].body).toMatchObject({
      stream: true,
      response_format: { type: 'json_schema', json_schema: { strict: true, schema: { required: ['city', 'celsius'] } } },
    });
  });

  itTraced('tools and Output.object together: the tool step, then the structured answer', async () => {
    e2e.upstream.enqueue(toolCallScript(['call_j1', 'get_weather', '{"city":"Rome"}']), { text: '{"city":"Rome","sky":"clear"}' });
    const calls: Array<{ city: string }> = [];

    const result = await generateText({
      model: model(),
      prompt: 'Weather in Rome, as JSON',
      tools: weatherTools(calls),
      output: Output.object({ schema: z.object({ city: z.string(), sky: z.string() }) }),
      stopWhen: stepCountIs(3),
      maxRetries: 0,
    });

    expect(calls).toEqual([{ city: 'Rome' }]);
    expect(result.output).toEqual({ city: 'Rome', sky: 'clear' });
    // The format goes with every step; the upstream gets tools and response_format together.
    for (const request of e2e.upstream.requests) {
      expect(request.body).toMatchObject({ tools: [{ function: { name: 'get_weather' } }], response_format: { type: 'json_schema' } });
    }
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

  itTraced('with store: false, text before a tool call is replayed as an assistant message with string content', async () => {
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
    // @ai-sdk/openai 3 replayed it as `content: [{type: "output_text", ...}]`; 4 sends the short
    // (EasyInputMessage) form, without `type` or `id`. Both are input items the gateway takes.
    expect(recorder.responsesCalls()[1].body.input).toEqual([
      { role: 'user', content: [{ type: 'input_text', text: 'Weather in Oslo?' }] },
      { role: 'assistant', content: 'Let me check.' },
      { type: 'function_call', call_id: 'call_n1', name: 'get_weather', arguments: '{"city":"Oslo"}' },
      { type: 'function_call_output', call_id: 'call_n1', output: '{"sky":"clear","city":"Oslo"}' },
    ]);
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

  // @ai-sdk/openai 3 sent no `strict` on function tools, which OpenAI's Responses API takes as
  // "strict when the schema allows it"; 4 sends `strict: tool.strict ?? false`. A zod
  // `.optional()` property is left out of `required`, which strict mode does not take as it is
  // (Chat Completions answers 400 to `strict: true` with it). So the upstream must get either
  // non-strict, or strict with a schema strict mode accepts: the gateway passes `strict` on as sent.
  itTraced('a tool with an optional parameter: the SDK sends strict: false, which the upstream gets as it is', async () => {
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
    expect(sentTool.strict).toBe(false);
    expect(sentTool.parameters.required).toEqual(['city']);
    expect(e2e.upstream.requests.map((r) => r.body.tools[0].function.strict)).toEqual([false, false]);
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
      // The referenced reasoning item, from the store, goes back on the assistant message of its turn.
      expect(upstreamMessages(1)).toEqual([
        userText('Weather in Cairo?'),
        { role: 'assistant', content: null, reasoning: 'The user wants Cairo.', tool_calls: [chatCall('call_i2', 'get_weather', '{"city":"Cairo"}')] },
        { role: 'tool', tool_call_id: 'call_i2', content: '{"sky":"clear","city":"Cairo"}' },
      ]);
    });
  });
});
