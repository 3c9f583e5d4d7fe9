import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import OpenAI from 'openai';
import { DataSource } from 'typeorm';
import { dataSourceOptions } from '../../src/data-source';
import { HostResolver } from '../../src/outbound/url-guard';
import { createTestDatabase, TestDatabase } from '../support/database';
import { useE2e } from '../support/e2e';
import { FakeUpstream, startFakeUpstream } from '../support/fake-upstream';
import { backgroundModes } from '../support/modes';
import { runCli, ServerProcess, startProcess } from '../support/processes';
import { REDIS_URL, services, warnMissing } from '../support/services';
import { sleep, waitFor } from '../support/wait';
import { ReceivedWebhook, startWebhookReceiver, WebhookReceiver } from '../support/webhook-receiver';

const MODEL = 'upstream-model';
const ALL_TYPES = ['response.completed', 'response.failed', 'response.cancelled', 'response.incomplete'];

interface Endpoint {
  id: string;
  object: 'webhook_endpoint';
  url: string;
  event_types: string[];
  enabled: boolean;
  disabled_reason: string | null;
  previous_secret_expires_at: number | null;
  secret?: string;
}
interface Delivery {
  id: string;
  event_id: string;
  event_type: string;
  response_id: string;
  state: 'pending' | 'succeeded' | 'failed';
  attempts: number;
  last_status_code: number | null;
  last_error: string | null;
  log: Array<{ attempt: number; status_code: number | null; error: string | null; duration_ms: number; response_excerpt: string | null }>;
}
interface List<T> {
  object: 'list';
  data: T[];
}

/** The admin API through the SDK's generic methods (it has no webhook endpoints resource). */
function admin(client: OpenAI) {
  return {
    create: (body: object) => client.post<Endpoint>('/webhook_endpoints', { body }),
    list: () => client.get<List<Endpoint>>('/webhook_endpoints'),
    get: (id: string) => client.get<Endpoint>(`/webhook_endpoints/${id}`),
    update: (id: string, body: object) => client.patch<Endpoint>(`/webhook_endpoints/${id}`, { body }),
    delete: (id: string) => client.delete<{ id: string; deleted: boolean }>(`/webhook_endpoints/${id}`),
    rotate: (id: string, body: object = {}) => client.post<Endpoint>(`/webhook_endpoints/${id}/rotate_secret`, { body }),
    deliveries: (id: string, query: Record<string, string> = {}) =>
      client.get<List<Delivery> & { has_more: boolean }>(`/webhook_endpoints/${id}/deliveries`, { query }),
    redeliver: (id: string, eventId: string) => client.post<Delivery>(`/webhook_endpoints/${id}/redeliver`, { body: { event_id: eventId } }),
  };
}

const caught = (promise: Promise<unknown>) =>
  promise.then(
    () => null,
    (error: unknown) => error,
  );
const signatures = (r: ReceivedWebhook) => String(r.headers['webhook-signature']).split(' ');

/** Settings that make retries fast enough for a test: 200 ms base backoff, 4 s window, 1 s attempts, 2 s leases. */
const FAST = {
  WEBHOOK_ALLOW_HTTP: 'true',
  WEBHOOK_ALLOWED_HOSTS: '127.0.0.1',
  WEBHOOK_RELAY_INTERVAL_MS: '50',
  WEBHOOK_BACKOFF_BASE_MS: '200',
  WEBHOOK_RETRY_WINDOW_MS: '4000',
  WEBHOOK_TIMEOUT_MS: '1000',
  WEBHOOK_LEASE_MS: '2000',
  WEBHOOK_MAX_ENDPOINTS_PER_TENANT: '30',
};

