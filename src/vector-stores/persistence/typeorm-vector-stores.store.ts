import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import type { Page } from '../../database/page';
import { keysetPage, type Cursor } from '../../database/pagination';
import { date, json, Sql } from '../../database/sql';
import { filterSql } from '../retrieval/filters';
import {
  type Attributes,
  type ChunkHit,
  type ChunkingStrategy,
  type FileCounts,
  type FileStatus,
  type LastError,
  type ListQuery,
  type NewChunk,
  type NewFile,
  type SearchScope,
  type StoredBatch,
  type StoredVectorStore,
  type StoredVectorStoreFile,
  type VectorIndex,
  VectorStoresStore,
} from './vector-stores.store';

/** The text search configuration of the keyword index (stemming, stop words). */
const TEXT_CONFIG = 'english';

/** pgvector's HNSW indexes `vector` up to this many dimensions. */
const HNSW_MAX_DIMENSIONS = 2000;
/**
 * HNSW search settings (pgvector 0.8+). The index yields its nearest candidates and the scope's
 * predicates (owner, stores, completed files, attribute filters) drop some after it: with
 * `iterative_scan` it goes on scanning until LIMIT rows pass them (or `max_scan_tuples`, 20,000
 * by default); `ef_search` is the candidate list per step, above our largest LIMIT (200).
 */
const HNSW_SETTINGS = { 'hnsw.ef_search': '200', 'hnsw.iterative_scan': 'strict_order' };
/** On PGlite, chunks written since the last ANALYZE before the next one: at least this many, and a tenth of the table. */
const ANALYZE_MIN_ROWS = 1000;

interface CountsRow {
  in_progress: string | number;
  completed: string | number;
  failed: string | number;
  cancelled: string | number;
  total: string | number;
}

interface StoreRow extends CountsRow {
  id: string;
  owner: string;
  name: string;
  description: string | null;
  metadata: Record<string, string> | string;
  expires_after: StoredVectorStore['expiresAfter'] | string;
  last_active_at: Date | string;
  embedding_model: string | null;
  dimensions: number | null;
  created_at: Date | string;
  usage_bytes: string | number;
}

interface FileRow {
  vector_store_id: string;
  file_id: string;
  owner: string;
  batch_id: string | null;
  status: FileStatus;
  last_error: LastError | string | null;
  usage_bytes: string | number;
  chunking_strategy: ChunkingStrategy | string;
  attributes: Attributes | string | null;
  attempt: number;
  created_at: Date | string;
}

interface HitRow {
  id: string | number;
  vector_store_id: string;
  file_id: string;
  filename: string;
  text: string;
  attributes: Attributes | string | null;
  score: string | number;
}

const counts = (r: CountsRow): FileCounts => ({
  in_progress: Number(r.in_progress),
  completed: Number(r.completed),
  failed: Number(r.failed),
  cancelled: Number(r.cancelled),
  total: Number(r.total),
});

/** Counts of `vector_store_files` rows matching `where` (on alias f). */
const COUNTS = (where: string) => `(
  SELECT count(*) FILTER (WHERE f.status = 'in_progress') AS in_progress,
         count(*) FILTER (WHERE f.status = 'completed') AS completed,
         count(*) FILTER (WHERE f.status = 'failed') AS failed,
         count(*) FILTER (WHERE f.status = 'cancelled') AS cancelled,
         count(*) AS total,
         COALESCE(sum(f.usage_bytes), 0) AS usage_bytes
  FROM vector_store_files f WHERE ${where})`;

const STORE_SELECT = `SELECT s.*, c.* FROM vector_stores s CROSS JOIN LATERAL ${COUNTS('f.vector_store_id = s.id')} c`;

function toStore(r: StoreRow): StoredVectorStore {
  return {
    id: r.id,
    owner: r.owner,
    name: r.name,
    description: r.description,
    metadata: json(r.metadata),
    expiresAfter: r.expires_after === null ? null : json(r.expires_after),
    lastActiveAt: date(r.last_active_at),
    embeddingModel: r.embedding_model,
    dimensions: r.dimensions,
    createdAt: date(r.created_at),
    usageBytes: Number(r.usage_bytes),
    fileCounts: counts(r),
  };
}

