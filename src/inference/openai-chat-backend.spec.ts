import http from 'node:http';
import { createServer, type Server } from 'node:net';
import type { ChatCompletionChunk } from 'openai/resources/chat/completions';
import { startFakeUpstream, type FakeUpstream } from '../../test/support/fake-upstream';
import { OpenAIChatBackend } from './openai-chat-backend';
import { UpstreamError } from './upstream-error';

const params = { model: 'm', messages: [{ role: 'user' as const, content: 'hi' }] };
const streamParams = { ...params, stream: true as const, stream_options: { include_usage: true } };

async function collect(stream: AsyncIterable<ChatCompletionChunk>): Promise<string> {
  let text = '';
  for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? '';
  return text;
}

describe('OpenAIChatBackend (node:http against an upstream on loopback)', () => {
  let upstream: FakeUpstream;
  const backend = (overrides: Partial<ConstructorParameters<typeof OpenAIChatBackend>[0]> = {}) =>
    new OpenAIChatBackend({ name: 'fake', baseUrl: upstream.url, apiKey: 'sk-up', timeoutMs: 2000, maxRetries: 0, ...overrides });
  const signal = () => new AbortController().signal;

  beforeAll(async () => (upstream = await startFakeUpstream()));
  afterAll(() => upstream.close());
  beforeEach(() => upstream.reset());

  it('completes and streams, sending the key and the body as given', async () => {
    upstream.enqueue({ text: 'whole reply' }, { chunks: ['a', 'b', 'c'] });
    const completion = await backend().complete(params, signal());
    expect(completion.choices[0].message.content).toBe('whole reply');
    expect(await collect(backend().stream(streamParams, signal()))).toBe('abc');
    expect(upstream.requests[0].headers.authorization).toBe('Bearer sk-up');
    expect(upstream.requests[1].body).toMatchObject({ stream: true, stream_options: { include_usage: true } });
  });

  it('classifies HTTP errors as the SDK-facing statuses (429 keeps retry-after; 404 names the model)', async () => {
    upstream.enqueue({ status: 429, retryAfter: '7', errorMessage: 'slow down' }, { status: 404 }, { status: 401 });
    await expect(backend().complete(params, signal())).rejects.toMatchObject({
      httpStatus: 429,
      code: 'rate_limit_exceeded',
      retryAfter: '7',
      message: 'Upstream rate limit: slow down',
    });
    await expect(backend().complete(params, signal())).rejects.toMatchObject({ httpStatus: 400, param: 'model' });
    await expect(backend().complete(params, signal())).rejects.toMatchObject({ httpStatus: 502, message: expect.stringContaining('credentials') });
  });

  it('retries refused, 5xx and 429 (honouring retry-after) only when asked to', async () => {
    upstream.enqueue({ status: 503 }, { status: 429, retryAfter: '0' }, { text: 'after two retries' });
    const completion = await backend().complete(params, signal(), { retries: 2 });
    expect(completion.choices[0].message.content).toBe('after two retries');
    expect(upstream.requests).toHaveLength(3);
    upstream.enqueue({ status: 500 });
    await expect(backend().complete(params, signal())).rejects.toMatchObject({ httpStatus: 502 });
    expect(upstream.requests).toHaveLength(4);
  });

  it('reports an unreachable upstream as 502, after its retries', async () => {
    const closed: Server = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as { port: number }).port;
    await new Promise((r) => closed.close(r));
    const refused = new OpenAIChatBackend({ name: 'gone', baseUrl: `http://127.0.0.1:${port}/v1`, timeoutMs: 1000, maxRetries: 1 });
    await expect(refused.complete(params, signal())).rejects.toMatchObject({ httpStatus: 502, message: "Could not reach the upstream model server 'gone'." });
    expect(await refused.reachable(500)).toBe(false);
    expect(await backend().reachable(500)).toBe(true);
  });

  it('times out an upstream that goes quiet, before or during its reply (504)', async () => {
    upstream.enqueue({ hang: true }, { chunks: ['a', 'b', 'c'], hangAfterChunks: 1 });
    const started = Date.now();
    await expect(backend({ timeoutMs: 300 }).complete(params, signal())).rejects.toMatchObject({ httpStatus: 504 });
    await expect(collect(backend({ timeoutMs: 300 }).stream(streamParams, signal()))).rejects.toMatchObject({ httpStatus: 504 });
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('fails a stream that breaks off or carries junk (502)', async () => {
    upstream.enqueue({ chunks: ['a', 'b', 'c'], dropAfterChunks: 2 }, { chunks: ['a', 'b', 'c'], malformedAfterChunks: 1 });
    for (let i = 0; i < 2; i++) {
      const error: unknown = await collect(backend().stream(streamParams, signal())).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(UpstreamError);
      expect(error).toMatchObject({ httpStatus: 502, message: "The upstream model server 'fake' sent a malformed or incomplete reply." });
    }
  });

  it('stops at once when aborted mid-stream, closing the upstream connection', async () => {
    upstream.enqueue({ chunks: ['a', 'b', 'c', 'd'], chunkDelayMs: 200 });
    const controller = new AbortController();
    const stream = backend().stream(streamParams, controller.signal);
    const seen: string[] = [];
    const done = (async () => {
      for await (const chunk of stream) {
        seen.push(chunk.choices[0]?.delta?.content ?? '');
        controller.abort();
      }
    })();
    await expect(done).rejects.toMatchObject({ name: 'AbortError' });
    await upstream.waitForClientClose(0, 2000);
    expect(seen.length).toBeLessThanOrEqual(2);
  });

  it('reuses one keep-alive connection for sequential calls', async () => {
    let connections = 0;
    const server = http.createServer((req, res) => {
      req.resume();
      req.on('end', () =>
        res.end(
          JSON.stringify({
            id: 'c',
            object: 'chat.completion',
            created: 0,
            model: 'm',
            choices: [{ index: 0, message: { role: 'assistant', content: 'ok' }, finish_reason: 'stop' }],
          }),
        ),
      );
    });
    server.on('connection', () => connections++);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const local = new OpenAIChatBackend({
        name: 'local',
        baseUrl: `http://127.0.0.1:${(server.address() as { port: number }).port}/v1`,
        timeoutMs: 1000,
        maxRetries: 0,
      });
      for (let i = 0; i < 10; i++) await local.complete(params, signal());
      expect(connections).toBe(1);
    } finally {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
  });

  describe('with replicas', () => {
    let second: FakeUpstream;
    beforeAll(async () => (second = await startFakeUpstream()));
    afterAll(() => second.close());
    beforeEach(() => second.reset());
    const replicated = () => backend({ baseUrl: [upstream.url, second.url] });
    const served = () => [upstream.requests.length, second.requests.length];

    it('keeps one prompt_cache_key on one replica and spreads calls without one', async () => {
      const backendA = replicated();
      for (let i = 0; i < 4; i++) await backendA.complete({ ...params, prompt_cache_key: 'thread-1' }, signal());
      expect(served().sort()).toEqual([0, 4]);
      // Another instance (another gateway process) picks the same replica for the key.
      const sticky = upstream.requests.length ? upstream : second;
      await replicated().complete({ ...params, prompt_cache_key: 'thread-1' }, signal());
      expect(sticky.requests).toHaveLength(5);
      upstream.reset();
      second.reset();
      for (let i = 0; i < 4; i++) await backendA.complete(params, signal());
      expect(served()).toEqual([2, 2]);
    });

    it('takes the affinity key from the call settings before the body', async () => {
      const keys = Array.from({ length: 16 }, (_, i) => `k${i}`);
      for (const key of keys) await replicated().complete({ ...params, prompt_cache_key: 'same' }, signal(), { affinityKey: key });
      expect(Math.min(...served())).toBeGreaterThan(0);
    });

    it('fails over to the next replica when one cannot be reached, and is reachable while one is', async () => {
      const closed: Server = createServer();
      await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
      const gone = `http://127.0.0.1:${(closed.address() as { port: number }).port}/v1`;
      await new Promise((r) => closed.close(r));
      const halfDown = backend({ baseUrl: [gone, upstream.url] });
      for (let i = 0; i < 6; i++) await halfDown.complete({ ...params, prompt_cache_key: `t${i}` }, signal());
      expect(upstream.requests).toHaveLength(6);
      expect(await halfDown.reachable(500)).toBe(true);
      const allDown = backend({ baseUrl: [gone, gone.replace('/v1', '/v2')] });
      await expect(allDown.complete(params, signal())).rejects.toMatchObject({ httpStatus: 502, message: "Could not reach the upstream model server 'fake'." });
      expect(await allDown.reachable(500)).toBe(false);
    });

    it('does not fail over on an HTTP error answer (the replica was reached)', async () => {
      upstream.setDefault({ status: 503 });
      second.setDefault({ status: 503 });
      await expect(replicated().complete({ ...params, prompt_cache_key: 'x' }, signal())).rejects.toMatchObject({ httpStatus: 502 });
      expect(served().sort()).toEqual([0, 1]);
    });
  });
});
