/**
 * Item 3: Postgres crashed and restarted (`pg_ctl restart -m immediate`) and stopped for a few
 * seconds, under a steady load of background responses. The API answers 503 during the outage and
 * recovers by itself; nothing stays in_progress; no stream skips or repeats a sequence number.
 */
import type OpenAI from 'openai';
import type { ServerProcess } from '../support/processes';
import { faultSuite, MODEL, outputText, randomInt, report, scale, singleCall, sleep, Stack, within } from './support/harness';
import { isOpenAIError, postJson, raw, Tally } from './support/http';
import { readStream, replay, StreamRecord, streamProblems, terminalEventOf, statusesFor } from './support/streams';

const PIECES = 5;

faultSuite('fault: Postgres restarted under load', () => {
  let stack: Stack;
  let apis: ServerProcess[] = [];
  let clients: OpenAI[] = [];

  beforeAll(async () => {
    stack = await Stack.create();
    stack.upstream.setScripter(() => ({ stamp: PIECES, chunkDelayMs: randomInt(50, 200) }));
    apis = await Promise.all([stack.start('api'), stack.start('api')]);
    clients = apis.map((a) => stack.client(a, 15_000));
    await Promise.all([stack.start('worker'), stack.start('worker')]);
  }, 90_000);

  afterAll(() => stack?.destroy());

  it('answers 503 while Postgres is away, recovers by itself, and every accepted response ends', async () => {
    const duration = scale(16_000, 120_000);
    const ids: string[] = [];
    const streams: StreamRecord[] = [];
    const reading: Array<Promise<StreamRecord>> = [];
    const creates = new Tally();
    const retrieves = new Tally();
    const badBodies: string[] = [];
    let faults = 0;
    let outage = false;
    const duringOutage = new Tally();
    let stopping = false;
    let recoveredAfterMs = -1;
    const noCreated: string[] = [];

    const one = async (n: number) => {
      const client = clients[n % clients.length];
      const api = apis[n % apis.length].url;
      if (n % 3 === 0) {
        try {
          const stream = await client.responses.create({ model: MODEL, input: `pg ${n}`, background: true, stream: true });
          const record: StreamRecord = { id: '', events: [] };
          let first!: () => void;
          const started = new Promise<void>((resolve) => (first = resolve));
          const done = readStream(stream, record, () => first());
          reading.push(done);
          await Promise.race([started, done]);
          if (record.id) {
            ids.push(record.id);
            streams.push(record);
          } else noCreated.push(record.error ?? 'no error'); // a 200 stream without response.created: accepted, or not?
          creates.add({ status: 200, body: null, text: '' });
        } catch (error) {
          const status = (error as { status?: number }).status;
          const result = { status: status ?? 0, body: (error as { error?: unknown }).error, text: '', network: status ? undefined : String(error) };
          creates.add(result);
          if (outage) duringOutage.add(result);
        }
        return;
      }
      const result = await postJson(`${api}/v1/responses`, { model: MODEL, input: `pg ${n}`, background: true });
      creates.add(result);
      if (outage) duringOutage.add(result);
      if (result.status === 200) ids.push((result.body as { id: string }).id);
      else if (result.status >= 400 && !isOpenAIError(result.body)) badBodies.push(`${result.status} ${result.text.slice(0, 200)}`);
      if (ids.length) {
        const probe = await raw(`${api}/v1/responses/${ids[randomInt(0, ids.length - 1)]}`);
        retrieves.add(probe);
        if (outage) duringOutage.add(probe);
        if (probe.status >= 400 && !isOpenAIError(probe.body)) badBodies.push(`${probe.status} ${probe.text.slice(0, 200)}`);
      }
    };

    const loaders = Array.from({ length: 4 }, async (_, lane) => {
      for (let n = lane; !stopping; n += 4) {
        await one(n);
        await sleep(randomInt(20, 120));
      }
    });

    const faultPlan = (async () => {
      const cycles = scale(1, 6);
      for (let c = 0; c < cycles; c++) {
        await sleep(scale(3000, 6000));
        await stack.pg.crashRestart(); // a crash: clients cut, the server back within a second
        faults++;
        await sleep(scale(3000, 6000));
        await stack.pg.stop('immediate');
        outage = true;
        faults++;
        await sleep(3000); // the outage: the API must answer 503, not hang and not 500
        outage = false;
        await stack.pg.start();
        const back = Date.now();
        // Recovers by itself: a create succeeds again without any restart of ours.
        for (;;) {
          const result = await postJson(`${apis[0].url}/v1/responses`, { model: MODEL, input: 'after', background: true });
          if (result.status === 200) {
            ids.push((result.body as { id: string }).id);
            recoveredAfterMs = Math.max(recoveredAfterMs, Date.now() - back);
            break;
          }
          if (Date.now() - back > 20_000) throw new Error(`no recovery within 20 s: ${result.status} ${result.text}`);
          await sleep(100);
        }
      }
    })();

    await Promise.race([faultPlan, sleep(duration)]);
    await faultPlan;
    stopping = true;
    await Promise.all(loaders);

    const { rows, stuck, ms } = await stack.waitTerminal(ids, 60_000);
    await within(Promise.all(reading), 15_000);
    const audit = await stack.audit();
    const mixed: string[] = [];
    let completed = 0;
    let failed = 0;
    for (const row of rows.values()) {
      if (row.status === 'failed') failed++;
      if (row.status !== 'completed') continue;
      completed++;
      const check = singleCall(outputText(row.output), PIECES);
      if ('problem' in check) mixed.push(`${row.id}: ${check.problem}`);
    }
    const streamIssues: string[] = [];
    let cut = 0;
    for (const s of streams) {
      // The live stream may be cut by the outage; what it did deliver must be in order.
      streamIssues.push(...streamProblems(s));
      if (!terminalEventOf(s)) cut++;
      // A replay on the other API process, from 0, after the fact: whole and in order.
      const again = await replay(clients[1], s.id);
      if (again.error) {
        streamIssues.push(`${s.id}: replay failed: ${again.error}`);
        continue;
      }
      streamIssues.push(...streamProblems(again));
      const last = terminalEventOf(again);
      if (!last) streamIssues.push(`${s.id}: replay without a terminal event`);
      else if (!statusesFor(last.type).includes(rows.get(s.id)?.status ?? ''))
        streamIssues.push(`${s.id}: replay ends ${last.type}, stored ${rows.get(s.id)?.status}`);
      // What the live stream delivered is a prefix of the replay (nothing skipped, nothing different).
      const mismatch = s.events.findIndex((e, i) => JSON.stringify(e) !== JSON.stringify(again.events[i]));
      if (mismatch >= 0) streamIssues.push(`${s.id}: live event #${mismatch} differs from its replay`);
    }
    const lost = ids.filter((id) => !rows.has(id)).length + stuck.length;
    const unexpected = Object.keys({ ...creates.counts, ...retrieves.counts }).filter((k) => !['200', '503'].includes(k));

    report('postgres-restart', {
      responses: ids.length,
      faults,
      terminal: ids.length - lost,
      completed,
      failed,
      lost,
      stuck_in_progress: stuck.length,
      double: audit.double.length + audit.changedAfterTerminal.length,
      mixed: mixed.length,
      settle_ms: ms,
      recovered_after_ms: recoveredAfterMs,
      streams: streams.length,
      streams_cut: cut,
      streams_without_created: noCreated.length,
      stream_problems: streamIssues.length,
    });
    report('postgres-down-answers', { creates: creates.toString(), retrieves: retrieves.toString(), during_outage: duringOutage.toString() });

    const problems = { noCreated, stuck: stuck.map((r) => `${r.id} ${r.status} attempt ${r.attempt}`), audit, mixed, streamIssues, badBodies, unexpected };
    if (lost || noCreated.length || mixed.length || streamIssues.length || audit.double.length || audit.changedAfterTerminal.length || audit.backwards.length) {
      throw new Error(
        `invariants broken: ${JSON.stringify(problems, null, 1).slice(0, 5000)}\n${stack
          .grep(/"level":(50|60)/)
          .slice(-8)
          .join('\n')}`,
      );
    }
    expect(duringOutage.get('503')).toBeGreaterThan(0);
    if (unexpected.length)
      throw new Error(
        `answers other than 200/503: ${creates.toString()} / ${retrieves.toString()}\n${stack
          .grep(/→ 5\d\d/)
          .slice(-6)
          .join('\n')}`,
      );
    expect(badBodies).toEqual([]);
  }, 240_000);
});
