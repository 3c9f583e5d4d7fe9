/**
 * Self-test of the fake Chat Completions upstream, driven by the real `openai`
 * SDK — the same client the gateway uses — so the fake is known to speak the
 * wire format the SDK expects.
 */
import OpenAI, { APIError, APIUserAbortError } from 'openai';
import type { ChatCompletionChunk } from 'openai/resources/chat/completions';
import { benchModelScripter, fakeEmbedding, llama3Prompt, llama3PromptTokens, startFakeUpstream, type FakeUpstream } from './fake-upstream';

/** Reassembles a streamed completion the way a consumer of the SDK would. */
interface Reassembled {
  content: string;
  reasoning: string;
  toolCalls: { id: string; name: string; arguments: string }[];
  finishReason: string | null;
  usage: ChatCompletionChunk['usage'];
  chunks: ChatCompletionChunk[];
}

async function reassemble(stream: AsyncIterable<ChatCompletionChunk>): Promise<Reassembled> {
  const out: Reassembled = { content: '', reasoning: '', toolCalls: [], finishReason: null, usage: undefined, chunks: [] };
  for await (const chunk of stream) {
    out.chunks.push(chunk);
    if (chunk.usage) out.usage = chunk.usage;
    for (const choice of chunk.choices) {
      const delta = choice.delta as ChatCompletionChunk.Choice.Delta & { reasoning_content?: string };
      out.content += delta.content ?? '';
      out.reasoning += delta.reasoning_content ?? '';
      for (const call of delta.tool_calls ?? []) {
        const target = (out.toolCalls[call.index] ??= { id: '', name: '', arguments: '' });
        if (call.id) target.id = call.id;
        if (call.function?.name) target.name = call.function.name;
        target.arguments += call.function?.arguments ?? '';
      }
      if (choice.finish_reason) out.finishReason = choice.finish_reason;
    }
  }
  return out;
}

