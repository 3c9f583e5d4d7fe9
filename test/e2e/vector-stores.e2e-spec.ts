import OpenAI, { toFile } from 'openai';
import { storeBackends } from '../support/backends';
import { useE2e } from '../support/e2e';
import { waitFor } from '../support/wait';

const DOCS: Record<string, string> = {
  'billing.md': '# Billing\n\nInvoices are sent on the first day of each month. Refunds take five business days to reach the card.',
  'security.txt': 'All laptops use full disk encryption. Passwords rotate every ninety days; hardware keys are required for VPN access.',
  'holidays.html':
    '<html><head><style>p{color:red}</style><script>var secret = "hidden";</script></head><body><h1>Holidays</h1><p>Employees receive twenty-five paid vacation days per year.</p></body></html>',
};

const caught = (p: Promise<unknown>) =>
  p.then(
    () => null,
    (e: unknown) => e as { status?: number; error?: { param?: string | null; message?: string } },
  );

describe.each(storeBackends('vector stores'))('Vector Stores API and search on $name (openai SDK → gateway)', (backend) => {
  const e2e = useE2e({
    backend,
    env: (upstream) => ({
      API_KEYS: 'sk-a:team-a,sk-b:team-b',
      EMBEDDING_MODEL: 'fake-embed',
      EMBEDDING_DIMENSIONS: '64',
      EMBEDDING_BASE_URL: upstream.url,
      RECONCILE_INTERVAL_MS: '300',
    }),
  });
  let alice: OpenAI;
  let bob: OpenAI;
  beforeAll(() => {
    alice = e2e.as('sk-a');
    bob = e2e.as('sk-b');
  });

  async function upload(client: OpenAI, name: string, text = DOCS[name]) {
    return client.files.create({ file: await toFile(Buffer.from(text), name), purpose: 'assistants' });
  }

  it('creates a store, ingests files with createAndPoll and uploadAndPoll, and searches them by keyword and meaning', async () => {
    const store = await alice.vectorStores.create({ name: 'handbook', metadata: { team: 'a' } });
    expect(store).toMatchObject({
      object: 'vector_store',
      name: 'handbook',
      status: 'completed',
      file_counts: { total: 0 },
      // PGlite bundles pgvector (HNSW index); this machine's Postgres 15 has none (exact).
      search_mode: backend.name === 'pglite' ? 'hybrid_hnsw' : 'hybrid',
      embedding_model: 'fake-embed',
    });

    const billing = await upload(alice, 'billing.md');
    const added = await alice.vectorStores.files.createAndPoll(
      store.id,
      { file_id: billing.id, attributes: { topic: 'billing', year: 2026 } },
      { pollIntervalMs: 50 },
    );
    expect(added).toMatchObject({
      id: billing.id,
      object: 'vector_store.file',
      status: 'completed',
      last_error: null,
      vector_store_id: store.id,
      attributes: { topic: 'billing', year: 2026 },
    });
    expect(added.usage_bytes).toBeGreaterThan(0);

    const batch = await alice.vectorStores.fileBatches.uploadAndPoll(
      store.id,
      { files: [await toFile(Buffer.from(DOCS['security.txt']), 'security.txt'), await toFile(Buffer.from(DOCS['holidays.html']), 'holidays.html')] },
      { pollIntervalMs: 50 },
    );
    expect(batch).toMatchObject({ object: 'vector_store.files_batch', status: 'completed', file_counts: { completed: 2, total: 2, failed: 0 } });
    const listed = await alice.vectorStores.fileBatches.listFiles(batch.id, { vector_store_id: store.id });
    expect(listed.data).toHaveLength(2);

    const after = await alice.vectorStores.retrieve(store.id);
    expect(after.file_counts).toEqual({ in_progress: 0, completed: 3, failed: 0, cancelled: 0, total: 3 });
    expect(after.usage_bytes).toBeGreaterThan(0);

    const page = await alice.vectorStores.search(store.id, { query: 'how long do refunds take', max_num_results: 3 });
    const results = page.data;
    expect(results[0]).toMatchObject({ file_id: billing.id, filename: 'billing.md', attributes: { topic: 'billing', year: 2026 } });
    expect(results[0].content[0].text).toContain('Refunds take five business days');
    for (const r of results) {
      expect(r.score).toBeGreaterThan(0);
      expect(r.score).toBeLessThanOrEqual(1);
    }
    // HTML: visible text only.
    const content = await alice.vectorStores.files.content(
      (await alice.vectorStores.files.list(store.id, { filter: 'completed' })).data.find((f) => f.id !== billing.id && f.id)!.id,
      { vector_store_id: store.id },
    );
    expect(JSON.stringify(content.data)).not.toContain('secret');
  });

  it('filters on attributes in SQL, honours score_threshold and max_num_results, and refuses bad filters naming them', async () => {
    const store = await alice.vectorStores.create({ name: 'filters' });
    const a = await upload(alice, 'billing.md');
    const b = await upload(alice, 'security.txt');
    await alice.vectorStores.fileBatches.createAndPoll(
      store.id,
      {
        files: [
          { file_id: a.id, attributes: { topic: 'billing', year: 2025 } },
          { file_id: b.id, attributes: { topic: 'security', year: 2026 } },
        ],
      },
      { pollIntervalMs: 50 },
    );
    const query = 'days';
    const ids = async (filters: unknown) => (await alice.vectorStores.search(store.id, { query, filters: filters as never })).data.map((r) => r.file_id).sort();
    expect(await ids({ type: 'eq', key: 'topic', value: 'billing' })).toEqual([a.id]);
    expect(await ids({ type: 'gte', key: 'year', value: 2026 })).toEqual([b.id]);
    expect(await ids({ type: 'in', key: 'topic', value: ['billing', 'security'] })).toEqual([a.id, b.id].sort());
    expect(
      await ids({
        type: 'or',
        filters: [
          { type: 'eq', key: 'year', value: 2025 },
          { type: 'eq', key: 'topic', value: 'security' },
        ],
      }),
    ).toEqual([a.id, b.id].sort());
    expect(
      await ids({
        type: 'and',
        filters: [
          { type: 'ne', key: 'topic', value: 'billing' },
          { type: 'lt', key: 'year', value: 2026 },
        ],
      }),
    ).toEqual([]);
    expect((await alice.vectorStores.search(store.id, { query, max_num_results: 1 })).data).toHaveLength(1);
    expect((await alice.vectorStores.search(store.id, { query, ranking_options: { score_threshold: 1 } })).data.every((r) => r.score >= 1)).toBe(true);

    const bad = await caught(
      alice.vectorStores.search(store.id, { query, filters: { type: 'and', filters: [{ type: 'like', key: 'x', value: 1 }] } as never }),
    );
    expect(bad).toMatchObject({ status: 400, error: { param: 'filters.filters[0].type' } });
    const many = await caught(alice.vectorStores.search(store.id, { query, max_num_results: 51 }));
    expect(many).toMatchObject({ status: 400, error: { param: 'max_num_results' } });
    const chunking = await caught(
      alice.vectorStores.files.create(store.id, {
        file_id: a.id,
        chunking_strategy: { type: 'static', static: { max_chunk_size_tokens: 800, chunk_overlap_tokens: 500 } },
      }),
    );
    expect(chunking).toMatchObject({ status: 400, error: { param: 'chunking_strategy.static.chunk_overlap_tokens' } });
  });

  it('chunks with the static strategy, and removing or deleting a file removes its chunks from search', async () => {
    const long = Array.from({ length: 120 }, (_, i) => `Paragraph ${i} talks about the quarterly ${i % 2 ? 'zebra' : 'falcon'} report.`).join('\n\n');
    const store = await alice.vectorStores.create({ name: 'chunks' });
    const file = await upload(alice, 'long.txt', long);
    await alice.vectorStores.files.createAndPoll(
      store.id,
      { file_id: file.id, chunking_strategy: { type: 'static', static: { max_chunk_size_tokens: 100, chunk_overlap_tokens: 20 } } },
      { pollIntervalMs: 50 },
    );
    const content = await alice.vectorStores.files.content(file.id, { vector_store_id: store.id });
    expect(content.data.length).toBeGreaterThan(5);
    expect((await alice.vectorStores.search(store.id, { query: 'zebra' })).data.length).toBeGreaterThan(0);

    await alice.files.delete(file.id);
    expect((await alice.vectorStores.search(store.id, { query: 'zebra' })).data).toEqual([]);
    expect((await alice.vectorStores.retrieve(store.id)).file_counts.total).toBe(0);

    const again = await upload(alice, 'long.txt', long);
    await alice.vectorStores.files.createAndPoll(store.id, { file_id: again.id }, { pollIntervalMs: 50 });
    await alice.vectorStores.files.delete(again.id, { vector_store_id: store.id });
    expect((await alice.vectorStores.search(store.id, { query: 'falcon' })).data).toEqual([]);
    expect((await alice.files.retrieve(again.id)).id).toBe(again.id); // the file itself stays
  });

  it('a file that cannot be read ends failed with last_error, never stuck in progress', async () => {
    const store = await alice.vectorStores.create({ name: 'broken' });
    const pdf = await upload(alice, 'broken.pdf', '%PDF-1.7\nthis is not really a pdf');
    const done = await alice.vectorStores.files.createAndPoll(store.id, { file_id: pdf.id }, { pollIntervalMs: 50 });
    expect(done.status).toBe('failed');
    expect(done.last_error).toMatchObject({ code: expect.stringMatching(/invalid_file|unsupported_file/), message: expect.any(String) });
    const binary = await alice.files.create({ file: await toFile(Buffer.from([0, 1, 2, 3, 255, 254]), 'blob.bin'), purpose: 'assistants' });
    const unsupported = await alice.vectorStores.files.createAndPoll(store.id, { file_id: binary.id }, { pollIntervalMs: 50 });
    expect(unsupported).toMatchObject({ status: 'failed', last_error: { code: 'unsupported_file' } });
    expect((await alice.vectorStores.retrieve(store.id)).file_counts).toMatchObject({ failed: 2, in_progress: 0 });
  });

  it('retries ingestion when the embeddings upstream fails, then completes', async () => {
    const store = await alice.vectorStores.create({ name: 'retry' });
    const file = await upload(alice, 'billing.md');
    e2e.upstream.enqueueEmbeddings({ status: 503 }, { status: 503 }, { status: 503 }, { status: 503 });
    await alice.vectorStores.files.create(store.id, { file_id: file.id });
    const done = await waitFor(
      () => alice.vectorStores.files.retrieve(file.id, { vector_store_id: store.id }),
      (f) => f.status !== 'in_progress',
      20_000,
    );
    expect(done.status).toBe('completed');
  });

  it('cancels a batch: its files still being ingested end cancelled, and a run that finishes later writes nothing', async () => {
    const store = await alice.vectorStores.create({ name: 'cancel' });
    const a = await upload(alice, 'billing.md');
    const b = await upload(alice, 'security.txt');
    e2e.upstream.enqueueEmbeddings({ delayMs: 1500 }, { delayMs: 1500 });
    const batch = await alice.vectorStores.fileBatches.create(store.id, { file_ids: [a.id, b.id] });
    expect(batch).toMatchObject({ status: 'in_progress', file_counts: { in_progress: 2, total: 2 } });
    const cancelled = await alice.vectorStores.fileBatches.cancel(batch.id, { vector_store_id: store.id });
    expect(cancelled).toMatchObject({ status: 'cancelled', file_counts: { cancelled: 2, in_progress: 0 } });
    await new Promise((r) => setTimeout(r, 2500)); // the delayed runs end now: their writes are fenced out
    const files = await alice.vectorStores.fileBatches.listFiles(batch.id, { vector_store_id: store.id });
    expect(files.data.map((f) => f.status)).toEqual(['cancelled', 'cancelled']);
    expect((await alice.vectorStores.search(store.id, { query: 'refunds encryption' })).data).toEqual([]);
  });

  it('keeps tenants apart: another tenant’s stores and files are 404 everywhere, and its search never scores them', async () => {
    const store = await alice.vectorStores.create({ name: 'private' });
    const file = await upload(alice, 'security.txt');
    await alice.vectorStores.files.createAndPoll(store.id, { file_id: file.id }, { pollIntervalMs: 50 });
    const attempts: Array<[string, () => Promise<unknown>]> = [
      ['retrieve', () => bob.vectorStores.retrieve(store.id)],
      ['search', () => bob.vectorStores.search(store.id, { query: 'encryption' })],
      ['file', () => bob.vectorStores.files.retrieve(file.id, { vector_store_id: store.id })],
      ['files', () => bob.vectorStores.files.list(store.id)],
      ['content', () => bob.vectorStores.files.content(file.id, { vector_store_id: store.id })],
      ['update', () => bob.vectorStores.update(store.id, { name: 'taken' })],
      ['delete', () => bob.vectorStores.delete(store.id)],
    ];
    for (const [what, attempt] of attempts) expect([what, await caught(attempt())]).toMatchObject([what, { status: 404 }]);
    const own = await bob.vectorStores.create({ name: 'bob' });
    expect(await caught(bob.vectorStores.files.create(own.id, { file_id: file.id }))).toMatchObject({ status: 404, error: { param: 'file_id' } });
    expect(await caught(bob.vectorStores.create({ file_ids: [file.id] }))).toMatchObject({ status: 404, error: { param: 'file_ids' } });
    expect((await bob.vectorStores.list()).data.map((s) => s.id)).toEqual([own.id]);
    expect((await alice.vectorStores.search(store.id, { query: 'encryption' })).data.length).toBeGreaterThan(0);
  });

  it('lists, updates and deletes stores with OpenAI pagination', async () => {
    const made = [];
    for (let i = 0; i < 3; i++) made.push(await alice.vectorStores.create({ name: `page-${i}` }));
    const first = await alice.vectorStores.list({ limit: 2 });
    expect(first.data).toHaveLength(2);
    expect(first.has_more).toBe(true);
    const updated = await alice.vectorStores.update(made[0].id, {
      name: 'renamed',
      expires_after: { anchor: 'last_active_at', days: 7 },
      metadata: { k: 'v' },
    });
    expect(updated).toMatchObject({ name: 'renamed', expires_after: { anchor: 'last_active_at', days: 7 }, metadata: { k: 'v' } });
    expect(updated.expires_at).toBe(updated.last_active_at! + 7 * 86_400);
    expect(await alice.vectorStores.delete(made[0].id)).toEqual({ id: made[0].id, object: 'vector_store.deleted', deleted: true });
    expect(await caught(alice.vectorStores.retrieve(made[0].id))).toMatchObject({ status: 404 });
  });
});
