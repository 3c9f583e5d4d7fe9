import OpenAI from 'openai';
import type { ResponseStreamEvent } from 'openai/resources/responses/responses';
import { startApp, TestApp } from '../support/app';
import { FakeUpstream, startFakeUpstream } from '../support/fake-upstream';
import { sleep, waitFor } from '../support/wait';

describe('background limits (embedded default): time limit and event retention', () => {
  let upstream: FakeUpstream;
  let app: TestApp;
  let client: OpenAI;

  beforeAll(async () => {
    upstream = await startFakeUpstream();
    app = await startApp({ DATA_DIR: 'memory://', INFERENCE_BASE_URL: upstream.url, BACKGROUND_TIMEOUT_MS: '400', EVENT_RETENTION_SECONDS: '1' });
    client = app.client;
  });

  afterAll(async () => {
    await app?.close();
    await upstream?.close();
  });

  it('fails a run that exceeds BACKGROUND_TIMEOUT_MS with server_error, and closes its upstream call', async () => {
    upstream.enqueue({ hang: true });
    const queued = await client.responses.create({ model: 'm', input: 'x', background: true });
    const failed = await waitFor(() => client.responses.retrieve(queued.id), (r) => r.status === 'failed', 5000);
    expect(failed.error).toMatchObject({ code: 'server_error', message: expect.stringContaining('time limit of 400 ms') });
    await upstream.waitForClientClose(0, 2000);
  });

  it('refuses a replay once the events are no longer retained, naming starting_after', async () => {
    upstream.enqueue({ chunks: ['a', 'b'] });
    const stream = await client.responses.create({ model: 'm', input: 'x', background: true, stream: true });
    const events: ResponseStreamEvent[] = [];
    for await (const e of stream) events.push(e);
    const id = (events[0] as Extract<ResponseStreamEvent, { type: 'response.created' }>).response.id;
    // Within retention: replayable.
    const replay: ResponseStreamEvent[] = [];
    for await (const e of await client.responses.retrieve(id, { stream: true, starting_after: 2 })) replay.push(e);
    expect(replay).toEqual(events.slice(3));
    await sleep(1500);
    await expect(client.responses.retrieve(id, { stream: true })).rejects.toMatchObject({ status: 400, param: 'starting_after', code: 'events_expired' });
    // The response itself is still there.
    expect((await client.responses.retrieve(id)).status).toBe('completed');
  });
});