const FILE_COLUMNS = 'vector_store_id, file_id, owner, batch_id, status, last_error, usage_bytes, chunking_strategy, attributes, attempt, created_at';

function toFile(r: FileRow): StoredVectorStoreFile {
  return {
    vectorStoreId: r.vector_store_id,
    fileId: r.file_id,
    owner: r.owner,
    batchId: r.batch_id,
    status: r.status,
    lastError: r.last_error === null ? null : json(r.last_error),
    usageBytes: Number(r.usage_bytes),
    chunkingStrategy: json(r.chunking_strategy),
    attributes: r.attributes === null ? null : json(r.attributes),
    attempt: r.attempt,
    createdAt: date(r.created_at),
  };
}

const toHit = (r: HitRow): ChunkHit => ({
  chunkId: String(r.id),
  vectorStoreId: r.vector_store_id,
  fileId: r.file_id,
  filename: r.filename,
  text: r.text,
  attributes: r.attributes === null ? null : json(r.attributes),
  score: Number(r.score),
});

/** Postgres text cannot hold NUL. */
const clean = (text: string) => text.replaceAll('\u0000', '');

/**
 * The vector stores store on TypeORM (Postgres or embedded PGlite). As in the other stores,
 * every write is one statement (data-modifying CTEs): PGlite has a single connection.
 */
@Injectable()
export class TypeOrmVectorStoresStore extends VectorStoresStore {
  private readonly sql: Sql;
  /** Whether chunks have the pgvector column (migration 1764000900000, where the extension exists): found on first use. */
  private vectorColumn?: Promise<boolean>;
  /** The dimension the HNSW index was made for at start (prepareVectorIndex). */
  private hnswDimensions: number | null = null;
  /** Whether the database is PGlite: found on first use. */
  private embedded?: Promise<boolean>;
  /** Chunks written since the last ANALYZE, and the table's rows then (PGlite). */
  private unanalyzed = 0;
  private analyzedRows = 0;

  constructor(@InjectDataSource() dataSource: DataSource) {
    super();
    this.sql = new Sql(dataSource);
  }

  /**
   * An UPDATE or DELETE … RETURNING, read through a CTE: TypeORM's query() answers those two
   * commands with [rows, count] (PGlite's path), a SELECT with its rows on both drivers.
   */
  private returning<T>(statement: string, params: unknown[]): Promise<T[]> {
    return this.sql.query<T>(`WITH changed AS (${statement}) SELECT * FROM changed`, params);
  }

  async createStore(s: Omit<StoredVectorStore, 'usageBytes' | 'fileCounts' | 'lastActiveAt' | 'createdAt'>): Promise<void> {
    await this.sql.query(
      `INSERT INTO vector_stores (id, owner, name, description, metadata, expires_after, embedding_model, dimensions)
       VALUES ($1, $2, $3, $4, $5::jsonb, $6::jsonb, $7, $8)`,
      [s.id, s.owner, s.name, s.description, JSON.stringify(s.metadata), s.expiresAfter && JSON.stringify(s.expiresAfter), s.embeddingModel, s.dimensions],
    );
  }

  async getStore(owner: string, id: string): Promise<StoredVectorStore | null> {
    const rows = await this.sql.query<StoreRow>(`${STORE_SELECT} WHERE s.owner = $1 AND s.id = $2`, [owner, id]);
    return rows.length ? toStore(rows[0]) : null;
  }

  async listStores(owner: string, q: ListQuery): Promise<Page<StoredVectorStore>> {
    const cursors = (['after', 'before'] as const).map((param): Cursor => ({
      param,
      id: q[param],
      find: { text: 'SELECT created_at, id FROM vector_stores WHERE owner = $1 AND id = $2', params: [owner, q[param]] },
    }));
    const page = await keysetPage<StoreRow>(this.sql, {
      select: STORE_SELECT,
      where: ['s.owner = $1'],
      params: [owner],
      orderBy: ['s.created_at', 's.id'],
      keyTypes: ['timestamptz', undefined],
      order: q.order,
      limit: q.limit,
      cursors,
    });
    return { data: page.data.map(toStore), hasMore: page.hasMore };
  }

