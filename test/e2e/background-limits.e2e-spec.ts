import type { ResponseStreamEvent } from 'openai/resources/responses/responses';
import { useE2e } from '../support/e2e';
import { sleep, waitFor } from '../support/wait';
import { collect } from '../support/streams';

describe('background limits (embedded default): time limit and event retention', () => {
  const e2e = useE2e({ env: (upstream) => ({ INFERENCE_BASE_URL: upstream.url, BACKGROUND_TIMEOUT_MS: '400', EVENT_RETENTION_SECONDS: '1' }) });

  it('fails a run that exceeds BACKGROUND_TIMEOUT_MS with server_error, and closes its upstream call', async () => {
    e2e.upstream.enqueue({ hang: true });
    const queued = await e2e.client.responses.create({ model: 'm', input: 'x', background: true });
    const failed = await waitFor(
      () => e2e.client.responses.retrieve(queued.id),
      (r) => r.status === 'failed',
      5000,
    );
    expect(failed.error).toMatchObject({ code: 'server_error', message: expect.stringContaining('time limit of 400 ms') });
    await e2e.upstream.waitForClientClose(0, 2000);
  });

  it('refuses a replay once the events are no longer retained, naming starting_after', async () => {
    e2e.upstream.enqueue({ chunks: ['a', 'b'] });
    const stream = await e2e.client.responses.create({ model: 'm', input: 'x', background: true, stream: true });
    const events = await collect(stream);
    const id = (events[0] as Extract<ResponseStreamEvent, { type: 'response.created' }>).response.id;
    // Within retention: replayable.
    const replay = await collect(await e2e.client.responses.retrieve(id, { stream: true, starting_after: 2 }));
    expect(replay).toEqual(events.slice(3));
    await sleep(1500);
    await expect(e2e.client.responses.retrieve(id, { stream: true })).rejects.toMatchObject({ status: 400, param: 'starting_after', code: 'events_expired' });
    // The response itself is still there.
    expect((await e2e.client.responses.retrieve(id)).status).toBe('completed');
  });
});
