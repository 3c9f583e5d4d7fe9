/**
 * Item 9: the background scheduler's order (docs/background.md#scheduling) under faults. One
 * tenant floods, another arrives behind it; meanwhile a worker is SIGKILLed and Redis is flushed.
 * Every response must still end once, the latecomer must still be served ahead of the backlog, and
 * the flood (one continuation_id) must still start in the order it was created.
 */
import { Redis } from 'ioredis';
import OpenAI from 'openai';
import type { ServerProcess } from '../support/processes';
import { faultSuite, MODEL, report, scale, sleep, Stack } from './support/harness';

faultSuite('fault: fair order through a worker SIGKILL and a Redis flush', () => {
  let stack: Stack;
  let api: ServerProcess;
  let workers: ServerProcess[] = [];
  const client = (tenant: string) => new OpenAI({ baseURL: `${api.url}/v1`, apiKey: `sk-${tenant}`, maxRetries: 0, timeout: 20_000 });

  beforeAll(async () => {
    stack = await Stack.create({ API_KEYS: 'sk-flood:flood,sk-late:late', BACKGROUND_CONCURRENCY: '2' });
    // Every response takes a little while upstream: the flood builds a backlog.
    stack.upstream.setDefault({ chunks: ['working ', 'on ', 'it'], chunkDelayMs: 100 });
    api = await stack.start('api');
    workers = await Promise.all([stack.start('worker'), stack.start('worker')]);
  }, 90_000);

  afterAll(async () => {
    await stack?.destroy();
  });

  it('keeps every response, the latecomer ahead of the backlog and the flood in creation order', async () => {
    const count = scale(120, 600);
    const flood: string[] = [];
    // One after the other: creation order is the order they must start in.
    for (let i = 0; i < count; i++) {
      const created = await client('flood').responses.create({
        model: MODEL,
        input: `flood-${String(i).padStart(4, '0')}`,
        background: true,
        background_options: { continuation_id: 'nightly' },
      } as OpenAI.Responses.ResponseCreateParamsNonStreaming);
      flood.push(created.id);
    }
    const late = (
      await Promise.all(Array.from({ length: 8 }, (_, k) => client('late').responses.create({ model: MODEL, input: `late-${k}`, background: true })))
    ).map((r) => r.id);

    // A worker dies mid-run and comes back; then Redis loses every job.
    await sleep(300);
    const victim = workers[0];
    workers = workers.slice(1);
    await stack.end(victim, 'kill');
    workers.push(await stack.start('worker'));
    const redis = new Redis(stack.redis.url, { maxRetriesPerRequest: 1 });
    await redis.flushall();
    await redis.quit();

    const { rows, stuck, ms } = await stack.waitTerminal([...flood, ...late], 180_000);
    expect(stuck.map((r) => `${r.id} ${r.status}`)).toEqual([]);
    expect([...rows.values()].filter((r) => r.status !== 'completed').map((r) => `${r.id} ${r.status}`)).toEqual([]);
    const audit = await stack.audit();

    // Where each response's first upstream request came (its start; a resumed run's first one
    // is still where its claim put it).
    const firstSeen = new Map<number, number>();
    const lateSeen: number[] = [];
    stack.upstream.requests.forEach((request, position) => {
      const text = JSON.stringify(request.body.messages ?? []);
      const marker = /flood-(\d{4})/.exec(text);
      if (marker && !firstSeen.has(Number(marker[1]))) firstSeen.set(Number(marker[1]), position);
      const latecomer = /late-(\d)/.exec(text);
      if (latecomer && lateSeen[Number(latecomer[1])] === undefined) lateSeen[Number(latecomer[1])] = position;
    });
    // The latecomer: how much of the backlog had started when its last response started.
    const lastLate = Math.max(...lateSeen.filter((p) => p !== undefined));
    const before = [...firstSeen.values()].filter((position) => position < lastLate).length;
    // Claims are in order; a request may overtake one claimed just before it by the slots running
    // at once. A response whose first run was killed (attempt > 1) asked late for that reason.
    const slots = 2 * workers.length;
    const resumed = new Set(flood.map((id, n) => ((rows.get(id)?.attempt ?? 1) > 1 ? n : -1)).filter((n) => n >= 0));
    let inversions = 0;
    const order = [...firstSeen.entries()]
      .filter(([n]) => !resumed.has(n))
      .sort((a, b) => a[0] - b[0])
      .map(([, position]) => position);
    for (let i = 0; i < order.length; i++) for (let j = i + slots + 1; j < order.length; j++) if (order[j] < order[i]) inversions++;
    const maxAttempt = Math.max(...[...rows.values()].map((r) => r.attempt));
    report('scheduling-kill-flush', {
      flood: count,
      late: late.length,
      flood_started_before_late: before,
      late_seen: lateSeen.filter((p) => p !== undefined).length,
      first_seen: firstSeen.size,
      inversions,
      max_attempt: maxAttempt,
      resumed: resumed.size,
      double: audit.double.length,
      backwards: audit.backwards.length,
      settle_ms: ms,
    });
    expect(audit.double).toEqual([]);
    expect(audit.backwards).toEqual([]);
    expect(audit.changedAfterTerminal).toEqual([]);
    expect(firstSeen.size).toBe(count);
    // First come, first served would have started the whole backlog first.
    expect(lateSeen.filter((p) => p !== undefined)).toHaveLength(late.length);
    expect(before).toBeLessThan(count / 2);
    expect(inversions).toBe(0);
  }, 240_000);
});
