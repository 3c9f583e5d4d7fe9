/**
 * The official `openai` client (7.x, test/clients/package.json), used as its users use the Responses
 * API, against the real app and the scripted Chat Completions upstream:
 *
 *   openai (recording fetch) → gateway /v1/… → fake upstream /v1/chat/completions
 *
 * Each test checks what the client got (content, the order of stream events), what it sent
 * (`recorder`) and what reached the upstream. Background runs inline (embedded PGlite, no Redis):
 * test/e2e/background.e2e-spec.ts covers Bull; here the subject is the client.
 */
import { randomBytes } from 'node:crypto';
import OpenAI from 'openai';
import { zodTextFormat } from 'openai/helpers/zod';
import type { Response, ResponsesClientEvent, ResponsesServerEvent, ResponseStreamEvent } from 'openai/resources/responses/responses';
import { ResponsesWS } from 'openai/resources/responses/ws';
import { chatCall, MODEL, useFrameworkSuite, userText } from '../support/frameworks/suite';
import { collect, eventTypes } from '../support/streams';
import { waitFor } from '../support/wait';
import { startWebhookReceiver, WebhookReceiver } from '../support/webhook-receiver';
import { z } from 'zod';

const KEY = 'sk-a';
/** Webhook delivery to a loopback receiver, quickly (as in test/e2e/webhooks.e2e-spec.ts). */
const WEBHOOKS = {
  WEBHOOK_ALLOW_HTTP: 'true',
  WEBHOOK_ALLOWED_HOSTS: '127.0.0.1',
  WEBHOOK_RELAY_INTERVAL_MS: '50',
  WEBHOOK_BACKOFF_BASE_MS: '200',
  WEBHOOK_TIMEOUT_MS: '1000',
};

let receiver: WebhookReceiver;
beforeAll(async () => {
  receiver = await startWebhookReceiver();
});
afterAll(() => receiver?.close());

const { e2e, recorder, itTraced, upstreamMessages } = useFrameworkSuite({
  // SECRETS_KEY: the gateway seals reasoning and compaction items with it.
  env: () => ({ ...WEBHOOKS, API_KEYS: `${KEY}:team-a`, RECONCILE_INTERVAL_MS: '500', SECRETS_KEY: 'a-test-secret-key-of-enough-length' }),
});
let client: OpenAI;
beforeAll(() => {
  client = new OpenAI({ baseURL: `${e2e.url}/v1`, apiKey: KEY, maxRetries: 0, timeout: 20_000, fetch: recorder.fetch });
});

const slow = (n: number, ms = 30) => ({ chunks: Array.from({ length: n }, (_, i) => `w${i} `), chunkDelayMs: ms });
const finished = (id: string) =>
  waitFor(
    () => client.responses.retrieve(id),
    (r) => r.status !== 'queued' && r.status !== 'in_progress',
  );
const createdId = (events: ResponseStreamEvent[]): string => {
  const first = events[0];
  if (first?.type !== 'response.created') throw new Error(`the stream did not start with response.created: ${first?.type}`);
  return first.response.id;
};

/** The events of a streamed text answer of `n` deltas, as the contract orders them (§5). */
const textStreamTypes = (n: number, head: string[] = ['response.created', 'response.in_progress']) => [
  ...head,
  'response.output_item.added',
  'response.content_part.added',
  ...Array.from({ length: n }, () => 'response.output_text.delta'),
  'response.output_text.done',
  'response.content_part.done',
  'response.output_item.done',
  'response.completed',
];

