import type { ResponseStreamEvent } from 'openai/resources/responses/responses';
import { useE2e } from '../support/e2e';
import { backgroundModes } from '../support/modes';
import { collect } from '../support/streams';
import { waitFor } from '../support/wait';

const MODEL = 'upstream-model';

/** The create fields of openai 7.59 and Open Responses this server added (docs/api-fields.md), as a client sends them. */
const NEW_FIELDS = {
  presence_penalty: 0.5,
  frequency_penalty: -0.25,
  prompt_cache_key: 'tenant-cache',
  prompt_cache_retention: '24h',
  prompt_cache_options: { mode: 'explicit', ttl: '30m', comparison_response_id: 'resp_earlier' },
  image: { context_compression: 'auto' },
  access_programs: { cyber: 'daybreak_blue' },
  background_options: { continuation_id: 'batch-7' },
} as const;

/** How each is echoed: as sent, with the defaults of what was not sent; `image` as the policy in effect. */
const ECHOED = {
  presence_penalty: 0.5,
  frequency_penalty: -0.25,
  prompt_cache_key: 'tenant-cache',
  prompt_cache_retention: '24h',
  prompt_cache_options: { mode: 'explicit', ttl: '30m', comparison_response_id: 'resp_earlier' },
  image: { context_compression: 'disabled' },
  access_programs: { cyber: 'daybreak_blue' },
  background_options: { completion_window: 'soonest', continuation_id: 'batch-7' },
};

/** What of them Chat Completions has, exactly as it reaches the upstream. */
const FORWARDED = {
  presence_penalty: 0.5,
  frequency_penalty: -0.25,
  prompt_cache_key: 'tenant-cache',
  prompt_cache_retention: '24h',
  prompt_cache_options: { mode: 'explicit', ttl: '30m' },
};

type Body = Record<string, unknown>;
const userText = (text: string) => ({ role: 'user', content: [{ type: 'text', text }] });

