import { request, type IncomingMessage } from 'node:http';
import { connect, type Socket } from 'node:net';
import { Redis } from 'ioredis';
import { useE2e } from '../support/e2e';
import { backgroundModes, bull } from '../support/modes';
import { REDIS_URL, services, warnMissing } from '../support/services';
import { waitFor } from '../support/wait';

const MODEL = 'upstream-model';

/** An SSE response read as text (node:http, no pooling: each stream is its own connection). */
interface OpenStream {
  status: number;
  text(): string;
  ended: Promise<void>;
  close(): void;
}

function openStream(base: string, path: string, body?: unknown, key = 'k'): Promise<OpenStream> {
  return new Promise((resolve, reject) => {
    const req = request(`${base}${path}`, {
      method: body === undefined ? 'GET' : 'POST',
      agent: false,
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    });
    req.on('error', reject);
    req.on('response', (res: IncomingMessage) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      const ended = new Promise<void>((done) => res.on('close', () => done()));
      resolve({ status: res.statusCode ?? 0, text: () => text, ended, close: () => req.destroy() });
    });
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

const idOf = (text: string) => /"id":"(resp_[^"]+)"/.exec(text)?.[1];

async function redisClients(redis: Redis): Promise<number> {
  return Number(/connected_clients:(\d+)/.exec(await redis.info('clients'))?.[1]);
}

const needs = services.postgres && services.redis;
if (!needs) warnMissing(!services.postgres ? 'PostgreSQL' : 'Redis', 'shared stream readers');
const withRedis = needs ? describe : () => it.todo('needs PostgreSQL and Redis: not reachable on this machine');

withRedis('stream followers share Redis readers (Bull, Postgres + Redis)', () => {
  const e2e = useE2e({ backend: bull, env: (upstream) => ({ INFERENCE_BASE_URL: upstream.url, MAX_STREAMS_PER_TENANT: '1000', BACKGROUND_CONCURRENCY: '4' }) });
  let redis: Redis;

  beforeAll(() => {
    e2e.upstream.setDefault({ hang: true });
    redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
  });

  /** Closed after each test whatever happened: open streams would hold the app's close. */
  const opened: OpenStream[] = [];
  afterEach(() => opened.splice(0).forEach((s) => s.close()));

  afterAll(() => redis?.disconnect());

  it('serves 300 followers of 20 background responses with a constant number of Redis clients, each to its end', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 20; i++) {
      const created = await openStream(e2e.url, '/v1/responses', { model: MODEL, input: `r${i}`, background: true, stream: true });
      await waitFor(() => Promise.resolve(idOf(created.text())), Boolean);
      ids.push(idOf(created.text())!);
      created.close();
    }
    await new Promise((r) => setTimeout(r, 300));
    const before = await redisClients(redis);
    const followers = await Promise.all(Array.from({ length: 300 }, (_, i) => openStream(e2e.url, `/v1/responses/${ids[i % ids.length]}?stream=true`)));
    opened.push(...followers);
    expect(followers.every((f) => f.status === 200)).toBe(true);
    // Every follower has its replay (events 0 and 1) and is now waiting for live events.
    await waitFor(
      () => Promise.resolve(followers.filter((f) => f.text().includes('"sequence_number":1')).length),
      (n) => n === followers.length,
    );
    await new Promise((r) => setTimeout(r, 500));
    const during = await redisClients(redis);
    process.stdout.write(`\n[streams] redis connected_clients before=${before} with_300_followers=${during} delta=${during - before}\n`);
    // Other users of this Redis come and go: the bound leaves room for them, not for 300 readers.
    expect(during - before).toBeLessThan(30);
    // Cancelling every response reaches every follower: each ends with its terminal event.
    for (const id of ids) await e2e.client.responses.cancel(id);
    await Promise.all(followers.map((f) => f.ended));
    expect(followers.filter((f) => f.text().includes('event: response.failed')).length).toBe(300);
  }, 60_000);
});

/** The status and OpenAI error body of a refused stream. */
async function refusal(stream: OpenStream): Promise<{ status: number; body: unknown }> {
  await stream.ended;
  return { status: stream.status, body: JSON.parse(stream.text()) as unknown };
}