describe('openai 7.x → gateway → upstream', () => {
  itTraced('responses.create: text, instructions and settings in; output_text, usage and ids out', async () => {
    e2e.upstream.enqueue({ text: 'Bonjour.', usage: { prompt_tokens: 7, completion_tokens: 2 } });

    const response = await client.responses.create({
      model: MODEL,
      instructions: 'Answer in French.',
      input: 'Say hello',
      temperature: 0.4,
      max_output_tokens: 32,
      metadata: { run: 'plain' },
    });

    expect(response).toMatchObject({
      id: expect.stringMatching(/^resp_/),
      object: 'response',
      status: 'completed',
      model: MODEL,
      instructions: 'Answer in French.',
      temperature: 0.4,
      max_output_tokens: 32,
      metadata: { run: 'plain' },
      error: null,
      incomplete_details: null,
      usage: { input_tokens: 7, output_tokens: 2, total_tokens: 9 },
      output: [{ type: 'message', role: 'assistant', status: 'completed', content: [{ type: 'output_text', text: 'Bonjour.', annotations: [] }] }],
    });
    expect(response.output[0].id).toMatch(/^msg_/);
    expect(response.output_text).toBe('Bonjour.'); // the SDK's convenience, computed from `output`
    expect(recorder.responsesCalls().map((e) => [e.method, e.path, e.status, e.contentType])).toEqual([
      ['POST', '/v1/responses', 200, expect.stringContaining('application/json')],
    ]);
    expect(e2e.upstream.requests).toHaveLength(1);
    expect(e2e.upstream.requests[0].body).toMatchObject({
      model: MODEL,
      messages: [{ role: 'system', content: 'Answer in French.' }, userText('Say hello')],
      temperature: 0.4,
      max_tokens: 32,
    });
  });

  itTraced('responses.create({stream: true}) read with for-await: the whole event sequence, numbered from 0', async () => {
    e2e.upstream.enqueue({ chunks: ['One', ', two', ', three.'] });

    const stream = await client.responses.create({ model: MODEL, input: 'Count', stream: true });
    const events = await collect(stream);

    expect(events.map((e) => e.type)).toEqual(textStreamTypes(3));
    expect(events.map((e) => e.sequence_number)).toEqual(events.map((_, i) => i));
    const deltas = events.flatMap((e) => (e.type === 'response.output_text.delta' ? [e.delta] : []));
    expect(deltas).toEqual(['One', ', two', ', three.']);
    const last = events[events.length - 1];
    expect(last).toMatchObject({ type: 'response.completed', response: { status: 'completed', usage: { input_tokens: 10, output_tokens: 5 } } });
    // (`output_text` is the SDK's addition to what create and finalResponse() return, not to events.)
    expect(last).toMatchObject({ response: { output: [{ type: 'message', content: [{ type: 'output_text', text: 'One, two, three.' }] }] } });
    expect(recorder.responsesCalls()[0]).toMatchObject({ body: { stream: true }, status: 200, contentType: expect.stringContaining('text/event-stream') });
    expect(e2e.upstream.requests[0].body).toMatchObject({ stream: true, messages: [userText('Count')] });
  });

  itTraced('responses.stream(): the helper’s typed events and finalResponse()', async () => {
    e2e.upstream.enqueue({ chunks: ['Hel', 'lo'] });

    const runner = client.responses.stream({ model: MODEL, input: 'Greet' });
    const deltas: string[] = [];
    const snapshots: string[] = [];
    runner.on('response.output_text.delta', (event) => {
      deltas.push(event.delta);
      snapshots.push(event.snapshot);
    });
    const types = await eventTypes(runner);
    const final = await runner.finalResponse();

    expect(types).toEqual(textStreamTypes(2));
    expect(deltas).toEqual(['Hel', 'lo']);
    expect(snapshots).toEqual(['Hel', 'Hello']); // the helper's accumulator followed every delta
    expect(final).toMatchObject({
      status: 'completed',
      output_text: 'Hello',
      output: [{ type: 'message', content: [{ type: 'output_text', text: 'Hello' }] }],
    });
    expect(recorder.responsesCalls()[0].body).toMatchObject({ model: MODEL, input: 'Greet', stream: true });
  });

  itTraced('a function tool round trip: function_call out, function_call_output back with previous_response_id', async () => {
    e2e.upstream.enqueue({ toolCalls: [{ id: 'call_w1', name: 'get_weather', arguments: '{"city":"Oslo"}' }] }, { text: 'Snow in Oslo.' });
    const tools: OpenAI.Responses.Tool[] = [
      {
        type: 'function',
        name: 'get_weather',
        description: 'Current weather for a city',
        strict: true,
        parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'], additionalProperties: false },
      },
    ];

    const first = await client.responses.create({ model: MODEL, input: 'Weather in Oslo?', tools });
    expect(first.output).toMatchObject([
      { type: 'function_call', id: expect.stringMatching(/^fc_/), call_id: 'call_w1', name: 'get_weather', arguments: '{"city":"Oslo"}', status: 'completed' },
    ]);
    const second = await client.responses.create({
      model: MODEL,
      previous_response_id: first.id,
      input: [{ type: 'function_call_output', call_id: 'call_w1', output: '{"sky":"snow"}' }],
      tools,
    });

    expect(second.output_text).toBe('Snow in Oslo.');
    expect(second.previous_response_id).toBe(first.id);
    expect(e2e.upstream.requests[0].body.tools).toEqual([
      {
        type: 'function',
        function: {
          name: 'get_weather',
          description: 'Current weather for a city',
          strict: true,
          parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'], additionalProperties: false },
        },
      },
    ]);
    expect(e2e.upstream.requests[1].body.messages).toEqual([
      userText('Weather in Oslo?'),
      {
        role: 'assistant',
        content: null,
        tool_calls: [{ id: 'call_w1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Oslo"}' } }],
      },
      { role: 'tool', tool_call_id: 'call_w1', content: '{"sky":"snow"}' },
    ]);
  });

  itTraced('responses.parse with zodTextFormat: a strict json_schema upstream, output_parsed back', async () => {
    e2e.upstream.enqueue({ text: '{"city":"Lisbon","celsius":21}' });

    const parsed = await client.responses.parse({
      model: MODEL,
      input: 'Lisbon, 21 degrees',
      text: { format: zodTextFormat(z.object({ city: z.string(), celsius: z.number() }), 'forecast') },
    });

    expect(parsed.output_parsed).toEqual({ city: 'Lisbon', celsius: 21 });
    expect(recorder.responsesCalls()[0].body.text).toMatchObject({ format: { type: 'json_schema', name: 'forecast', strict: true } });
    expect(e2e.upstream.requests[0].body.response_format).toEqual({
      type: 'json_schema',
      json_schema: {
        name: 'forecast',
        strict: true,
        schema: expect.objectContaining({
          type: 'object',
          properties: { city: { type: 'string' }, celsius: { type: 'number' } },
          required: ['city', 'celsius'],
          additionalProperties: false,
        }),
      },
    });
  });

  itTraced('what the SDK offers and this server does not do is a deliberate error naming it, never a silent drop', async () => {
    const refusal = (promise: Promise<unknown>) =>
      promise.then(
        () => 'accepted',
        (e: unknown) => e,
      );
    const unsupported = (param: string) => ({ status: 400, type: 'invalid_request_error', code: 'unsupported_parameter', param });

    // Logprobs need what no Chat Completions upstream gives back here.
    expect(await refusal(client.responses.create({ model: MODEL, input: 'x', top_logprobs: 2 }))).toMatchObject(unsupported('top_logprobs'));
    expect(await refusal(client.responses.create({ model: MODEL, input: 'x', prompt: { id: 'pmpt_1' } }))).toMatchObject(unsupported('prompt'));
    expect(await refusal(client.responses.create({ model: MODEL, input: 'x', tools: [{ type: 'local_shell' }] }))).toMatchObject(unsupported('tools[0].type'));
    expect(e2e.upstream.requests).toHaveLength(0);
  });

  itTraced('stateless with sealed reasoning: include reasoning.encrypted_content, the output replayed as the next input', async () => {
    e2e.upstream.enqueue({ reasoning: 'The user greets me.', text: 'Hello!' }, { text: 'Fine.' });
    const first = await client.responses.create({ model: MODEL, input: 'hi', store: false, include: ['reasoning.encrypted_content'] });
    const reasoning = first.output.find((i) => i.type === 'reasoning');
    expect(reasoning?.encrypted_content).toMatch(/^v2\./);
    // As the SDK's docs show for store: false: the previous output, as it came, then the next message.
    await client.responses.create({
      model: MODEL,
      input: [...first.output, { role: 'user', content: 'how are you?' }] as OpenAI.Responses.ResponseInputItem[],
      store: false,
      include: ['reasoning.encrypted_content'],
    });
    const messages = (e2e.upstream.requests[1].body as { messages: unknown[] }).messages;
    expect(messages).toEqual([
      { role: 'assistant', content: 'Hello!', reasoning: 'The user greets me.' },
      { role: 'user', content: [{ type: 'text', text: 'how are you?' }] },
    ]);
  });

  itTraced('retrieve returns what create returned; delete removes it (then 404 for retrieve and delete)', async () => {
    e2e.upstream.enqueue({ text: 'Keep me.' });
    const created = await client.responses.create({ model: MODEL, input: 'Store this' });

    const retrieved = await client.responses.retrieve(created.id);
    expect(retrieved).toEqual(created);
    await client.responses.delete(created.id);
    // Typed `void` in the SDK; the body is OpenAI's deletion object.
    expect(JSON.parse(recorder.exchanges[2].responseText ?? 'null')).toEqual({ id: created.id, object: 'response', deleted: true });

    const gone = await client.responses.retrieve(created.id).catch((e: unknown) => e);
    expect(gone).toBeInstanceOf(OpenAI.NotFoundError);
    expect(gone).toMatchObject({ status: 404, message: `404 Response with id '${created.id}' not found.`, type: 'invalid_request_error' });
    await expect(client.responses.delete(created.id)).rejects.toBeInstanceOf(OpenAI.NotFoundError);
    expect(recorder.exchanges.map((e) => [e.method, e.path, e.status])).toEqual([
      ['POST', '/v1/responses', 200],
      ['GET', `/v1/responses/${created.id}`, 200],
      ['DELETE', `/v1/responses/${created.id}`, 200],
      ['GET', `/v1/responses/${created.id}`, 404],
      ['DELETE', `/v1/responses/${created.id}`, 404],
    ]);
  });

  itTraced('inputItems.list across pages: the auto-paginator follows has_more with after=<last id>', async () => {
    e2e.upstream.enqueue({ text: 'ok' });
    const input = Array.from({ length: 5 }, (_, i) => ({ role: 'user' as const, content: `message ${i}` }));
    const created = await client.responses.create({ model: MODEL, input });
    recorder.reset();

    const page = await client.responses.inputItems.list(created.id, { limit: 2 });
    expect(page.data).toHaveLength(2);
    expect(page.has_more).toBe(true);
    expect(page.hasNextPage()).toBe(true);
    const next = await page.getNextPage();
    expect(next.data.map((item) => item.id)).not.toContain(page.data[1].id);

    const items = await collect(client.responses.inputItems.list(created.id, { limit: 2 }));
    const texts = items.map((item) => (item.type === 'message' && item.content[0].type === 'input_text' ? item.content[0].text : item.type));
    expect(texts).toEqual(['message 4', 'message 3', 'message 2', 'message 1', 'message 0']);
    for (const item of items) expect(item).toMatchObject({ id: expect.stringMatching(/^msg_/), type: 'message', role: 'user', status: 'completed' });

    // Three pages of the paginator (2 + 2 + 1), each cursor the last id of the page before.
    const listed = recorder.exchanges.slice(2).map((e) => new URL(e.path, 'http://x').searchParams);
    expect(listed.map((q) => [q.get('limit'), q.get('after')])).toEqual([
      ['2', null],
      ['2', items[1].id],
      ['2', items[3].id],
    ]);
    const asc = await client.responses.inputItems.list(created.id, { order: 'asc' });
    expect(asc.data.map((item) => item.id)).toEqual(items.map((item) => item.id).reverse());
  });

  itTraced('background: create answers queued, cancel stops it mid-stream, the upstream call is closed', async () => {
    e2e.upstream.enqueue(slow(200));

    const queued = await client.responses.create({ model: MODEL, input: 'Long job', background: true });
    expect(queued).toMatchObject({ status: 'queued', background: true, output: [], usage: null });
    await e2e.upstream.waitForRequests(1, 5000);
    const cancelled = await client.responses.cancel(queued.id);

    expect(cancelled).toMatchObject({ id: queued.id, status: 'cancelled', background: true });
    await e2e.upstream.waitForClientClose(0, 5000);
    expect((await client.responses.retrieve(queued.id)).status).toBe('cancelled');
    // Idempotent; and a finished response cannot be cancelled (400, which the SDK does not retry).
    expect((await client.responses.cancel(queued.id)).status).toBe('cancelled');
    e2e.upstream.enqueue({ text: 'quick' });
    const done = await finished((await client.responses.create({ model: MODEL, input: 'Quick job', background: true })).id);
    const refused = await client.responses.cancel(done.id).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(OpenAI.BadRequestError);
    expect(refused).toMatchObject({ status: 400, message: '400 Cannot cancel a completed response.' });
    expect(recorder.exchanges.filter((e) => e.path.endsWith('/cancel')).map((e) => [e.method, e.status])).toEqual([
      ['POST', 200],
      ['POST', 200],
      ['POST', 400],
    ]);
  });

  itTraced('background stream: drop the connection, resume with starting_after (retrieve and responses.stream)', async () => {
    e2e.upstream.enqueue(slow(6, 40));

    const stream = await client.responses.create({ model: MODEL, input: 'Stream in the background', background: true, stream: true });
    // Leave after the second delta: the job keeps running without a reader.
    const head = await collect(stream, { until: (_e, seen) => seen.filter((x) => x.type === 'response.output_text.delta').length === 2 });
    const id = createdId(head);
    expect(head.map((e) => e.type)).toEqual([
      'response.created',
      'response.queued',
      'response.in_progress',
      'response.output_item.added',
      'response.content_part.added',
      'response.output_text.delta',
      'response.output_text.delta',
    ]);
    expect(head[0]).toMatchObject({ response: { status: 'queued', background: true } });
    const k = head[head.length - 1].sequence_number;

    const tail = await collect(await client.responses.retrieve(id, { stream: true, starting_after: k }));
    expect(tail.map((e) => e.sequence_number)).toEqual(tail.map((_, i) => k + 1 + i));
    expect([...head, ...tail].map((e) => e.type)).toEqual(textStreamTypes(6, ['response.created', 'response.queued', 'response.in_progress']));
    const text = [...head, ...tail].flatMap((e) => (e.type === 'response.output_text.delta' ? [e.delta] : [])).join('');
    expect(text).toBe('w0 w1 w2 w3 w4 w5 ');

    // The helper asks for the whole replay (its accumulator needs response.created) and hands on
    // only the events after `starting_after`.
    const helper = client.responses.stream({ response_id: id, starting_after: k });
    const resumed = await collect(helper);
    const final: Response = await helper.finalResponse();
    expect(resumed.map((e) => [e.type, e.sequence_number])).toEqual(tail.map((e) => [e.type, e.sequence_number]));
    expect(final).toMatchObject({ id, status: 'completed', output_text: text });
    expect(e2e.upstream.requests).toHaveLength(1);
    expect(e2e.upstream.requests[0].closedByClient).toBe(false);
    const replays = recorder.exchanges.filter((e) => e.method === 'GET').map((e) => e.path);
    expect(replays).toEqual([`/v1/responses/${id}?stream=true&starting_after=${k}`, `/v1/responses/${id}?stream=true`]);
  });

  itTraced('conversations: responses in a conversation see its history; items.list shows the turns', async () => {
    e2e.upstream.enqueue({ text: 'Nice to meet you, Ada.' }, { text: 'Your name is Ada.' });
    const conversation = await client.conversations.create({ metadata: { topic: 'names' } });
    expect(conversation).toMatchObject({ id: expect.stringMatching(/^conv_/), object: 'conversation', metadata: { topic: 'names' } });

    const first = await client.responses.create({ model: MODEL, input: 'I am Ada.', conversation: conversation.id });
    const second = await client.responses.create({ model: MODEL, input: 'What is my name?', conversation: { id: conversation.id } });

    expect(second.output_text).toBe('Your name is Ada.');
    expect(first.conversation).toEqual({ id: conversation.id });
    expect(second.conversation).toEqual({ id: conversation.id });
    expect(e2e.upstream.requests[1].body.messages).toEqual([
      userText('I am Ada.'),
      { role: 'assistant', content: 'Nice to meet you, Ada.' },
      userText('What is my name?'),
    ]);
    const items = await collect(client.conversations.items.list(conversation.id, { order: 'asc' }));
    expect(
      items.map((item) => (item.type === 'message' ? [item.role, item.content.map((c) => ('text' in c ? c.text : c.type)).join('')] : [item.type])),
    ).toEqual([
      ['user', 'I am Ada.'],
      ['assistant', 'Nice to meet you, Ada.'],
      ['user', 'What is my name?'],
      ['assistant', 'Your name is Ada.'],
    ]);
    expect(await client.conversations.delete(conversation.id)).toMatchObject({ id: conversation.id, deleted: true });
    await expect(client.conversations.retrieve(conversation.id)).rejects.toBeInstanceOf(OpenAI.NotFoundError);
  });

  itTraced('webhooks.unwrap verifies a real delivery of response.completed (and refuses another secret)', async () => {
    const path = `/${randomBytes(6).toString('hex')}`;
    const endpoint = await client.post<{ id: string; secret: string }>('/webhook_endpoints', { body: { url: `${receiver.url}${path}` } });
    expect(endpoint.secret).toMatch(/^whsec_/);
    e2e.upstream.enqueue({ text: 'done' });

    const queued = await client.responses.create({ model: MODEL, input: 'Notify me', background: true });
    const [delivery] = await receiver.waitFor(path, 1, queued.id);

    // As a user's receiver does it: the client knows the secret, unwrap checks and parses.
    const verifying = new OpenAI({ apiKey: 'unused', webhookSecret: endpoint.secret });
    const event = await verifying.webhooks.unwrap(delivery.body, delivery.headers);
    expect(event).toEqual({
      id: expect.stringMatching(/^evt_/),
      object: 'event',
      created_at: expect.any(Number),
      type: 'response.completed',
      data: { id: queued.id },
    });
    const other = `whsec_${randomBytes(32).toString('base64')}`;
    await expect(verifying.webhooks.unwrap(delivery.body, delivery.headers, other)).rejects.toBeInstanceOf(OpenAI.InvalidWebhookSignatureError);
    // What the event names is there to fetch.
    if (event.type !== 'response.completed') throw new Error(`unexpected event ${event.type}`);
    expect((await client.responses.retrieve(event.data.id)).output_text).toBe('done');
    await client.delete(`/webhook_endpoints/${endpoint.id}`);
  });

  describe('compaction (responses.compact, compaction items, context_management, compaction_trigger) and inputTokens.count', () => {
    type InputItems = OpenAI.Responses.ResponseInputItem[];
    type ChatMessage = { role: string; content: unknown };
    const chatText = (m: ChatMessage) =>
      typeof m.content === 'string' ? m.content : Array.isArray(m.content) ? (m.content as Array<{ text?: string }>).map((p) => p.text ?? '').join('') : '';
    const upstreamText = (i: number) => (upstreamMessages(i) as ChatMessage[]).map(chatText).join('\n');
    /** The user message that stands for a compaction item upstream. */
    const summaryOf = (i: number) =>
      (upstreamMessages(i) as ChatMessage[]).filter((m) => m.role === 'user' && chatText(m).startsWith('Summary of the earlier conversation')).map(chatText);
    const refusal = (promise: Promise<unknown>) =>
      promise.then(
        () => 'accepted',
        (e: unknown) => e,
      );
    /** A conversation of two user turns whose assistant turns only the summary should carry on. */
    const HISTORY: InputItems = [
      { role: 'user', content: 'Plan a trip to Rome.' },
      { role: 'assistant', content: 'OLD-ASSISTANT-1: fly on Friday.' },
      { role: 'user', content: 'Also book a hotel.' },
      { role: 'assistant', content: 'OLD-ASSISTANT-2: the Hotel Roma.' },
    ];
    const userMessage = (text: string) =>
      expect.objectContaining({ type: 'message', role: 'user', content: [expect.objectContaining({ type: 'input_text', text })] });
    const compactionItem = expect.objectContaining({ type: 'compaction', id: expect.stringMatching(/^cmp_/), encrypted_content: expect.any(String) });

    itTraced('responses.compact: the user messages and one sealed compaction item; the next create sends the summary upstream, not the old turns', async () => {
      e2e.upstream.enqueue(
        { text: 'SUMMARY-1: a trip to Rome, flying Friday, at the Hotel Roma.', usage: { prompt_tokens: 40, completion_tokens: 12 } },
        { text: 'Checking in at three.' },
      );

      const compacted = await client.responses.compact({ model: MODEL, input: HISTORY });

      expect(compacted).toMatchObject({
        id: expect.any(String),
        object: 'response.compaction',
        created_at: expect.any(Number),
        usage: { input_tokens: 40, output_tokens: 12, total_tokens: 52 },
      });
      expect(compacted.output).toEqual([userMessage('Plan a trip to Rome.'), userMessage('Also book a hotel.'), compactionItem]);
      const sealed = compacted.output[2].type === 'compaction' ? compacted.output[2].encrypted_content : '';
      expect(sealed).not.toContain('SUMMARY-1');
      expect(recorder.responsesCalls().map((e) => [e.method, e.path, e.status])).toEqual([['POST', '/v1/responses/compact', 200]]);
      // One summarization call: not streamed, over the whole history, the summary prompt last.
      expect(e2e.upstream.requests).toHaveLength(1);
      expect(e2e.upstream.requests[0].body.stream).not.toBe(true);
      expect(upstreamText(0)).toContain('OLD-ASSISTANT-2: the Hotel Roma.');
      const prompt = (upstreamMessages(0) as ChatMessage[]).at(-1)!;
      expect(prompt.role).toBe('user');
      expect(chatText(prompt)).toMatch(/^Summarize/);

      // As OpenAI's guide has it: the compacted window as it came, then the next message.
      const next = await client.responses.create({
        model: MODEL,
        store: false,
        input: [...compacted.output, { role: 'user', content: 'When is check-in?' }] as InputItems,
      });
      expect(next.output_text).toBe('Checking in at three.');
      expect(summaryOf(1)).toEqual([expect.stringContaining('SUMMARY-1: a trip to Rome, flying Friday, at the Hotel Roma.')]);
      expect(upstreamText(1)).not.toContain('OLD-ASSISTANT');
      expect(upstreamText(1)).toContain('Plan a trip to Rome.');
      expect(upstreamMessages(1).at(-1)).toEqual(userText('When is check-in?'));
    });

    itTraced('responses.compact with previous_response_id compacts the stored chain', async () => {
      e2e.upstream.enqueue({ text: 'OLD-ANSWER: noted, PINEAPPLE.' }, { text: 'SUMMARY-2: the code word is PINEAPPLE.' });
      const first = await client.responses.create({ model: MODEL, input: 'Remember the code word PINEAPPLE.' });

      const compacted = await client.responses.compact({ model: MODEL, previous_response_id: first.id });

      expect(compacted.object).toBe('response.compaction');
      expect(compacted.output).toEqual([userMessage('Remember the code word PINEAPPLE.'), compactionItem]);
      expect(recorder.responsesCalls()[1].body).toEqual({ model: MODEL, previous_response_id: first.id });
      // The stored answer was summarized.
      expect(e2e.upstream.requests).toHaveLength(2);
      expect(upstreamText(1)).toContain('OLD-ANSWER: noted, PINEAPPLE.');
    });

    itTraced('responses.compact without a model is a 400 naming it; a tampered compaction item is a 400 naming its encrypted_content', async () => {
      const missing = await refusal(client.responses.compact({ input: 'x' } as unknown as OpenAI.Responses.ResponseCompactParams));
      expect(missing).toBeInstanceOf(OpenAI.BadRequestError);
      expect(missing).toMatchObject({ status: 400, type: 'invalid_request_error', param: 'model' });
      expect(e2e.upstream.requests).toHaveLength(0);

      e2e.upstream.enqueue({ text: 'SUMMARY-3: a trip to Rome.' });
      const compacted = await client.responses.compact({ model: MODEL, input: HISTORY });
      const item = compacted.output.find((i) => i.type === 'compaction');
      if (item?.type !== 'compaction') throw new Error('no compaction item');
      const middle = Math.floor(item.encrypted_content.length / 2);
      const flipped = item.encrypted_content[middle] === 'A' ? 'B' : 'A';
      const tampered = `${item.encrypted_content.slice(0, middle)}${flipped}${item.encrypted_content.slice(middle + 1)}`;
      for (const encrypted_content of [tampered, 'not-sealed-by-this-gateway']) {
        const error = await refusal(
          client.responses.create({
            model: MODEL,
            store: false,
            input: [
              { role: 'user', content: 'Hi' },
              { type: 'compaction', encrypted_content },
            ],
          }),
        );
        expect(error).toBeInstanceOf(OpenAI.BadRequestError);
        expect(error).toMatchObject({ status: 400, type: 'invalid_request_error', code: 'invalid_encrypted_content', param: 'input[1].encrypted_content' });
      }
      // Only the summary reached the upstream; the refused creates called no model.
      expect(e2e.upstream.requests).toHaveLength(1);
    });

    itTraced('responses.inputTokens.count: a positive integer that grows with the input, no model called', async () => {
      const count = (input: string | InputItems) => client.responses.inputTokens.count({ model: MODEL, input });

      const short = await count('Hello');
      expect(short).toEqual({ object: 'response.input_tokens', input_tokens: expect.any(Number) });
      expect(Number.isInteger(short.input_tokens)).toBe(true);
      expect(short.input_tokens).toBeGreaterThan(0);
      const long = await count('Hello. '.repeat(200));
      expect(long.input_tokens).toBeGreaterThan(short.input_tokens);
      const history = await count(HISTORY);
      const more = await count([...HISTORY, { role: 'user', content: 'And a restaurant near the Pantheon for Saturday evening.' }]);
      expect(more.input_tokens).toBeGreaterThan(history.input_tokens);
      expect(recorder.responsesCalls().map((e) => [e.method, e.path, e.status])).toEqual(Array(4).fill(['POST', '/v1/responses/input_tokens', 200]));
      expect(e2e.upstream.requests).toHaveLength(0);
    });

    itTraced(
      'context_management past its threshold: [compaction, message] out, and the chain continued after it sends the summary, not the old turns',
      async () => {
        e2e.upstream.enqueue(
          { text: 'OLD-ANSWER-1: Rome has seven hills.' },
          { text: 'SUMMARY-4: Rome questions so far: its hills.' },
          { text: 'The Colosseum.' },
          { text: 'The Pantheon.' },
        );
        const first = await client.responses.create({ model: MODEL, input: 'Tell me about the hills of Rome.' });
        const compacting = await client.responses.create({
          model: MODEL,
          previous_response_id: first.id,
          input: 'What should I see first?',
          context_management: [{ type: 'compaction', compact_threshold: 1 }],
        });

        expect(compacting.output).toEqual([compactionItem, expect.objectContaining({ type: 'message', role: 'assistant' })]);
        expect(compacting.output_text).toBe('The Colosseum.');
        // Two upstream calls for it: the summary (not streamed, over the old turns), then the answer from it.
        expect(e2e.upstream.requests).toHaveLength(3);
        expect(e2e.upstream.requests[1].body.stream).not.toBe(true);
        expect(upstreamText(1)).toContain('OLD-ANSWER-1');
        expect(summaryOf(2)).toEqual([expect.stringContaining('SUMMARY-4: Rome questions so far: its hills.')]);
        expect(upstreamText(2)).not.toContain('OLD-ANSWER-1');
        expect(upstreamText(2)).toContain('What should I see first?');

        // The chain goes on from the compacted window.
        const after = await client.responses.create({ model: MODEL, previous_response_id: compacting.id, input: 'And second?' });
        expect(after.output_text).toBe('The Pantheon.');
        expect(e2e.upstream.requests).toHaveLength(4);
        expect(summaryOf(3)).toEqual([expect.stringContaining('SUMMARY-4')]);
        expect(upstreamText(3)).not.toContain('OLD-ANSWER-1');
        expect(upstreamMessages(3)).toEqual(expect.arrayContaining([{ role: 'assistant', content: 'The Colosseum.' }]));
        expect(upstreamMessages(3).at(-1)).toEqual(userText('And second?'));
      },
    );

    itTraced('context_management, streamed: the compaction item at output_index 0 (added, done) before the answer’s items', async () => {
      e2e.upstream.enqueue({ text: 'SUMMARY-5: a trip to Rome.' }, { chunks: ['Bring ', 'shoes.'] });

      const stream = await client.responses.create({
        model: MODEL,
        store: false,
        input: [...HISTORY, { role: 'user', content: 'What should I pack?' }],
        context_management: [{ type: 'compaction', compact_threshold: 1 }],
        stream: true,
      });
      const events = await collect(stream);

      const items = events.flatMap((e) =>
        e.type === 'response.output_item.added' || e.type === 'response.output_item.done' ? [[e.type, e.output_index, e.item.type]] : [],
      );
      expect(items).toEqual([
        ['response.output_item.added', 0, 'compaction'],
        ['response.output_item.done', 0, 'compaction'],
        ['response.output_item.added', 1, 'message'],
        ['response.output_item.done', 1, 'message'],
      ]);
      const last = events.at(-1);
      if (last?.type !== 'response.completed') throw new Error(`the stream ended with ${last?.type}`);
      expect(last.response.output).toEqual([compactionItem, expect.objectContaining({ type: 'message' })]);
      expect(summaryOf(1)).toEqual([expect.stringContaining('SUMMARY-5')]);
      expect(upstreamText(1)).not.toContain('OLD-ASSISTANT');
    });

    itTraced('a final compaction_trigger item (Codex’s remote compaction): exactly one compaction item and no answer, streamed and not', async () => {
      e2e.upstream.enqueue({ text: 'SUMMARY-6: a trip to Rome.' }, { text: 'SUMMARY-7: a trip to Rome.' });
      const input = [...HISTORY, { type: 'compaction_trigger' }] as InputItems;

      const plain = await client.responses.create({ model: MODEL, store: false, input });
      expect(plain.output).toEqual([compactionItem]);

      const events = await collect(await client.responses.create({ model: MODEL, store: false, input, stream: true }));
      expect(events.map((e) => e.type)).toEqual([
        'response.created',
        'response.in_progress',
        // The item is announced, then the summary is sampled for it (no content), then it is done.
        'response.output_item.added',
        'response.compaction.compacting',
        'response.output_item.done',
        'response.completed',
      ]);
      const last = events.at(-1);
      if (last?.type !== 'response.completed') throw new Error(`the stream ended with ${last?.type}`);
      expect(last.response.output).toEqual([compactionItem]);
      // Only the two summaries were asked of the upstream.
      expect(e2e.upstream.requests).toHaveLength(2);
      expect(e2e.upstream.requests.map((r) => r.body.stream === true)).toEqual([false, false]);
    });
  });
});

