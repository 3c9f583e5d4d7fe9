import { randomBytes } from 'node:crypto';
import OpenAI from 'openai';
import { Client } from 'pg';
import { createTestDatabase, TestDatabase } from '../support/database';
import { FakeUpstream, startFakeUpstream } from '../support/fake-upstream';
import { ServerProcess, startProcess } from '../support/processes';
import { REDIS_URL, services, warnMissing } from '../support/services';
import { waitFor } from '../support/wait';

const MODEL = 'upstream-model';
const needs = services.postgres && services.redis;
if (!needs) warnMissing(!services.postgres ? 'PostgreSQL' : 'Redis', 'background scheduling');

/**
 * The order background work runs in (docs/background.md#scheduling), across real processes: an
 * API process and a worker taking two responses at a time, on Postgres and Redis. Every check is
 * about order (what had finished when something else finished), never about time.
 */
const suite = needs ? describe : () => it.todo('needs PostgreSQL and Redis: not reachable on this machine');
suite('background scheduling across real processes (fair order, classes)', () => {
  let db: TestDatabase;
  let pg: Client;
  let upstream: FakeUpstream;
  let api: ServerProcess;
  let worker: ServerProcess;
  const client = (tenant: string) => new OpenAI({ baseURL: `${api.url}/v1`, apiKey: `sk-${tenant}`, maxRetries: 0, timeout: 20_000 });
  const tenants = ['flood', 'late', 'one', 'two', 'batch', 'live', 'busy', 'capped'];

  /** Creates `n` background responses for `tenant`, 20 at a time; returns their ids in creation order. */
  async function queue(tenant: string, n: number, extra: Record<string, unknown> = {}): Promise<string[]> {
    const ids: string[] = [];
    for (let i = 0; i < n; i += 20) {
      const batch = await Promise.all(
        Array.from({ length: Math.min(20, n - i) }, () =>
          client(tenant).responses.create({ model: MODEL, input: 'work', background: true, ...extra } as OpenAI.Responses.ResponseCreateParamsNonStreaming),
        ),
      );
      ids.push(...batch.map((r) => r.id));
    }
    return ids;
  }
  const completedOf = async (tenant: string) =>
    Number((await pg.query(`SELECT count(*) AS n FROM responses WHERE owner = $1 AND status = 'completed'`, [tenant])).rows[0].n);
  const allDone = (tenant: string, ids: string[]) =>
    waitFor(
      async () => Promise.all(ids.map((id) => client(tenant).responses.retrieve(id))),
      (rs) => rs.every((r) => r.status === 'completed'),
      60_000,
    );

  beforeAll(async () => {
    db = await createTestDatabase();
    pg = new Client({ connectionString: db.url });
    await pg.connect();
    upstream = await startFakeUpstream();
    // Every response takes a few tens of milliseconds upstream: backlogs build up.
    upstream.setDefault({ chunks: ['working ', 'done'], chunkDelayMs: 25 });
    const env = {
      ROLE: 'api',
      DATABASE_URL: db.url,
      REDIS_URL,
      QUEUE_PREFIX: `rgsched${randomBytes(4).toString('hex')}`,
      INFERENCE_BASE_URL: upstream.url,
      API_KEYS: tenants.map((t) => `sk-${t}:${t}`).join(','),
      BACKGROUND_CONCURRENCY: '2',
      BACKGROUND_MAX_QUEUED_PER_TENANT: 'windowed=50',
      RECONCILE_INTERVAL_MS: '1000',
      LOG_LEVEL: 'info',
    };
    api = await startProcess(env);
    worker = await startProcess({ ...env, ROLE: 'worker' });
  }, 120_000);

  afterAll(async () => {
    await Promise.all([api, worker].filter(Boolean).map((p) => p.kill()));
    await pg?.end();
    await upstream?.close();
    await db?.drop();
  });

  it("a tenant arriving behind another's backlog of 120 is served next, not after it", async () => {
    const flood = await queue('flood', 120);
    await waitFor(
      () => completedOf('flood'),
      (n) => n >= 4,
      30_000,
    );
    const late = await queue('late', 4);
    await allDone('late', late);
    // First come, first served would finish the whole backlog first (120).
    const floodBefore = await completedOf('flood');
    process.stdout.write(`\n[scheduling] late tenant's 4 done after ${floodBefore} of the flood's 120\n`);
    expect(floodBefore).toBeLessThan(60);
    await allDone('flood', flood);
  }, 120_000);

  it('two tenants with backlogs share the workers equally', async () => {
    const one = await queue('one', 60);
    const two = await queue('two', 40);
    // From when both backlogs are queued (the first one's has been running meanwhile).
    const [a0, b0] = [await completedOf('one'), await completedOf('two')];
    await waitFor(
      async () => (await completedOf('one')) + (await completedOf('two')),
      (n) => n >= a0 + b0 + 30,
      60_000,
    );
    const [a, b] = [(await completedOf('one')) - a0, (await completedOf('two')) - b0];
    process.stdout.write(`\n[scheduling] two backlogs (60 then 40): the next ${a + b} runs split ${a}/${b}\n`);
    // Served in turns; first come, first served would run the first backlog's rest first (30/0).
    expect(a).toBeGreaterThanOrEqual(8);
    expect(b).toBeGreaterThanOrEqual(8);
    await Promise.all([allDone('one', one), allDone('two', two)]);
  }, 120_000);

  it('windowed work (completion_window 2h) waits while soonest work waits', async () => {
    const batch = await queue('batch', 40, { background_options: { completion_window: '2h' } });
    await waitFor(
      () => completedOf('batch'),
      (n) => n >= 2,
      30_000,
    );
    const live = await queue('live', 4);
    await allDone('live', live);
    const batchBefore = await completedOf('batch');
    process.stdout.write(`\n[scheduling] soonest tenant's 4 done after ${batchBefore} of 40 windowed\n`);
    expect(batchBefore).toBeLessThan(25);
    const retrieved = await client('batch').responses.retrieve(batch[0]);
    expect((retrieved as unknown as { background_options?: unknown }).background_options).toEqual({ completion_window: '2h' });
    await allDone('batch', batch);
  }, 120_000);

  it('a full class is a 429 with retry-after, and /metrics shows the queue by class and tenant', async () => {
    // Both worker slots busy: what is queued now stays queued.
    upstream.setDefault({ text: 'slow', delayMs: 3000 });
    const busy = await queue('busy', 2);
    await waitFor(
      () => pg.query(`SELECT count(*) AS n FROM responses WHERE owner = 'busy' AND status = 'in_progress'`),
      (r) => Number(r.rows[0].n) === 2,
      20_000,
    );
    const capped = await queue('capped', 50, { background_options: { completion_window: '8h' } });
    const refused = await fetch(`${api.url}/v1/responses`, {
      method: 'POST',
      headers: { authorization: 'Bearer sk-capped', 'content-type': 'application/json' },
      body: JSON.stringify({ model: MODEL, input: 'one more', background: true, background_options: { completion_window: '8h' } }),
    });
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toBe('60');
    expect(((await refused.json()) as { error: unknown }).error).toMatchObject({ type: 'requests', code: 'rate_limit_exceeded' });
    // soonest work of the same tenant is another class: accepted.
    const soonest = await queue('capped', 1);
    const metrics = await fetch(`${api.url}/metrics`).then((r) => r.text());
    expect(metrics).toMatch(/rg_background_queued\{class="windowed",tenant="capped"\} 50/);
    expect(metrics).toMatch(/rg_background_queued\{class="soonest",tenant="capped"\} 1/);
    expect(Number(/rg_background_queue_age_seconds\{class="windowed",tenant="capped"\} ([\d.e+-]+)/.exec(metrics)?.[1])).toBeGreaterThan(0);
    // Our estimated start: the soonest one has nothing ahead (now); the last windowed one waits behind it.
    type Estimated = { estimated_start_at?: number | null; status: string };
    const nowS = Date.now() / 1000;
    const first = (await client('capped').responses.retrieve(soonest[0])) as unknown as Estimated;
    const last = (await client('capped').responses.retrieve(capped[capped.length - 1])) as unknown as Estimated;
    expect(first.status).toBe('queued');
    expect(first.estimated_start_at).toBeGreaterThanOrEqual(Math.floor(nowS) - 1);
    expect(first.estimated_start_at).toBeLessThanOrEqual(Math.ceil(nowS) + 2);
    expect(last.estimated_start_at).toBeGreaterThan(first.estimated_start_at!);
    // Clean-up: a response may have ended meanwhile (the busy ones take 3 s), whose cancel is a 400.
    const cancel = (tenant: string, id: string) =>
      client(tenant)
        .responses.cancel(id)
        .catch((error: unknown) => {
          if (!(error instanceof OpenAI.APIError && error.status === 400)) throw error;
        });
    for (const id of [...capped, ...soonest]) await cancel('capped', id);
    for (const id of busy) await cancel('busy', id);
    expect(await client('capped').responses.retrieve(soonest[0])).not.toHaveProperty('estimated_start_at'); // not queued any more
  }, 120_000);
});