describe.each(backgroundModes('webhooks'))('webhooks, $name', (mode) => {
  let receiver: WebhookReceiver;
  let alice: OpenAI; // team-a
  let bob: OpenAI; // team-b
  let api: ReturnType<typeof admin>;
  const path = () => `/${randomBytes(6).toString('hex')}`;

  /** An endpoint of team-a at a fresh receiver path whose deliveries the receiver verifies with its secret. */
  async function endpoint(body: object = {}, client = alice): Promise<{ endpoint: Endpoint; path: string }> {
    const p = path();
    const created = await admin(client).create({ url: `${receiver.url}${p}`, ...body });
    receiver.setSecrets(p, created.secret!);
    return { endpoint: created, path: p };
  }
  const finished = (client: OpenAI, id: string) =>
    waitFor(
      () => client.responses.retrieve(id),
      (r) => r.status !== 'queued' && r.status !== 'in_progress',
    );

  beforeAll(async () => {
    receiver = await startWebhookReceiver();
  });
  const e2e = useE2e({
    backend: mode,
    env: (upstream) => ({ ...FAST, INFERENCE_BASE_URL: upstream.url, API_KEYS: 'sk-a:team-a,sk-b:team-b,sk-c:team-c', RECONCILE_INTERVAL_MS: '500' }),
    resetUpstream: true,
  });
  afterAll(() => receiver?.close());
  beforeAll(() => {
    alice = e2e.as('sk-a');
    bob = e2e.as('sk-b');
    api = admin(alice);
  });

  it('sends one event per terminal state, signed so that the SDK’s webhooks.unwrap accepts it', async () => {
    const all = await endpoint();
    const onlyCancelled = await endpoint({ event_types: ['response.cancelled'] });
    expect(all.endpoint).toMatchObject({
      object: 'webhook_endpoint',
      event_types: ALL_TYPES,
      enabled: true,
      disabled_reason: null,
      secret: expect.stringMatching(/^whsec_[A-Za-z0-9+/]{43}=$/),
    });
    expect(onlyCancelled.endpoint.event_types).toEqual(['response.cancelled']);

    e2e.upstream.enqueue({ text: 'done' });
    const completed = await alice.responses.create({ model: MODEL, input: 'a', background: true });
    expect((await finished(alice, completed.id)).status).toBe('completed');
    e2e.upstream.enqueue({ status: 400, errorMessage: 'bad prompt' });
    const failed = await alice.responses.create({ model: MODEL, input: 'b', background: true });
    expect((await finished(alice, failed.id)).status).toBe('failed');
    e2e.upstream.enqueue({ text: 'cut short', finishReason: 'length' });
    const incomplete = await alice.responses.create({ model: MODEL, input: 'c', background: true });
    expect((await finished(alice, incomplete.id)).status).toBe('incomplete');
    e2e.upstream.enqueue({ chunks: Array.from({ length: 200 }, () => 'tok '), chunkDelayMs: 20 });
    const cancelled = await alice.responses.create({ model: MODEL, input: 'd', background: true });
    await e2e.upstream.waitForRequests(1, 10_000);
    expect((await alice.responses.cancel(cancelled.id)).status).toBe('cancelled');

    const expected: Array<[string, string]> = [
      [completed.id, 'response.completed'],
      [failed.id, 'response.failed'],
      [incomplete.id, 'response.incomplete'],
      [cancelled.id, 'response.cancelled'],
    ];
    for (const [id, type] of expected) {
      const [got] = await receiver.waitFor(all.path, 1, id);
      expect(got.verifiedWith).toEqual([0]);
      expect(got.event).toEqual({ id: expect.stringMatching(/^evt_[0-9a-f]{32}$/), object: 'event', created_at: expect.any(Number), type, data: { id } });
      expect(got.headers['webhook-id']).toMatch(/^wh_[0-9a-f]{32}$/);
      expect(Math.abs(Number(got.headers['webhook-timestamp']) - Date.now() / 1000)).toBeLessThan(10);
      expect(got.headers['content-type']).toBe('application/json');
    }
    e2e.upstream.enqueue({ text: 'synchronous' });
    const synchronous = await alice.responses.create({ model: MODEL, input: 'e' }); // not background: no event
    expect(synchronous.status).toBe('completed');
    const [cancelEvent] = await receiver.waitFor(onlyCancelled.path, 1, cancelled.id);
    expect(cancelEvent.verifiedWith).toEqual([0]);
    await sleep(300); // nothing else follows
    for (const [id] of expected) expect(receiver.of(all.path, id)).toHaveLength(1);
    expect(receiver.of(onlyCancelled.path)).toHaveLength(1);
    expect(receiver.of(all.path, synchronous.id)).toHaveLength(0);

    // The delivery log says the same.
    const log = await api.deliveries(all.endpoint.id);
    expect(log.data).toHaveLength(4);
    for (const d of log.data)
      expect(d).toMatchObject({
        state: 'succeeded',
        attempts: 1,
        last_status_code: 200,
        log: [{ attempt: 1, status_code: 200, error: null, response_excerpt: 'ok' }],
      });
    expect(new Set(log.data.map((d) => d.response_id))).toEqual(new Set(expected.map(([id]) => id)));
  });

  it('retries a receiver that fails three times with the same webhook-id and growing gaps, then succeeds', async () => {
    const { endpoint: ep, path: p } = await endpoint();
    receiver.script(p, { status: 500, body: 'oops' }, { status: 503 }, { hang: true });
    e2e.upstream.enqueue({ text: 'eventually' });
    const r = await alice.responses.create({ model: MODEL, input: 'x', background: true });
    const got = await receiver.waitFor(p, 4, r.id, 15_000);
    expect(new Set(got.map((g) => g.headers['webhook-id'])).size).toBe(1);
    expect(new Set(got.map((g) => g.event?.id)).size).toBe(1);
    expect(got.every((g) => g.verifiedWith.length === 1)).toBe(true);
    const gaps = got.slice(1).map((g, i) => g.receivedAt - got[i].receivedAt);
    // 200 ms, then 400 ms, then 800 ms (± 20 % jitter), the third after a 1 s attempt timeout.
    // Lower bounds only: a timer never fires early, but a loaded machine makes any gap later.
    expect(gaps[0]).toBeGreaterThanOrEqual(160);
    expect(gaps[1]).toBeGreaterThanOrEqual(320);
    expect(gaps[2]).toBeGreaterThanOrEqual(640 + 1000);
    const [delivery] = (
      await waitFor(
        () => api.deliveries(ep.id),
        (l) => l.data[0]?.state === 'succeeded',
      )
    ).data;
    expect(delivery).toMatchObject({ id: got[0].headers['webhook-id'], attempts: 4, last_status_code: 200 });
    expect(delivery.log.map((a) => [a.status_code, a.error?.startsWith('Timed out') ?? null])).toEqual([
      [500, null],
      [503, null],
      [null, true],
      [200, null],
    ]);
    expect(delivery.log[0].response_excerpt).toBe('oops');
    expect(delivery.log[2].duration_ms).toBeGreaterThanOrEqual(900);
  });

  it('disables an endpoint that answers 410, and sends it nothing more', async () => {
    const { endpoint: ep, path: p } = await endpoint();
    receiver.script(p, { status: 410 });
    const first = await alice.responses.create({ model: MODEL, input: 'x', background: true });
    await receiver.waitFor(p, 1, first.id);
    const disabled = await waitFor(
      () => api.get(ep.id),
      (e) => !e.enabled,
    );
    expect(disabled.disabled_reason).toMatch(/410/);
    expect((await api.deliveries(ep.id)).data[0]).toMatchObject({ state: 'failed', attempts: 1, last_status_code: 410 });
    const second = await alice.responses.create({ model: MODEL, input: 'y', background: true });
    await finished(alice, second.id);
    await sleep(300);
    expect(receiver.of(p)).toHaveLength(1);
    // Enabled again by its owner, it gets new events.
    expect(await api.update(ep.id, { enabled: true })).toMatchObject({ enabled: true, disabled_reason: null });
    const third = await alice.responses.create({ model: MODEL, input: 'z', background: true });
    await receiver.waitFor(p, 1, third.id);
  });

  it('gives up after the retry window, and disables an endpoint that failed all along, saying so', async () => {
    const { endpoint: ep, path: p } = await endpoint();
    receiver.script(p, ...Array.from({ length: 20 }, () => ({ status: 500 })));
    const r = await alice.responses.create({ model: MODEL, input: 'x', background: true });
    const disabled = await waitFor(
      () => api.get(ep.id),
      (e) => !e.enabled,
      12_000,
    );
    expect(disabled.disabled_reason).toMatch(/failed for the whole retry window.*HTTP 500/);
    const [delivery] = (await api.deliveries(ep.id)).data;
    expect(delivery).toMatchObject({ response_id: r.id, state: 'failed', last_status_code: 500 });
    expect(delivery.attempts).toBeGreaterThanOrEqual(4); // 0, 0.2, 0.6, 1.4, 3.0 s; the next would be past 4 s
    expect(receiver.of(p)).toHaveLength(delivery.attempts);
  });

  it('refuses private, loopback and link-local URLs at registration, naming the field', async () => {
    for (const url of [
      'http://10.0.0.1/hook',
      'http://169.254.169.254/latest/meta-data',
      'http://127.0.0.2:9/hook',
      'http://[::1]/hook',
      'http://[::ffff:192.168.1.1]/x',
      'http://100.64.0.1/',
    ]) {
      const error = await caught(api.create({ url }));
      expect(error).toMatchObject({ status: 400, param: 'url', code: 'invalid_url', type: 'invalid_request_error' });
      expect((error as Error).message).toMatch(/not allowed unless WEBHOOK_ALLOWED_HOSTS/);
    }
    expect(await caught(api.create({ url: 'ftp://example.com/x' }))).toMatchObject({ status: 400, param: 'url' });
    expect(await caught(api.create({ url: 'https://user:pw@example.com/x' }))).toMatchObject({ status: 400, param: 'url' });
    expect(await caught(api.create({}))).toMatchObject({ status: 400, param: 'url', code: 'missing_required_parameter' });
    expect(await caught(api.create({ url: `${receiver.url}/x`, event_types: ['response.created'] }))).toMatchObject({ status: 400, param: 'event_types' });
    const { endpoint: ep } = await endpoint();
    expect(await caught(api.update(ep.id, { url: 'http://192.168.0.10/' }))).toMatchObject({ status: 400, param: 'url' });
    expect((await api.get(ep.id)).url).toBe(ep.url);
  });

  it('bounds the endpoints of one tenant (WEBHOOK_MAX_ENDPOINTS_PER_TENANT), not of the others', async () => {
    const carol = admin(new OpenAI({ baseURL: `${e2e.url}/v1`, apiKey: 'sk-c', maxRetries: 0 }));
    const created: Endpoint[] = [];
    for (let i = 0; i < 30; i++) created.push(await carol.create({ url: `${receiver.url}${path()}` }));
    const error = await caught(carol.create({ url: `${receiver.url}${path()}` }));
    expect(error).toMatchObject({ status: 400, type: 'invalid_request_error', code: 'too_many_endpoints' });
    expect((error as Error).message).toMatch(/30 webhook endpoints/);
    expect((await carol.list()).data).toHaveLength(30);
    expect((await endpoint()).endpoint.id).toMatch(/^we_/); // another tenant is not affected
    await carol.delete(created[0].id);
    expect((await carol.create({ url: `${receiver.url}${path()}` })).id).toMatch(/^we_/);
  });

  it('checks the address again at delivery: a name that resolves elsewhere by then is refused', async () => {
    const resolver = e2e.app.app.get(HostResolver);
    const original = resolver.resolve.bind(resolver);
    let answer = '93.184.216.34'; // public, at registration
    resolver.resolve = (hostname: string) => (hostname === 'rebind.test' ? Promise.resolve([{ address: answer, family: 4 }]) : original(hostname));
    try {
      const p = path();
      const ep = await api.create({ url: `http://rebind.test:${new URL(receiver.url).port}${p}` });
      answer = '127.0.0.2'; // loopback, not allow-listed, by delivery time
      const r = await alice.responses.create({ model: MODEL, input: 'x', background: true });
      await finished(alice, r.id);
      const [delivery] = (
        await waitFor(
          () => api.deliveries(ep.id),
          (l) => (l.data[0]?.attempts ?? 0) >= 1,
        )
      ).data;
      expect(delivery.log[0]).toMatchObject({ status_code: null, error: expect.stringMatching(/^Refused: .*127\.0\.0\.2, a loopback address/) });
      expect(receiver.of(p)).toHaveLength(0);
      await api.delete(ep.id);
    } finally {
      resolver.resolve = original;
    }
  });

  it('rotates a secret: both signatures during the grace period, only the new one after', async () => {
    const { endpoint: ep, path: p } = await endpoint();
    const old = ep.secret!;
    const rotated = await api.rotate(ep.id, { grace_period_seconds: 600 });
    expect(rotated.secret).toMatch(/^whsec_/);
    expect(rotated.secret).not.toBe(old);
    expect(rotated.previous_secret_expires_at).toBeGreaterThan(Date.now() / 1000 + 500);
    expect((await api.get(ep.id)).secret).toBeUndefined(); // shown once
    receiver.setSecrets(p, old, rotated.secret!);
    const during = await alice.responses.create({ model: MODEL, input: 'x', background: true });
    const [a] = await receiver.waitFor(p, 1, during.id);
    expect(signatures(a)).toHaveLength(2);
    expect(a.verifiedWith).toEqual([0, 1]); // an old receiver and an updated one both accept it

    const again = await api.rotate(ep.id, { grace_period_seconds: 0 });
    expect(again.previous_secret_expires_at).toBeNull();
    receiver.setSecrets(p, rotated.secret!, again.secret!);
    const after = await alice.responses.create({ model: MODEL, input: 'y', background: true });
    const [b] = await receiver.waitFor(p, 1, after.id);
    expect(signatures(b)).toHaveLength(1);
    expect(b.verifiedWith).toEqual([1]);
  });

  it('redelivers an event on request, as a new delivery of the same event', async () => {
    const { endpoint: ep, path: p } = await endpoint();
    const r = await alice.responses.create({ model: MODEL, input: 'x', background: true });
    const [first] = await receiver.waitFor(p, 1, r.id);
    const redelivery = await api.redeliver(ep.id, first.event!.id);
    expect(redelivery).toMatchObject({ event_id: first.event!.id, response_id: r.id, state: 'pending', attempts: 0 });
    expect(redelivery.id).not.toBe(first.headers['webhook-id']);
    const [, second] = await receiver.waitFor(p, 2, r.id);
    expect(second.event).toEqual(first.event);
    expect(second.headers['webhook-id']).toBe(redelivery.id);
    expect(await caught(api.redeliver(ep.id, 'evt_unknown'))).toMatchObject({ status: 404, param: 'event_id' });
    const byEvent = await api.deliveries(ep.id, { event_id: first.event!.id });
    expect(byEvent.data.map((d) => d.id).sort()).toEqual([first.headers['webhook-id'], redelivery.id].sort());
  });

  it('reads at most 64 KiB of a receiver’s answer and keeps a short excerpt', async () => {
    const { endpoint: ep, path: p } = await endpoint();
    // An answer that never ends: read whole, it would time out (1 s) and be retried.
    receiver.script(p, { status: 200, body: `${'a'.repeat(300)}${'b'.repeat(100 * 1024)}`, endless: true });
    const r = await alice.responses.create({ model: MODEL, input: 'x', background: true });
    await receiver.waitFor(p, 1, r.id);
    const [delivery] = (
      await waitFor(
        () => api.deliveries(ep.id),
        (l) => l.data[0]?.state === 'succeeded',
      )
    ).data;
    expect(delivery).toMatchObject({ attempts: 1, last_status_code: 200 });
    expect(delivery.log[0].response_excerpt).toBe('a'.repeat(256));
    expect(delivery.log[0].duration_ms).toBeLessThan(900);
  });

  it('keeps tenants apart: endpoints, deliveries and events', async () => {
    const { endpoint: ep, path: p } = await endpoint();
    const bobs = await endpoint({}, bob);
    expect((await api.list()).data.map((e) => e.id)).toContain(ep.id);
    expect((await api.list()).data.map((e) => e.id)).not.toContain(bobs.endpoint.id);
    const asBob = admin(bob);
    for (const attempt of [asBob.get(ep.id), asBob.update(ep.id, { enabled: false }), asBob.rotate(ep.id), asBob.deliveries(ep.id), asBob.delete(ep.id)]) {
      expect(await caught(attempt)).toMatchObject({ status: 404, message: expect.stringContaining(`Webhook endpoint with id '${ep.id}' not found.`) });
    }
    expect((await api.get(ep.id)).enabled).toBe(true);
    const mine = await alice.responses.create({ model: MODEL, input: 'a', background: true });
    const theirs = await bob.responses.create({ model: MODEL, input: 'b', background: true });
    const [got] = await receiver.waitFor(p, 1, mine.id);
    await receiver.waitFor(bobs.path, 1, theirs.id);
    expect(await caught(asBob.redeliver(bobs.endpoint.id, got.event!.id))).toMatchObject({ status: 404 });
    await sleep(200);
    expect(receiver.of(p, theirs.id)).toHaveLength(0);
    expect(receiver.of(bobs.path, mine.id)).toHaveLength(0);
    expect(await asBob.delete(bobs.endpoint.id)).toMatchObject({ id: bobs.endpoint.id, deleted: true });
    expect(await caught(asBob.get(bobs.endpoint.id))).toMatchObject({ status: 404 });
  });

  it('reports deliveries by outcome, their latency and the queue depth on /metrics', async () => {
    const text = await (await fetch(`${e2e.url}/metrics`)).text();
    expect(text).toMatch(/rg_webhook_deliveries_total\{outcome="success"\} [1-9]/);
    expect(text).toMatch(/rg_webhook_deliveries_total\{outcome="retry"\} [1-9]/);
    expect(text).toMatch(/rg_webhook_attempt_duration_seconds_count\{outcome="success"\} [1-9]/);
    expect(text).toMatch(/rg_webhook_delivery_latency_seconds_count [1-9]/);
    expect(text).toMatch(/rg_webhook_queue_depth \d+/);
  });
});