/**
 * WebSocket mode with the SDK's own client (`ResponsesWS`, on the `ws` package): turns continue
 * with `previous_response_id` and only the new items, on one socket.
 */
describe('openai 7.x ResponsesWS (WebSocket mode) → gateway → upstream', () => {
  type ServerEvent = ResponsesServerEvent;
  type CreateEvent = ResponsesClientEvent.ResponseCreate;
  type Socket = ResponsesWS;
  // `output_text` is the SDK's addition to parsed HTTP answers; events carry the plain Response.
  const textOf = (response: Response) =>
    response.output.flatMap((item) => (item.type === 'message' ? item.content.map((part) => (part.type === 'output_text' ? part.text : '')) : [])).join('');
  const say = (text: string) => ({ type: 'message' as const, role: 'user' as const, content: [{ type: 'input_text' as const, text }] });
  const sockets: Socket[] = [];
  afterEach(() => sockets.splice(0).forEach((s) => s.close()));
  const connect = (apiKey = KEY): Socket => {
    const socket = new ResponsesWS(new OpenAI({ baseURL: `${e2e.url}/v1`, apiKey, maxRetries: 0 }));
    sockets.push(socket);
    return socket;
  };

  /** One `response.create`: its events up to the terminal one, or the `error` the socket reported. */
  const turn = (socket: Socket, body: Omit<CreateEvent, 'type'>) =>
    new Promise<{ events: ServerEvent[]; response: Response }>((resolve, reject) => {
      const events: ServerEvent[] = [];
      const onEvent = (event: ServerEvent) => {
        events.push(event);
        if (event.type === 'response.completed' || event.type === 'response.failed' || event.type === 'response.incomplete') {
          done();
          resolve({ events, response: event.response });
        }
      };
      const onError = (error: Error) => {
        done();
        reject(error);
      };
      const done = () => {
        socket.off('event', onEvent);
        socket.off('error', onError);
      };
      socket.on('event', onEvent);
      socket.on('error', onError);
      socket.send({ type: 'response.create', ...body });
    });
  const errorOf = async (promise: Promise<unknown>) => {
    const error = (await promise.then(
      () => null,
      (e: unknown) => e,
    )) as { error?: { type: string; status?: number; error: { code: string | null; param: string | null } } } | null;
    if (!error?.error) throw new Error('expected an error event');
    return error.error;
  };

  itTraced('sequential turns on one socket: store:false continuation and a tool round trip, sending only the new items', async () => {
    const tools = [{ type: 'function' as const, name: 'lookup', strict: false, parameters: { type: 'object', properties: { q: { type: 'string' } } } }];
    e2e.upstream.enqueue({ text: 'Hi Ada.' }, { toolCalls: [{ id: 'call_l1', name: 'lookup', arguments: '{"q":"Ada"}' }] }, { text: 'Ada Lovelace, 1815.' });
    const socket = connect();
    const one = await turn(socket, { model: MODEL, store: false, input: [say('I am Ada.')] });
    expect(one.events[0].type).toBe('response.created');
    expect(textOf(one.response)).toBe('Hi Ada.');
    const two = await turn(socket, { model: MODEL, store: false, tools, previous_response_id: one.response.id, input: [say('Look me up.')] });
    const call = two.response.output.find((item) => item.type === 'function_call');
    expect(call).toMatchObject({ call_id: 'call_l1', name: 'lookup' });
    const three = await turn(socket, {
      model: MODEL,
      store: false,
      tools,
      previous_response_id: two.response.id,
      input: [{ type: 'function_call_output', call_id: 'call_l1', output: 'born 1815' }],
    });
    expect(textOf(three.response)).toBe('Ada Lovelace, 1815.');
    // The upstream got the whole history each time, though the client sent only the new items.
    expect(upstreamMessages(2)).toEqual([
      expect.objectContaining({ role: 'user' }),
      expect.objectContaining({ role: 'assistant', content: 'Hi Ada.' }),
      expect.objectContaining({ role: 'user' }),
      expect.objectContaining({ role: 'assistant', tool_calls: [chatCall('call_l1', 'lookup', '{"q":"Ada"}')] }),
      expect.objectContaining({ role: 'tool', tool_call_id: 'call_l1', content: 'born 1815' }),
    ]);
  });

  itTraced('store:true continues on a new socket; store:false after a reconnect is previous_response_not_found', async () => {
    e2e.upstream.enqueue({ text: 'stored' }, { text: 'local' }, { text: 'continued' });
    const first = connect();
    const stored = await turn(first, { model: MODEL, store: true, input: [say('one')] });
    const local = await turn(first, { model: MODEL, store: false, input: [say('two')] });
    first.close();
    const second = connect();
    const continued = await turn(second, { model: MODEL, previous_response_id: stored.response.id, input: [say('three')] });
    expect(textOf(continued.response)).toBe('continued');
    const lost = await errorOf(turn(second, { model: MODEL, store: false, previous_response_id: local.response.id, input: [say('four')] }));
    expect(lost).toMatchObject({ type: 'error', status: 400, error: { code: 'previous_response_not_found', param: 'previous_response_id' } });
  });

  itTraced('a failed turn evicts what it continued from', async () => {
    e2e.upstream.enqueue({ text: 'ok' }, { status: 500, errorMessage: 'boom' });
    const socket = connect();
    const one = await turn(socket, { model: MODEL, store: false, input: [say('start')] });
    const failed = await turn(socket, { model: MODEL, store: false, previous_response_id: one.response.id, input: [say('again')] });
    expect(failed.response.status).toBe('failed');
    const retry = await errorOf(turn(socket, { model: MODEL, store: false, previous_response_id: one.response.id, input: [say('again')] }));
    expect(retry.error.code).toBe('previous_response_not_found');
  });

  itTraced('a bad key is refused at the upgrade (401): the SDK reports an error and the socket closes', async () => {
    const socket = connect('sk-wrong');
    const error = await new Promise<Error>((resolve) => socket.on('error', resolve));
    expect(error.message).toMatch(/401/);
    expect(e2e.upstream.requests).toHaveLength(0);
  });
});
