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
import type { Response, ResponseStreamEvent } from 'openai/resources/responses/responses';
import { MODEL, useFrameworkSuite, userText } from '../support/frameworks/suite';
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

const { e2e, recorder, itTraced } = useFrameworkSuite({
  env: () => ({ ...WEBHOOKS, API_KEYS: `${KEY}:team-a`, RECONCILE_INTERVAL_MS: '500' }),
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
    expect(await refusal(client.responses.create({ model: MODEL, input: 'x', truncation: 'auto' }))).toMatchObject(unsupported('truncation'));
    expect(await refusal(client.responses.create({ model: MODEL, input: 'x', prompt: { id: 'pmpt_1' } }))).toMatchObject(unsupported('prompt'));
    expect(await refusal(client.responses.create({ model: MODEL, input: 'x', tools: [{ type: 'local_shell' }] }))).toMatchObject(unsupported('tools[0].type'));
    // Endpoints this server does not serve (README, "What it serves"): a 404 in OpenAI's shape.
    for (const [call, path] of [
      [() => client.responses.inputTokens.count({ model: MODEL, input: 'x' }), '/v1/responses/input_tokens'],
      [() => client.responses.compact({ model: MODEL, input: 'x' }), '/v1/responses/compact'],
    ] as const) {
      const error = await refusal(call());
      expect(error).toBeInstanceOf(OpenAI.NotFoundError);
      expect(error).toMatchObject({ status: 404, type: 'invalid_request_error', message: `404 Unknown request URL: POST ${path}.` });
    }
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
});
