/**
 * LangChain's OpenAI chat model (`@langchain/openai` 1.x, test/clients/package.json) on the Responses
 * API (`useResponsesApi: true`), against the real app and the scripted Chat Completions upstream:
 *
 *   ChatOpenAI → openai client (recording fetch) → gateway /v1/responses → fake upstream
 *
 * Each test checks what LangChain made of the answer, what it sent (`recorder`) and what reached
 * the upstream; a failing test prints the whole exchange (see `traced`).
 */
import { AIMessage, AIMessageChunk, HumanMessage, SystemMessage, ToolMessage } from '@langchain/core/messages';
import { tool } from '@langchain/core/tools';
import { ChatOpenAI } from '@langchain/openai';
import { z } from 'zod';
import { MODEL, useFrameworkSuite } from '../support/frameworks/suite';
import { collect } from '../support/streams';

const { e2e, recorder, itTraced } = useFrameworkSuite();

const chatModel = (fields: ConstructorParameters<typeof ChatOpenAI>[0] & object = {}) =>
  new ChatOpenAI({
    model: MODEL,
    apiKey: 'k',
    useResponsesApi: true,
    maxRetries: 0,
    configuration: { baseURL: `${e2e.url}/v1`, fetch: recorder.fetch },
    ...fields,
  });

const userText = (text: string) => ({ role: 'user', content: [{ type: 'text', text }] });
const chatCall = (id: string, name: string, args: string) => ({ id, type: 'function', function: { name, arguments: args } });

function weatherTool(calls: Array<{ city: string }>) {
  return tool(
    ({ city }) => {
      calls.push({ city });
      return JSON.stringify({ sky: 'clear', city });
    },
    { name: 'get_weather', description: 'Current weather for a city', schema: z.object({ city: z.string() }) },
  );
}

