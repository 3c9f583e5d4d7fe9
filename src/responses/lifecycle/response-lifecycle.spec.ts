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
      const lost = await queued(h);
      const carried = await queued(h);
      const finished = await queued(h);
      await h.runner.run(finished);
      h.queue.live.add(carried);
      expect(await h.reconciler.tick(new Date(Date.now() + 1000))).toBe(1);
      expect(h.queue.dispatched).toEqual([lost]);
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
