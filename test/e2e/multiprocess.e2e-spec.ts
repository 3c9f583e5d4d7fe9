import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import OpenAI from 'openai';
import type { Response, ResponseStreamEvent } from 'openai/resources/responses/responses';
import { createTestDatabase, TestDatabase } from '../support/database';
import { FakeUpstream, startFakeUpstream } from '../support/fake-upstream';
import { ServerProcess, startProcess } from '../support/processes';
import { REDIS_URL, services, warnMissing } from '../support/services';
import { sleep, waitFor } from '../support/wait';
import { collect } from '../support/streams';

const MODEL = 'upstream-model';
const needs = services.postgres && services.redis;
if (!needs) warnMissing(!services.postgres ? 'PostgreSQL' : 'Redis', 'multi-process background');

const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
};

/** Two API processes and worker processes, spawned from dist/, sharing Postgres and Redis. */
// Registered only when the services are there; otherwise a loud warning and a todo (CI requires them).
const suite = needs ? describe : () => it.todo('needs PostgreSQL and Redis: not reachable on this machine');
suite('background mode across real processes (ROLE=api ×2, ROLE=worker)', () => {
  let db: TestDatabase;
  let upstream: FakeUpstream;
  let env: Record<string, string>;
  let apiA: ServerProcess;
  let apiB: ServerProcess;
  let workers: ServerProcess[] = [];
  const clientOf = (p: ServerProcess) => new OpenAI({ baseURL: `${p.url}/v1`, apiKey: 'k', maxRetries: 0, timeout: 20_000 });
  let a: OpenAI;
  let b: OpenAI;
  const done = (client: OpenAI, id: string, timeoutMs = 20_000) =>
    waitFor(
      () => client.responses.retrieve(id),
      (r) => r.status !== 'queued' && r.status !== 'in_progress',
      timeoutMs,
    );

  beforeAll(async () => {
    db = await createTestDatabase();
    upstream = await startFakeUpstream();
    env = {
      ROLE: 'api',
      DATABASE_URL: db.url,
      REDIS_URL,
      QUEUE_PREFIX: `rgmp${randomBytes(4).toString('hex')}`,
      INFERENCE_BASE_URL: upstream.url,
      STALL_TIMEOUT_MS: '1500',
      RECONCILE_INTERVAL_MS: '500',
      SHUTDOWN_GRACE_MS: '2000',
      LOG_LEVEL: 'info', // the helper waits for the 'Listening on' and 'Worker started' lines
    };
    [apiA, apiB] = await Promise.all([startProcess(env), startProcess(env)]);
    workers = [await startProcess({ ...env, ROLE: 'worker' })];
    a = clientOf(apiA);
    b = clientOf(apiB);
  }, 60_000);

  afterAll(async () => {
    await Promise.all([apiA, apiB, ...workers].filter(Boolean).map((p) => p.kill()));
    await upstream?.close();
    await db?.drop();
  });

  beforeEach(() => upstream.reset());

  it('resumes a dropped stream on the other API process with exactly the remaining events', async () => {
    upstream.enqueue({ chunks: Array.from({ length: 12 }, (_, i) => `c${i} `), chunkDelayMs: 20 });
    const stream = await a.responses.create({ model: MODEL, input: 'go', background: true, stream: true });
    const k = 6;
    const head = await collect(stream, { until: (e) => e.sequence_number === k }); // the client drops here
    const id = (head[0] as Extract<ResponseStreamEvent, { type: 'response.created' }>).response.id;
    const tail = await collect(await b.responses.retrieve(id, { stream: true, starting_after: k }));
    const full = await collect(await b.responses.retrieve(id, { stream: true }));
    expect(tail[0].sequence_number).toBe(k + 1);
    expect([...head, ...tail]).toEqual(full);
    expect(full[full.length - 1].type).toBe('response.completed');
    expect((await a.responses.retrieve(id)).output_text).toBe(Array.from({ length: 12 }, (_, i) => `c${i} `).join(''));
  });

  it('cancels from the other API process: the worker closes the upstream connection at once', async () => {
    const latencies: number[] = [];
    const fromCall: number[] = [];
    for (let i = 0; i < 8; i++) {
      upstream.reset();
      upstream.enqueue({ chunks: Array.from({ length: 500 }, () => 'tok '), chunkDelayMs: 20 });
      const queued = await a.responses.create({ model: MODEL, input: 'long', background: true });
      await upstream.waitForRequests(1, 10_000);
      await waitFor(
        () => b.responses.retrieve(queued.id),
        (r) => r.status === 'in_progress',
      );
      await sleep(60); // tokens are flowing
      const called = Date.now();
      const cancelled = await b.responses.cancel(queued.id);
      const returned = Date.now();
      expect(cancelled.status).toBe('cancelled');
      const closedAt = await upstream.waitForClientClose(0, 5000);
      latencies.push(Math.max(0, closedAt - returned));
      fromCall.push(closedAt - called);
      await sleep(100);
      expect((await a.responses.retrieve(queued.id)).status).toBe('cancelled');
    }
    process.stdout.write(
      `\n[measure] cancel latency, API and worker in separate processes, n=${latencies.length}: ` +
        `cancel returned → upstream closed p50 ${percentile(latencies, 50)} ms, max ${Math.max(...latencies)} ms; ` +
        `cancel called → upstream closed p50 ${percentile(fromCall, 50)} ms, max ${Math.max(...fromCall)} ms\n`,
    );
    expect(Math.max(...latencies)).toBeLessThan(1000);
  });

  it('accepts background responses in milliseconds (time to queued)', async () => {
    upstream.setDefault({ text: 'ok' });
    const times: number[] = [];
    const ids: string[] = [];
    for (let i = 0; i < 40; i++) {
      const started = performance.now();
      const r = await a.responses.create({ model: MODEL, input: `q${i}`, background: true });
      times.push(performance.now() - started);
      expect(r.status).toBe('queued');
      ids.push(r.id);
    }
    for (const id of ids) expect((await done(b, id)).status).toBe('completed'); // leave no work behind
    process.stdout.write(
      `\n[measure] time to queued (POST background → 200), n=${times.length}: p50 ${percentile(times, 50).toFixed(1)} ms, p99 ${percentile(times, 99).toFixed(1)} ms\n`,
    );
  });

  it('finishes a response whose worker was SIGKILLed mid-stream, on another worker, with one attempt’s output only', async () => {
    upstream.enqueue({ chunks: Array.from({ length: 400 }, () => 'first '), chunkDelayMs: 20 }, { text: 'second attempt' });
    const stream = await a.responses.create({ model: MODEL, input: 'go', background: true, stream: true });
    let id = '';
    const events: ResponseStreamEvent[] = [];
    const reading = collect(stream, {
      onEvent: (e) => {
        if (e.type === 'response.created') id = e.response.id;
        events.push(e);
      },
    });
    await upstream.waitForRequests(1, 10_000);
    await sleep(200);
    await workers[0].kill();
    workers = [await startProcess({ ...env, ROLE: 'worker' })];
    await upstream.waitForRequests(2, 20_000);
    const final = await done(a, id);
    expect(final.status).toBe('completed');
    expect(final.output_text).toBe('second attempt');
    await reading;
    expect(events[events.length - 1].type).toBe('response.completed');
    expect(events.map((e) => e.sequence_number)).toEqual(events.map((_, i) => i));
  });

  it('on SIGTERM, a worker finishes within its grace period or hands the response back — never cancels it', async () => {
    // SHUTDOWN_GRACE_MS is 2 s: one response finishes within it, one is far longer.
    upstream.enqueue(
      { chunks: Array.from({ length: 10 }, () => 'short '), chunkDelayMs: 50 },
      { chunks: Array.from({ length: 1000 }, () => 'long '), chunkDelayMs: 20 },
    );
    const short = await a.responses.create({ model: MODEL, input: 'short', background: true });
    await upstream.waitForRequests(1, 10_000);
    const long = await a.responses.create({ model: MODEL, input: 'long', background: true });
    await upstream.waitForRequests(2, 10_000);
    const stopping = workers[0].stop();
    // Between SIGTERM and the end of the grace period the long one is neither cancelled nor failed.
    expect((await a.responses.retrieve(long.id)).status).toBe('in_progress');
    await stopping;
    expect((await a.responses.retrieve(short.id)).status).toBe('completed');
    expect((await a.responses.retrieve(long.id)).status).toBe('queued');
    upstream.setDefault({ text: 'resumed elsewhere' });
    workers = [await startProcess({ ...env, ROLE: 'worker' })];
    const final = await done(b, long.id);
    expect(final).toMatchObject({ status: 'completed' });
    expect(final.output_text).toBe('resumed elsewhere');
  });

  it('completes every queued response after its Redis keys are wiped (re-dispatched from Postgres)', async () => {
    await Promise.all(workers.map((w) => w.stop()));
    workers = [];
    upstream.setDefault({ text: 'recovered' });
    const ids: string[] = [];
    for (let i = 0; i < 10; i++) ids.push((await a.responses.create({ model: MODEL, input: `q${i}`, background: true })).id);
    const redis = new Redis(REDIS_URL);
    const keys = await redis.keys(`${env.QUEUE_PREFIX}:*`);
    expect(keys.length).toBeGreaterThan(0);
    await redis.del(...keys);
    expect(await redis.keys(`${env.QUEUE_PREFIX}:responses:*`)).toHaveLength(0);
    await redis.quit();
    workers = [await startProcess({ ...env, ROLE: 'worker' })];
    for (const id of ids) expect((await done(b, id)).output_text).toBe('recovered');
  });

  it('never turns a cancelled response into anything else, across hundreds of random cancels from both API processes', async () => {
    workers.push(await startProcess({ ...env, ROLE: 'worker' }));
    upstream.setDefault({ chunks: ['a', 'b', 'c', 'd', 'e'], chunkDelayMs: 3 });
    const count = 200;
    const ids = await Promise.all(
      Array.from({ length: count }, async (_, i) => (await (i % 2 ? a : b).responses.create({ model: MODEL, input: `r${i}`, background: true })).id),
    );
    const cancelled = new Set<string>();
    await Promise.all(
      ids.map(async (id, i) => {
        await sleep(Math.floor(Math.random() * 400));
        const result = await (i % 3 ? a : b).responses.cancel(id).catch((e: unknown) => e);
        if ((result as Response).status === 'cancelled') cancelled.add(id);
        else expect(result).toMatchObject({ status: 400 });
      }),
    );
    const finals = await Promise.all(ids.map((id) => done(a, id, 60_000)));
    for (const r of finals) expect(cancelled.has(r.id) ? ['cancelled'] : ['completed']).toContain(r.status);
    await sleep(500);
    const again = await Promise.all([...cancelled].map((id) => b.responses.retrieve(id)));
    expect(again.every((r) => r.status === 'cancelled')).toBe(true);
    process.stdout.write(`\n[measure] race: ${count} responses, ${cancelled.size} cancelled, ${count - cancelled.size} completed, 0 changed after cancel\n`);
  }, 120_000);
});