describe('request and response fields (openai 7.59, Open Responses)', () => {
  const e2e = useE2e({ env: (upstream) => ({ INFERENCE_BASE_URL: upstream.url }), resetUpstream: true });
  const upstreamBody = (i: number) => e2e.upstream.requests[i].body as Body;
  /** The SDK's params type lags the fields; the wire is what is tested. */
  const create = (body: Body) => e2e.client.responses.create(body as never) as unknown as Promise<Body & { id: string }>;

  it('echoes every new field on create and retrieve, and sends the penalties and prompt cache fields upstream', async () => {
    e2e.upstream.enqueue({ text: 'ok' });
    const created = await create({ model: MODEL, input: 'hi', ...NEW_FIELDS });
    expect(created).toMatchObject({ status: 'completed', ...ECHOED });
    expect(await e2e.client.responses.retrieve(created.id)).toMatchObject(ECHOED);
    const body = upstreamBody(0);
    expect(body).toMatchObject(FORWARDED);
    expect(body.prompt_cache_options).toEqual(FORWARDED.prompt_cache_options);
    for (const own of ['image', 'access_programs', 'background_options', 'generate']) expect(body).not.toHaveProperty(own);
  });

  it('echoes them on every lifecycle event of a stream', async () => {
    e2e.upstream.enqueue({ chunks: ['o', 'k'] });
    const stream = await e2e.client.responses.create({ model: MODEL, input: 'hi', stream: true, ...(NEW_FIELDS as object) } as never);
    const events = await collect(stream as unknown as AsyncIterable<ResponseStreamEvent>);
    const lifecycle = events.filter((e) => 'response' in e);
    expect(lifecycle.map((e) => e.type)).toEqual(['response.created', 'response.in_progress', 'response.completed']);
    for (const event of lifecycle) expect((event as { response: unknown }).response).toMatchObject(ECHOED);
    expect(upstreamBody(0)).toMatchObject(FORWARDED);
  });

  it("echoes the spec's defaults when nothing is sent: penalties 0, null access_programs and retention, no option objects", async () => {
    e2e.upstream.enqueue({ text: 'ok' });
    const created = await create({ model: MODEL, input: 'hi' });
    expect(created).toMatchObject({ presence_penalty: 0, frequency_penalty: 0, access_programs: null, prompt_cache_retention: null });
    for (const absent of ['prompt_cache_options', 'image', 'background_options']) expect(created).not.toHaveProperty(absent);
    for (const absent of ['presence_penalty', 'frequency_penalty', 'prompt_cache_key', 'prompt_cache_options'])
      expect(upstreamBody(0)).not.toHaveProperty(absent);
  });

  it.each([
    [{ presence_penalty: 2.5 }, 'presence_penalty', 'invalid_value'],
    [{ frequency_penalty: -2.1 }, 'frequency_penalty', 'invalid_value'],
    [{ prompt_cache_options: { ttl: '1h' } }, 'prompt_cache_options.ttl', 'invalid_value'],
    [{ prompt_cache_options: { prewarm: true } }, 'prompt_cache_options.prewarm', 'unsupported_parameter'],
    [{ image: { context_compression: 'enabled' } }, 'image.context_compression', 'unsupported_parameter'],
    [{ background_options: { completion_window: '2h' } }, 'background_options.completion_window', 'invalid_value'],
  ])('refuses %j with a 400 naming %s, before any upstream call', async (fields, param, code) => {
    await expect(create({ model: MODEL, input: 'hi', ...fields })).rejects.toMatchObject({ status: 400, param, code, type: 'invalid_request_error' });
    expect(e2e.upstream.requests).toHaveLength(0);
  });

  it('generate: false stores the state without a model call; previous_response_id continues from it', async () => {
    const prepared = await create({ model: MODEL, instructions: 'Be terse.', input: 'My name is Ada.', generate: false });
    expect(prepared).toMatchObject({ status: 'completed', output: [], usage: { input_tokens: 0, output_tokens: 0, total_tokens: 0 } });
    expect(e2e.upstream.requests).toHaveLength(0);
    const items = await e2e.client.responses.inputItems.list(prepared.id);
    expect(items.data).toMatchObject([{ type: 'message', role: 'user', content: [{ type: 'input_text', text: 'My name is Ada.' }] }]);

    e2e.upstream.enqueue({ text: 'Ada.' });
    await e2e.client.responses.create({ model: MODEL, previous_response_id: prepared.id, input: 'What is my name?' });
    expect(upstreamBody(0).messages).toEqual([
      // Instructions are stored and echoed but, as with any previous response, not carried over.
      userText('My name is Ada.'),
      userText('What is my name?'),
    ]);
  });

  it('keeps assistant phase on stored input items and on replay, and sends two assistant messages as two', async () => {
    e2e.upstream.setDefault({ text: 'ok' });
    const input = [
      { role: 'user', content: 'Sum 2 and 2.' },
      { type: 'message', role: 'assistant', content: [{ type: 'output_text', text: 'Adding.' }], phase: 'commentary' },
      { type: 'message', role: 'assistant', content: [{ type: 'output_text', text: 'It is 4.' }], phase: 'final_answer' },
      { role: 'user', content: 'Thanks.' },
    ];
    const first = await e2e.client.responses.create({ model: MODEL, input } as never);
    const listed = await e2e.client.responses.inputItems.list(first.id, { order: 'asc' });
    expect(listed.data.map((item) => (item as { phase?: string }).phase)).toEqual([undefined, 'commentary', 'final_answer', undefined]);
    const assistants = [
      { role: 'assistant', content: 'Adding.' },
      { role: 'assistant', content: 'It is 4.' },
    ];
    expect(upstreamBody(0).messages).toEqual([userText('Sum 2 and 2.'), ...assistants, userText('Thanks.')]);

    // Replayed through previous_response_id: the history still holds both messages, apart.
    const second = await e2e.client.responses.create({ model: MODEL, previous_response_id: first.id, input: 'Again?' });
    expect(second.status).toBe('completed');
    const replayed = upstreamBody(1).messages as Body[];
    expect(replayed.slice(1, 3)).toEqual(assistants);
    // And by item_reference: the stored item comes back with its phase.
    const referenced = await e2e.client.responses.create({
      model: MODEL,
      input: [
        { type: 'item_reference', id: listed.data[1].id },
        { role: 'user', content: 'ok?' },
      ],
    } as never);
    const referencedItems = await e2e.client.responses.inputItems.list(referenced.id, { order: 'asc' });
    expect(referencedItems.data[0]).toMatchObject({ role: 'assistant', phase: 'commentary' });
  });
});

describe.each(backgroundModes('fields (background)'))('request fields in background mode, $name', (mode) => {
  const e2e = useE2e({ backend: mode, env: (upstream) => ({ INFERENCE_BASE_URL: upstream.url }), resetUpstream: true });

  it('keeps the new fields with the stored request: echoed while queued and when done, and sent upstream by the worker', async () => {
    e2e.upstream.enqueue({ text: 'later' });
    const fields = { ...NEW_FIELDS, background_options: { completion_window: '2h', continuation_id: 'batch-7' } };
    const queued = (await e2e.client.responses.create({ model: MODEL, input: 'hi', background: true, ...fields } as never)) as unknown as Body & { id: string };
    const echoed = { ...ECHOED, background_options: { completion_window: '2h', continuation_id: 'batch-7' } };
    expect(queued).toMatchObject({ status: 'queued', ...echoed });
    const done = await waitFor(
      () => e2e.client.responses.retrieve(queued.id),
      (r) => r.status === 'completed',
    );
    expect(done).toMatchObject(echoed);
    expect(e2e.upstream.requests[0].body).toMatchObject(FORWARDED);
  });
});