describe('fake upstream (Chat Completions)', () => {
  let upstream: FakeUpstream;
  let client: OpenAI;

  beforeAll(async () => {
    upstream = await startFakeUpstream();
    client = new OpenAI({ baseURL: upstream.url, apiKey: 'sk-test', maxRetries: 0, timeout: 5000 });
  });

  afterEach(() => upstream.reset());

  afterAll(async () => {
    await upstream.close();
  });

  it('listens on loopback with a /v1 base URL', () => {
    expect(upstream.url).toBe(`http://127.0.0.1:${upstream.port}/v1`);
    expect(upstream.port).toBeGreaterThan(0);
  });

  it('answers a non-stream request with a chat.completion and records the request', async () => {
    upstream.enqueue({ text: 'Hi there', reasoning: 'thinking…', usage: { prompt_tokens: 7, completion_tokens: 3 } });

    const completion = await client.chat.completions.create({
      model: 'gpt-test',
      messages: [{ role: 'user', content: 'hello' }],
    });

    expect(completion.id).toMatch(/^chatcmpl-/);
    expect(completion.object).toBe('chat.completion');
    expect(completion.model).toBe('gpt-test');
    expect(completion.choices).toHaveLength(1);
    expect(completion.choices[0]).toMatchObject({
      index: 0,
      message: { role: 'assistant', content: 'Hi there', reasoning_content: 'thinking…' },
      finish_reason: 'stop',
      logprobs: null,
    });
    expect(completion.usage).toEqual({ prompt_tokens: 7, completion_tokens: 3, total_tokens: 10 });

    expect(upstream.requests).toHaveLength(1);
    const [request] = upstream.requests;
    expect(request).toMatchObject({ method: 'POST', path: '/v1/chat/completions', closedByClient: false });
    expect(request.headers['authorization']).toBe('Bearer sk-test');
    expect(request.body).toMatchObject({ model: 'gpt-test', messages: [{ role: 'user', content: 'hello' }] });
  });

  it('uses the default script when the queue is empty, and queued scripts in FIFO order', async () => {
    const ask = async (): Promise<string | null> =>
      (await client.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'x' }] })).choices[0].message.content;

    expect(await ask()).toBe('Hello from upstream');
    upstream.setDefault({ text: 'default' });
    upstream.enqueue({ text: 'first' }, { text: 'second' });
    expect(await ask()).toBe('first');
    expect(await ask()).toBe('second');
    expect(await ask()).toBe('default');
    expect(await upstream.waitForRequests(4)).toHaveLength(4);
  });

  it('returns non-stream tool calls with finish_reason tool_calls', async () => {
    upstream.enqueue({ toolCalls: [{ id: 'call_1', name: 'get_weather', arguments: '{"city":"Paris"}' }] });

    const completion = await client.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'x' }] });

    expect(completion.choices[0].finish_reason).toBe('tool_calls');
    expect(completion.choices[0].message.content).toBeNull();
    expect(completion.choices[0].message.tool_calls).toEqual([
      { id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } },
    ]);
  });

  it('streams text chunks, then finish_reason, then a usage chunk', async () => {
    upstream.enqueue({ chunks: ['Hel', 'lo ', 'world'], reasoning: 'let me think', usage: { prompt_tokens: 4, completion_tokens: 2 } });

    const stream = await client.chat.completions.create({
      model: 'gpt-test',
      messages: [{ role: 'user', content: 'hello' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    const result = await reassemble(stream);

    expect(result.content).toBe('Hello world');
    expect(result.reasoning).toBe('let me think');
    expect(result.finishReason).toBe('stop');
    expect(result.usage).toEqual({ prompt_tokens: 4, completion_tokens: 2, total_tokens: 6 });

    const { chunks } = result;
    expect(chunks[0].choices[0].delta).toEqual({ role: 'assistant', content: '' });
    expect(chunks.every((c) => c.object === 'chat.completion.chunk' && c.model === 'gpt-test')).toBe(true);
    expect(new Set(chunks.map((c) => c.id)).size).toBe(1);
    const contentDeltas = chunks.map((c) => c.choices[0]?.delta.content).filter((c) => c);
    expect(contentDeltas).toEqual(['Hel', 'lo ', 'world']);
    // The usage chunk is last and has no choices.
    expect(chunks[chunks.length - 1].choices).toEqual([]);
    expect(chunks[chunks.length - 2].choices[0].finish_reason).toBe('stop');
  });

  it('splits default text into several chunks and omits usage unless include_usage', async () => {
    const stream = await client.chat.completions.create({
      model: 'm',
      messages: [{ role: 'user', content: 'x' }],
      stream: true,
    });
    const result = await reassemble(stream);

    expect(result.content).toBe('Hello from upstream');
    expect(result.chunks.filter((c) => c.choices[0]?.delta.content).length).toBeGreaterThan(1);
    expect(result.usage).toBeUndefined();
    expect(result.chunks.every((c) => c.choices.length === 1)).toBe(true);
  });

  it('streams tool calls the way OpenAI does', async () => {
    upstream.enqueue({
      toolCalls: [
        { id: 'call_a', name: 'get_weather', arguments: '{"city":"Paris","unit":"C"}' },
        { name: 'get_time', arguments: '{"tz":"Europe/Paris"}' },
      ],
    });

    const stream = await client.chat.completions.create({
      model: 'm',
      messages: [{ role: 'user', content: 'x' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    const result = await reassemble(stream);

    expect(result.finishReason).toBe('tool_calls');
    expect(result.content).toBe('');
    expect(result.toolCalls).toEqual([
      { id: 'call_a', name: 'get_weather', arguments: '{"city":"Paris","unit":"C"}' },
      { id: expect.stringMatching(/^call_/) as string, name: 'get_time', arguments: '{"tz":"Europe/Paris"}' },
    ]);

    const toolDeltas = result.chunks.flatMap((c) => c.choices[0]?.delta.tool_calls ?? []);
    // Header delta per call (id, type, name, empty arguments) ...
    expect(toolDeltas[0]).toEqual({
      index: 0,
      id: 'call_a',
      type: 'function',
      function: { name: 'get_weather', arguments: '' },
    });
    // ... followed by 2+ argument fragments without id/name.
    const fragmentsOfFirst = toolDeltas.filter((d) => d.index === 0 && d.id === undefined);
    expect(fragmentsOfFirst.length).toBeGreaterThanOrEqual(2);
    expect(fragmentsOfFirst.every((d) => d.function?.name === undefined)).toBe(true);
    expect(toolDeltas.filter((d) => d.index === 1 && d.id !== undefined)).toHaveLength(1);
  });

  it('surfaces a scripted error status as an APIError', async () => {
    upstream.enqueue({ status: 429, errorMessage: 'slow down', retryAfter: '3' });

    const error: unknown = await client.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'x' }] }).then(
      () => undefined,
      (err: unknown) => err,
    );

    expect(error).toBeInstanceOf(APIError);
    const apiError = error as APIError;
    expect(apiError.status).toBe(429);
    expect(apiError.message).toContain('slow down');
    expect(apiError.headers?.get('retry-after')).toBe('3');
    expect(apiError.error).toEqual({ message: 'slow down', type: 'invalid_request_error', param: null, code: null });
  });

  it('uses server_error type for 5xx statuses, also on stream requests', async () => {
    upstream.enqueue({ status: 503 });

    await expect(client.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'x' }], stream: true })).rejects.toMatchObject({
      status: 503,
      error: { type: 'server_error' },
    });
  });

  it('makes stream iteration throw when the connection drops mid-stream', async () => {
    upstream.enqueue({ chunks: ['a', 'b', 'c', 'd'], dropAfterChunks: 2 });

    const stream = await client.chat.completions.create({
      model: 'm',
      messages: [{ role: 'user', content: 'x' }],
      stream: true,
    });
    const received: ChatCompletionChunk[] = [];
    await expect(
      (async () => {
        for await (const chunk of stream) received.push(chunk);
      })(),
    ).rejects.toThrow();
    expect(received).toHaveLength(2);
    expect(upstream.requests[0].closedByClient).toBe(false);
  });

  it('makes stream iteration throw on malformed SSE data', async () => {
    upstream.enqueue({ malformedAfterChunks: 1 });
    // The SDK logs the unparsable line before throwing; keep the test output clean.
    const quietClient = new OpenAI({ baseURL: upstream.url, apiKey: 'sk-test', maxRetries: 0, logLevel: 'off' });

    const stream = await quietClient.chat.completions.create({
      model: 'm',
      messages: [{ role: 'user', content: 'x' }],
      stream: true,
    });
    await expect(reassemble(stream)).rejects.toThrow();
  });

  it('fails a request whose connection is dropped immediately', async () => {
    upstream.enqueue({ dropImmediately: true });

    await expect(client.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'x' }] })).rejects.toBeInstanceOf(APIError); // APIConnectionError
    expect(upstream.requests[0].closedByClient).toBe(false);
  });

  it('records a hanging request aborted by the client', async () => {
    upstream.enqueue({ hang: true });
    const controller = new AbortController();

    const pending = client.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'x' }] }, { signal: controller.signal });
    const settled = pending.then(
      () => undefined,
      (err: unknown) => err,
    );
    await upstream.waitForRequests(1);
    expect(upstream.requests[0].closedByClient).toBe(false);

    const abortedAt = Date.now();
    controller.abort();

    expect(await settled).toBeInstanceOf(APIUserAbortError);
    const closedAt = await upstream.waitForClientClose(0);
    expect(closedAt).toBeGreaterThanOrEqual(abortedAt);
    expect(upstream.requests[0]).toMatchObject({ closedByClient: true, closedAt });
  });

  it('records a client abort in the middle of a slow stream', async () => {
    upstream.enqueue({ chunks: Array.from({ length: 50 }, (_, i) => `${i} `), chunkDelayMs: 50 });
    const controller = new AbortController();

    const stream = await client.chat.completions.create(
      { model: 'm', messages: [{ role: 'user', content: 'x' }], stream: true },
      { signal: controller.signal },
    );
    let contentChunks = 0;
    // On abort the SDK's stream iterator just ends (it swallows the AbortError).
    for await (const chunk of stream) {
      if (chunk.choices[0]?.delta.content) {
        contentChunks++;
        controller.abort();
      }
    }
    expect(contentChunks).toBeLessThan(50);

    await expect(upstream.waitForClientClose(0)).resolves.toEqual(expect.any(Number));
  });

  it('clears the timer of a long delayMs when the client aborts (no leaked handles)', async () => {
    upstream.enqueue({ delayMs: 60_000 });
    const controller = new AbortController();

    const settled = client.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'x' }] }, { signal: controller.signal }).then(
      () => undefined,
      (err: unknown) => err,
    );
    await upstream.waitForRequests(1);
    controller.abort();

    expect(await settled).toBeInstanceOf(APIUserAbortError);
    await expect(upstream.waitForClientClose(0)).resolves.toEqual(expect.any(Number));
  });

  it('times out waiting for requests that never come', async () => {
    await expect(upstream.waitForRequests(1, 50)).rejects.toThrow(/timed out after 50ms/);
    await expect(upstream.waitForClientClose(0, 50)).rejects.toThrow(/timed out/);
  });

  it('lists a model on GET /v1/models', async () => {
    const models = await client.models.list();
    expect(models.data).toEqual([{ id: 'upstream-model', object: 'model', created: expect.any(Number) as number, owned_by: 'fake' }]);
    expect(upstream.requests).toHaveLength(0); // only chat.completions requests are recorded
  });

  it('close() tears down hanging connections', async () => {
    const local = await startFakeUpstream();
    local.setDefault({ hang: true });
    const localClient = new OpenAI({ baseURL: local.url, apiKey: 'k', maxRetries: 0 });

    const settled = localClient.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'x' }] }).then(
      () => undefined,
      (err: unknown) => err,
    );
    await local.waitForRequests(1);
    await local.close();
    await local.close(); // idempotent

    expect(await settled).toBeInstanceOf(APIError); // APIConnectionError
    expect(local.requests[0].closedByClient).toBe(false);
  });
});

