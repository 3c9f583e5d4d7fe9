import type { VectorStore, VectorStoreSearchResponse } from 'openai/resources/vector-stores/vector-stores';
import type { VectorStoreFile } from 'openai/resources/vector-stores/files';
import type { VectorStoreFileBatch } from 'openai/resources/vector-stores/file-batches';
import { unixSeconds } from '../common/ids';
import type { ChunkHit, StoredBatch, StoredVectorStore, StoredVectorStoreFile } from './persistence/vector-stores.store';
import type { SearchMode } from './retrieval/vector-search';

const DAY_MS = 86_400_000;

/**
 * The Vector Store object, plus two fields of ours (docs/file-search.md): `search_mode` —
 * `hybrid_hnsw` or `hybrid` (keyword and vector, fused; vectors by HNSW index or compared
 * exactly) or `keyword` (no embedding model) — and `embedding_model`.
 */
export type VectorStoreObject = VectorStore & { search_mode: SearchMode; embedding_model: string | null };

export function expiresAt(s: Pick<StoredVectorStore, 'expiresAfter' | 'lastActiveAt'>): Date | null {
  return s.expiresAfter ? new Date(s.lastActiveAt.getTime() + s.expiresAfter.days * DAY_MS) : null;
}

export function toVectorStore(s: StoredVectorStore, searchMode: SearchMode, now = new Date()): VectorStoreObject {
  const expires = expiresAt(s);
  const status = expires && expires <= now ? 'expired' : s.fileCounts.in_progress > 0 ? 'in_progress' : 'completed';
  return {
    id: s.id,
    object: 'vector_store',
    created_at: unixSeconds(s.createdAt),
    name: s.name,
    usage_bytes: s.usageBytes,
    file_counts: s.fileCounts,
    status,
    last_active_at: unixSeconds(s.lastActiveAt),
    metadata: s.metadata,
    ...(s.expiresAfter ? { expires_after: s.expiresAfter } : {}),
    expires_at: expires ? unixSeconds(expires) : null,
    search_mode: searchMode,
    embedding_model: s.embeddingModel,
  };
}

export function toVectorStoreFile(f: StoredVectorStoreFile): VectorStoreFile {
  return {
    id: f.fileId,
    object: 'vector_store.file',
    created_at: unixSeconds(f.createdAt),
    vector_store_id: f.vectorStoreId,
    status: f.status,
    last_error: f.lastError,
    usage_bytes: f.usageBytes,
    attributes: f.attributes,
    chunking_strategy: f.chunkingStrategy,
  };
}

export function toBatch(b: StoredBatch): VectorStoreFileBatch {
  const c = b.fileCounts;
  const status = c.in_progress > 0 ? 'in_progress' : b.cancelled ? 'cancelled' : c.total > 0 && c.failed === c.total ? 'failed' : 'completed';
  return { id: b.id, object: 'vector_store.files_batch', created_at: unixSeconds(b.createdAt), vector_store_id: b.vectorStoreId, status, file_counts: c };
}

export function toSearchResult(h: ChunkHit): VectorStoreSearchResponse {
  return { file_id: h.fileId, filename: h.filename, score: h.score, attributes: h.attributes, content: [{ type: 'text', text: h.text }] };
}
