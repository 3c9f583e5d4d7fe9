import { Logger } from '@nestjs/common';
import type { Principal } from '../../common/principal';
import type { NormalizedRequest, StoredItem } from '../../common/response-types';
import type { ResolvedModel } from '../../inference/model-registry';
import { lifecycleHarness } from '../../../test/fakes/lifecycle-harness';
import { buildResponse } from '../response-object';
import { CancelRequested, ClaimLost } from '../background/abort-reasons';
import { EventSequencer } from '../event-sequencer';
import { newResponse } from './execution-factory';

const principal: Principal = { owner: 'tenant', name: 'test' };
const input: StoredItem[] = [{ id: 'msg_in', type: 'message', role: 'user', content: [{ type: 'input_text', text: 'hi' }] } as unknown as StoredItem];

type Harness = ReturnType<typeof lifecycleHarness>;

/** A background response as `POST /v1/responses {background: true}` stores it: queued, attempt 0. */
async function queued(h: Harness, over: Partial<NormalizedRequest> = {}): Promise<string> {
  const request = { model: 'm1', store: true, background: true, stream: true, ...over } as NormalizedRequest;
  const row = h.executions.forQueue({ principal, request, input, history: [], model: { id: 'm1' } as ResolvedModel, mcpHeaders: {} });
  await h.store.create(row);
  return row.id;
}

/** Starts a held run of `id` and waits until it is in the agent loop. */
async function running(h: Harness, id: string): Promise<{ done: Promise<void> }> {
  h.agent.held = true;
  const done = h.runner.run(id);
  await h.agent.whenStarted();
  return { done };
}

