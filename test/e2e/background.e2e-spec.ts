import OpenAI from 'openai';
import type { Response, ResponseStreamEvent } from 'openai/resources/responses/responses';
import { useE2e } from '../support/e2e';
import { backgroundModes } from '../support/modes';
import { waitFor } from '../support/wait';
import { collect } from '../support/streams';

const MODEL = 'upstream-model';
const slow = (n: number, ms = 40) => ({ chunks: Array.from({ length: n }, (_, i) => `w${i} `), chunkDelayMs: ms });

describe.each(backgroundModes('background'))('background mode, $name', (mode) => {
  // One at a time, so that a second response really waits in the queue.
  const e2e = useE2e({
    backend: mode,
    env: (upstream) => ({ INFERENCE_BASE_URL: upstream.url, BACKGROUND_CONCURRENCY: '1', RECONCILE_INTERVAL_MS: '500' }),
    resetUpstream: true,
  });

  const poll = (id: string) =>
    waitFor(
      () => e2e.client.responses.retrieve(id),
      (r) => r.status !== 'queued' && r.status !== 'in_progress',
    );

  it('answers queued at once and completes; polling shows it', async () => {
    e2e.upstream.enqueue({ text: 'done in the background', usage: { prompt_tokens: 4, completion_tokens: 4 } });
    const queued = await e2e.client.responses.create({ model: MODEL, input: 'work', background: true });
    expect(queued).toMatchObject({ status: 'queued', background: true, output: [], usage: null, completed_at: null });
    const done = await poll(queued.id);
    expect(done).toMatchObject({ status: 'completed', background: true, usage: { input_tokens: 4, output_tokens: 4 } });
    expect(done.output_text).toBe('done in the background');
    expect(done.created_at).toBe(queued.created_at);
    expect(e2e.upstream.requests[0].body).toMatchObject({ stream: true, messages: [{ role: 'user' }] });
  });

  it('validates before accepting: unknown previous_response_id, store:false, bad tools are 400 at once', async () => {
    await expect(e2e.client.responses.create({ model: MODEL, input: 'x', background: true, previous_response_id: 'resp_nope' })).rejects.toMatchObject({
      status: 400,
      code: 'previous_response_not_found',
    });
    await expect(e2e.client.responses.create({ model: MODEL, input: 'x', background: true, store: false })).rejects.toMatchObject({
      status: 400,
      param: 'background',
    });
    await expect(e2e.client.responses.create({ model: MODEL, input: 'x', background: true, tools: [{ type: 'local_shell' }] })).rejects.toMatchObject({
      status: 400,
      param: 'tools[0].type',
    });
    expect(e2e.upstream.requests).toHaveLength(0);
  });

  it('shows progress while running and keeps the partial output when cancelled mid-stream; the upstream sees its connection closed', async () => {
    // A reasoning item completes first: it is saved at that item boundary, before the text ends.
    e2e.upstream.enqueue({ reasoning: 'thinking it over', ...slow(200, 30) });
    const queued = await e2e.client.responses.create({ model: MODEL, input: 'long', background: true });
    await e2e.upstream.waitForRequests(1, 5000);
    const progress = await waitFor(
      () => e2e.client.responses.retrieve(queued.id),
      (r) => r.status === 'in_progress' && r.output.length > 0,
    );
    expect(progress.output[0]).toMatchObject({ type: 'reasoning', content: [{ type: 'reasoning_text', text: 'thinking it over' }] });
    expect(progress.created_at).toBe(queued.created_at);
    const cancelled = await e2e.client.responses.cancel(queued.id);
    const cancelReturned = Date.now();
    expect(cancelled).toMatchObject({ id: queued.id, status: 'cancelled' });
    expect(cancelled.output[0]).toMatchObject({ type: 'reasoning' });
    const closedAt = await e2e.upstream.waitForClientClose(0, 5000);
    expect(closedAt - cancelReturned).toBeLessThan(1000);
    // It stays cancelled: the worker's result is discarded.
    await new Promise((r) => setTimeout(r, 300));
    expect((await e2e.client.responses.retrieve(queued.id)).status).toBe('cancelled');
    // Cancelling again is idempotent.
    expect(await e2e.client.responses.cancel(queued.id)).toMatchObject({ id: queued.id, status: 'cancelled' });
  });

  it('cancels a response still waiting in the queue; it never runs', async () => {
    e2e.upstream.enqueue({ hang: true });
    const running = await e2e.client.responses.create({ model: MODEL, input: 'blocker', background: true });
    await e2e.upstream.waitForRequests(1, 5000);
    const waiting = await e2e.client.responses.create({ model: MODEL, input: 'waiter', background: true });
    expect((await e2e.client.responses.cancel(waiting.id)).status).toBe('cancelled');
    await e2e.client.responses.cancel(running.id);
    await e2e.upstream.waitForClientClose(0, 5000);
    await new Promise((r) => setTimeout(r, 500));
    expect(e2e.upstream.requests).toHaveLength(1);
    expect((await e2e.client.responses.retrieve(waiting.id)).status).toBe('cancelled');
  });

  it('retries an upstream call that failed before any output (429 with retry-after, 5xx), then fails once retries run out', async () => {
    e2e.upstream.enqueue({ status: 429, retryAfter: '0' }, { status: 503 }, { text: 'third time lucky' });
    const lucky = await poll((await e2e.client.responses.create({ model: MODEL, input: 'a', background: true })).id);
    expect(lucky).toMatchObject({ status: 'completed', output_text: 'third time lucky' });
    expect(e2e.upstream.requests).toHaveLength(3);
    // BACKGROUND_UPSTREAM_RETRIES=3 (the default): four calls in all, then failed with the last error.
    e2e.upstream.enqueue({ status: 502 }, { status: 502 }, { status: 502 }, { status: 502 }, { text: 'never asked' });
    const failed = await poll((await e2e.client.responses.create({ model: MODEL, input: 'b', background: true })).id);
    expect(failed).toMatchObject({ status: 'failed', error: { code: 'server_error', message: expect.stringContaining('HTTP 502') } });
    expect(e2e.upstream.requests).toHaveLength(7);
  }, 30_000);

  it('refuses to cancel completed, failed and synchronous responses with 400; unknown ids are 404', async () => {
    // 401 (the gateway's credentials refused) is not retried: the background response fails at once.
    e2e.upstream.enqueue({ text: 'x' }, { status: 401 }, { text: 'sync' });
    const completed = await poll((await e2e.client.responses.create({ model: MODEL, input: 'a', background: true })).id);
    await expect(e2e.client.responses.cancel(completed.id)).rejects.toMatchObject({ status: 400, message: '400 Cannot cancel a completed response.' });
    const failed = await poll((await e2e.client.responses.create({ model: MODEL, input: 'b', background: true })).id);
    expect(failed).toMatchObject({ status: 'failed', error: { code: 'server_error' } });
    await expect(e2e.client.responses.cancel(failed.id)).rejects.toMatchObject({ status: 400, message: '400 Cannot cancel a failed response.' });
    const sync = await e2e.client.responses.create({ model: MODEL, input: 'c' });
    await expect(e2e.client.responses.cancel(sync.id)).rejects.toMatchObject({ status: 400, message: '400 Cannot cancel a synchronous response.' });
    await expect(e2e.client.responses.cancel('resp_unknown')).rejects.toBeInstanceOf(OpenAI.NotFoundError);
  });

  it('streams background + stream in full: created (queued, seq 0), queued, in_progress, …, completed', async () => {
    e2e.upstream.enqueue({ chunks: ['a', 'b', 'c'] });
    const stream = await e2e.client.responses.create({ model: MODEL, input: 'go', background: true, stream: true });
    const events = await collect(stream);
    expect(events.slice(0, 3).map((e) => e.type)).toEqual(['response.created', 'response.queued', 'response.in_progress']);
    expect((events[0] as Extract<ResponseStreamEvent, { type: 'response.created' }>).response.status).toBe('queued');
    expect(events.map((e) => e.sequence_number)).toEqual(events.map((_, i) => i));
    expect(events[events.length - 1].type).toBe('response.completed');
  });

  it('replays from 0 and from starting_after with the original numbers; the SDK helper resumes too', async () => {
    e2e.upstream.enqueue({ chunks: ['x', 'y', 'z'] });
    const stream = await e2e.client.responses.create({ model: MODEL, input: 'go', background: true, stream: true });
    const all = await collect(stream);
    const id = (all[0] as Extract<ResponseStreamEvent, { type: 'response.created' }>).response.id;
    const replay = await e2e.client.responses.retrieve(id, { stream: true });
    const again = await collect(replay);
    expect(again).toEqual(all);
    const k = 4;
    const rest = await e2e.client.responses.retrieve(id, { stream: true, starting_after: k });
    const tail = await collect(rest);
    expect(tail).toEqual(all.slice(k + 1));
    const helper = e2e.client.responses.stream({ response_id: id, starting_after: k });
    const final = await helper.finalResponse();
    expect(final.status).toBe('completed');
  });

  it('keeps running when the streaming client goes away, and the stream can be resumed', async () => {
    e2e.upstream.enqueue(slow(20, 20));
    const stream = await e2e.client.responses.create({ model: MODEL, input: 'go', background: true, stream: true });
    const head = await collect(stream, { until: (e) => e.type === 'response.output_text.delta' }); // then drop the connection
    const id = head.flatMap((e) => (e.type === 'response.created' ? [e.response.id] : [])).pop() ?? '';
    const lastSeq = head.length ? head[head.length - 1].sequence_number : -1;
    const done = await poll(id);
    expect(done.status).toBe('completed');
    expect(e2e.upstream.requests[0].closedByClient).toBe(false);
    const resumed = await e2e.client.responses.retrieve(id, { stream: true, starting_after: lastSeq });
    const rest = await collect(resumed);
    expect(rest[0].sequence_number).toBe(lastSeq + 1);
    expect(rest[rest.length - 1].type).toBe('response.completed');
  });

  it('ends open streams of a cancelled response with response.failed carrying status cancelled', async () => {
    e2e.upstream.enqueue(slow(200, 30));
    const stream = await e2e.client.responses.create({ model: MODEL, input: 'go', background: true, stream: true });
    const events = await collect(stream, {
      onEvent: async (e, seen) => {
        if (e.type === 'response.output_text.delta' && seen.filter((x) => x.type === 'response.output_text.delta').length === 2) {
          const created = seen[0] as Extract<ResponseStreamEvent, { type: 'response.created' }>;
          await e2e.client.responses.cancel(created.response.id);
        }
      },
    });
    const last = events[events.length - 1] as Extract<ResponseStreamEvent, { type: 'response.failed' }>;
    expect(last.type).toBe('response.failed');
    expect(last.response.status).toBe('cancelled');
    expect(events.map((e) => e.sequence_number)).toEqual(events.map((_, i) => i));
  });

  it('refuses to stream a response that was not created with background and stream', async () => {
    e2e.upstream.enqueue({ text: 'a' }, { text: 'b' });
    const sync = await e2e.client.responses.create({ model: MODEL, input: 'a' });
    await expect(e2e.client.responses.retrieve(sync.id, { stream: true })).rejects.toMatchObject({ status: 400, param: 'stream' });
    const bg = await poll((await e2e.client.responses.create({ model: MODEL, input: 'b', background: true })).id);
    await expect(e2e.client.responses.retrieve(bg.id, { stream: true })).rejects.toMatchObject({ status: 400, param: 'stream' });
  });

  it('deletes a running background response: it is cancelled first and its upstream call closed', async () => {
    e2e.upstream.enqueue(slow(200, 30));
    const queued = await e2e.client.responses.create({ model: MODEL, input: 'go', background: true });
    await e2e.upstream.waitForRequests(1, 5000);
    await e2e.client.responses.delete(queued.id);
    await e2e.upstream.waitForClientClose(0, 5000);
    await expect(e2e.client.responses.retrieve(queued.id)).rejects.toBeInstanceOf(OpenAI.NotFoundError);
  });

  it('chains a background response to a finished one, and refuses a chain to an unfinished one', async () => {
    e2e.upstream.enqueue({ text: 'A1' }, { hang: true }, { text: 'A2' });
    const first = await poll((await e2e.client.responses.create({ model: MODEL, input: 'Q1', background: true })).id);
    const pending = await e2e.client.responses.create({ model: MODEL, input: 'slow', background: true });
    await e2e.upstream.waitForRequests(2, 5000);
    await expect(e2e.client.responses.create({ model: MODEL, input: 'Q2', previous_response_id: pending.id })).rejects.toMatchObject({
      status: 400,
      param: 'previous_response_id',
    });
    await e2e.client.responses.cancel(pending.id);
    const second = await poll((await e2e.client.responses.create({ model: MODEL, input: 'Q2', previous_response_id: first.id, background: true })).id);
    expect(second.output_text).toBe('A2');
    const messages = (e2e.upstream.requests[2].body as { messages: Array<{ role: string }> }).messages;
    expect(messages.map((m) => m.role)).toEqual(['user', 'assistant', 'user']);
  });

  it('never lets a cancelled response become anything else, across many random cancels', async () => {
    e2e.upstream.setDefault({ chunks: ['a', 'b', 'c', 'd'], chunkDelayMs: 5 });
    const count = 40;
    const ids: string[] = [];
    const cancelled = new Set<string>();
    for (let i = 0; i < count; i++) ids.push((await e2e.client.responses.create({ model: MODEL, input: `r${i}`, background: true })).id);
    await Promise.all(
      ids.map(async (id, i) => {
        await new Promise((r) => setTimeout(r, (i * 37) % 300));
        const result = await e2e.client.responses.cancel(id).catch((e: unknown) => e);
        if ((result as Response).status === 'cancelled') cancelled.add(id);
        else expect(result).toMatchObject({ status: 400 });
      }),
    );
    const finals = await Promise.all(ids.map((id) => poll(id)));
    for (const r of finals) {
      if (cancelled.has(r.id)) expect(r.status).toBe('cancelled');
      else expect(['completed', 'cancelled']).toContain(r.status);
    }
    await new Promise((r) => setTimeout(r, 300));
    for (const id of cancelled) expect((await e2e.client.responses.retrieve(id)).status).toBe('cancelled');
  });
});