describe.each(backgroundModes('stream limits'))('stream limits, $name', (mode) => {
  /** Server side of every connection, by the client's port: what the server holds for it. */
  const serverSockets = new Map<number, Socket>();
  const opened: OpenStream[] = [];
  const raws: Socket[] = [];
  const MAX_BUFFERED = 262_144;
  const MAX_BEHIND_MS = 1500;

  const e2e = useE2e({
    backend: mode,
    env: (upstream) => ({
      INFERENCE_BASE_URL: upstream.url,
      API_KEYS: 'sk-a:team-a,sk-b:team-b',
      MAX_STREAMS_PER_TENANT: '2',
      STREAM_MAX_BUFFERED_BYTES: String(MAX_BUFFERED),
      STREAM_MAX_BEHIND_MS: String(MAX_BEHIND_MS),
    }),
  });

  beforeAll(() => {
    e2e.app.app.getHttpServer().on('connection', (socket: Socket) => serverSockets.set(socket.remotePort ?? 0, socket));
  });

  afterEach(() => {
    opened.splice(0).forEach((s) => s.close());
    raws.splice(0).forEach((s) => s.destroy());
    e2e.upstream.reset();
  });

  const open = async (path: string, body?: unknown, key = 'sk-a') => {
    const stream = await openStream(e2e.url, path, body, key);
    opened.push(stream);
    return stream;
  };

  it('refuses a stream over MAX_STREAMS_PER_TENANT with 429, per tenant, and frees the slot however a stream ends', async () => {
    e2e.upstream.setDefault({ hang: true });
    const sync = await open('/v1/responses', { model: MODEL, input: 'sync', stream: true });
    const background = await open('/v1/responses', { model: MODEL, input: 'bg', background: true, stream: true });
    expect([sync.status, background.status]).toEqual([200, 200]);
    const id = await waitFor(() => Promise.resolve(idOf(background.text())), Boolean);
    const tooMany = {
      status: 429,
      body: {
        error: {
          message: expect.stringContaining('Too many open streams: this tenant may have 2') as string,
          type: 'requests',
          param: 'stream',
          code: 'rate_limit_exceeded',
        },
      },
    };
    // A third stream of either kind, a follower too, is refused; nothing is queued or called for it.
    expect(await refusal(await open(`/v1/responses/${id!}?stream=true`))).toEqual(tooMany);
    expect(await refusal(await open('/v1/responses', { model: MODEL, input: 'third', stream: true }))).toEqual(tooMany);
    expect(e2e.upstream.requests.length).toBeLessThanOrEqual(2);
    // Another tenant has its own slots.
    expect((await open('/v1/responses', { model: MODEL, input: 'other', stream: true }, 'sk-b')).status).toBe(200);

    // The client going away frees its slot.
    sync.close();
    const follower = await waitFor(
      () => open(`/v1/responses/${id!}?stream=true`),
      (s) => s.status === 200,
    );
    // The terminal event frees the slots of the streams it ended (the create's and the follower's).
    const cancelled = await fetch(`${e2e.url}/v1/responses/${id!}/cancel`, { method: 'POST', headers: { authorization: 'Bearer sk-a' } });
    expect(cancelled.status).toBe(200);
    await Promise.all([background.ended, follower.ended]);
    e2e.upstream.setDefault({ text: 'quick' });
    const quick = await Promise.all([1, 2].map(() => open('/v1/responses', { model: MODEL, input: 'again', stream: true })));
    expect(quick.map((s) => s.status)).toEqual([200, 200]);
    await Promise.all(quick.map((s) => s.ended));
    expect(quick.every((s) => s.text().includes('event: response.completed'))).toBe(true);
  });

  /** A client that sends its request and never reads a byte of the answer (paused before any arrives). */
  async function neverReads(method: string, path: string, body?: unknown): Promise<{ client: Socket; server: Socket }> {
    const payload = body === undefined ? '' : JSON.stringify(body);
    const client = await new Promise<Socket>((resolve, reject) => {
      const socket = connect(Number(new URL(e2e.url).port), '127.0.0.1', () => resolve(socket));
      socket.pause();
      socket.once('error', reject);
    });
    raws.push(client);
    client.write(
      `${method} ${path} HTTP/1.1\r\nhost: 127.0.0.1\r\nauthorization: Bearer sk-b\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(payload)}\r\n\r\n${payload}`,
    );
    const server = await waitFor(() => Promise.resolve(serverSockets.get(client.localPort ?? -1)), Boolean);
    return { client, server: server! };
  }

  /** Samples what the server holds unread for `server` until it closes it (or `limitMs` passes). */
  async function watch(server: Socket, limitMs: number) {
    let maxQueued = 0;
    let behindSince: number | undefined;
    const sampler = setInterval(() => {
      maxQueued = Math.max(maxQueued, server.writableLength);
      if (server.writableLength > 0) behindSince ??= Date.now();
    }, 2);
    let timer: NodeJS.Timeout | undefined;
    const closedAt = await new Promise<number | undefined>((resolve) => {
      server.once('close', () => resolve(Date.now()));
      timer = setTimeout(() => resolve(undefined), limitMs);
    });
    clearInterval(sampler);
    clearTimeout(timer);
    process.stdout.write(
      `\n[streams] ${mode.name}: max_queued_bytes=${maxQueued} dropped_after_behind_ms=${closedAt && behindSince ? closedAt - behindSince : 'never'}\n`,
    );
    return { maxQueued, behindSince, closedAt };
  }

  /** About 13 MB of output, fast: far more than the kernel's socket buffers take. */
  const flood = () => ({ chunks: Array.from({ length: 800 }, (_, i) => `${i} ${'x'.repeat(16_384)}`), chunkDelayMs: 2 });

  it('drops a synchronous stream whose client never reads, with bounded buffering, and aborts its upstream call', async () => {
    e2e.upstream.enqueue(flood());
    const { server } = await neverReads('POST', '/v1/responses', { model: MODEL, input: 'big', stream: true });
    const seen = await watch(server, 20_000);
    expect(seen.closedAt).toBeDefined();
    // One event may go beyond the limit (it is checked before each write), never the stream.
    expect(seen.maxQueued).toBeLessThanOrEqual(MAX_BUFFERED + 64 * 1024);
    // As when the client goes away: the upstream call is closed, not read to its end.
    await e2e.upstream.waitForClientClose(0, 5000);
    expect(e2e.upstream.requests[0].finishedAt).toBeUndefined();
  }, 30_000);

  it('drops a background follower that stays behind for STREAM_MAX_BEHIND_MS; the response runs on to completion', async () => {
    e2e.upstream.enqueue(flood());
    const created = await fetch(`${e2e.url}/v1/responses`, {
      method: 'POST',
      headers: { authorization: 'Bearer sk-b', 'content-type': 'application/json' },
      body: JSON.stringify({ model: MODEL, input: 'big', background: true, stream: true, store: true }),
    });
    const reader = created.body!.getReader();
    let head = '';
    while (!idOf(head)) head += new TextDecoder().decode((await reader.read()).value);
    await reader.cancel();
    const id = idOf(head)!;
    const droppedBehind = async () =>
      Number(/rg_sse_clients_dropped_total\{reason="behind"\} (\d+)/.exec(await fetch(`${e2e.url}/metrics`).then((r) => r.text()))?.[1] ?? 0);
    const before = await droppedBehind();
    const { server } = await neverReads('GET', `/v1/responses/${id}?stream=true`);
    const seen = await watch(server, 20_000);
    expect(seen.closedAt).toBeDefined();
    expect(seen.behindSince).toBeDefined();
    // Dropped by the STREAM_MAX_BEHIND_MS limit, not another one (the drop's reason, rather than a
    // time bound that a loaded machine breaks).
    expect((await droppedBehind()) - before).toBe(1);
    // A follower waits for drain: what it holds stays about one event, far under the byte limit.
    expect(seen.maxQueued).toBeLessThanOrEqual(MAX_BUFFERED);
    const done = await waitFor(
      () => fetch(`${e2e.url}/v1/responses/${id}`, { headers: { authorization: 'Bearer sk-b' } }).then((r) => r.json() as Promise<{ status: string }>),
      (r) => r.status === 'completed',
      20_000,
      200,
    );
    expect(done.status).toBe('completed');
    expect(e2e.upstream.requests[0].closedByClient).toBe(false);
  }, 45_000);
});