const needs = services.postgres && services.redis;
if (!needs) warnMissing(!services.postgres ? 'PostgreSQL' : 'Redis', 'webhooks across real processes');
const multiprocess = needs ? describe : () => it.todo('needs PostgreSQL and Redis: not reachable on this machine');
multiprocess('webhooks across real processes (ROLE=api, ROLE=worker)', () => {
  let db: TestDatabase;
  let upstream: FakeUpstream;
  let receiver: WebhookReceiver;
  let env: Record<string, string>;
  let apiProcess: ServerProcess;
  const workers: ServerProcess[] = [];

  beforeAll(async () => {
    db = await createTestDatabase();
    upstream = await startFakeUpstream();
    receiver = await startWebhookReceiver();
    env = {
      ...FAST,
      WEBHOOK_TIMEOUT_MS: '5000', // an attempt outlives the worker that makes it
      WEBHOOK_LEASE_MS: '6000',
      WEBHOOK_RETRY_WINDOW_MS: '60000', // process starts take seconds
      ROLE: 'api',
      DATABASE_URL: db.url,
      REDIS_URL,
      QUEUE_PREFIX: `rgwh${randomBytes(4).toString('hex')}`,
      INFERENCE_BASE_URL: upstream.url,
      STALL_TIMEOUT_MS: '1500',
      RECONCILE_INTERVAL_MS: '500',
      LOG_LEVEL: 'info',
    };
    apiProcess = await startProcess(env);
  }, 60_000);

  afterAll(async () => {
    await Promise.all([apiProcess, ...workers].filter(Boolean).map((p) => p.kill()));
    await receiver?.close();
    await upstream?.close();
    await db?.drop();
  });

  it('delivers an event whose worker was SIGKILLed after the status change, mid-delivery, from another worker', async () => {
    const client = new OpenAI({ baseURL: `${apiProcess.url}/v1`, apiKey: 'k', maxRetries: 0, timeout: 20_000 });
    const p = '/killed';
    const ep = await admin(client).create({ url: `${receiver.url}${p}` });
    receiver.setSecrets(p, ep.secret!);
    receiver.script(p, { hang: true }); // the first attempt is held open: the worker is mid-delivery
    // No worker yet: the response is cancelled by the API process alone; the event waits in Postgres.
    const cancelled = await client.responses.create({ model: MODEL, input: 'never run', background: true });
    await client.responses.cancel(cancelled.id);
    upstream.enqueue({ text: 'done' });
    const completed = await client.responses.create({ model: MODEL, input: 'x', background: true });
    await sleep(300);
    expect(receiver.received).toHaveLength(0);

    workers.push(await startProcess({ ...env, ROLE: 'worker' }));
    expect(
      (
        await waitFor(
          () => client.responses.retrieve(completed.id),
          (r) => r.status === 'completed',
        )
      ).status,
    ).toBe('completed');
    const held = await waitFor(
      () => Promise.resolve(receiver.of(p)),
      (got) => got.length >= 1,
    );
    await sleep(100);
    await workers[0].kill(); // the attempt in flight dies with it
    const killedAt = Date.now();
    const heldWebhookId = held[0].headers['webhook-id'];
    const beforeKill = receiver.of(p).filter((r) => r.headers['webhook-id'] === heldWebhookId);
    workers.push(await startProcess({ ...env, ROLE: 'worker' }));

    const ids = [cancelled.id, completed.id];
    for (const id of ids) {
      const got = await receiver.waitFor(p, 1, id, 20_000);
      expect(got.every((g) => g.verifiedWith.length === 1)).toBe(true);
      expect(got[0].event?.type).toBe(id === cancelled.id ? 'response.cancelled' : 'response.completed');
    }
    // The held one came again, with the same webhook-id and event, after the kill, and was answered this time.
    const again = await waitFor(
      () => Promise.resolve(receiver.of(p, held[0].event!.data.id)),
      (got) => got.some((g) => g.answered === 200),
      20_000,
    );
    expect(new Set(again.map((g) => g.headers['webhook-id']))).toEqual(new Set([heldWebhookId]));
    const retry = again.find((g) => g.answered === 200)!;
    expect(retry).not.toBe(held[0]);
    expect(retry.event).toEqual(held[0].event);
    expect(retry.receivedAt).toBeGreaterThanOrEqual(killedAt);
    // The killed worker had made exactly one attempt, still unanswered: the kill was mid-delivery.
    expect(beforeKill.map((r) => r.answered)).toEqual([null]);
    const log = await waitFor(
      () => admin(client).deliveries(ep.id),
      (l) => l.data.length === 2 && l.data.every((d) => d.state === 'succeeded'),
      20_000,
    );
    expect(new Set(log.data.map((d) => d.response_id))).toEqual(new Set(ids));
  }, 60_000);
});

