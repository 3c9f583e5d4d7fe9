import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { DataSource } from 'typeorm';
import { newId } from '../../src/common/ids';
import type { NormalizedRequest, ResponseObject, StoredItem } from '../../src/common/response-types';
import { buildResponse } from '../../src/responses/response-object';
import { dataSourceOptions } from '../../src/data-source';
import { CursorNotFoundError } from '../../src/database/page';
import { NewResponse } from '../../src/responses/persistence/responses.store';
import { CHAIN_HISTORY_SQL, TypeOrmResponsesStore } from '../../src/responses/persistence/typeorm-responses.store';
import { storeBackends } from '../support/backends';

const request = (over: Partial<NormalizedRequest> = {}): NormalizedRequest => ({ model: 'm1', store: true, background: false, stream: false, ...over });

const message = (text: string, role: 'user' | 'assistant' = 'user'): StoredItem =>
  ({ id: newId('msg'), type: 'message', role, content: [{ type: role === 'user' ? 'input_text' : 'output_text', text }] }) as unknown as StoredItem;

function newResponse(over: Partial<NewResponse> = {}): NewResponse {
  const id = over.id ?? newId('resp');
  const createdAt = over.createdAt ?? new Date();
  const req = over.request ?? request();
  return {
    id,
    owner: 'team-a',
    status: 'in_progress',
    background: false,
    model: req.model,
    previousResponseId: req.previous_response_id ?? null,
    attempt: 1,
    request: req,
    response: buildResponse(id, createdAt, req, { status: 'in_progress' }),
    createdAt,
    inputItems: [message('hello')],
    ...over,
  };
}

/** Text that compression cannot shrink, `bytes` long. */
const randomText = (bytes: number) => randomBytes(bytes / 2).toString('hex');

function completed(r: NewResponse, reply: string): ResponseObject {
  return buildResponse(r.id, r.createdAt, r.request, { status: 'completed', completedAt: new Date(), output: [message(reply, 'assistant') as never] });
}