describe("fake upstream's POST /tokenize (vLLM's, counting with Llama 3's tokenizer)", () => {
  let upstream: FakeUpstream;
  let root: string;
  const tokenize = (body: unknown) =>
    fetch(`${root}/tokenize`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

  beforeAll(async () => {
    upstream = await startFakeUpstream({ maxModelLen: 4096 });
    root = upstream.url.replace(/\/v1$/, '');
  });
  afterEach(() => upstream.reset());
  afterAll(() => upstream.close());

  it("frames messages with Llama 3's chat template: tools as JSON first, tool calls as JSON, the assistant header last", () => {
    const prompt = llama3Prompt({
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: [{ type: 'text', text: 'Weather?' }] },
        { role: 'assistant', content: null, tool_calls: [{ id: 'c1', type: 'function', function: { name: 'weather', arguments: '{"city":"Oslo"}' } }] },
        { role: 'tool', tool_call_id: 'c1', content: 'rain' },
      ],
      tools: [{ type: 'function', function: { name: 'weather' } }],
    });
    const tools = JSON.stringify({ type: 'function', function: { name: 'weather' } }, null, 4);
    expect(prompt).toBe(
      '<|begin_of_text|>' +
        `<|start_header_id|>system<|end_header_id|>\n\n${tools}<|eot_id|>` +
        '<|start_header_id|>system<|end_header_id|>\n\nBe brief.<|eot_id|>' +
        '<|start_header_id|>user<|end_header_id|>\n\nWeather?<|eot_id|>' +
        '<|start_header_id|>assistant<|end_header_id|>\n\n{"name":"weather","parameters":"{\\"city\\":\\"Oslo\\"}"}<|eot_id|>' +
        '<|start_header_id|>ipython<|end_header_id|>\n\nrain<|eot_id|>' +
        '<|start_header_id|>assistant<|end_header_id|>\n\n',
    );
  });

  it('answers {count, max_model_len, tokens} with the Llama 3 count of the framed prompt, and records the request', async () => {
    const body = { model: 'm', messages: [{ role: 'user', content: 'Hello world!' }], add_generation_prompt: true };
    const reply = await tokenize(body);
    expect(reply.status).toBe(200);
    // <|begin_of_text|>, <|start_header_id|> user <|end_header_id|> "\n\n", Hello world ! (3), <|eot_id|>, then the assistant header (4).
    expect(await reply.json()).toEqual({ count: 13, max_model_len: 4096, tokens: [] });
    expect(await llama3PromptTokens(body)).toBe(13);
    expect(await llama3PromptTokens(body, false)).toBe(9);
    expect(upstream.tokenizeRequests).toHaveLength(1);
    expect(upstream.tokenizeRequests[0].body).toEqual(body);
    expect(upstream.requests).toHaveLength(0); // chat completions only
    expect(await (await tokenize({ model: 'm', prompt: 'Hello world!' })).json()).toMatchObject({ count: 3 });
  });

  it('fails as told, reports another max_model_len as told, and forgets both on reset', async () => {
    upstream.setTokenizer({ status: 500 });
    const failed = await tokenize({ model: 'm', messages: [] });
    expect(failed.status).toBe(500);
    expect(await failed.json()).toMatchObject({ error: { type: 'server_error' } });
    upstream.setTokenizer({ maxModelLen: 128 });
    expect(await (await tokenize({ model: 'm', messages: [] })).json()).toMatchObject({ max_model_len: 128 });
    upstream.reset();
    expect(upstream.tokenizeRequests).toHaveLength(0);
    expect(await (await tokenize({ model: 'm', messages: [] })).json()).toMatchObject({ max_model_len: 4096 });
  });

  it("with countPromptTokens, a completion's usage.prompt_tokens is the same count (streamed or not); without, the fixed 10", async () => {
    const client = new OpenAI({ baseURL: upstream.url, apiKey: 'k', maxRetries: 0, timeout: 5000 });
    const messages = [{ role: 'user' as const, content: 'Count me, please.' }];
    const expected = await llama3PromptTokens({ messages });
    expect(expected).not.toBe(10);
    upstream.setDefault({ countPromptTokens: true, usage: { prompt_tokens: 1, completion_tokens: 7 } });
    const completion = await client.chat.completions.create({ model: 'm', messages });
    expect(completion.usage).toMatchObject({ prompt_tokens: expected, completion_tokens: 7, total_tokens: expected + 7 });
    const stream = await client.chat.completions.create({ model: 'm', messages, stream: true, stream_options: { include_usage: true } });
    expect((await reassemble(stream)).usage).toMatchObject({ prompt_tokens: expected });
    upstream.reset();
    expect((await client.chat.completions.create({ model: 'm', messages })).usage).toMatchObject({ prompt_tokens: 10 });
  });
});

