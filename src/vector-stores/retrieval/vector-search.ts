import { Injectable, Logger } from '@nestjs/common';
import { AppConfig } from '../../config/app-config';
import { Embeddings } from '../../inference/embeddings';
import { type ChunkHit, type SearchScope, type StoredVectorStore, type VectorIndex, VectorStoresStore } from '../persistence/vector-stores.store';
import type { Filter } from './filters';
import { fuse, mergeQueries } from './fusion';

export interface SearchRequest {
  owner: string;
  vectorStoreIds: string[];
  queries: string[];
  maxResults: number;
  filter?: Filter;
  scoreThreshold?: number;
  signal?: AbortSignal;
}

/** How many candidates each ranking contributes before fusion, per result asked for. */
const CANDIDATES_PER_RESULT = 4;
const MIN_CANDIDATES = 20;

/**
 * What a store's search runs (the Vector Store object's `search_mode`): keyword and vector fused,
 * the vectors by pgvector's HNSW index (`hybrid_hnsw`) or compared exactly (`hybrid`); `keyword`
 * without an embedding model.
 */
export type SearchMode = 'hybrid_hnsw' | 'hybrid' | 'keyword';

/**
 * Hybrid retrieval over vector stores: Postgres full-text search always, fused by reciprocal rank
 * with vector similarity for the stores embedded with the deployment's embedding model. Used by
 * `POST /v1/vector_stores/{id}/search` and the `file_search` tool alike.
 */
@Injectable()
export class VectorSearch {
  private readonly logger = new Logger('VectorSearch');
  /** How the current embedding model's vectors are searched: set at start (prepare). */
  private index: VectorIndex = 'exact';

  constructor(
    private readonly store: VectorStoresStore,
    private readonly embeddings: Embeddings,
    private readonly config: AppConfig,
  ) {}

  /** Makes the HNSW index for the embedding model's dimension where pgvector is installed; returns how vectors will be searched. */
  async prepare(): Promise<VectorIndex> {
    if (this.embeddings.available && this.embeddings.dimensions) this.index = await this.store.prepareVectorIndex(this.embeddings.dimensions);
    return this.index;
  }

  /** A store's search mode: HNSW for the stores of the current model when the index exists. */
  searchMode(s: Pick<StoredVectorStore, 'embeddingModel' | 'dimensions'>): SearchMode {
    if (!s.embeddingModel) return 'keyword';
    return this.index === 'hnsw' && s.embeddingModel === this.embeddings.model && s.dimensions === this.embeddings.dimensions ? 'hybrid_hnsw' : 'hybrid';
  }

  /** `embeddingModels`: each store's model (null: keyword only). */
  async search(request: SearchRequest, embeddingModels: Map<string, string | null>): Promise<ChunkHit[]> {
    const limit = Math.max(MIN_CANDIDATES, request.maxResults * CANDIDATES_PER_RESULT);
    const scope = { owner: request.owner, vectorStoreIds: request.vectorStoreIds, filter: request.filter, limit };
    // Vectors only for stores embedded with the model this deployment has now.
    const embedded = this.embeddings.available ? request.vectorStoreIds.filter((id) => embeddingModels.get(id) === this.embeddings.model) : [];
    // The exact comparison is bounded by the stores' size; the HNSW index is not.
    const searchable = embedded.length > 0 && (this.index === 'hnsw' || (await this.withinExactBound(embedded)));
    const vectors = searchable ? await this.embedQueries(request) : null;
    const vectorScope = { ...scope, vectorStoreIds: embedded };
    const perQuery = await Promise.all(
      request.queries.map(async (query, i) => {
        const keyword = await this.store.keywordSearch(scope, query);
        if (!vectors) return keyword;
        return fuse([keyword, await this.vectorHits(vectorScope, vectors[i])]);
      }),
    );
    const threshold = request.scoreThreshold ?? 0;
    return mergeQueries(perQuery)
      .filter((h) => h.score >= threshold)
      .slice(0, request.maxResults);
  }

  /**
   * The nearest chunks. HNSW answers from its candidates, after which the scope's predicates
   * (attribute filters, completed files) drop some: a short answer on stores that hold more is
   * searched again exactly when they are within the exact bound; above it, the short answer stands.
   */
  private async vectorHits(scope: SearchScope, vector: number[]): Promise<ChunkHit[]> {
    if (this.index === 'exact') return this.store.vectorSearch(scope, vector, 'exact');
    const hits = await this.store.vectorSearch(scope, vector, 'hnsw');
    if (hits.length >= scope.limit) return hits;
    const chunks = await this.store.countChunks(scope.vectorStoreIds);
    return chunks > hits.length && chunks <= this.config.exactSearchMaxChunks ? this.store.vectorSearch(scope, vector, 'exact') : hits;
  }

  /** Whether the stores are small enough to compare every chunk by vector (FILE_SEARCH_EXACT_MAX_CHUNKS). */
  private async withinExactBound(ids: string[]): Promise<boolean> {
    const chunks = await this.store.countChunks(ids);
    if (chunks <= this.config.exactSearchMaxChunks) return true;
    this.logger.warn(`vector stores ${ids.join(', ')} hold ${chunks} chunks, more than FILE_SEARCH_EXACT_MAX_CHUNKS: searched by keyword only`);
    return false;
  }

  /** The queries' vectors; null when the embeddings upstream fails: the search goes on by keyword (logged), never fails for it. */
  private async embedQueries(request: SearchRequest): Promise<number[][] | null> {
    try {
      return (await this.embeddings.embed(request.queries, request.signal ?? new AbortController().signal)).vectors;
    } catch (error) {
      if (request.signal?.aborted) throw error;
      this.logger.warn(`query embedding failed, searching by keyword only: ${error instanceof Error ? error.message : String(error)}`);
      return null;
    }
  }
}
