import { DataSource } from 'typeorm';
import { newId } from '../../src/common/ids';
import { dataSourceOptions } from '../../src/data-source';
import { TypeOrmFilesStore } from '../../src/files/persistence/typeorm-files.store';
import { TypeOrmVectorStoresStore } from '../../src/vector-stores/persistence/typeorm-vector-stores.store';
import type { SearchScope } from '../../src/vector-stores/persistence/vector-stores.store';
import { storeBackends } from '../support/backends';

const DIMENSIONS = 8;
const OWNER = 'team-v';
const STRATEGY = { type: 'static' as const, static: { max_chunk_size_tokens: 800, chunk_overlap_tokens: 400 } };

/** A deterministic unit vector (a small xorshift per seed): many well-spread points. */
function unit(seed: number): number[] {
  let x = seed * 2654435761 + 1;
  const v = Array.from({ length: DIMENSIONS }, () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return ((x >>> 0) / 2 ** 32) * 2 - 1;
  });
  const norm = Math.hypot(...v);
  return v.map((a) => a / norm);
}

const dot = (a: number[], b: number[]) => a.reduce((s, x, i) => s + x * b[i], 0);

describe.each(storeBackends('vector stores store'))('vector search on $name', (backend) => {
  let dataSource: DataSource;
  let store: TypeOrmVectorStoresStore;
  let teardown: () => Promise<void>;
  let storeId: string;
  /** Chunk vectors by text (the chunk's text is its index). */
  const vectors: number[][] = [];
  const CHUNKS = 600;
  const hnsw = backend.name === 'pglite';

  const vectorColumn = async () =>
    (
      await dataSource.query(
        `SELECT 1 FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = 'vector_store_chunks' AND column_name = 'embedding_vec'`,
      )
    ).length > 0;

  beforeAll(async () => {
    const { env, teardown: down } = await backend.setup();
    teardown = down;
    dataSource = new DataSource(dataSourceOptions({ databaseUrl: env.DATABASE_URL, dataDir: env.DATA_DIR ?? '' }));
    await dataSource.initialize();
    store = new TypeOrmVectorStoresStore(dataSource);
    const files = new TypeOrmFilesStore(dataSource);
    storeId = newId('vs');
    await store.createStore({
      id: storeId,
      owner: OWNER,
      name: 'v',
      description: null,
      metadata: {},
      expiresAfter: null,
      embeddingModel: 'm',
      dimensions: DIMENSIONS,
    });
    // Two files: attributes tell them apart for the filtered search.
    for (const [f, half] of [0, 1].entries()) {
      const fileId = newId('file', '-');
      await files.begin({ id: fileId, owner: OWNER, filename: `f${f}.txt`, contentType: 'text/plain', createdAt: new Date() });
      await files.finish(fileId, { purpose: 'assistants', bytes: 1, expiresAt: null, maxTenantBytes: 0 });
      await store.addFiles(OWNER, storeId, [{ fileId, attributes: { half }, chunkingStrategy: STRATEGY }], null);
      const claimed = (await store.claim(storeId, fileId, 3))!;
      const rows = Array.from({ length: CHUNKS / 2 }, (_, i) => {
        const n = f * (CHUNKS / 2) + i;
        vectors[n] = unit(n + 1);
        return { position: i, text: String(n), tokens: 1, embedding: vectors[n] };
      });
      await store.saveChunks(storeId, fileId, claimed.attempt, rows);
      expect(await store.complete(storeId, fileId, claimed.attempt, 1)).toBe(true);
    }
  });

  afterAll(async () => {
    await dataSource?.destroy();
    await teardown?.();
  });

  const scope = (over: Partial<SearchScope> = {}): SearchScope => ({ owner: OWNER, vectorStoreIds: [storeId], limit: 10, ...over });
  /** The true nearest chunks (texts), by brute force here. */
  const nearest = (q: number[], k: number, among = (_n: number) => true) =>
    vectors
      .map((v, n) => ({ n, s: dot(v, q) }))
      .filter((x) => among(x.n))
      .sort((a, b) => b.s - a.s)
      .slice(0, k)
      .map((x) => String(x.n));

  it(hnsw ? 'has pgvector: the vector column and an HNSW index for the dimension' : 'has no pgvector: vectors stay real[], searched exactly', async () => {
    expect(await vectorColumn()).toBe(hnsw);
    expect(await store.prepareVectorIndex(DIMENSIONS)).toBe(hnsw ? 'hnsw' : 'exact');
    // Idempotent: a second start finds the index made.
    expect(await store.prepareVectorIndex(DIMENSIONS)).toBe(hnsw ? 'hnsw' : 'exact');
    // Past HNSW's 2,000 dimensions: exact.
    expect(await store.prepareVectorIndex(3072)).toBe('exact');
    const indexes = await dataSource.query<Array<{ indexname: string }>>(`SELECT indexname FROM pg_indexes WHERE tablename = 'vector_store_chunks'`);
    expect(indexes.map((i) => i.indexname).includes(`vector_store_chunks_hnsw_${DIMENSIONS}`)).toBe(hnsw);
    const stored = await dataSource.query<Array<{ n: string | number }>>(`SELECT count(*) FILTER (WHERE embedding IS NOT NULL) AS n FROM vector_store_chunks`);
    expect(Number(stored[0].n)).toBe(hnsw ? 0 : CHUNKS);
  });

  it('finds the nearest chunks, with scores the cosine, HNSW or exact', async () => {
    await store.prepareVectorIndex(DIMENSIONS);
    for (const seed of [10_001, 10_002, 10_003]) {
      const q = unit(seed);
      for (const index of ['hnsw', 'exact'] as const) {
        const hits = await store.vectorSearch(scope(), q, index);
        expect(hits.map((h) => h.text)).toEqual(nearest(q, 10));
        for (const h of hits) expect(h.score).toBeCloseTo(dot(vectors[Number(h.text)], q), 4);
      }
    }
  });

  it('applies attribute filters with the index (the HNSW scan goes on until enough rows pass them)', async () => {
    await store.prepareVectorIndex(DIMENSIONS);
    const q = unit(20_001);
    const hits = await store.vectorSearch(scope({ filter: { type: 'eq', key: 'half', value: 1 } }), q, 'hnsw');
    expect(hits.map((h) => h.text)).toEqual(nearest(q, 10, (n) => n >= CHUNKS / 2));
  });

  if (hnsw) {
    it("runs the HNSW search on the index: the store's own statement's plan names it", async () => {
      await store.prepareVectorIndex(DIMENSIONS);
      const statements: Array<[string, unknown[]]> = [];
      const query = dataSource.query.bind(dataSource);
      const spy = jest.spyOn(dataSource, 'query').mockImplementation((text: string, params?: unknown) => {
        const values = Array.isArray(params) ? (params as unknown[]) : [];
        statements.push([text, values]);
        return query(text, values);
      });
      try {
        await store.vectorSearch(scope(), unit(30_001), 'hnsw');
      } finally {
        spy.mockRestore();
      }
      const [text, params] = statements.find(([t]) => t.includes('<=>'))!;
      const plan = (await dataSource.query<Array<{ 'QUERY PLAN': string }>>(`EXPLAIN ${text}`, params)).map((r) => r['QUERY PLAN']).join('\n');
      expect(plan).toContain(`Index Scan using vector_store_chunks_hnsw_${DIMENSIONS}`);
    });

    it('migrates down to real[] and up again to the vector column, keeping every vector', async () => {
      const q = unit(40_001);
      // The migrations after it first (each has its down), then VectorColumn itself.
      const names = dataSource.migrations.map((m) => m.name);
      const index = names.indexOf('VectorColumn1764000900000');
      expect(index).toBeGreaterThanOrEqual(0);
      for (let i = names.length - 1; i >= index; i--) await dataSource.undoLastMigration();
      expect(await vectorColumn()).toBe(false);
      const down = new TypeOrmVectorStoresStore(dataSource);
      expect(await down.prepareVectorIndex(DIMENSIONS)).toBe('exact');
      expect((await down.vectorSearch(scope(), q, 'exact')).map((h) => h.text)).toEqual(nearest(q, 10));

      await dataSource.runMigrations();
      expect(await vectorColumn()).toBe(true);
      const up = new TypeOrmVectorStoresStore(dataSource);
      expect(await up.prepareVectorIndex(DIMENSIONS)).toBe('hnsw');
      expect((await up.vectorSearch(scope(), q, 'hnsw')).map((h) => h.text)).toEqual(nearest(q, 10));
    });
  }
});