describe('fake upstream as the bench upstream (reuse, tags, control routes)', () => {
  let upstream: FakeUpstream;
  let client: OpenAI;
  let base: string;

  beforeAll(async () => {
    upstream = await startFakeUpstream({ recordOnlyTagged: true, maxRecords: 2, control: true });
    upstream.setScripter(benchModelScripter());
    client = new OpenAI({ baseURL: upstream.url, apiKey: 'k', maxRetries: 0, timeout: 5000 });
    base = upstream.url.replace(/\/v1$/, '');
  });

  afterAll(async () => {
    await upstream.close();
  });

  const ask = (model: string, content: string) => ({ model, messages: [{ role: 'user' as const, content }] });

  it('answers bench model names from one rendering, streamed and not', async () => {
    const one = await client.chat.completions.create(ask('bench', 'Say hello.'));
    const two = await client.chat.completions.create(ask('bench', 'Say hello again.'));
    expect(one.choices[0].message.content).toBe(Array.from({ length: 50 }, () => 'tok').join(' '));
    expect(one.usage).toMatchObject({ prompt_tokens: 10, completion_tokens: 50, total_tokens: 60 });
    expect(two.id).toBe(one.id); // the same bytes

    const streamed = await reassemble(
      await client.chat.completions.create({ ...ask('bench-n7.label', 'x'), stream: true, stream_options: { include_usage: true } }),
    );
    expect(streamed.content).toBe('tok '.repeat(7));
    expect(streamed.finishReason).toBe('stop');
    expect(streamed.usage).toMatchObject({ completion_tokens: 7 });
    expect(upstream.requests).toHaveLength(0); // untagged: not recorded
    expect(upstream.stats).toMatchObject({ requests: 3, streams: 1, openStreams: 0 });
  });

  it('records tagged requests only, the latest maxRecords, and waits on them over HTTP', async () => {
    const controller = new AbortController();
    const stream = await client.chat.completions.create({ ...ask('bench-slow20-n1000', 'tag:t1 go'), stream: true }, { signal: controller.signal });
    const waitFor = async (until: string) => {
      const res = await fetch(`${base}/_upstream/wait?tag=t1&until=${until}&timeoutMs=3000`);
      return { status: res.status, body: (await res.json()) as Record<string, unknown> };
    };
    const chunks = await waitFor('chunks:4');
    expect(chunks.status).toBe(200);
    expect(chunks.body['chunksSent']).toBeGreaterThanOrEqual(4);
    expect(chunks.body['closedAt']).toBeNull();
    controller.abort(); // the SDK's stream then ends (or throws) on its side
    await (async () => {
      for await (const chunk of stream) void chunk;
    })().catch(() => undefined);
    const closed = await waitFor('closed');
    expect(closed.body).toMatchObject({ tag: 't1', closedByClient: true });
    expect(closed.body['closedAt']).toEqual(expect.any(Number));

    await client.chat.completions.create(ask('bench', 'tag:t2'));
    await client.chat.completions.create(ask('bench', 'tag:t3'));
    expect(upstream.requests.map((r) => r.tag)).toEqual(['t2', 't3']);
    expect(upstream.requests[1].finishedAt).toEqual(expect.any(Number));
    const evicted = await fetch(`${base}/_upstream/wait?tag=t1&until=opened&timeoutMs=50`);
    expect(evicted.status).toBe(408);
    const stats = (await (await fetch(`${base}/_upstream/stats`)).json()) as Record<string, unknown>;
    expect(stats).toMatchObject({ openStreams: 0 });
  });

  it('has no control routes unless asked', async () => {
    const plain = await startFakeUpstream();
    try {
      const res = await fetch(`${plain.url.replace(/\/v1$/, '')}/_upstream/stats`);
      expect(res.status).toBe(404);
    } finally {
      await plain.close();
    }
  });
});