describe.each(storeBackends('store'))('ResponsesStore on $name', (backend) => {
  let dataSource: DataSource;
  let store: TypeOrmResponsesStore;
  let teardown: () => Promise<void>;

  beforeAll(async () => {
    const { env, teardown: down } = await backend.setup();
    teardown = down;
    dataSource = new DataSource(dataSourceOptions({ databaseUrl: env.DATABASE_URL, dataDir: env.DATA_DIR ?? '' }));
    await dataSource.initialize();
    store = new TypeOrmResponsesStore(dataSource);
  });

  afterAll(async () => {
    await dataSource?.destroy();
    await teardown?.();
  });

  it('creates a response with its input items and reads it back, for its owner only', async () => {
    const r = newResponse({ inputItems: [message('a'), message('b')] });
    await store.create(r);
    const found = await store.get('team-a', r.id);
    expect(found).toMatchObject({ id: r.id, owner: 'team-a', status: 'in_progress', attempt: 1, model: 'm1' });
    expect(found!.response.id).toBe(r.id);
    expect(found!.createdAt.getTime()).toBe(r.createdAt.getTime());
    expect(await store.get('team-b', r.id)).toBeNull();
    const items = await store.listInputItems(r.id, { limit: 10, order: 'asc' });
    expect(items.data.map((i) => i.id)).toEqual(r.inputItems.map((i) => i.id));
  });

  it('creates a finished response in one statement (a non-streaming synchronous one is stored when it ends)', async () => {
    const base = newResponse();
    const completedAt = new Date(Math.floor(Date.now() / 1000) * 1000);
    const r = { ...base, status: 'completed' as const, response: completed(base, 'done'), completedAt };
    await store.create(r);
    const found = await store.get('team-a', r.id);
    expect(found).toMatchObject({ status: 'completed', completedAt });
    expect(found!.response.output).toHaveLength(1);
    // Finished means final: no conditional update applies to it any more.
    expect(await store.updateResponseObject(r.id, { status: 'cancelled' }, { allowedStatuses: ['queued', 'in_progress'] })).toBeNull();
  });

  it('applies a conditional update only in an allowed status and attempt', async () => {
    const r = newResponse();
    await store.create(r);
    expect(await store.updateResponseObject(r.id, { status: 'completed' }, { allowedStatuses: ['queued'] })).toBeNull();
    expect(await store.updateResponseObject(r.id, { status: 'completed' }, { allowedStatuses: ['in_progress'], attempt: 2 })).toBeNull();
    const done = await store.updateResponseObject(
      r.id,
      { status: 'completed', response: completed(r, 'hi'), completedAt: new Date() },
      { allowedStatuses: ['in_progress'], attempt: 1 },
    );
    expect(done).toMatchObject({ status: 'completed' });
    expect(done!.completedAt).toBeInstanceOf(Date);
    expect(done!.response.output).toHaveLength(1);
    // Terminal: nothing moves it again.
    expect(await store.updateResponseObject(r.id, { status: 'cancelled' }, { allowedStatuses: ['queued', 'in_progress'] })).toBeNull();
  });

  it('lets exactly one of two racing writers win', async () => {
    for (let i = 0; i < 20; i++) {
      const r = newResponse();
      await store.create(r);
      const [complete, cancel] = await Promise.all([
        store.updateResponseObject(r.id, { status: 'completed', response: completed(r, 'x') }, { allowedStatuses: ['in_progress'], attempt: 1 }),
        store.updateResponseObject(r.id, { status: 'cancelled' }, { allowedStatuses: ['queued', 'in_progress'] }),
      ]);
      expect([complete, cancel].filter(Boolean)).toHaveLength(1);
      const final = await store.get('team-a', r.id);
      expect(final!.status).toBe(complete ? 'completed' : 'cancelled');
    }
  });

  it('claims by bumping the attempt, fencing the older attempt out', async () => {
    const r = newResponse({ status: 'queued', attempt: 0 });
    await store.create(r);
    const claimed = await store.updateResponseObject(r.id, { status: 'in_progress', attempt: 1 }, { allowedStatuses: ['queued'], attempt: 0 });
    expect(claimed!.attempt).toBe(1);
    expect(await store.updateResponseObject(r.id, { status: 'completed' }, { allowedStatuses: ['in_progress'], attempt: 0 })).toBeNull();
  });

  it('claims in one statement: the next attempt, output emptied, within the attempt budget', async () => {
    const r = newResponse({ status: 'queued', attempt: 0 });
    await store.create(r);
    const claim = () =>
      store.updateResponseObject(
        r.id,
        { status: 'in_progress', attempt: 'next', clearOutput: true },
        { allowedStatuses: ['queued', 'in_progress'], attemptBelow: 2 },
      );
    const first = await claim();
    expect(first).toMatchObject({ status: 'in_progress', attempt: 1 });
    expect(first!.response.status).toBe('in_progress');
    // The first attempt saved some output, then its worker died: the next claim starts afresh.
    await store.updateResponseObject(r.id, { response: completed(r, 'partial') }, { allowedStatuses: ['in_progress'], attempt: 1 });
    const second = await claim();
    expect(second).toMatchObject({ attempt: 2, status: 'in_progress' });
    expect(second!.response.output).toEqual([]);
    expect(second!.response.status).toBe('in_progress');
    // The first attempt is fenced out, and the budget is spent.
    expect(await store.updateResponseObject(r.id, { status: 'completed' }, { allowedStatuses: ['in_progress'], attempt: 1 })).toBeNull();
    expect(await claim()).toBeNull();
  });

  describe('the background queue (fair order)', () => {
    const queuedFor = async (owner: string, n: number, schedule: NewResponse['schedule'] = { class: 0, weight: 1 }) => {
      const ids: string[] = [];
      for (let i = 0; i < n; i++) {
        const r = newResponse({ owner, status: 'queued', background: true, attempt: 0, request: request({ background: true }), schedule });
        await store.create(r);
        ids.push(r.id);
      }
      return ids;
    };
    const claimOwners = async (n: number) => {
      const owners: string[] = [];
      for (let i = 0; i < n; i++) owners.push((await store.claimNext(`job-${i}`, 3))?.owner ?? '-');
      return owners;
    };
    // Each test starts from an empty queue (other tests leave queued rows behind).
    beforeEach(() => dataSource.query(`DELETE FROM responses WHERE status = 'queued' AND background`));

    it("claims the head: a newcomer is level with it and waits for no one's backlog; classes in order", async () => {
      await queuedFor('a', 10);
      expect(await claimOwners(2)).toEqual(['a', 'a']);
      await queuedFor('b', 2);
      await queuedFor('batch', 2, { class: 1, weight: 1 });
      expect(await claimOwners(8)).toEqual(['a', 'b', 'a', 'b', 'a', 'a', 'a', 'a']);
      expect(await claimOwners(5)).toEqual(['a', 'a', 'batch', 'batch', '-']);
    });

    it('gives a weight of 2 twice the turns', async () => {
      await queuedFor('a', 6);
      await queuedFor('heavy', 6, { class: 0, weight: 2 });
      expect(await claimOwners(6)).toEqual(['a', 'heavy', 'heavy', 'a', 'heavy', 'heavy']);
    });

    it('hands over the claimed response with its own input items, in order', async () => {
      const r = newResponse({ status: 'queued', background: true, attempt: 0, request: request({ background: true }), schedule: { class: 0, weight: 1 } });
      r.inputItems = [message('first'), message('second'), message('third')];
      await store.create(r);
      const claimed = await store.claimNext('with-input', 3);
      expect(claimed?.id).toBe(r.id);
      expect(claimed?.input).toEqual(r.inputItems);
    });

    it('never hands one row to two concurrent claims, and names the claiming job', async () => {
      const ids = await queuedFor('a', 12);
      const claims = await Promise.all(Array.from({ length: 16 }, (_, i) => store.claimNext(`concurrent-${i}`, 3)));
      const claimed = claims.filter((c) => c !== null);
      expect(claimed.map((c) => c.id).sort()).toEqual([...ids].sort());
      expect(claimed.every((c) => c.status === 'in_progress' && c.attempt === 1 && c.response.output.length === 0)).toBe(true);
      const token = `concurrent-${claims.findIndex((c) => c?.id === ids[0])}`;
      expect(await store.findRunOf(token)).toBe(ids[0]);
      expect(await store.countQueuedBackground()).toBe(0);
    });

    it('promotes windowed responses due to start, never claims one past its window, and finds it expired', async () => {
      const past = (ms: number) => new Date(Date.now() - ms);
      const future = (ms: number) => new Date(Date.now() + ms);
      await queuedFor('live', 2);
      const [due] = await queuedFor('batch', 1, { class: 1, weight: 1, startBy: past(1000), windowEnd: future(3600_000) });
      const [waits] = await queuedFor('batch', 1, { class: 1, weight: 1, startBy: future(3000_000), windowEnd: future(3600_000) });
      const [expired] = await queuedFor('batch', 1, { class: 1, weight: 1, startBy: past(2000), windowEnd: past(1000) });
      expect(await store.countQueuedBackground({ class: 1, owner: 'batch' })).toBe(3);
      expect(await store.countQueuedBackground({ class: 0 })).toBe(2);
      expect(await store.findExpiredWindows(10)).toEqual([expired]);
      expect(await store.promoteDueWindows()).toBe(2); // the due one and the expired one
      const depths = await store.queueDepths();
      expect(depths.find((d) => d.owner === 'batch' && d.class === 1)).toMatchObject({ queued: 1 });
      expect(depths.find((d) => d.owner === 'batch' && d.class === 0)).toMatchObject({ queued: 2 });
      const order = [];
      for (let i = 0; i < 5; i++) order.push((await store.claimNext(`window-${i}`, 3))?.id ?? '-');
      // Level with the head of soonest (created after the first live one); the expired one never.
      expect(order[3]).toBe(waits);
      expect(order).toContain(due);
      expect(order).not.toContain(expired);
      expect(order[4]).toBe('-');
    });

    it('passes over the models at their limit, counts what runs per model, and tells a queued response its place', async () => {
      const running = async () => (await store.runningByModel(['m1', 'm2'])).get('m1') ?? 0;
      const before = await running(); // other tests leave rows in progress
      const [busy] = await queuedFor('a', 1);
      await store.claimNext('limit-0', 3);
      const [waiting] = await queuedFor('a', 1);
      const [other] = await queuedFor('b', 1, { class: 0, weight: 1 });
      expect(await running()).toBe(before + 1);
      expect((await store.runningByModel(['m2'])).size).toBe(0);
      const standing = await store.queueStanding(other, 300);
      expect(standing).toMatchObject({ ahead: 1, startBy: null });
      expect(await store.queueStanding(busy, 300)).toBeNull(); // in progress, not queued
      // Every queued row is of model m1 here: skipping it claims nothing.
      expect(await store.claimNext('limit-1', 3, ['m1'])).toBeNull();
      expect((await store.claimNext('limit-2', 3, ['m2']))?.id).toBe(waiting);
    });

    it('finds the run of a job, and of a row claimed before run tokens existed by its own id', async () => {
      const [legacy] = await queuedFor('a', 1);
      await store.updateResponseObject(legacy, { status: 'in_progress', attempt: 'next' }, { allowedStatuses: ['queued'] });
      expect(await store.findRunOf(legacy)).toBe(legacy);
      expect(await store.findRunOf('job-none')).toBeNull();
      const unfinished = await store.findUnfinishedBackground(new Date(Date.now() + 1000), 500);
      expect(unfinished.find((u) => u.id === legacy)).toEqual({ id: legacy, status: 'in_progress', runToken: null });
    });
  });

  it('deletes a response and its items; a late write does not bring it back', async () => {
    const r = newResponse();
    await store.create(r);
    const done = buildResponse(r.id, r.createdAt, r.request, { status: 'completed', output: [message('answer', 'assistant') as never] });
    await store.updateResponseObject(r.id, { status: 'completed', response: done }, { allowedStatuses: ['in_progress'] });
    expect(await store.delete('team-b', r.id)).toBe(false);
    expect(await store.delete('team-a', r.id)).toBe(true);
    expect(await store.delete('team-a', r.id)).toBe(false);
    expect(await store.updateResponseObject(r.id, { status: 'completed' }, { allowedStatuses: ['in_progress'] })).toBeNull();
    expect(await store.getById(r.id)).toBeNull();
    // No foreign keys: a trigger removes the items of a deleted row (migration 1764001100000).
    const rows: unknown[] = await dataSource.query(
      'SELECT 1 FROM response_input_items WHERE response_id = $1 UNION ALL SELECT 1 FROM response_output_items WHERE response_id = $1',
      [r.id],
    );
    expect(rows).toHaveLength(0);
  });

  it('pages through responses created in the same millisecond without skipping or repeating', async () => {
    const owner = `owner-${newId('item')}`;
    const sameInstant = new Date();
    const ids: string[] = [];
    for (let i = 0; i < 7; i++) {
      const r = newResponse({ owner, createdAt: sameInstant, request: request({ model: i % 2 ? 'odd' : 'even' }) });
      ids.push(r.id);
      await store.create(r);
    }
    for (const order of ['asc', 'desc'] as const) {
      const seen: string[] = [];
      let after: string | undefined;
      for (;;) {
        const page = await store.list(owner, { after, limit: 3, order });
        seen.push(...page.data.map((r) => r.id));
        if (!page.hasMore) break;
        after = page.data[page.data.length - 1].id;
      }
      expect(seen).toEqual(order === 'asc' ? ids : [...ids].reverse());
    }
    const odd = await store.list(owner, { limit: 10, order: 'asc', model: 'odd' });
    expect(odd.data.map((r) => r.id)).toEqual([ids[1], ids[3], ids[5]]);
    expect((await store.list('nobody', { limit: 10, order: 'asc' })).data).toHaveLength(0);
    await expect(store.list(owner, { after: 'resp_missing', limit: 3, order: 'desc' })).rejects.toBeInstanceOf(CursorNotFoundError);
  });

  it('pages input items with after and before in both orders', async () => {
    const items = Array.from({ length: 5 }, (_, i) => message(`m${i}`));
    const r = newResponse({ inputItems: items });
    await store.create(r);
    const ids = items.map((i) => i.id);
    const desc = await store.listInputItems(r.id, { limit: 2, order: 'desc' });
    expect(desc.data.map((i) => i.id)).toEqual([ids[4], ids[3]]);
    expect(desc.hasMore).toBe(true);
    const next = await store.listInputItems(r.id, { limit: 2, order: 'desc', after: ids[3] });
    expect(next.data.map((i) => i.id)).toEqual([ids[2], ids[1]]);
    const asc = await store.listInputItems(r.id, { limit: 10, order: 'asc', after: ids[1] });
    expect(asc.data.map((i) => i.id)).toEqual(ids.slice(2));
    expect(asc.hasMore).toBe(false);
    const before = await store.listInputItems(r.id, { limit: 10, order: 'asc', before: ids[2] });
    expect(before.data.map((i) => i.id)).toEqual(ids.slice(0, 2));
    await expect(store.listInputItems(r.id, { limit: 2, order: 'asc', after: 'msg_nope' })).rejects.toBeInstanceOf(CursorNotFoundError);
  });

  it('rebuilds a previous_response_id chain oldest first, within the owner and the depth bound', async () => {
    const chain: NewResponse[] = [];
    for (let i = 0; i < 3; i++) {
      const prev = chain[i - 1]?.id ?? null;
      const r = newResponse({
        request: request({ previous_response_id: prev, instructions: `sys ${i}` }),
        previousResponseId: prev,
        inputItems: [message(`q${i}`)],
      });
      await store.create(r);
      await store.updateResponseObject(r.id, { status: 'completed', response: completed(r, `a${i}`) }, { allowedStatuses: ['in_progress'] });
      chain.push(r);
    }
    const history = await store.chainHistory('team-a', chain[2].id, 100);
    expect(history!.headStatus).toBe('completed');
    expect(history!.truncated).toBe(false);
    const texts = history!.items.map((i) => (i as { content: Array<{ text: string }> }).content[0].text);
    expect(texts).toEqual(['q0', 'a0', 'q1', 'a1', 'q2', 'a2']);
    const short = await store.chainHistory('team-a', chain[2].id, 2);
    expect(short!.truncated).toBe(true);
    expect(short!.items).toHaveLength(4);
    expect(await store.chainHistory('team-b', chain[2].id, 100)).toBeNull();
    expect(await store.chainHistory('team-a', 'resp_missing', 100)).toBeNull();
  });

  it("finds a chain's input items by index, not by reading the whole items table", async () => {
    // 3,000 rows of another owner: as a plain join, the planner hashed the whole table here.
    await dataSource.query(
      `INSERT INTO responses (id, owner, status, background, model, attempt, request, created_at, updated_at)
       SELECT 'resp_seed' || g, 'team-seed', 'completed', true, 'm1', 1, '{}'::jsonb, now(), now()
       FROM generate_series(1, 3000) AS g`,
    );
    await dataSource.query(
      `INSERT INTO response_input_items (response_id, position, item_id, item)
       SELECT 'resp_seed' || g, 0, 'msg_seed' || g, '{"type": "message"}'::jsonb FROM generate_series(1, 3000) AS g`,
    );
    await dataSource.query('ANALYZE responses');
    await dataSource.query('ANALYZE response_input_items');
    const plan: Array<Record<string, unknown>> = await dataSource.query(`EXPLAIN (FORMAT JSON) ${CHAIN_HISTORY_SQL}`, ['resp_seed7', 'team-seed', 11]);
    const text = JSON.stringify(plan);
    expect(text).toContain('"Relation Name":"response_input_items"');
    expect(text).not.toMatch(/"Node Type":"Seq Scan"[^{}]*"Relation Name":"response_input_items"/);
    expect((await store.chainHistory('team-seed', 'resp_seed7', 11))!.items).toEqual([{ type: 'message' }]);
  });

  it('finds stored input and output items by id, for their owner only', async () => {
    const r = newResponse({ inputItems: [message('question')] });
    await store.create(r);
    const done = completed(r, 'answer');
    await store.updateResponseObject(r.id, { status: 'completed', response: done }, { allowedStatuses: ['in_progress'] });
    const inputId = r.inputItems[0].id;
    const outputId = (done.output[0] as { id: string }).id;
    const found = await store.findItems('team-a', [inputId, outputId, 'msg_missing']);
    expect([...found.keys()].sort()).toEqual([inputId, outputId].sort());
    expect(found.get(outputId)).toEqual(done.output[0]);
    expect((await store.findItems('team-b', [inputId, outputId])).size).toBe(0);
    // The output lives in its own rows; the response's row (no stored document now) does not repeat it.
    const [row] = await dataSource.query<Array<{ has: boolean }>>(`SELECT position($2 IN to_jsonb(r)::text) > 0 AS has FROM responses r WHERE id = $1`, [
      r.id,
      outputId,
    ]);
    expect(row.has).toBe(false);
    expect((await store.get('team-a', r.id))!.response.output).toEqual(done.output);
  });

  it('replaces, shortens and clears a response output in the same statement as its status', async () => {
    const r = newResponse();
    await store.create(r);
    const three = completed(r, 'x');
    three.output = [message('a', 'assistant'), message('b', 'assistant'), message('c', 'assistant')] as never;
    const saved = await store.updateResponseObject(r.id, { response: { ...three, status: 'in_progress' } }, { allowedStatuses: ['in_progress'] });
    expect(saved!.response.output).toHaveLength(3);
    const one = { ...three, output: three.output.slice(1, 2) };
    expect((await store.updateResponseObject(r.id, { status: 'completed', response: one }, { allowedStatuses: ['in_progress'] }))!.response.output).toEqual(
      one.output,
    );
    expect((await store.get('team-a', r.id))!.response.output).toEqual(one.output);
    // A write that loses (wrong status) changes no item.
    expect(await store.updateResponseObject(r.id, { response: three }, { allowedStatuses: ['in_progress'] })).toBeNull();
    expect((await store.get('team-a', r.id))!.response.output).toEqual(one.output);
    const cleared = await store.updateResponseObject(r.id, { status: 'queued', clearOutput: true }, { allowedStatuses: ['completed'] });
    expect(cleared!.response.output).toEqual([]);
    expect((await store.get('team-a', r.id))!.response.output).toEqual([]);
    const [{ n }] = await dataSource.query<Array<{ n: string }>>(`SELECT count(*) AS n FROM response_output_items WHERE response_id = $1`, [r.id]);
    expect(Number(n)).toBe(0);
  });

  it('drops the sealed MCP headers of a run with its terminal write (they do not outlive the run)', async () => {
    const r = newResponse({ status: 'queued', background: true, attempt: 0, request: request({ background: true, mcp_headers_sealed: 'v2.sealed' }) });
    await store.create(r);
    const running = await store.updateResponseObject(r.id, { status: 'in_progress', attempt: 'next' }, { allowedStatuses: ['queued'] });
    expect(running!.request.mcp_headers_sealed).toBe('v2.sealed');
    const done = await store.updateResponseObject(r.id, { status: 'completed', response: completed(r, 'ok') }, { allowedStatuses: ['in_progress'] });
    expect(done!.request.mcp_headers_sealed).toBeUndefined();
    expect((await store.get('team-a', r.id))!.request.mcp_headers_sealed).toBeUndefined();
  });

  if (backend.name === 'postgres') {
    it('resolves many item references without the Postgres backend growing with ids x response size', async () => {
      // Security finding 1, bounded: one stored response with a 4 MB output and 200 ids (all but
      // one missing). Each id used to be a containment test that unpacked the whole output again:
      // the backend grew to 1.6 GB here (19 GB and an OOM kill with 100 MB and 2,000 ids).
      const single = new DataSource({ ...dataSourceOptions({ databaseUrl: (dataSource.options as { url: string }).url, dataDir: '' }), extra: { max: 1 } });
      await single.initialize();
      try {
        const lone = new TypeOrmResponsesStore(single);
        const r = newResponse({ owner: 'team-mem' });
        await lone.create(r);
        const big = completed(r, 'x');
        big.output = Array.from({ length: 64 }, () => message(randomText(64 * 1024), 'assistant')) as never;
        await lone.updateResponseObject(r.id, { status: 'completed', response: big }, { allowedStatuses: ['in_progress'] });
        const [{ pid }] = await single.query<Array<{ pid: number }>>('SELECT pg_backend_pid() AS pid');
        const peak = () => Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;
        const before = peak();
        const wanted = (big.output[63] as { id: string }).id;
        const found = await lone.findItems('team-mem', [...Array.from({ length: 199 }, (_, i) => `msg_absent${i}`), wanted]);
        expect([...found.keys()]).toEqual([wanted]);
        expect(peak() - before).toBeLessThan(64);
      } finally {
        await single.destroy();
      }
    });
  }

  it('moves rows stored as a Response document to stored state: they read back identically', async () => {
    // Back to the schema before the StoreResponseState migration, rows written as that code did
    // (the document but for its output, output rows beside it), then forward again.
    // The migrations after it first (each has its down), then StoreResponseState itself.
    const names = dataSource.migrations.map((m) => m.name);
    const index = names.indexOf('StoreResponseState1764000600000');
    expect(index).toBeGreaterThanOrEqual(0);
    for (let i = names.length - 1; i >= index; i--) await dataSource.undoLastMigration();
    const usage = {
      input_tokens: 5,
      input_tokens_details: { cached_tokens: 0, cache_write_tokens: 0 },
      output_tokens: 2,
      output_tokens_details: { reasoning_tokens: 0 },
      total_tokens: 7,
    };
    const a = newResponse({ request: request({ instructions: 'be brief', metadata: { k: 'v' }, conversation: { id: 'conv_1' } }) });
    const b = newResponse({ request: request({ background: true, temperature: 0.5 }), background: true });
    const c = newResponse();
    const old = [
      {
        r: a,
        doc: buildResponse(a.id, a.createdAt, a.request, {
          status: 'completed',
          completedAt: a.createdAt,
          usage,
          output: [message('hi', 'assistant') as never],
        }),
      },
      { r: b, doc: buildResponse(b.id, b.createdAt, b.request, { status: 'failed', error: { code: 'server_error', message: 'boom' } }) },
      { r: c, doc: buildResponse(c.id, c.createdAt, c.request, { status: 'incomplete', usage, incompleteReason: 'max_output_tokens' }) },
    ];
    for (const { r, doc } of old) {
      const { output, ...document } = doc;
      await dataSource.query(
        `WITH inserted AS (
           INSERT INTO responses (id, owner, status, background, model, attempt, request, response, created_at, updated_at, completed_at)
           VALUES ($1, $2, $3, $4, $5, 1, $6::jsonb, $7::jsonb, $8, now(), $9) RETURNING id
         )
         INSERT INTO response_output_items (response_id, position, item_id, item)
         SELECT inserted.id, (x.ordinality - 1)::integer, x.value ->> 'id', x.value FROM inserted, jsonb_array_elements($10::jsonb) WITH ORDINALITY AS x(value, ordinality)`,
        [
          r.id,
          r.owner,
          doc.status,
          r.background,
          r.model,
          JSON.stringify(r.request),
          JSON.stringify(document),
          r.createdAt,
          doc.status === 'completed' ? r.createdAt : null,
          JSON.stringify(output),
        ],
      );
    }
    await dataSource.runMigrations();
    const columns: Array<{ column_name: string }> = await dataSource.query(`SELECT column_name FROM information_schema.columns WHERE table_name = 'responses'`);
    expect(columns.map((x) => x.column_name)).not.toEqual(expect.arrayContaining(['response']));
    expect(columns.map((x) => x.column_name)).not.toEqual(expect.arrayContaining(['conversation_id']));
    for (const { r, doc } of old) {
      const found = await store.get(r.owner, r.id);
      expect(found!.response).toEqual(doc);
      expect(Object.keys(found!.response)).toEqual(Object.keys(doc));
    }
  });
});