describe('webhooks in the embedded default, across a SIGKILL of the one process', () => {
  let dir: string;
  let receiver: WebhookReceiver;
  let server: ServerProcess | undefined;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'rg-webhooks-embedded-'));
    receiver = await startWebhookReceiver();
  });
  afterAll(async () => {
    await server?.kill();
    await receiver?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('delivers, after a restart, the event whose delivery was in flight when the process died', async () => {
    // A lease far longer than the test: only the restart's taking back of claims explains a prompt retry.
    const env = { ...FAST, DATA_DIR: dir, WEBHOOK_LEASE_MS: '600000', WEBHOOK_RETRY_WINDOW_MS: '600000', LOG_LEVEL: 'info' };
    server = await startProcess(env);
    const client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: 'k', maxRetries: 0, timeout: 20_000 });
    const ep = await admin(client).create({ url: `${receiver.url}/embedded` });
    receiver.setSecrets('/embedded', ep.secret!);
    receiver.script('/embedded', { hang: true });
    const r = await client.responses.create({ model: 'echo', input: 'hi', background: true });
    const [held] = await receiver.waitFor('/embedded', 1, r.id);
    await server.kill();
    const restartedAt = Date.now();
    server = await startProcess(env);
    const got = await receiver.waitFor('/embedded', 2, r.id, 15_000);
    expect(got[1].receivedAt - restartedAt).toBeLessThan(15_000);
    expect(got[1].headers['webhook-id']).toBe(held.headers['webhook-id']);
    expect(got[1].verifiedWith).toEqual([0]);
    expect(got[1].event).toEqual({ id: held.event!.id, object: 'event', created_at: expect.any(Number), type: 'response.completed', data: { id: r.id } });
  }, 60_000);
});