describe('fake upstream (embeddings)', () => {
  let upstream: FakeUpstream;
  let client: OpenAI;
  const dot = (a: number[], b: number[]) => a.reduce((sum, x, i) => sum + x * b[i], 0);

  beforeAll(async () => {
    upstream = await startFakeUpstream({ embeddingDimensions: 48 });
    client = new OpenAI({ baseURL: upstream.url, apiKey: 'sk-test', maxRetries: 0, timeout: 5000 });
  });
  afterEach(() => upstream.reset());
  afterAll(() => upstream.close());

  it('answers the SDK (base64, its default) and float with the same deterministic unit vectors, recording apart from chat', async () => {
    const texts = ['Quarterly revenue grew', 'the revenue of the quarter grew', 'a recipe for bread'];
    const sdk = await client.embeddings.create({ model: 'emb', input: texts });
    expect(sdk).toMatchObject({ object: 'list', model: 'emb', usage: { prompt_tokens: 13, total_tokens: 13 } });
    const floats = await client.embeddings.create({ model: 'emb', input: texts, encoding_format: 'float' });
    sdk.data.forEach((item, i) => {
      expect(item).toMatchObject({ object: 'embedding', index: i });
      expect(item.embedding).toHaveLength(48);
      expect(item.embedding).toEqual(fakeEmbedding(texts[i], 48).map((x) => expect.closeTo(x, 6) as number));
      expect(floats.data[i].embedding).toEqual(fakeEmbedding(texts[i], 48));
      expect(dot(floats.data[i].embedding, floats.data[i].embedding)).toBeCloseTo(1, 10);
    });
    const [a, b, c] = floats.data.map((d) => d.embedding);
    expect(dot(a, b)).toBeGreaterThan(dot(a, c) + 0.2);
    expect(upstream.embeddingRequests.map((r) => r.body as unknown)).toEqual([
      { model: 'emb', input: texts, encoding_format: 'base64' },
      { model: 'emb', input: texts, encoding_format: 'float' },
    ]);
    expect(upstream.requests).toHaveLength(0);
  });

  it('honours dimensions and a single string input; refuses token arrays, empty strings and bad dimensions', async () => {
    const one = await client.embeddings.create({ model: 'emb', input: 'hello world', dimensions: 8, encoding_format: 'float' });
    expect(one.data).toHaveLength(1);
    expect(one.data[0].embedding).toEqual(fakeEmbedding('hello world', 8));
    await expect(client.embeddings.create({ model: 'emb', input: [[1, 2, 3]] })).rejects.toMatchObject({ status: 400 });
    await expect(client.embeddings.create({ model: 'emb', input: ['a', ''] })).rejects.toMatchObject({ status: 400 });
    await expect(client.embeddings.create({ model: 'emb', input: 'a', dimensions: 0 })).rejects.toMatchObject({ status: 400 });
  });

  it('follows its scripts (status with retry-after, wrong dimensions, a missing vector), then answers normally', async () => {
    upstream.enqueueEmbeddings({ status: 429, retryAfter: '3', errorMessage: 'busy' }, { dimensions: 5 }, { missingVector: true });
    const error: unknown = await client.embeddings.create({ model: 'emb', input: 'x' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(APIError);
    expect(error).toMatchObject({ status: 429, message: expect.stringContaining('busy') });
    expect((error as APIError).headers?.get('retry-after')).toBe('3');
    expect((await client.embeddings.create({ model: 'emb', input: 'x', encoding_format: 'float' })).data[0].embedding).toHaveLength(5);
    expect((await client.embeddings.create({ model: 'emb', input: ['x', 'y'] })).data).toHaveLength(1);
    expect((await client.embeddings.create({ model: 'emb', input: 'x', encoding_format: 'float' })).data[0].embedding).toHaveLength(48);
  });

  it('records a client that hangs up on a hanging request', async () => {
    upstream.enqueueEmbeddings({ hang: true });
    const controller = new AbortController();
    const call = client.embeddings.create({ model: 'emb', input: 'x' }, { signal: controller.signal });
    while (upstream.embeddingRequests.length === 0) await new Promise((r) => setTimeout(r, 10));
    controller.abort();
    await expect(call).rejects.toBeInstanceOf(APIUserAbortError);
    while (!upstream.embeddingRequests[0].closedByClient) await new Promise((r) => setTimeout(r, 10));
    expect(upstream.embeddingRequests[0].closedAt).toEqual(expect.any(Number));
  });
});