  async updateStore(owner: string, id: string, c: Partial<Pick<StoredVectorStore, 'name' | 'metadata' | 'expiresAfter'>>): Promise<boolean> {
    const rows = await this.returning(
      `UPDATE vector_stores SET
         name = CASE WHEN $3 THEN $4 ELSE name END,
         metadata = CASE WHEN $5 THEN $6::jsonb ELSE metadata END,
         expires_after = CASE WHEN $7 THEN $8::jsonb ELSE expires_after END
       WHERE owner = $1 AND id = $2 RETURNING id`,
      [
        owner,
        id,
        c.name !== undefined,
        c.name ?? null,
        c.metadata !== undefined,
        c.metadata === undefined ? null : JSON.stringify(c.metadata),
        c.expiresAfter !== undefined,
        c.expiresAfter ? JSON.stringify(c.expiresAfter) : null,
      ],
    );
    return rows.length > 0;
  }

  async deleteStore(owner: string, id: string): Promise<boolean> {
    return (await this.returning('DELETE FROM vector_stores WHERE owner = $1 AND id = $2 RETURNING id', [owner, id])).length > 0;
  }

  async touch(ids: string[]): Promise<void> {
    await this.sql.query('UPDATE vector_stores SET last_active_at = now() WHERE id = ANY($1)', [ids]);
  }

  async addFiles(owner: string, vectorStoreId: string, files: NewFile[], batchId: string | null): Promise<StoredVectorStoreFile[]> {
    const rows = await this.sql.query<FileRow>(
      `WITH input AS (
         SELECT x.file_id, x.attributes, x.chunking_strategy, x.ord
         FROM jsonb_to_recordset($3::jsonb) AS x(file_id text, attributes jsonb, chunking_strategy jsonb, ord int)
       ), inserted AS (
         INSERT INTO vector_store_files (vector_store_id, file_id, owner, batch_id, status, chunking_strategy, attributes)
         SELECT $1, i.file_id, $2, $4, 'in_progress', i.chunking_strategy, i.attributes FROM input i ORDER BY i.ord
         ON CONFLICT (vector_store_id, file_id) DO NOTHING
         RETURNING ${FILE_COLUMNS}
       )
       SELECT * FROM inserted
       UNION ALL
       SELECT ${FILE_COLUMNS} FROM vector_store_files
       WHERE vector_store_id = $1 AND file_id IN (SELECT file_id FROM input) AND file_id NOT IN (SELECT file_id FROM inserted)`,
      [
        vectorStoreId,
        owner,
        JSON.stringify(files.map((f, ord) => ({ file_id: f.fileId, attributes: f.attributes, chunking_strategy: f.chunkingStrategy, ord }))),
        batchId,
      ],
      { prepare: false },
    );
    const byId = new Map(rows.map((r) => [r.file_id, toFile(r)]));
    return files.map((f) => byId.get(f.fileId)!).filter(Boolean);
  }

  async getFile(owner: string, vectorStoreId: string, fileId: string): Promise<StoredVectorStoreFile | null> {
    const rows = await this.sql.query<FileRow>(`SELECT ${FILE_COLUMNS} FROM vector_store_files WHERE owner = $1 AND vector_store_id = $2 AND file_id = $3`, [
      owner,
      vectorStoreId,
      fileId,
    ]);
    return rows.length ? toFile(rows[0]) : null;
  }

  async listFiles(owner: string, vectorStoreId: string, q: ListQuery & { status?: FileStatus; batchId?: string }): Promise<Page<StoredVectorStoreFile>> {
    const params: unknown[] = [owner, vectorStoreId];
    const where = ['f.owner = $1', 'f.vector_store_id = $2'];
    if (q.status) where.push(`f.status = $${params.push(q.status)}`);
    if (q.batchId) where.push(`f.batch_id = $${params.push(q.batchId)}`);
    const cursors = (['after', 'before'] as const).map((param): Cursor => ({
      param,
      id: q[param],
      find: {
        text: 'SELECT created_at, file_id FROM vector_store_files WHERE owner = $1 AND vector_store_id = $2 AND file_id = $3',
        params: [owner, vectorStoreId, q[param]],
      },
    }));
    const page = await keysetPage<FileRow>(this.sql, {
      select: `SELECT ${FILE_COLUMNS} FROM vector_store_files f`,
      where,
      params,
      orderBy: ['f.created_at', 'f.file_id'],
      keyTypes: ['timestamptz', undefined],
      order: q.order,
      limit: q.limit,
      cursors,
    });
    return { data: page.data.map(toFile), hasMore: page.hasMore };
  }

