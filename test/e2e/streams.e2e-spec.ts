import { request, type IncomingMessage } from 'node:http';
import { Redis } from 'ioredis';
import { startApp, TestApp } from '../support/app';
import { FakeUpstream, startFakeUpstream } from '../support/fake-upstream';
import { bull } from '../support/modes';
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
  let upstream: FakeUpstream;
  let app: TestApp;
  let teardown: () => Promise<void>;
  let redis: Redis;

  beforeAll(async () => {
    upstream = await startFakeUpstream();
    upstream.setDefault({ hang: true });
    const setup = await bull.setup();
    teardown = setup.teardown;
    app = await startApp({ ...setup.env, INFERENCE_BASE_URL: upstream.url, MAX_STREAMS_PER_TENANT: '1000', BACKGROUND_CONCURRENCY: '4' });
    redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
  });

  /** Closed after each test whatever happened: open streams would hold the app's close. */
  const opened: OpenStream[] = [];
  afterEach(() => opened.splice(0).forEach((s) => s.close()));

  afterAll(async () => {
    redis?.disconnect();
    await app?.close();
    await upstream?.close();
    await teardown?.();
  });

  it('serves 300 followers of 20 background responses with a constant number of Redis clients, each to its end', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 20; i++) {
      const created = await openStream(app.url, '/v1/responses', { model: MODEL, input: `r${i}`, background: true, stream: true });
      await waitFor(() => Promise.resolve(idOf(created.text())), Boolean);
      ids.push(idOf(created.text())!);
      created.close();
    }
    await new Promise((r) => setTimeout(r, 300));
    const before = await redisClients(redis);
    const followers = await Promise.all(Array.from({ length: 300 }, (_, i) => openStream(app.url, `/v1/responses/${ids[i % ids.length]}?stream=true`)));
    opened.push(...followers);
    expect(followers.every((f) => f.status === 200)).toBe(true);
    // Every follower has its replay (events 0 and 1) and is now waiting for live events.
    await waitFor(() => Promise.resolve(followers.filter((f) => f.text().includes('"sequence_number":1')).length), (n) => n === followers.length);
    await new Promise((r) => setTimeout(r, 500));
    const during = await redisClients(redis);
    process.stdout.write(`\n[streams] redis connected_clients before=${before} with_300_followers=${during} delta=${during - before}\n`);
    // Other users of this Redis come and go: the bound leaves room for them, not for 300 readers.
    expect(during - before).toBeLessThan(30);
    // Cancelling every response reaches every follower: each ends with its terminal event.
    for (const id of ids) await app.client.responses.cancel(id);
    await Promise.all(followers.map((f) => f.ended));
    expect(followers.filter((f) => f.text().includes('event: response.failed')).length).toBe(300);
  }, 60_000);
});
