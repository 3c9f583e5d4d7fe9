import { useE2e } from '../support/e2e';
import { UpgradeRefused, WsClient, type WsMessage } from '../support/websocket';

const MODEL = 'upstream-model';
const user = (text: string) => ({ type: 'message', role: 'user', content: [{ type: 'input_text', text }] });
/** A chat message the upstream was sent (the parts the transcript reads). */
interface ChatMessage {
  role: string;
  content?: string | Array<{ text?: string }> | null;
  tool_calls?: unknown;
}
/** What the upstream was sent, as `role: text` lines (the history a turn continued from). */
const transcript = (body: { messages: ChatMessage[] }): string[] =>
  body.messages.map((m) => {
    const text = typeof m.content === 'string' ? m.content : Array.isArray(m.content) ? m.content.map((p) => p.text).join('') : JSON.stringify(m.tool_calls);
    return `${m.role}: ${text}`;
  });

async function refusal(open: Promise<WsClient>): Promise<UpgradeRefused> {
  try {
    const client = await open;
    await client.close();
  } catch (error) {
    if (error instanceof UpgradeRefused) return error;
    throw error;
  }
  throw new Error('the upgrade was accepted');
}

describe('WebSocket mode of /v1/responses', () => {
  const e2e = useE2e({
    resetUpstream: true,
    env: (upstream) => ({
      INFERENCE_BASE_URL: upstream.url,
      API_KEYS: 'test-key,other-key:tenant-b,cap-key:capped',
      MAX_WS_CONNECTIONS_PER_TENANT: '2',
    }),
  });
  const open: WsClient[] = [];
  const connect = async (key: string | null = 'test-key') => {
    const client = await WsClient.open(e2e.url, key);
    open.push(client);
    return client;
  };
  afterEach(async () => {
    await Promise.all(open.splice(0).map((c) => c.close()));
  });

  describe('the upgrade', () => {
    it('is refused with 401 in OpenAI’s shape without a key, and with a bad one', async () => {
      const missing = await refusal(WsClient.open(e2e.url, null));
      expect(missing.status).toBe(401);
      expect(missing.body).toEqual({ error: expect.objectContaining({ code: 'missing_api_key', type: 'invalid_request_error' }) });
      const bad = await refusal(WsClient.open(e2e.url, 'not-a-key'));
      expect(bad.status).toBe(401);
      expect(bad.body?.error.code).toBe('invalid_api_key');
    });

    it('leaves GET /v1/responses without an upgrade as the list', async () => {
      const res = await fetch(`${e2e.url}/v1/responses`, { headers: { authorization: 'Bearer test-key' } });
      expect(res.status).toBe(200);
      expect(await res.json()).toMatchObject({ object: 'list' });
    });

    it('caps open connections per tenant with a 429, and frees the slot when one closes', async () => {
      const first = await connect('cap-key');
      await connect('cap-key');
      const refused = await refusal(WsClient.open(e2e.url, 'cap-key'));
      expect(refused.status).toBe(429);
      expect(refused.body?.error.code).toBe('rate_limit_exceeded');
      expect(refused.headers['retry-after']).toBeDefined();
      // Another tenant is not affected.
      await connect('other-key');
      await first.close();
      let again: WsClient | undefined;
      for (let i = 0; i < 50 && !again; i++) {
        again = await WsClient.open(e2e.url, 'cap-key').catch(async (error: unknown) => {
          if (!(error instanceof UpgradeRefused)) throw error;
          await new Promise((resolve) => setTimeout(resolve, 20));
          return undefined;
        });
      }
      expect(again).toBeDefined();
      open.push(again!);
    });
  });

  it('runs several responses one after the other on one socket, with the SSE events and sequence numbers', async () => {
    e2e.upstream.enqueue({ text: 'first answer' }, { text: 'second answer' });
    const ws = await connect();
    const one = await ws.create({ model: MODEL, input: 'Hello' });
    expect(one.events[0]).toMatchObject({ type: 'response.created', sequence_number: 0 });
    expect(one.events[1]).toMatchObject({ type: 'response.in_progress', sequence_number: 1 });
    expect(one.events.map((e) => e.sequence_number)).toEqual(one.events.map((_, i) => i));
    expect(one.last.type).toBe('response.completed');
    expect(one.response?.output[0].content[0].text).toBe('first answer');
    expect(one.events.some((e) => e.type === 'response.output_text.delta')).toBe(true);
    const two = await ws.create({ model: MODEL, input: 'Again' });
    expect(two.events[0]).toMatchObject({ type: 'response.created', sequence_number: 0 });
    expect(two.response?.output[0].content[0].text).toBe('second answer');
    expect(two.response?.id).not.toBe(one.response?.id);
    // A stored one is there for HTTP too.
    expect((await e2e.client.responses.retrieve(two.response!.id)).status).toBe('completed');
  });

  it('continues a stored response (store: true) on the same socket and on a new one', async () => {
    e2e.upstream.enqueue({ text: 'Paris' }, { text: 'About 2 million' }, { text: 'Seine' });
    const ws = await connect();
    const one = await ws.create({ model: MODEL, input: [user('Capital of France?')] });
    const two = await ws.create({ model: MODEL, previous_response_id: one.response!.id, input: [user('Population?')] });
    expect(two.last.type).toBe('response.completed');
    const [, second] = await e2e.upstream.waitForRequests(2);
    expect(transcript(second.body)).toEqual(['user: Capital of France?', 'assistant: Paris', 'user: Population?']);
    await ws.close();
    const again = await connect();
    const three = await again.create({ model: MODEL, previous_response_id: two.response!.id, input: [user('River?')] });
    expect(three.last.type).toBe('response.completed');
    const requests = await e2e.upstream.waitForRequests(3);
    expect(transcript(requests[2].body)).toHaveLength(5);
  });

  it('continues store: false responses from the connection, and not after a reconnect', async () => {
    e2e.upstream.enqueue({ text: 'one' }, { text: 'two' });
    const ws = await connect();
    const one = await ws.create({ model: MODEL, store: false, input: [user('first')] });
    expect(one.last.type).toBe('response.completed');
    const two = await ws.create({ model: MODEL, store: false, previous_response_id: one.response!.id, input: [user('second')] });
    expect(two.last.type).toBe('response.completed');
    const [, second] = await e2e.upstream.waitForRequests(2);
    expect(transcript(second.body).map((l) => l.split(':')[0])).toEqual(['user', 'assistant', 'user']);
    // Nothing was stored: HTTP does not know it.
    await expect(e2e.client.responses.retrieve(one.response!.id)).rejects.toMatchObject({ status: 404 });
    await ws.close();
    const again = await connect();
    const lost = await again.create({ model: MODEL, store: false, previous_response_id: two.response!.id, input: [user('third')] });
    expect(lost.last).toMatchObject({
      type: 'error',
      status: 400,
      error: { code: 'previous_response_not_found', param: 'previous_response_id', type: 'invalid_request_error' },
    });
    expect(e2e.upstream.requests).toHaveLength(2);
  });

  it('answers a previous_response_id that never existed with previous_response_not_found', async () => {
    const ws = await connect();
    const { last } = await ws.create({ model: MODEL, previous_response_id: 'resp_doesnotexist', input: 'x' });
    expect(last).toMatchObject({ type: 'error', status: 400, error: { code: 'previous_response_not_found', param: 'previous_response_id' } });
    expect(JSON.stringify(last)).not.toMatch(/at .*\.ts:\d+/); // never a stack
  });

  it('evicts what a failed turn referenced: the next continuation from it is not found', async () => {
    e2e.upstream.enqueue({ text: 'fine' }, { status: 500, errorMessage: 'upstream broke' });
    const ws = await connect();
    const one = await ws.create({ model: MODEL, store: false, input: [user('start')] });
    const failed = await ws.create({ model: MODEL, store: false, previous_response_id: one.response!.id, input: [user('next')] });
    expect(failed.last.type).toBe('response.failed');
    const retry = await ws.create({ model: MODEL, store: false, previous_response_id: one.response!.id, input: [user('next')] });
    expect(retry.last).toMatchObject({ type: 'error', error: { code: 'previous_response_not_found' } });
    expect(e2e.upstream.requests).toHaveLength(2);
  });

  it('refuses to store a continuation of a connection-held response (400 on store): no stored chain could lead back to it', async () => {
    e2e.upstream.enqueue({ text: 'fine' });
    const ws = await connect();
    const one = await ws.create({ model: MODEL, store: false, input: [user('start')] });
    const stored = await ws.create({ model: MODEL, store: true, previous_response_id: one.response!.id, input: [user('next')] });
    expect(stored.last).toMatchObject({ type: 'error', status: 400, error: { param: 'store', code: 'invalid_value' } });
    expect(e2e.upstream.requests).toHaveLength(1);
  });

  it('evicts what a refused turn referenced (a validation error names its param)', async () => {
    e2e.upstream.enqueue({ text: 'fine' });
    const ws = await connect();
    const one = await ws.create({ model: MODEL, store: false, input: [user('start')] });
    const refused = await ws.create({ model: MODEL, store: false, previous_response_id: one.response!.id, input: [user('x')], temperature: 'hot' });
    expect(refused.last).toMatchObject({ type: 'error', status: 400, error: { param: 'temperature', code: 'invalid_value' } });
    const retry = await ws.create({ model: MODEL, store: false, previous_response_id: one.response!.id, input: [user('x')] });
    expect(retry.last).toMatchObject({ type: 'error', error: { code: 'previous_response_not_found' } });
  });

  it('runs a tool round trip: function_call, then its output as the only new input', async () => {
    const tools = [{ type: 'function', name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } }];
    e2e.upstream.enqueue({ toolCalls: [{ id: 'call_w1', name: 'get_weather', arguments: '{"city":"Oslo"}' }] }, { text: 'It is 3 °C in Oslo.' });
    const ws = await connect();
    const one = await ws.create({ model: MODEL, store: false, tools, input: [user('Weather in Oslo?')] });
    const call = one.response!.output.find((item: WsMessage) => item.type === 'function_call');
    expect(call).toMatchObject({ name: 'get_weather', call_id: 'call_w1', arguments: '{"city":"Oslo"}' });
    expect(one.events.some((e) => e.type === 'response.function_call_arguments.done')).toBe(true);
    const two = await ws.create({
      model: MODEL,
      store: false,
      tools,
      previous_response_id: one.response!.id,
      input: [{ type: 'function_call_output', call_id: 'call_w1', output: '3 °C' }],
    });
    expect(two.response?.output[0].content[0].text).toBe('It is 3 °C in Oslo.');
    const [, second] = await e2e.upstream.waitForRequests(2);
    expect(second.body.messages.at(-1)).toMatchObject({ role: 'tool', tool_call_id: 'call_w1', content: '3 °C' });
    expect(second.body.messages.at(-2).tool_calls[0]).toMatchObject({ id: 'call_w1' });
  });

  it('warms up with generate: false (no model call) and continues from it', async () => {
    e2e.upstream.enqueue({ text: 'warm answer' });
    const ws = await connect();
    const warm = await ws.create({ model: MODEL, store: false, generate: false, instructions: 'Be brief.', input: [user('context item')] });
    expect(warm.last.type).toBe('response.completed');
    expect(warm.response?.output).toEqual([]);
    expect(e2e.upstream.requests).toHaveLength(0);
    const next = await ws.create({ model: MODEL, store: false, previous_response_id: warm.response!.id, input: [user('question')] });
    expect(next.last.type).toBe('response.completed');
    const [request] = await e2e.upstream.waitForRequests(1);
    // The warm-up's input is the history; its instructions are not inherited (as over HTTP).
    expect(transcript(request.body)).toEqual(['user: context item', 'user: question']);
  });

  it('refuses a second response.create while one is in flight, and aborts the upstream call when the client leaves', async () => {
    e2e.upstream.enqueue({ hang: true });
    const ws = await connect();
    ws.send({ type: 'response.create', model: MODEL, input: 'slow' });
    expect((await ws.next()).type).toBe('response.created');
    await e2e.upstream.waitForRequests(1);
    ws.send({ type: 'response.create', model: MODEL, input: 'too soon' });
    let message = await ws.next();
    while (message.type !== 'error') message = await ws.next();
    expect(message).toMatchObject({ status: 400, error: { code: 'response_already_in_flight' } });
    const id = ws.messages[0].response.id as string;
    await ws.close();
    await e2e.upstream.waitForClientClose(0);
    expect(e2e.upstream.requests[0].closedByClient).toBe(true);
    // The response ends cancelled, as for a dropped SSE client.
    for (let i = 0; i < 100 && (await e2e.client.responses.retrieve(id)).status === 'in_progress'; i++) await new Promise((r) => setTimeout(r, 20));
    expect((await e2e.client.responses.retrieve(id)).status).toBe('cancelled');
  });

  it('answers bad messages with error events and stays usable', async () => {
    e2e.upstream.enqueue({ text: 'still here' });
    const ws = await connect();
    ws.send('{not json');
    expect(await ws.next()).toMatchObject({ type: 'error', status: 400, error: { code: 'invalid_json' } });
    ws.send({ type: 'response.unknown' });
    expect(await ws.next()).toMatchObject({ type: 'error', error: { code: 'unknown_event_type', param: 'type' } });
    ws.send([1, 2]);
    expect(await ws.next()).toMatchObject({ type: 'error', error: { param: 'type' } });
    const background = await ws.create({ model: MODEL, input: 'x', background: true });
    expect(background.last).toMatchObject({ type: 'error', error: { code: 'unsupported_parameter', param: 'background' } });
    const invalid = await ws.create({ model: MODEL, input: [{ type: 'message', role: 'user', content: [{ type: 'no_such_part' }] }] });
    expect(invalid.last).toMatchObject({ type: 'error', status: 400, error: { param: 'input[0].content[0].type' } });
    const ok = await ws.create({ model: MODEL, input: 'x', stream: false });
    expect(ok.response?.output[0].content[0].text).toBe('still here');
  });

  it('echoes the stream_id lane of a response.create on its events', async () => {
    const ws = await connect();
    const { events } = await ws.create({ model: MODEL, input: 'x', stream_id: 'lane-1' });
    expect(events.every((e) => e.stream_id === 'lane-1')).toBe(true);
  });
});

describe('WebSocket connection limit', () => {
  const e2e = useE2e({ env: (upstream) => ({ INFERENCE_BASE_URL: upstream.url, WS_MAX_CONNECTION_MS: '1000' }) });

  it('ends a connection past WS_MAX_CONNECTION_MS with websocket_connection_limit_reached, then closes it', async () => {
    const ws = await WsClient.open(e2e.url, null);
    const message = await ws.next();
    expect(message).toMatchObject({ type: 'error', error: { code: 'websocket_connection_limit_reached' } });
    expect((await ws.closed).code).toBe(1000);
  });
});