  async updateAttributes(owner: string, vectorStoreId: string, fileId: string, attributes: Attributes | null): Promise<boolean> {
    const rows = await this.returning(
      'UPDATE vector_store_files SET attributes = $4::jsonb WHERE owner = $1 AND vector_store_id = $2 AND file_id = $3 RETURNING file_id',
      [owner, vectorStoreId, fileId, attributes && JSON.stringify(attributes)],
    );
    return rows.length > 0;
  }

  async removeFile(owner: string, vectorStoreId: string, fileId: string): Promise<boolean> {
    const rows = await this.returning('DELETE FROM vector_store_files WHERE owner = $1 AND vector_store_id = $2 AND file_id = $3 RETURNING file_id', [
      owner,
      vectorStoreId,
      fileId,
    ]);
    return rows.length > 0;
  }

  async fileChunks(owner: string, vectorStoreId: string, fileId: string): Promise<string[]> {
    const rows = await this.sql.query<{ text: string }>(
      `SELECT c.text FROM vector_store_chunks c
       JOIN vector_store_files f ON f.vector_store_id = c.vector_store_id AND f.file_id = c.file_id AND f.attempt = c.attempt
       WHERE f.owner = $1 AND f.vector_store_id = $2 AND f.file_id = $3 AND f.status = 'completed'
       ORDER BY c.position`,
      [owner, vectorStoreId, fileId],
    );
    return rows.map((r) => r.text);
  }

  async createBatch(b: { id: string; vectorStoreId: string; owner: string }): Promise<void> {
    await this.sql.query('INSERT INTO vector_store_file_batches (id, vector_store_id, owner) VALUES ($1, $2, $3)', [b.id, b.vectorStoreId, b.owner]);
  }

  async getBatch(owner: string, vectorStoreId: string, id: string): Promise<StoredBatch | null> {
    const rows = await this.sql.query<CountsRow & { id: string; vector_store_id: string; owner: string; batch_cancelled: boolean; created_at: Date | string }>(
      `SELECT b.id, b.vector_store_id, b.owner, b.cancelled AS batch_cancelled, b.created_at, c.* FROM vector_store_file_batches b CROSS JOIN LATERAL ${COUNTS('f.batch_id = b.id')} c
       WHERE b.owner = $1 AND b.vector_store_id = $2 AND b.id = $3`,
      [owner, vectorStoreId, id],
    );
    if (!rows.length) return null;
    const r = rows[0];
    return { id: r.id, vectorStoreId: r.vector_store_id, owner: r.owner, cancelled: r.batch_cancelled, createdAt: date(r.created_at), fileCounts: counts(r) };
  }

  async cancelBatch(owner: string, vectorStoreId: string, id: string): Promise<string[]> {
    const rows = await this.sql.query<{ file_id: string }>(
      `WITH batch AS (
         UPDATE vector_store_file_batches SET cancelled = true WHERE owner = $1 AND vector_store_id = $2 AND id = $3 RETURNING id
       )
       , cancelled AS (
         UPDATE vector_store_files SET status = 'cancelled', updated_at = now()
         WHERE batch_id IN (SELECT id FROM batch) AND vector_store_id = $2 AND status = 'in_progress'
         RETURNING file_id
       )
       SELECT file_id FROM cancelled`,
      [owner, vectorStoreId, id],
    );
    return rows.map((r) => r.file_id);
  }