describe('@langchain/openai 1.x (ChatOpenAI, useResponsesApi) → gateway → upstream', () => {
  itTraced('invoke: system and user messages in, an AIMessage with text, id and usage out', async () => {
    e2e.upstream.enqueue({ text: 'Hello from LangChain.', usage: { prompt_tokens: 9, completion_tokens: 4 } });

    const message = await chatModel({ temperature: 0.2, maxTokens: 50 }).invoke([new SystemMessage('Be brief.'), new HumanMessage('Say hello')]);

    expect(message).toBeInstanceOf(AIMessage);
    expect(message.text).toBe('Hello from LangChain.');
    expect(message.id).toMatch(/^resp_/); // LangChain names the message after the response
    expect(message.response_metadata).toMatchObject({ id: message.id, model: MODEL, status: 'completed' });
    expect(message.usage_metadata).toMatchObject({ input_tokens: 9, output_tokens: 4, total_tokens: 13 });

    const [sent] = recorder.responsesCalls();
    expect([sent.method, sent.path, sent.status]).toEqual(['POST', '/v1/responses', 200]);
    expect(sent.body).toMatchObject({ model: MODEL, temperature: 0.2, max_output_tokens: 50, stream: false });
    expect(sent.body.input).toEqual([
      { type: 'message', role: 'system', content: 'Be brief.' },
      { type: 'message', role: 'user', content: 'Say hello' },
    ]);
    expect(e2e.upstream.requests[0].body).toMatchObject({
      model: MODEL,
      messages: [{ role: 'system', content: 'Be brief.' }, userText('Say hello')],
      temperature: 0.2,
      max_tokens: 50,
    });
  });

  itTraced('stream: text chunks as the upstream sent them, usage at the end; the gateway’s event order', async () => {
    e2e.upstream.enqueue({ chunks: ['Str', 'eam', 'ed.'] });

    const chunks = await collect(await chatModel().stream([new HumanMessage('Stream please')]));

    expect(chunks.every((c) => c instanceof AIMessageChunk)).toBe(true);
    expect(chunks.map((c) => c.text).filter(Boolean)).toEqual(['Str', 'eam', 'ed.']);
    const whole = chunks.reduce((a, b) => a.concat(b));
    expect(whole.text).toBe('Streamed.');
    expect(whole.usage_metadata).toMatchObject({ input_tokens: 10, output_tokens: 5, total_tokens: 15 });
    // (`model` is set by both response.created and response.completed, and concat() joins strings:
    // LangChain's own merge, as against OpenAI; `model_name` is set once.)
    expect(whole.response_metadata).toMatchObject({ id: expect.stringMatching(/^resp_/), model_name: MODEL, status: 'completed' });

    const [sent] = recorder.responsesCalls();
    expect(sent.body).toMatchObject({ stream: true, input: [{ type: 'message', role: 'user', content: 'Stream please' }] });
    expect(sent.events?.map((e: { type: string }) => e.type)).toEqual([
      'response.created',
      'response.in_progress',
      'response.output_item.added',
      'response.content_part.added',
      'response.output_text.delta',
      'response.output_text.delta',
      'response.output_text.delta',
      'response.output_text.done',
      'response.content_part.done',
      'response.output_item.done',
      'response.completed',
    ]);
    expect(e2e.upstream.requests[0].body).toMatchObject({ stream: true, messages: [userText('Stream please')] });
  });

  itTraced('bindTools round trip: tool_calls out, the ToolMessage back, the answer', async () => {
    e2e.upstream.enqueue({ toolCalls: [{ id: 'call_l1', name: 'get_weather', arguments: '{"city":"Lima"}' }] }, { text: 'Clear in Lima.' });
    const calls: Array<{ city: string }> = [];
    const weather = weatherTool(calls);
    const model = chatModel().bindTools([weather]);
    const history = [new HumanMessage('Weather in Lima?')];

    const ai = await model.invoke(history);
    expect(ai.tool_calls).toEqual([{ type: 'tool_call', id: 'call_l1', name: 'get_weather', args: { city: 'Lima' } }]);
    const result: ToolMessage = await weather.invoke(ai.tool_calls![0]);
    const answer = await model.invoke([...history, ai, result]);

    expect(calls).toEqual([{ city: 'Lima' }]);
    expect(answer.text).toBe('Clear in Lima.');
    expect(answer.tool_calls).toEqual([]);

    const sent = recorder.responsesCalls();
    expect(sent[0].body.tools).toEqual([
      {
        type: 'function',
        name: 'get_weather',
        description: 'Current weather for a city',
        parameters: expect.objectContaining({ type: 'object', properties: { city: { type: 'string' } }, required: ['city'] }),
        strict: null,
      },
    ]);
    expect(JSON.parse(sent[0].responseText ?? '{}').tools).toEqual(sent[0].body.tools); // echoed as sent
    // LangChain replays the call as the function_call item it got (its fc_ id included) and the result.
    expect(sent[1].body.input).toMatchObject([
      { role: 'user', content: 'Weather in Lima?' },
      { type: 'function_call', id: expect.stringMatching(/^fc_/), call_id: 'call_l1', name: 'get_weather', arguments: '{"city":"Lima"}' },
      { type: 'function_call_output', call_id: 'call_l1', output: '{"sky":"clear","city":"Lima"}' },
    ]);
    expect(e2e.upstream.requests[0].body.tools).toMatchObject([
      {
        type: 'function',
        function: { name: 'get_weather', description: 'Current weather for a city', parameters: { properties: { city: { type: 'string' } } } },
      },
    ]);
    expect(e2e.upstream.requests[1].body.messages).toEqual([
      userText('Weather in Lima?'),
      { role: 'assistant', content: null, tool_calls: [chatCall('call_l1', 'get_weather', '{"city":"Lima"}')] },
      { role: 'tool', tool_call_id: 'call_l1', content: '{"sky":"clear","city":"Lima"}' },
    ]);
  });

  itTraced('zdrEnabled (store: false): the round trip replays the whole history, nothing is stored', async () => {
    e2e.upstream.enqueue({ text: 'Checking.', toolCalls: [{ id: 'call_z1', name: 'get_weather', arguments: '{"city":"Oslo"}' }] }, { text: 'Cold in Oslo.' });
    const weather = weatherTool([]);
    const model = chatModel({ zdrEnabled: true }).bindTools([weather]);
    const history = [new HumanMessage('Weather in Oslo?')];

    const ai = await model.invoke(history);
    const answer = await model.invoke([...history, ai, await weather.invoke(ai.tool_calls![0])]);

    expect(answer.text).toBe('Cold in Oslo.');
    const sent = recorder.responsesCalls();
    expect(sent.map((e) => e.body.store)).toEqual([false, false]);
    await expect(e2e.client.responses.retrieve(JSON.parse(sent[0].responseText ?? '{}').id)).rejects.toMatchObject({ status: 404 });
    expect(e2e.upstream.requests[1].body.messages).toEqual([
      userText('Weather in Oslo?'),
      { role: 'assistant', content: 'Checking.', tool_calls: [chatCall('call_z1', 'get_weather', '{"city":"Oslo"}')] },
      { role: 'tool', tool_call_id: 'call_z1', content: '{"sky":"clear","city":"Oslo"}' },
    ]);
  });

  itTraced('bindTools with stream: tool_call_chunks assemble into the call', async () => {
    e2e.upstream.enqueue({ toolCalls: [{ id: 'call_l2', name: 'get_weather', arguments: '{"city":"Quito"}' }] });

    const chunks = await collect(
      await chatModel()
        .bindTools([weatherTool([])])
        .stream([new HumanMessage('Weather in Quito?')]),
    );
    const whole = chunks.reduce((a, b) => a.concat(b));

    expect(whole.tool_calls).toMatchObject([{ id: 'call_l2', name: 'get_weather', args: { city: 'Quito' } }]);
    expect(chunks.filter((c) => (c.tool_call_chunks ?? []).length > 0).length).toBeGreaterThan(1); // the arguments came in pieces
    expect(recorder.responsesCalls()[0].body).toMatchObject({ stream: true, tools: [{ type: 'function', name: 'get_weather' }] });
  });

  itTraced('withStructuredOutput: a json_schema text format reaches the upstream as response_format', async () => {
    e2e.upstream.enqueue({ text: '{"city":"Lisbon","celsius":21}' });

    const extractor = chatModel().withStructuredOutput(z.object({ city: z.string(), celsius: z.number() }), { name: 'forecast' });
    const result = await extractor.invoke('Lisbon, 21 degrees');

    expect(result).toEqual({ city: 'Lisbon', celsius: 21 });
    expect(recorder.responsesCalls()[0].body.text).toMatchObject({ format: { type: 'json_schema', name: 'forecast' } });
    expect(e2e.upstream.requests[0].body.response_format).toMatchObject({
      type: 'json_schema',
      json_schema: { name: 'forecast', schema: { type: 'object', properties: { city: { type: 'string' }, celsius: { type: 'number' } } } },
    });
  });

  itTraced('a hosted tool this server does not run, not forced: left out, the model answers without it', async () => {
    e2e.upstream.enqueue({ text: 'I cannot search the web here.' });
    const answer = await chatModel()
      .bindTools([{ type: 'web_search' }])
      .invoke('What happened today?');

    expect(answer.text).toBe('I cannot search the web here.');
    expect(recorder.responsesCalls()[0].body.tools).toEqual([{ type: 'web_search' }]);
    expect(e2e.upstream.requests[0].body).not.toHaveProperty('tools');
  });
});
