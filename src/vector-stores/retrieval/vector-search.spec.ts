import { AppConfig } from '../../config/app-config';
import { parseEnvironment } from '../../config/environment';
import type { Embeddings } from '../../inference/embeddings';
import type { ChunkHit, VectorIndex, VectorStoresStore } from '../persistence/vector-stores.store';
import { VectorSearch } from './vector-search';

const hit = (id: string, score: number): ChunkHit => ({
  chunkId: id,
  vectorStoreId: 'vs_1',
  fileId: `file-${id}`,
  filename: `${id}.txt`,
  text: id,
  attributes: null,
  score,
});

function setup(chunks: number, env: Record<string, string> = {}, available: VectorIndex = 'exact') {
  const calls = { keyword: 0, vector: 0, embed: 0 };
  const indexes: VectorIndex[] = [];
  const store = {
    countChunks: () => Promise.resolve(chunks),
    keywordSearch: () => (calls.keyword++, Promise.resolve([hit('a', 0.4), hit('b', 0.2)])),
    vectorSearch: (_scope: unknown, _vector: number[], index: VectorIndex) => (
      calls.vector++,
      indexes.push(index),
      Promise.resolve([hit('b', 0.9), hit('c', 0.8)])
    ),
    prepareVectorIndex: (dimensions: number) => Promise.resolve(dimensions === 4 ? available : 'exact'),
  } as unknown as VectorStoresStore;
  const embeddings = {
    available: true,
    model: 'm',
    dimensions: 4,
    embed: (t: string[]) => (calls.embed++, Promise.resolve({ vectors: t.map(() => [1, 0, 0, 0]) })),
  } as unknown as Embeddings;
  const search = new VectorSearch(store, embeddings, new AppConfig(parseEnvironment({ DATA_DIR: 'memory://', ...env })));
  const run = () => search.search({ owner: 'o', vectorStoreIds: ['vs_1'], queries: ['q'], maxResults: 10 }, new Map([['vs_1', 'm']]));
  return { calls, indexes, run, search };
}

describe('VectorSearch', () => {
  it('fuses keyword and vector rankings by rank: in both lists first, scores in (0, 1]', async () => {
    const { calls, run } = setup(10);
    const hits = await run();
    expect(calls).toEqual({ keyword: 1, vector: 1, embed: 1 });
    expect(hits.map((h) => h.chunkId)).toEqual(['b', 'a', 'c']);
    expect(hits.every((h) => h.score > 0 && h.score <= 1)).toBe(true);
  });

  it('searches by keyword only when the stores hold more chunks than FILE_SEARCH_EXACT_MAX_CHUNKS', async () => {
    const { calls, run } = setup(60_000);
    const hits = await run();
    expect(calls).toEqual({ keyword: 1, vector: 0, embed: 0 });
    expect(hits.map((h) => [h.chunkId, h.score])).toEqual([
      ['a', 0.4],
      ['b', 0.2],
    ]);
    const raised = setup(60_000, { FILE_SEARCH_EXACT_MAX_CHUNKS: '100000' });
    await raised.run();
    expect(raised.calls.vector).toBe(1);
  });

  it('with an HNSW index: no size bound, a short answer searched again exactly within the bound, and the mode per store', async () => {
    const big = setup(60_000, {}, 'hnsw');
    expect(await big.search.prepare()).toBe('hnsw');
    await big.run();
    // Two hits, fewer than asked for, but the stores are past the exact bound: the HNSW answer stands.
    expect(big.calls).toEqual({ keyword: 1, vector: 1, embed: 1 });
    expect(big.indexes).toEqual(['hnsw']);

    const filtered = setup(10, {}, 'hnsw');
    await filtered.search.prepare();
    await filtered.run();
    expect(filtered.indexes).toEqual(['hnsw', 'exact']);

    const whole = setup(2, {}, 'hnsw');
    await whole.search.prepare();
    await whole.run();
    expect(whole.indexes).toEqual(['hnsw']);

    expect(big.search.searchMode({ embeddingModel: 'm', dimensions: 4 })).toBe('hybrid_hnsw');
    expect(big.search.searchMode({ embeddingModel: 'older', dimensions: 4 })).toBe('hybrid');
    expect(big.search.searchMode({ embeddingModel: null, dimensions: null })).toBe('keyword');
  });

  it('without pgvector: exact, and the stores say hybrid', async () => {
    const { search, indexes, run } = setup(10);
    expect(await search.prepare()).toBe('exact');
    await run();
    expect(indexes).toEqual(['exact']);
    expect(search.searchMode({ embeddingModel: 'm', dimensions: 4 })).toBe('hybrid');
  });
});
