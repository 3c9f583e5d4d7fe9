/**
 * Item 2: Redis crashed and restarted, restarted cleanly, and flushed, while responses are queued
 * and running. Everything accepted still ends (re-dispatched from Postgres); while Redis is down
 * the API keeps answering retrieve from Postgres and answers 503, never 500, for what needs Redis.
 */
import type OpenAI from 'openai';
import { Redis } from 'ioredis';
import type { ServerProcess } from '../support/processes';
import { within, faultSuite, MODEL, outputText, randomInt, report, scale, singleCall, sleep, Stack } from './support/harness';
import { isOpenAIError, postJson, raw, Tally } from './support/http';
import { readStream, replay, StreamRecord, streamProblems, terminalEventOf, statusesFor } from './support/streams';

const PIECES = 5;

faultSuite('fault: Redis restarted and flushed under load', () => {
  let stack: Stack;
  let apis: ServerProcess[] = [];
  let clients: OpenAI[] = [];

  beforeAll(async () => {
    stack = await Stack.create();
    stack.upstream.setScripter(() => ({ stamp: PIECES, chunkDelayMs: randomInt(60, 200) }));
    apis = await Promise.all([stack.start('api'), stack.start('api')]);
    clients = apis.map((a) => stack.client(a));
    await Promise.all([stack.start('worker'), stack.start('worker')]);
  }, 90_000);

  afterAll(() => stack?.destroy());

  let refusedAfter = 0;
  /** Longest time creates kept being refused after Redis was back (the API must recover by itself). */
  let recoveredAfterMs = 0;
  let redisBackAt = 0;
  /** What happened to Redis last (for the report): refusals are attributed to it. */
  let lastFault = 'none';
  const refusedAfterFault: Record<string, number> = {};
  /** A client's retry on 503 (a clean refusal: nothing was accepted), as the SDK would do it — for up to 30 s. */
  async function accepted<T>(create: () => Promise<T>): Promise<T> {
    const started = Date.now();
    let wasRefused = false;
    for (;;) {
      try {
        const result = await create();
        // Recovery is timed by the creates that were refused first, not by every later one.
        if (wasRefused) recoveredAfterMs = Math.max(recoveredAfterMs, Date.now() - redisBackAt);
        return result;
      } catch (error) {
        if ((error as { status?: number }).status !== 503) throw error;
        if (Date.now() - started > 30_000)
          throw new Error(
            `background creates still refused (503) ${Date.now() - redisBackAt} ms after Redis came back\n${stack
              .grep(/"level":(40|50)/)
              .slice(-8)
              .join('\n')}`,
          );
        wasRefused = true;
        refusedAfter++;
        refusedAfterFault[lastFault] = (refusedAfterFault[lastFault] ?? 0) + 1;
        await sleep(100);
      }
    }
  }

  /** Creates `n` background responses (every third one streamed) on both API processes. */
  async function load(n: number, tag: string, streams: StreamRecord[], reading: Array<Promise<StreamRecord>>): Promise<string[]> {
    const ids: string[] = [];
    for (let i = 0; i < n; i++) {
      const client = clients[i % clients.length];
      if (i % 3 === 0) {
        const stream = await accepted(() => client.responses.create({ model: MODEL, input: `${tag} ${i}`, background: true, stream: true }));
        const record: StreamRecord = { id: '', events: [] };
        let first!: () => void;
        const started = new Promise<void>((resolve) => (first = resolve));
        const done = readStream(stream, record, () => first());
        reading.push(done);
        streams.push(record);
        await Promise.race([started, done]);
        if (!record.id) throw new Error(`a background stream opened without response.created: ${record.error ?? 'no error'}`);
        ids.push(record.id);
      } else {
        ids.push((await accepted(() => client.responses.create({ model: MODEL, input: `${tag} ${i}`, background: true }))).id);
      }
    }
    return ids;
  }

  it('loses nothing when Redis crashes, restarts or is flushed; answers from Postgres meanwhile', async () => {
    const perPhase = scale(24, 150);
    const rounds = scale(1, 4);
    const ids: string[] = [];
    const streams: StreamRecord[] = [];
    const reading: Array<Promise<StreamRecord>> = [];
    const during = {
      retrieve: new Tally(),
      createBackground: new Tally(),
      createSync: new Tally(),
      cancel: new Tally(),
      stream: new Tally(),
      list: new Tally(),
    };
    const badErrorBodies: string[] = [];
    let faults = 0;

    for (let round = 0; round < rounds; round++) {
      // 1. Crash (SIGKILL) with work queued and running; probe the API while Redis is down.
      const crashIds = await load(perPhase, `crash${round}`, streams, reading);
      ids.push(...crashIds);
      await sleep(randomInt(200, 600));
      await stack.redis.stop('SIGKILL');
      faults++;
      const downUntil = Date.now() + 3000;
      let probe = 0;
      while (Date.now() < downUntil || probe < 4) {
        const api = apis[probe % apis.length].url;
        const id = crashIds[probe % crashIds.length];
        const results = await Promise.all([
          raw(`${api}/v1/responses/${id}`).then((r) => (during.retrieve.add(r), r)),
          raw(`${api}/v1/responses?limit=5`).then((r) => (during.list.add(r), r)),
          postJson(`${api}/v1/responses`, { model: MODEL, input: 'during outage', background: true }).then((r) => (during.createBackground.add(r), r)),
          postJson(`${api}/v1/responses`, { model: MODEL, input: 'during outage (sync)' }).then((r) => (during.createSync.add(r), r)),
          raw(`${api}/v1/responses/${id}?stream=true`, { timeoutMs: 4000 }).then((r) => (during.stream.add(r), r)),
          probe % 4 === 3 ? postJson(`${api}/v1/responses/${id}/cancel`, {}).then((r) => (during.cancel.add(r), r)) : Promise.resolve(undefined),
        ]);
        for (const r of results) {
          if (r && r.status >= 400 && !isOpenAIError(r.body)) badErrorBodies.push(`${r.status} ${r.text.slice(0, 200)}`);
        }
        // A background create that was accepted during the outage is a promise too.
        const accepted = results[2];
        if (accepted.status === 200) ids.push((accepted.body as { id: string }).id);
        probe++;
        await sleep(100);
      }
      await stack.redis.start();
      redisBackAt = Date.now();
      lastFault = 'crash';

      // 2. FLUSHALL with work queued and running.
      ids.push(...(await load(perPhase, `flush${round}`, streams, reading)));
      await sleep(randomInt(200, 800));
      const redis = new Redis(stack.redis.url, { maxRetriesPerRequest: 1 });
      await redis.flushall();
      await redis.quit();
      faults++;
      lastFault = 'flush';
      redisBackAt = Date.now();

      // 3. A clean restart (SIGTERM), straight back up.
      ids.push(...(await load(perPhase, `restart${round}`, streams, reading)));
      await sleep(randomInt(200, 800));
      await stack.redis.restart('SIGTERM');
      redisBackAt = Date.now();
      lastFault = 'restart';
      faults++;
    }

    const { rows, stuck, ms } = await stack.waitTerminal(ids, 60_000);
    // Streams that were open across an outage end one way or another; give them a moment.
    await within(Promise.all(reading), 15_000);
    const audit = await stack.audit();
    const mixed: string[] = [];
    let completed = 0;
    for (const row of rows.values()) {
      if (row.status !== 'completed') continue;
      completed++;
      const check = singleCall(outputText(row.output), PIECES);
      if ('problem' in check) mixed.push(`${row.id}: ${check.problem}`);
    }
    // A replay after a flush may be refused explicitly (events_expired); it must never be a silently wrong stream.
    const replayIssues: string[] = [];
    let replayed = 0;
    let refused = 0;
    for (const s of streams) {
      const again = await replay(clients[1], s.id);
      if (again.error) {
        if (/^4\d\d /.test(again.error)) refused++;
        else replayIssues.push(`${s.id}: replay error ${again.error}`);
        continue;
      }
      replayed++;
      replayIssues.push(...streamProblems(again));
      const last = terminalEventOf(again);
      if (!last) replayIssues.push(`${s.id}: replay without a terminal event`);
      else if (!statusesFor(last.type).includes(rows.get(s.id)?.status ?? ''))
        replayIssues.push(`${s.id}: replay ends ${last.type}, stored ${rows.get(s.id)?.status}`);
    }
    const liveIssues = streams.flatMap((s) => streamProblems(s));
    const lost = ids.filter((id) => !rows.has(id)).length + stuck.length;
    const fiveHundreds = Object.values(during).reduce(
      (n, t) =>
        n +
        Object.entries(t.counts)
          .filter(([k]) => k.startsWith('5') && k !== '503')
          .reduce((m, [, v]) => m + v, 0),
      0,
    );

    report('redis-restart-flush', {
      responses: ids.length,
      faults,
      terminal: ids.length - lost,
      completed,
      lost,
      double: audit.double.length + audit.changedAfterTerminal.length,
      mixed: mixed.length,
      settle_ms: ms,
      streams: streams.length,
      replayed,
      replay_refused: refused,
      create_503_while_reconnecting: refusedAfter,
      refused_after:
        Object.entries(refusedAfterFault)
          .map(([k, v]) => `${k}×${v}`)
          .join(',') || 'none',
      api_recovered_after_ms: recoveredAfterMs,
      stream_problems: replayIssues.length + liveIssues.length,
    });
    report('redis-down-answers', {
      retrieve: during.retrieve.toString(),
      list: during.list.toString(),
      create_background: during.createBackground.toString(),
      create_sync: during.createSync.toString(),
      stream: during.stream.toString(),
      cancel: during.cancel.toString(),
      status_5xx_not_503: fiveHundreds,
    });

    const problems = { stuck: stuck.map((r) => `${r.id} ${r.status} attempt ${r.attempt}`), audit, mixed, replayIssues, liveIssues, badErrorBodies, during };
    if (
      lost ||
      mixed.length ||
      replayIssues.length ||
      liveIssues.length ||
      audit.double.length ||
      audit.changedAfterTerminal.length ||
      audit.backwards.length
    ) {
      throw new Error(`invariants broken: ${JSON.stringify(problems, null, 1).slice(0, 5000)}\n${stack.logs(15)}`);
    }
    // While Redis is down: retrieve answers from Postgres; what needs Redis is a 503, never a 500 or a hang.
    expect(during.retrieve.counts).toEqual({ '200': during.retrieve.get('200') });
    expect(during.list.counts).toEqual({ '200': during.list.get('200') });
    expect(Object.keys(during.createBackground.counts).every((k) => k === '503' || k === '200')).toBe(true);
    expect(during.createBackground.get('503')).toBeGreaterThan(0);
    if (fiveHundreds)
      throw new Error(
        `5xx other than 503 while Redis was down: ${JSON.stringify(during)}\n${stack
          .grep(/→ 500|"level":(50|60).*"role":"api".*(?:XREAD|XRANGE|stream|Stream)/)
          .slice(-6)
          .join('\n')}`,
      );
    for (const tally of Object.values(during)) expect(Object.keys(tally.counts).filter((k) => k.startsWith('net:'))).toEqual([]);
    expect(badErrorBodies).toEqual([]);
  }, 240_000);
});