  async claim(vectorStoreId: string, fileId: string, maxAttempts: number): Promise<StoredVectorStoreFile | null> {
    const rows = await this.sql.query<FileRow>(
      `WITH claimed AS (
         UPDATE vector_store_files SET attempt = attempt + 1, updated_at = now()
         WHERE vector_store_id = $1 AND file_id = $2 AND status = 'in_progress' AND attempt < $3
         RETURNING ${FILE_COLUMNS}
       ), stale AS (
         DELETE FROM vector_store_chunks c USING claimed
         WHERE c.vector_store_id = claimed.vector_store_id AND c.file_id = claimed.file_id AND c.attempt < claimed.attempt
       )
       SELECT * FROM claimed`,
      [vectorStoreId, fileId, maxAttempts],
    );
    return rows.length ? toFile(rows[0]) : null;
  }

  private hasVectorColumn(): Promise<boolean> {
    this.vectorColumn ??= this.sql
      .query(
        `SELECT 1 FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = 'vector_store_chunks' AND column_name = 'embedding_vec'`,
      )
      .then((rows) => rows.length > 0);
    return this.vectorColumn;
  }

  async saveChunks(vectorStoreId: string, fileId: string, attempt: number, chunks: NewChunk[]): Promise<void> {
    // With pgvector the vector goes to `embedding_vec` only (a JSON array's text is pgvector's input format), else to `real[]`.
    const vector = (await this.hasVectorColumn())
      ? `NULL, CASE WHEN jsonb_typeof(x.embedding) = 'array' AND jsonb_array_length(x.embedding) > 0 THEN x.embedding::text::vector END`
      : `CASE WHEN jsonb_typeof(x.embedding) = 'array' THEN ARRAY(SELECT jsonb_array_elements_text(x.embedding)::real) END`;
    await this.sql.query(
      `INSERT INTO vector_store_chunks (vector_store_id, file_id, attempt, position, text, tokens, tsv, embedding${(await this.hasVectorColumn()) ? ', embedding_vec' : ''})
       SELECT $1, $2, $3, x.position, x.text, x.tokens, to_tsvector('${TEXT_CONFIG}', x.text), ${vector}
       FROM jsonb_to_recordset($4::jsonb) AS x(position int, text text, tokens int, embedding jsonb)
       WHERE EXISTS (
         SELECT 1 FROM vector_store_files WHERE vector_store_id = $1 AND file_id = $2 AND attempt = $3 AND status = 'in_progress'
       )`,
      [vectorStoreId, fileId, attempt, JSON.stringify(chunks.map((c) => ({ ...c, text: clean(c.text) })))],
    );
    this.unanalyzed += chunks.length;
  }

  /**
   * PGlite is one backend without autovacuum's workers: its tables are never analyzed, and without
   * statistics the planner takes a store's chunks for a few rows and compares them all instead of
   * using the HNSW index (or ranks keyword matches badly). So, on PGlite only, after a file
   * completes, an ANALYZE of the chunk tables once enough has been written since the last one.
   */
  private async analyzeIfDue(force = false): Promise<void> {
    this.embedded ??= this.sql.query<{ v: string }>('SELECT version() AS v').then((rows) => rows[0]?.v.includes('PGlite') ?? false);
    if (!(await this.embedded)) return;
    if (!force && this.unanalyzed < Math.max(ANALYZE_MIN_ROWS, this.analyzedRows / 10)) return;
    this.unanalyzed = 0;
    await this.sql.query('ANALYZE vector_store_chunks, vector_store_files, files');
    const rows = await this.sql.query<{ n: string | number }>(`SELECT reltuples AS n FROM pg_class WHERE oid = 'vector_store_chunks'::regclass`);
    this.analyzedRows = Math.max(0, Number(rows[0]?.n ?? 0));
  }

  async complete(vectorStoreId: string, fileId: string, attempt: number, usageBytes: number): Promise<boolean> {
    // Also removes what an older run still alive wrote after this attempt's claim (never searched, but kept space).
    const rows = await this.sql.query(
      `WITH completed AS (
         UPDATE vector_store_files SET status = 'completed', usage_bytes = $4, last_error = NULL, updated_at = now()
         WHERE vector_store_id = $1 AND file_id = $2 AND attempt = $3 AND status = 'in_progress' RETURNING file_id
       ), stale AS (
         DELETE FROM vector_store_chunks c USING completed
         WHERE c.vector_store_id = $1 AND c.file_id = completed.file_id AND c.attempt <> $3
       )
       SELECT file_id FROM completed`,
      [vectorStoreId, fileId, attempt, usageBytes],
    );
    if (rows.length) await this.analyzeIfDue();
    return rows.length > 0;
  }

