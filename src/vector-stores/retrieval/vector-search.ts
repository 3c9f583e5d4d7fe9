import { Injectable, Logger } from '@nestjs/common';
import { AppConfig } from '../../config/app-config';
import { Embeddings } from '../../inference/embeddings';
import { type ChunkHit, VectorStoresStore } from '../persistence/vector-stores.store';
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
 * Hybrid retrieval over vector stores: Postgres full-text search always, fused by reciprocal rank
 * with vector similarity for the stores embedded with the deployment's embedding model. Used by
 * `POST /v1/vector_stores/{id}/search` and the `file_search` tool alike.
 */
@Injectable()
export class VectorSearch {
  private readonly logger = new Logger('VectorSearch');

  constructor(
    private readonly store: VectorStoresStore,
    private readonly embeddings: Embeddings,
    private readonly config: AppConfig,
  ) {}

  /** `embeddingModels`: each store's model (null: keyword only). */
  async search(request: SearchRequest, embeddingModels: Map<string, string | null>): Promise<ChunkHit[]> {
    const limit = Math.max(MIN_CANDIDATES, request.maxResults * CANDIDATES_PER_RESULT);
    const scope = { owner: request.owner, vectorStoreIds: request.vectorStoreIds, filter: request.filter, limit };
    // Vectors only for stores embedded with the model this deployment has now.
    const embedded = this.embeddings.available ? request.vectorStoreIds.filter((id) => embeddingModels.get(id) === this.embeddings.model) : [];
    const vectors = embedded.length && (await this.withinExactBound(embedded)) ? await this.embedQueries(request) : null;
    const perQuery = await Promise.all(
      request.queries.map(async (query, i) => {
        const keyword = await this.store.keywordSearch(scope, query);
        if (!vectors) return keyword;
        return fuse([keyword, await this.store.vectorSearch({ ...scope, vectorStoreIds: embedded }, vectors[i])]);
      }),
    );
    const threshold = request.scoreThreshold ?? 0;
    return mergeQueries(perQuery)
      .filter((h) => h.score >= threshold)
      .slice(0, request.maxResults);
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