describe('ResponseLifecycle (with fakes)', () => {
  beforeAll(() => Logger.overrideLogger(false));

  describe('cancel vs complete', () => {
    it('a cancel that lands first wins: the late completion is discarded, the stream ends once, as cancelled', async () => {
      const h = lifecycleHarness();
      const id = await queued(h, { conversation: { id: 'conv_1' } });
      h.agent.ignoresAbort = true;
      const { done: run } = await running(h, id);
      const cancelled = await h.responses.cancel(principal, id);
      expect(cancelled.status).toBe('cancelled');
      h.agent.release();
      await run;
      expect((await h.store.getById(id))?.status).toBe('cancelled');
      const terminals = h.events.terminals(id);
      expect(terminals.map((e) => [e.type, 'response' in e ? e.response.status : null])).toEqual([['response.failed', 'cancelled']]);
      expect(h.events.finished.has(id)).toBe(true);
      expect(await h.ended('cancelled')).toBe(1);
      expect(await h.ended('completed')).toBe(0);
      expect(h.conversations.appended.has('conv_1')).toBe(false);
    });

    it('a completion that lands first wins: the cancel is a 400 and nothing changes', async () => {
      const h = lifecycleHarness();
      const id = await queued(h, { conversation: { id: 'conv_1' } });
      await h.runner.run(id);
      await expect(h.responses.cancel(principal, id)).rejects.toMatchObject({ status: 400, message: 'Cannot cancel a completed response.' });
      expect((await h.store.getById(id))?.status).toBe('completed');
      expect(h.events.terminals(id).map((e) => e.type)).toEqual(['response.completed']);
      expect(await h.ended('completed')).toBe(1);
      expect(await h.ended('cancelled')).toBe(0);
      expect(h.conversations.appended.get('conv_1')?.map((i) => i.id)).toEqual(['msg_in', 'msg_5']);
    });

    it('a cancel of a queued response ends its stream itself and withdraws the job', async () => {
      const h = lifecycleHarness();
      const id = await queued(h);
      h.events.append(id, { type: 'response.created', sequence_number: 0 } as never);
      expect((await h.responses.cancel(principal, id)).status).toBe('cancelled');
      expect(h.events.types(id)).toEqual(['response.created', 'response.failed']);
      expect(h.events.finished.has(id)).toBe(true);
      expect(h.queue.withdrawn).toEqual([id]);
      // The job that still runs finds it cancelled and writes nothing.
      const writes = h.store.writes.length;
      await h.runner.run(id);
      expect(h.store.writes.length).toBe(writes);
      expect(h.agent.turns).toHaveLength(0);
    });
  });

  describe('what each abort reason writes', () => {
    it('a cancel signal: cancelled', async () => {
      const h = lifecycleHarness();
      const id = await queued(h);
      const { done: run } = await running(h, id);
      expect(h.runs.abort(id, new CancelRequested())).toBe(true);
      await run;
      const row = await h.store.getById(id);
      expect(row?.status).toBe('cancelled');
      expect(await h.ended('cancelled')).toBe(1);
      expect(h.events.terminals(id).map((e) => e.type)).toEqual(['response.failed']);
    });

    it('the time limit: failed, with server_error', async () => {
      const h = lifecycleHarness({ backgroundTimeoutMs: 20 });
      const id = await queued(h);
      await (
        await running(h, id)
      ).done;
      const row = await h.store.getById(id);
      expect(row?.status).toBe('failed');
      expect(row?.response.error).toEqual({ code: 'server_error', message: "The response exceeded the server's time limit of 20 ms." });
      expect(await h.ended('failed')).toBe(1);
    });

    it('a shutdown: back to queued, untouched, with no end', async () => {
      const h = lifecycleHarness();
      const id = await queued(h);
      await running(h, id);
      await h.runs.drain(0);
      const row = await h.store.getById(id);
      expect(row?.status).toBe('queued');
      expect(row?.response.status).toBe('queued');
      expect(row?.attempt).toBe(1);
      expect(h.events.terminals(id)).toEqual([]);
      expect(h.events.finished.has(id)).toBe(false);
      expect(await h.ended('cancelled')).toBe(0);
      expect(h.runs.size).toBe(0);
    });

    it('a lost claim: nothing at all', async () => {
      const h = lifecycleHarness();
      const id = await queued(h);
      const { done: run } = await running(h, id);
      const writes = h.store.writes.length;
      h.runs.abort(id, new ClaimLost());
      await run;
      expect(h.store.writes.length).toBe(writes);
      expect((await h.store.getById(id))?.status).toBe('in_progress');
      expect(h.events.terminals(id)).toEqual([]);
    });
  });

  it('a stale run (its attempt was claimed again) writes nothing and leaves the stream to the retry', async () => {
    const h = lifecycleHarness();
    const id = await queued(h);
    h.agent.ignoresAbort = true;
    const { done: run } = await running(h, id);
    // A retry elsewhere claimed it: attempt 2.
    await h.store.updateResponseObject(id, { status: 'in_progress', attempt: 'next', clearOutput: true }, { allowedStatuses: ['in_progress'] });
    const writes = h.store.writes.length;
    h.agent.release();
    await run;
    expect(h.store.writes.length).toBe(writes);
    const row = await h.store.getById(id);
    expect([row?.status, row?.attempt]).toEqual(['in_progress', 2]);
    expect(h.events.terminals(id)).toEqual([]);
    expect(await h.ended('completed')).toBe(0);
  });

  it('gives up after the maximum number of attempts: failed with server_error, its stream ended', async () => {
    const h = lifecycleHarness({ backgroundMaxAttempts: 3 });
    const request = { model: 'm1', store: true, background: true, stream: true } as NormalizedRequest;
    const identity = { id: 'resp_dying', owner: 'tenant', createdAt: new Date(), request, input, attempt: 3, persistence: 'row' as const };
    await h.store.create(newResponse(identity, buildResponse(identity.id, identity.createdAt, request, { status: 'in_progress' })));
    await h.runner.run(identity.id);
    const row = await h.store.getById(identity.id);
    expect(row?.status).toBe('failed');
    expect(row?.response.error).toEqual({ code: 'server_error', message: 'The response could not be completed: its run was interrupted 3 times.' });
    expect(h.agent.turns).toHaveLength(0);
    expect(h.events.terminals(identity.id).map((e) => e.type)).toEqual(['response.failed']);
    expect(h.events.finished.has(identity.id)).toBe(true);
    expect(await h.ended('failed')).toBe(1);
  });

  describe('the reconciler', () => {
    it('dispatches again the unfinished background responses no job carries', async () => {
      const h = lifecycleHarness();
      const first = await queued(h);
      const carried = await queued(h);
      const lost = await queued(h);
      // The job queued for `lost` runs the head of the queue: `first`.
      await h.runner.run(lost);
      expect((await h.store.getById(first))?.status).toBe('completed');
      h.queue.live.add(carried);
      // Two queued, one job waiting: one more job, for the one without its own.
      expect(await h.reconciler.tick(new Date(Date.now() + 1000))).toBe(1);
      expect(h.queue.dispatched).toEqual([lost]);
    });

    it('adds no job for a queued response that another waiting job covers', async () => {
      const h = lifecycleHarness();
      const first = await queued(h);
      const second = await queued(h);
      await h.runner.run(second); // runs `first`: `second` is queued, and the job of `first` still waits
      h.queue.live.add(first);
      expect(await h.reconciler.tick(new Date(Date.now() + 1000))).toBe(0);
      expect(h.queue.dispatched).toEqual([]);
    });

    it('dispatches again the job of an in-progress response whose worker died, and that job resumes it', async () => {
      const h = lifecycleHarness();
      const first = await queued(h);
      const second = await queued(h);
      h.queue.live.add(second);
      // Job `token-1` claims `first`, and its worker dies (the claim stays, nothing runs it).
      const claimed = await h.store.claimNext('token-1', 3);
      expect(claimed?.id).toBe(first);
      expect(await h.reconciler.tick(new Date(Date.now() + 1000))).toBe(1);
      expect(h.queue.dispatched).toEqual(['token-1']);
      await h.runner.run('token-1');
      const resumed = await h.store.getById(first);
      expect(resumed).toMatchObject({ status: 'completed', attempt: 2 });
    });
    it('fails abandoned synchronous responses, and counts their ends', async () => {
      const h = lifecycleHarness();
      const request = { model: 'm1', store: true, background: false, stream: true } as NormalizedRequest;
      const identity = { id: 'resp_orphan', owner: 'tenant', createdAt: new Date(Date.now() - 1000), request, input, attempt: 1, persistence: 'row' as const };
      await h.store.create(newResponse(identity, buildResponse(identity.id, identity.createdAt, request, { status: 'in_progress' })));
      await h.reconciler.tick(new Date());
      // Past twice the upstream timeout (60 s here) only: this one is too young.
      expect((await h.store.getById(identity.id))?.status).toBe('in_progress');
      h.settings.inferenceTimeoutMs = 100;
      await h.reconciler.tick(new Date());
      expect((await h.store.getById(identity.id))?.status).toBe('failed');
      expect(await h.ended('failed', false)).toBe(1);
    });

    describe('scheduling (fair order)', () => {
      /** Queues `n` responses for `owner`. */
      const flood = async (h: Harness, owner: string, n: number, over: Partial<NormalizedRequest> = {}) => {
        const ids: string[] = [];
        for (let i = 0; i < n; i++) {
          const request = { model: 'm1', store: true, background: true, stream: false, ...over } as NormalizedRequest;
          const row = h.executions.forQueue({
            principal: { owner, name: owner },
            request,
            input,
            history: [],
            model: { id: 'm1' } as ResolvedModel,
            mcpHeaders: {},
          });
          await h.store.create(row);
          ids.push(row.id);
        }
        return ids;
      };
      /** Runs `n` jobs one after the other; returns the owners of what they ran, in order. */
      const runJobs = async (h: Harness, n: number) => {
        const owners: string[] = [];
        for (let i = 0; i < n; i++) {
          const before = new Set([...h.store.rows.values()].filter((r) => r.status === 'completed').map((r) => r.id));
          await h.runner.run(`job-${i}`);
          const ran = [...h.store.rows.values()].find((r) => r.status === 'completed' && !before.has(r.id));
          owners.push(ran?.owner ?? '-');
        }
        return owners;
      };

      it("a tenant that arrives behind another's backlog runs next, not after it", async () => {
        const h = lifecycleHarness();
        await flood(h, 'a', 20);
        expect(await runJobs(h, 3)).toEqual(['a', 'a', 'a']);
        await flood(h, 'b', 2);
        expect(await runJobs(h, 5)).toEqual(['a', 'b', 'a', 'b', 'a']);
      });

      it("tenants with backlogs take turns; a weight of 2 takes two turns to the others' one", async () => {
        const h = lifecycleHarness({ backgroundWeight: (owner: string) => (owner === 'heavy' ? 2 : 1) });
        await flood(h, 'a', 8);
        await flood(h, 'b', 8);
        await flood(h, 'heavy', 8);
        expect(await runJobs(h, 8)).toEqual(['a', 'b', 'heavy', 'heavy', 'a', 'b', 'heavy', 'heavy']);
      });

      it('a windowed response whose latest start has come goes ahead of soonest work; one past its window fails', async () => {
        const h = lifecycleHarness();
        const windowed = { background_options: { completion_window: '2h' } } as Partial<NormalizedRequest>;
        const [due, expired, later] = await flood(h, 'batch', 3, windowed);
        await flood(h, 'live', 3);
        // Created now, a 2 h window starts at the latest 15 min (the default margin) before its end.
        const row = h.store.rows.get(later)!;
        expect(row.windowEnd!.getTime() - row.createdAt.getTime()).toBe(2 * 3600_000);
        expect(row.windowEnd!.getTime() - row.startBy!.getTime()).toBe(900_000);
        h.store.rows.get(due)!.startBy = new Date(Date.now() - 1000);
        Object.assign(h.store.rows.get(expired)!, { startBy: new Date(Date.now() - 2000), windowEnd: new Date(Date.now() - 1000) });
        await h.reconciler.tick(new Date(0));
        const failed = await h.store.getById(expired);
        expect(failed?.status).toBe('failed');
        expect(failed?.response.error).toEqual({
          code: 'rate_limit_exceeded',
          message: 'The response could not be started within its 2h completion window: the server had no capacity for it. Try again later.',
        });
        expect(h.queue.withdrawn).toEqual([expired]);
        expect(await runJobs(h, 5)).toEqual(['batch', 'live', 'live', 'live', 'batch']);
      });

      it('a model at its maxConcurrency: its queued responses wait, and a finished run adds a spare job', async () => {
        const h = lifecycleHarness();
        h.limits.set('m1', 1);
        const first = await queued(h);
        const second = await queued(h);
        const { done } = await running(h, 'job-a');
        expect((await h.store.getById(first))?.status).toBe('in_progress');
        await h.runner.run('job-b'); // m1 is at its limit: this job runs nothing
        expect((await h.store.getById(second))?.status).toBe('queued');
        h.agent.held = false;
        h.agent.release();
        await done;
        expect(h.queue.dispatched).toEqual([expect.stringMatching(/^job_/)]);
        await h.runner.run(h.queue.dispatched[0]);
        expect((await h.store.getById(second))?.status).toBe('completed');
      });

      it('windowed work runs only when no soonest work waits', async () => {
        const h = lifecycleHarness();
        await flood(h, 'batch', 3, { background_options: { completion_window: '2h' } });
        await flood(h, 'live', 2);
        expect(await runJobs(h, 5)).toEqual(['live', 'live', 'batch', 'batch', 'batch']);
      });
    });
  });

  it('a non-streaming synchronous response is stored once, by one INSERT of its end', async () => {
    const h = lifecycleHarness();
    const request = { model: 'm1', store: true, background: false, stream: false } as NormalizedRequest;
    const execution = h.executions.forRequest({ principal, request, input, history: [], model: { id: 'm1' } as ResolvedModel, mcpHeaders: {} });
    const emitted: string[] = [];
    const result = await h.executor.execute(execution, new EventSequencer((e) => emitted.push(e.type)), new AbortController().signal);
    expect(result.saved).toBe(true);
    expect(h.store.writes.map((w) => w.kind)).toEqual(['create']);
    expect((await h.store.getById(execution.id))?.status).toBe('completed');
    expect(emitted).toEqual(['response.in_progress', 'response.completed']);
    expect(await h.ended('completed', false)).toBe(1);
  });
});