describe('webhooks admin CLI (npm run webhooks)', () => {
  // Postgres when there is one (each CLI run starts in well under a second), else a PGlite directory.
  let database: Record<string, string>;
  let cleanup: () => Promise<void>;
  const cli = (...args: string[]) => runCli(['dist/cli/webhooks.js', ...args], { ...database, WEBHOOK_ALLOW_HTTP: 'true' });

  beforeAll(async () => {
    if (services.postgres) {
      const db = await createTestDatabase();
      database = { DATABASE_URL: db.url };
      cleanup = () => db.drop();
    } else {
      const dir = mkdtempSync(join(tmpdir(), 'rg-webhooks-cli-'));
      database = { DATA_DIR: dir };
      cleanup = () => Promise.resolve(rmSync(dir, { recursive: true, force: true }));
    }
  });
  afterAll(() => cleanup?.());

  it('registers, lists, rotates, disables and deletes endpoints, and refuses private addresses', async () => {
    const created = await cli('create', '--tenant', 'team-a', '--url', 'https://93.184.216.34/hook', '--events', 'response.completed,response.failed');
    expect(created.code).toBe(0);
    const endpoint = JSON.parse(created.stdout.slice(0, created.stdout.lastIndexOf('}') + 1)) as Endpoint;
    expect(endpoint).toMatchObject({
      url: 'https://93.184.216.34/hook',
      event_types: ['response.completed', 'response.failed'],
      enabled: true,
      secret: expect.stringMatching(/^whsec_/),
    });
    expect(created.stdout).toMatch(/not shown again/);

    const refused = await cli('create', '--tenant', 'team-a', '--url', 'http://169.254.169.254/latest');
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/Invalid value for 'url': resolves to 169\.254\.169\.254, a linkLocal address/);

    const rotated = await cli('rotate', endpoint.id, '--tenant', 'team-a', '--grace', '60');
    expect(rotated.code).toBe(0);
    expect(rotated.stdout).toMatch(/"secret": "whsec_/);
    expect(rotated.stdout).not.toContain(endpoint.secret!);

    const disabled = await cli('disable', endpoint.id, '--tenant', 'team-a');
    expect(JSON.parse(disabled.stdout)).toMatchObject({ enabled: false, disabled_reason: 'Disabled by its owner.' });
    const listed = await cli('list');
    expect(listed.stdout).toContain(`${endpoint.id}\tteam-a\thttps://93.184.216.34/hook\tresponse.completed,response.failed\tfalse`);
    expect(listed.stdout).not.toMatch(/whsec_/);
    expect((await cli('show', endpoint.id, '--tenant', 'team-b')).stderr).toMatch(/not found/);
    expect(JSON.parse((await cli('delete', endpoint.id, '--tenant', 'team-a')).stdout)).toMatchObject({ deleted: true });
    expect((await cli('frobnicate')).code).toBe(2);
  }, 60_000);

  it('shows an endpoint’s delivery log and redelivers an event', async () => {
    const created = await cli('create', '--tenant', 'team-a', '--url', 'https://93.184.216.34/log', '--events', 'response.completed');
    const endpoint = JSON.parse(created.stdout.slice(0, created.stdout.lastIndexOf('}') + 1)) as Endpoint;
    // A background response reaching `completed` writes the event (the outbox trigger); no relay runs here.
    const ds = new DataSource(dataSourceOptions({ databaseUrl: database.DATABASE_URL, dataDir: database.DATA_DIR ?? '' }));
    await ds.initialize();
    let eventId: string;
    try {
      await ds.query(
        `INSERT INTO responses (id, owner, status, background, model, attempt, request, created_at, updated_at)
         VALUES ('resp_cli', 'team-a', 'in_progress', true, 'm', 1, '{}', now(), now())`,
      );
      await ds.query(`UPDATE responses SET status = 'completed' WHERE id = 'resp_cli'`);
      [{ id: eventId }] = await ds.query<Array<{ id: string }>>(`SELECT id FROM webhook_events WHERE response_id = 'resp_cli'`);
    } finally {
      await ds.destroy();
    }
    type Deliveries = { data: Array<{ id: string; event_id: string; event_type: string; response_id: string; state: string; attempts: number }> };
    const before = JSON.parse((await cli('deliveries', endpoint.id, '--tenant', 'team-a')).stdout) as Deliveries;
    expect(before.data).toEqual([
      expect.objectContaining({ event_id: eventId, event_type: 'response.completed', response_id: 'resp_cli', state: 'pending', attempts: 0 }),
    ]);

    const again = await cli('redeliver', endpoint.id, eventId, '--tenant', 'team-a');
    expect(again.code).toBe(0);
    const redelivery = JSON.parse(again.stdout) as Deliveries['data'][number];
    expect(redelivery).toMatchObject({ event_id: eventId, state: 'pending' });
    expect(redelivery.id).not.toBe(before.data[0].id);
    const after = JSON.parse((await cli('deliveries', endpoint.id, '--tenant', 'team-a')).stdout) as Deliveries;
    expect(after.data.map((d) => d.id).sort()).toEqual([before.data[0].id, redelivery.id].sort());

    expect((await cli('redeliver', endpoint.id, 'evt_missing', '--tenant', 'team-a')).stderr).toMatch(/Event with id 'evt_missing' not found/);
    expect((await cli('deliveries', endpoint.id, '--tenant', 'team-b')).stderr).toMatch(/not found/);
  }, 60_000);
});
