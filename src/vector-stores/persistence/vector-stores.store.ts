import type { Page } from '../../database/page';
import type { Filter } from '../retrieval/filters';

export type FileStatus = 'in_progress' | 'completed' | 'cancelled' | 'failed';
export type Attributes = Record<string, string | number | boolean>;
export type ChunkingStrategy = { type: 'static'; static: { max_chunk_size_tokens: number; chunk_overlap_tokens: number } };
export interface LastError {
  code: 'server_error' | 'unsupported_file' | 'invalid_file';
  message: string;
}

export interface FileCounts {
  in_progress: number;
  completed: number;
  failed: number;
  cancelled: number;
  total: number;
}

export interface StoredVectorStore {
  id: string;
  owner: string;
  name: string;
  description: string | null;
  metadata: Record<string, string>;
  expiresAfter: { anchor: 'last_active_at'; days: number } | null;
  lastActiveAt: Date;
  embeddingModel: string | null;
  dimensions: number | null;
  createdAt: Date;
  /** Summed over its files. */
  usageBytes: number;
  fileCounts: FileCounts;
}

export interface StoredVectorStoreFile {
  vectorStoreId: string;
  fileId: string;
  owner: string;
  batchId: string | null;
  status: FileStatus;
  lastError: LastError | null;
  usageBytes: number;
  chunkingStrategy: ChunkingStrategy;
  attributes: Attributes | null;
  attempt: number;
  createdAt: Date;
}

export interface StoredBatch {
  id: string;
  vectorStoreId: string;
  owner: string;
  cancelled: boolean;
  createdAt: Date;
  fileCounts: FileCounts;
}

export interface NewFile {
  fileId: string;
  attributes: Attributes | null;
  chunkingStrategy: ChunkingStrategy;
}

export interface NewChunk {
  position: number;
  text: string;
  tokens: number;
  embedding: number[] | null;
}

export interface ListQuery {
  after?: string;
  before?: string;
  limit: number;
  order: 'asc' | 'desc';
}

/** A chunk a search found, with its rank score (keyword: ts_rank_cd in [0,1); vector: cosine similarity). */
export interface ChunkHit {
  chunkId: string;
  vectorStoreId: string;
  fileId: string;
  filename: string;
  text: string;
  attributes: Attributes | null;
  score: number;
}

export interface SearchScope {
  owner: string;
  vectorStoreIds: string[];
  filter?: Filter;
  limit: number;
}

/**
 * How vectors are compared: `hnsw`, pgvector's approximate index (where the extension is
 * installed, for the dimension it was made for); `exact`, every chunk in scope.
 */
export type VectorIndex = 'hnsw' | 'exact';

/** The vector stores feature's storage (port): stores, their files and ingestion state, chunks and search. */
export abstract class VectorStoresStore {
  abstract createStore(store: Omit<StoredVectorStore, 'usageBytes' | 'fileCounts' | 'lastActiveAt' | 'createdAt'>): Promise<void>;
  abstract getStore(owner: string, id: string): Promise<StoredVectorStore | null>;
  abstract listStores(owner: string, query: ListQuery): Promise<Page<StoredVectorStore>>;
  abstract updateStore(owner: string, id: string, changes: Partial<Pick<StoredVectorStore, 'name' | 'metadata' | 'expiresAfter'>>): Promise<boolean>;
  abstract deleteStore(owner: string, id: string): Promise<boolean>;
  /** `last_active_at` moves on a search (what `expires_after` counts from). */
  abstract touch(ids: string[]): Promise<void>;

  /** Adds files (those already in the store stay as they are); returns the rows, new or existing. */
  abstract addFiles(owner: string, vectorStoreId: string, files: NewFile[], batchId: string | null): Promise<StoredVectorStoreFile[]>;
  abstract getFile(owner: string, vectorStoreId: string, fileId: string): Promise<StoredVectorStoreFile | null>;
  abstract listFiles(owner: string, vectorStoreId: string, query: ListQuery & { status?: FileStatus; batchId?: string }): Promise<Page<StoredVectorStoreFile>>;
  abstract updateAttributes(owner: string, vectorStoreId: string, fileId: string, attributes: Attributes | null): Promise<boolean>;
  abstract removeFile(owner: string, vectorStoreId: string, fileId: string): Promise<boolean>;
  /** The searchable chunks of a completed file, in order. */
  abstract fileChunks(owner: string, vectorStoreId: string, fileId: string): Promise<string[]>;

  abstract createBatch(batch: { id: string; vectorStoreId: string; owner: string }): Promise<void>;
  abstract getBatch(owner: string, vectorStoreId: string, id: string): Promise<StoredBatch | null>;
  /** Cancels the batch's files still in progress; returns the ids cancelled. */
  abstract cancelBatch(owner: string, vectorStoreId: string, id: string): Promise<string[]>;

  /**
   * Claims a file for an ingestion run: `in_progress`, attempt + 1 (fencing any older run), chunks
   * of earlier attempts removed; null when it is no longer in progress or out of attempts.
   */
  abstract claim(vectorStoreId: string, fileId: string, maxAttempts: number): Promise<StoredVectorStoreFile | null>;
  /** Writes chunks of this attempt (several calls for a large file); nothing is searchable until `complete`. */
  abstract saveChunks(vectorStoreId: string, fileId: string, attempt: number, chunks: NewChunk[]): Promise<void>;
  /** `in_progress → completed` for this attempt only; false when someone else ended it. */
  abstract complete(vectorStoreId: string, fileId: string, attempt: number, usageBytes: number): Promise<boolean>;
  /** `in_progress → failed`; with `attempt`, only for that attempt. */
  abstract fail(vectorStoreId: string, fileId: string, attempt: number | null, error: LastError): Promise<boolean>;
  /** Marks a run's retry as due later without ending it (the reconciler dispatches it again). */
  abstract postpone(vectorStoreId: string, fileId: string, attempt: number): Promise<void>;
  /** Files in progress not touched since `olderThan`: what the reconciler dispatches again. */
  abstract findUnfinished(olderThan: Date, limit: number): Promise<Array<{ vectorStoreId: string; fileId: string }>>;

  /** The searchable chunks of these stores (what an exact vector search would compare). */
  abstract countChunks(vectorStoreIds: string[]): Promise<number>;
  abstract keywordSearch(scope: SearchScope, query: string): Promise<ChunkHit[]>;
  abstract vectorSearch(scope: SearchScope, embedding: number[], index: VectorIndex): Promise<ChunkHit[]>;
  /**
   * Makes the HNSW index for vectors of `dimensions` where pgvector is installed (idempotent: run
   * at every start); `exact` when it cannot be (no extension, or too many dimensions for HNSW).
   */
  abstract prepareVectorIndex(dimensions: number): Promise<VectorIndex>;
}