  async fail(vectorStoreId: string, fileId: string, attempt: number | null, error: LastError): Promise<boolean> {
    const rows = await this.returning(
      `UPDATE vector_store_files SET status = 'failed', last_error = $4::jsonb, updated_at = now()
       WHERE vector_store_id = $1 AND file_id = $2 AND ($3::int IS NULL OR attempt = $3) AND status = 'in_progress' RETURNING file_id`,
      [vectorStoreId, fileId, attempt, JSON.stringify(error)],
    );
    return rows.length > 0;
  }

  async postpone(vectorStoreId: string, fileId: string, attempt: number): Promise<void> {
    await this.sql.query(
      `UPDATE vector_store_files SET updated_at = now() WHERE vector_store_id = $1 AND file_id = $2 AND attempt = $3 AND status = 'in_progress'`,
      [vectorStoreId, fileId, attempt],
    );
  }

  async findUnfinished(olderThan: Date, limit: number): Promise<Array<{ vectorStoreId: string; fileId: string }>> {
    const rows = await this.sql.query<{ vector_store_id: string; file_id: string }>(
      `SELECT vector_store_id, file_id FROM vector_store_files WHERE status = 'in_progress' AND updated_at < $1 ORDER BY updated_at LIMIT $2`,
      [olderThan, limit],
    );
    return rows.map((r) => ({ vectorStoreId: r.vector_store_id, fileId: r.file_id }));
  }

  /** Chunks of completed files in scope, joined with their file's attributes and name. */
  private scoped(scope: SearchScope, params: unknown[]): { from: string; where: string[] } {
    const where = [
      `f.owner = $${params.push(scope.owner)}`,
      `c.vector_store_id = ANY($${params.push(scope.vectorStoreIds)}::text[])`,
      `f.status = 'completed'`,
    ];
    if (scope.filter) where.push(filterSql(scope.filter, 'f.attributes', params));
    return {
      from: `vector_store_chunks c
        JOIN vector_store_files f ON f.vector_store_id = c.vector_store_id AND f.file_id = c.file_id AND f.attempt = c.attempt
        JOIN files fl ON fl.id = c.file_id`,
      where,
    };
  }

  async countChunks(vectorStoreIds: string[]): Promise<number> {
    const rows = await this.sql.query<{ n: string | number }>(
      `SELECT count(*) AS n FROM vector_store_chunks c
       JOIN vector_store_files f ON f.vector_store_id = c.vector_store_id AND f.file_id = c.file_id AND f.attempt = c.attempt
       WHERE c.vector_store_id = ANY($1::text[]) AND f.status = 'completed'`,
      [vectorStoreIds],
    );
    return Number(rows[0]?.n ?? 0);
  }

  async keywordSearch(scope: SearchScope, query: string): Promise<ChunkHit[]> {
    // Any of the query's words (plainto_tsquery ANDs them): ranked by ts_rank_cd, scaled into [0, 1).
    const params: unknown[] = [query];
    const tsquery = `to_tsquery('${TEXT_CONFIG}', replace(plainto_tsquery('${TEXT_CONFIG}', $1)::text, '&', '|'))`;
    const { from, where } = this.scoped(scope, params);
    const rows = await this.sql.query<HitRow>(
      `SELECT c.id, c.vector_store_id, c.file_id, fl.filename, c.text, f.attributes, ts_rank_cd(c.tsv, q.q, 32) AS score
       FROM ${from} CROSS JOIN (SELECT ${tsquery} AS q) q
       WHERE ${where.join(' AND ')} AND numnode(q.q) > 0 AND c.tsv @@ q.q
       ORDER BY score DESC, c.id LIMIT $${params.push(scope.limit)}`,
      params,
      { prepare: !scope.filter },
    );
    return rows.map(toHit);
  }

