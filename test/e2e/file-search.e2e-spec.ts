import OpenAI, { toFile } from 'openai';
import type { ResponseFileSearchToolCall, ResponseOutputMessage, ResponseStreamEvent } from 'openai/resources/responses/responses';
import { storeBackends } from '../support/backends';
import { useE2e } from '../support/e2e';
import { waitFor } from '../support/wait';

const caught = (p: Promise<unknown>) =>
  p.then(
    () => null,
    (e: unknown) => e as { status?: number; error?: { param?: string | null } },
  );

const search = (queries: string[], id = 'call_fs') => ({
  toolCalls: [{ id, name: 'file_search', arguments: JSON.stringify({ queries }) }],
  finishReason: 'tool_calls' as const,
});

describe.each(storeBackends('file_search'))('the file_search tool in responses on $name (openai SDK → gateway)', (backend) => {
  const e2e = useE2e({
    backend,
    resetUpstream: true,
    env: (upstream) => ({
      INFERENCE_BASE_URL: upstream.url,
      API_KEYS: 'sk-a:team-a,sk-b:team-b',
      EMBEDDING_MODEL: 'fake-embed',
      EMBEDDING_DIMENSIONS: '64',
      EMBEDDING_BASE_URL: upstream.url,
    }),
  });
  let alice: OpenAI;
  let bob: OpenAI;
  let storeId: string;
  let billingId: string;
  let securityId: string;

  beforeAll(async () => {
    alice = e2e.as('sk-a');
    bob = e2e.as('sk-b');
    const store = await alice.vectorStores.create({ name: 'handbook' });
    storeId = store.id;
    const billing = await alice.files.create({
      file: await toFile(Buffer.from('Refunds take five business days to reach the card. Invoices go out on the first day of the month.'), 'billing.md'),
      purpose: 'assistants',
    });
    const security = await alice.files.create({
      file: await toFile(Buffer.from('Laptops use full disk encryption and passwords rotate every ninety days.'), 'security.txt'),
      purpose: 'assistants',
    });
    billingId = billing.id;
    securityId = security.id;
    await alice.vectorStores.fileBatches.createAndPoll(
      storeId,
      {
        files: [
          { file_id: billingId, attributes: { team: 'finance' } },
          { file_id: securityId, attributes: { team: 'it' } },
        ],
      },
      { pollIntervalMs: 50 },
    );
  });

  it('searches server-side, gives the model the passages, and cites the file the answer names', async () => {
    e2e.upstream.enqueue(search(['refund duration']), { text: 'Refunds take five business days (billing.md).' });
    const response = await alice.responses.create({
      model: 'upstream-model',
      input: 'How long do refunds take?',
      tools: [{ type: 'file_search', vector_store_ids: [storeId] }],
      include: ['file_search_call.results'],
    });
    expect(response.status).toBe('completed');
    const [call, message] = response.output as [ResponseFileSearchToolCall, ResponseOutputMessage];
    expect(call).toMatchObject({ type: 'file_search_call', status: 'completed', queries: ['refund duration'], id: expect.stringMatching(/^fs_/) });
    expect(call.results?.[0]).toMatchObject({ file_id: billingId, filename: 'billing.md', attributes: { team: 'finance' } });
    expect(call.results?.[0].text).toContain('five business days');
    const text = message.content[0];
    expect(text.type === 'output_text' && text.annotations).toEqual([
      { type: 'file_citation', file_id: billingId, filename: 'billing.md', index: 'Refunds take five business days (billing.md'.length },
    ]);
    // The second upstream call carried the search results as the tool's answer.
    const second = e2e.upstream.requests[1].body as {
      messages: Array<{ role: string; content: string | null; tool_call_id?: string }>;
      tools: Array<{ function: { name: string } }>;
    };
    expect(second.tools.map((t) => t.function.name)).toContain('file_search');
    const tool = second.messages.find((m) => m.role === 'tool');
    expect(tool).toMatchObject({ tool_call_id: 'call_fs' });
    expect(tool?.content).toContain(`file_id="${billingId}"`);
    expect(tool?.content).toContain('Refunds take five business days');
  });

  it('keeps results out of the item unless included, honours the tool’s filters and max_num_results, and forces the tool once with tool_choice', async () => {
    e2e.upstream.enqueue(search(['days']), { text: 'Here is what I found.' });
    const response = await alice.responses.create({
      model: 'upstream-model',
      input: 'anything about days?',
      tools: [{ type: 'file_search', vector_store_ids: [storeId], filters: { type: 'eq', key: 'team', value: 'it' }, max_num_results: 1 }],
      tool_choice: { type: 'file_search' },
    });
    const call = response.output[0] as ResponseFileSearchToolCall;
    expect(call.results).toBeNull();
    const first = e2e.upstream.requests[0].body as { tool_choice: unknown };
    expect(first.tool_choice).toEqual({ type: 'function', function: { name: 'file_search' } });
    const second = e2e.upstream.requests[1].body as { tool_choice?: unknown; messages: Array<{ role: string; content: string | null }> };
    expect(second.tool_choice).toBe('auto');
    const tool = second.messages.find((m) => m.role === 'tool')!;
    expect(tool.content).toContain(securityId);
    expect(tool.content).not.toContain(billingId);
    expect((tool.content!.match(/<result /g) ?? []).length).toBe(1);
    // An answer that names no file cites the best-ranked file found, at the end.
    const message = response.output[1] as ResponseOutputMessage;
    const part = message.content[0];
    expect(part.type === 'output_text' && part.annotations).toEqual([
      { type: 'file_citation', file_id: securityId, filename: 'security.txt', index: 'Here is what I found.'.length },
    ]);
  });

  it('streams the file_search_call events in order, and runs in background mode', async () => {
    e2e.upstream.enqueue(search(['encryption']), { text: 'See security.txt.' });
    const stream = await alice.responses.create({
      model: 'upstream-model',
      input: 'Is disk encryption used?',
      tools: [{ type: 'file_search', vector_store_ids: [storeId] }],
      stream: true,
    });
    const types: string[] = [];
    let annotation: unknown;
    for await (const event of stream as AsyncIterable<ResponseStreamEvent>) {
      types.push(event.type);
      if (event.type === 'response.output_text.annotation.added') annotation = event.annotation;
    }
    const fs = types.filter((t) => t.includes('file_search_call') || t === 'response.output_item.added' || t === 'response.output_item.done').slice(0, 5);
    expect(fs).toEqual([
      'response.output_item.added',
      'response.file_search_call.in_progress',
      'response.file_search_call.searching',
      'response.file_search_call.completed',
      'response.output_item.done',
    ]);
    expect(annotation).toEqual({ type: 'file_citation', file_id: securityId, filename: 'security.txt', index: 'See security.txt'.length });
    expect(types.indexOf('response.output_text.annotation.added')).toBeLessThan(types.indexOf('response.output_text.done'));

    e2e.upstream.enqueue(search(['invoices']), { text: 'Invoices go out on the first (billing.md).' });
    const queued = await alice.responses.create({
      model: 'upstream-model',
      input: 'When are invoices sent?',
      tools: [{ type: 'file_search', vector_store_ids: [storeId] }],
      background: true,
    });
    const done = await waitFor(
      () => alice.responses.retrieve(queued.id),
      (r) => r.status !== 'queued' && r.status !== 'in_progress',
      15_000,
    );
    expect(done.status).toBe('completed');
    expect(done.output.map((i) => i.type)).toEqual(['file_search_call', 'message']);
  });

  it('continues with previous_response_id: the earlier search is in the model’s context', async () => {
    e2e.upstream.enqueue(search(['refunds']), { text: 'Five business days (billing.md).' });
    const first = await alice.responses.create({
      model: 'upstream-model',
      input: 'Refunds?',
      tools: [{ type: 'file_search', vector_store_ids: [storeId] }],
      include: ['file_search_call.results'],
    });
    e2e.upstream.enqueue({ text: 'As I said, five days.' });
    await alice.responses.create({
      model: 'upstream-model',
      input: 'Say it again',
      previous_response_id: first.id,
      tools: [{ type: 'file_search', vector_store_ids: [storeId] }],
    });
    const last = e2e.upstream.requests[e2e.upstream.requests.length - 1].body as {
      messages: Array<{ role: string; content: string | null; tool_calls?: Array<{ function: { name: string } }> }>;
    };
    expect(last.messages.some((m) => m.tool_calls?.[0]?.function.name === 'file_search')).toBe(true);
    expect(last.messages.find((m) => m.role === 'tool')?.content).toContain('five business days');
  });

  it('refuses another tenant’s (or an unknown) vector store with a 404 naming it, before anything runs', async () => {
    const before = e2e.upstream.requests.length;
    for (const client of [bob]) {
      const error = await caught(
        client.responses.create({ model: 'upstream-model', input: 'x', tools: [{ type: 'file_search', vector_store_ids: [storeId] }] }),
      );
      expect(error).toMatchObject({ status: 404, error: { param: 'tools[0].vector_store_ids' } });
    }
    const unknown = await caught(
      alice.responses.create({
        model: 'upstream-model',
        input: 'x',
        tools: [
          { type: 'function', name: 'f', parameters: null, strict: null },
          { type: 'file_search', vector_store_ids: ['vs_nope'] },
        ],
      }),
    );
    expect(unknown).toMatchObject({ status: 404, error: { param: 'tools[1].vector_store_ids' } });
    const bad = await caught(alice.responses.create({ model: 'upstream-model', input: 'x', tools: [{ type: 'file_search', vector_store_ids: [] }] }));
    expect(bad).toMatchObject({ status: 400, error: { param: 'tools[0].vector_store_ids' } });
    expect(e2e.upstream.requests.length).toBe(before);
  });
});