  async vectorSearch(scope: SearchScope, embedding: number[], index: VectorIndex): Promise<ChunkHit[]> {
    const params: unknown[] = [];
    const { from, where } = this.scoped(scope, params);
    const select = 'SELECT c.id, c.vector_store_id, c.file_id, fl.filename, c.text, f.attributes';
    if (!(await this.hasVectorColumn())) {
      // Exact over real[]: every chunk of the stores in scope is compared (vectors are unit length: the dot product is the cosine).
      const q = `$${params.push(embedding)}::real[]`;
      return this.hits(
        `${select}, (SELECT sum(a * b) FROM unnest(c.embedding, ${q}) AS t(a, b)) AS score
         FROM ${from}
         WHERE ${where.join(' AND ')} AND c.embedding IS NOT NULL AND cardinality(c.embedding) = cardinality(${q})
         ORDER BY score DESC, c.id LIMIT $${params.push(scope.limit)}`,
        params,
        scope,
      );
    }
    const q = `$${params.push(JSON.stringify(embedding))}::vector`;
    const d = embedding.length;
    if (index === 'hnsw' && d === this.hnswDimensions) {
      // The partial index's predicate and expression, as written in prepareVectorIndex: the planner uses it only for these.
      const distance = `c.embedding_vec::vector(${d}) <=> ${q}::vector(${d})`;
      return this.hits(
        `${select}, 1 - (${distance}) AS score
         FROM ${from}
         WHERE ${where.join(' AND ')} AND vector_dims(c.embedding_vec) = ${d}
         ORDER BY ${distance} LIMIT $${params.push(scope.limit)}`,
        params,
        scope,
      );
    }
    // Exact over the vector column (no index: its expression is not the index's).
    return this.hits(
      `${select}, 1 - (c.embedding_vec <=> ${q}) AS score
       FROM ${from}
       WHERE ${where.join(' AND ')} AND vector_dims(c.embedding_vec) = ${d}
       ORDER BY score DESC, c.id LIMIT $${params.push(scope.limit)}`,
      params,
      scope,
    );
  }

  private async hits(text: string, params: unknown[], scope: SearchScope): Promise<ChunkHit[]> {
    return (await this.sql.query<HitRow>(text, params, { prepare: !scope.filter })).map(toHit);
  }

  /**
   * Runtime DDL, not a migration: HNSW needs a fixed dimension, and that is the deployment's
   * embedding model's (configuration, not schema), which can change between starts. So one
   * partial expression index per dimension, made here at start; `IF NOT EXISTS` makes it idempotent,
   * and a concurrent start that lost the race finds the winner's index.
   */
  async prepareVectorIndex(dimensions: number): Promise<VectorIndex> {
    if (!(await this.hasVectorColumn()) || !Number.isInteger(dimensions) || dimensions < 1 || dimensions > HNSW_MAX_DIMENSIONS) return 'exact';
    const name = `vector_store_chunks_hnsw_${dimensions}`;
    try {
      await this.sql.query(
        `CREATE INDEX IF NOT EXISTS "${name}" ON vector_store_chunks
         USING hnsw ((embedding_vec::vector(${dimensions})) vector_cosine_ops) WHERE vector_dims(embedding_vec) = ${dimensions}`,
        [],
        { prepare: false },
      );
    } catch (error) {
      const made = await this.sql.query(`SELECT 1 FROM pg_indexes WHERE schemaname = current_schema() AND indexname = $1`, [name]);
      if (!made.length) throw error;
    }
    await this.applyHnswSettings();
    // This process's count of what was written since is lost at a restart.
    await this.analyzeIfDue(true);
    this.hnswDimensions = dimensions;
    return 'hnsw';
  }

  /**
   * For this session (PGlite has one) and, where we may, every later session of this database
   * (Postgres: each pooled connection is one; a role that does not own the database keeps
   * pgvector's defaults, and the search's exact fallback covers a short answer).
   */
  private async applyHnswSettings(): Promise<void> {
    for (const [setting, value] of Object.entries(HNSW_SETTINGS)) {
      await this.sql.query(`SELECT set_config($1, $2, false)`, [setting, value]);
      await this.sql
        .query(`DO $$ BEGIN EXECUTE format('ALTER DATABASE %I SET ${setting} = %L', current_database(), '${value}'); END $$`, [], { prepare: false })
        .catch(() => undefined);
    }
  }
}
