import { listObject, type ListObject } from '../common/list-object';
import { readPage } from '../database/pagination';
import { HttpStatus, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import type { VectorStoreFile, VectorStoreFileDeleted } from 'openai/resources/vector-stores/files';
import type { VectorStoreFileBatch } from 'openai/resources/vector-stores/file-batches';
import type { VectorStoreDeleted, VectorStoreSearchResponse } from 'openai/resources/vector-stores/vector-stores';
import { newId } from '../common/ids';
import { invalidRequest, OpenAIError } from '../common/openai-error';
import type { Principal } from '../common/principal';

import { FilesService } from '../files/files.service';
import { Embeddings } from '../inference/embeddings';
import { parseChunkingStrategy } from './chunking-strategy';
import type {
  CreateFileBatchDto,
  CreateVectorStoreDto,
  CreateVectorStoreFileDto,
  ListVectorStoreFilesQueryDto,
  ListVectorStoresQueryDto,
  SearchVectorStoreDto,
  UpdateVectorStoreDto,
} from './dto/vector-store.dto';
import { IngestionQueue } from './ingestion/ingestion-queue';
import { type ChunkHit, type NewFile, type StoredVectorStore, VectorStoresStore } from './persistence/vector-stores.store';
import { parseFilter } from './retrieval/filters';
import { type SearchRequest, VectorSearch } from './retrieval/vector-search';
import { toBatch, toSearchResult, toVectorStore, toVectorStoreFile, type VectorStoreObject } from './vector-store-objects';

export interface SearchResultsPage {
  object: 'vector_store.search_results.page';
  search_query: string[];
  data: VectorStoreSearchResponse[];
  has_more: false;
  next_page: null;
}

const list = listObject;

export const vectorStoreNotFound = (id: string, param: string | null = null) =>
  new OpenAIError(HttpStatus.NOT_FOUND, `No vector store found with id '${id}'.`, 'invalid_request_error', param);
const fileNotFound = (id: string, param: string | null = null) =>
  new OpenAIError(HttpStatus.NOT_FOUND, `No file found with id '${id}'.`, 'invalid_request_error', param);
const batchNotFound = (id: string) => new OpenAIError(HttpStatus.NOT_FOUND, `No file batch found with id '${id}'.`, 'invalid_request_error');

/**
 * The Vector Stores API: stores, their files and file batches (each file ingested by a queue
 * job), and search. Every id is looked up with the caller's owner: another tenant's is a 404.
 */
@Injectable()
export class VectorStoresService implements OnApplicationBootstrap {
  private readonly logger = new Logger('VectorStores');

  constructor(
    private readonly store: VectorStoresStore,
    private readonly files: FilesService,
    private readonly embeddings: Embeddings,
    private readonly ingestion: IngestionQueue,
    private readonly search: VectorSearch,
  ) {}

  /** Which mode new vector stores run in, said once at start (each store says its own: `search_mode`). */
  async onApplicationBootstrap(): Promise<void> {
    const index = await this.search.prepare();
    const how = index === 'hnsw' ? 'by an HNSW index (pgvector): search_mode hybrid_hnsw' : 'compared exactly: search_mode hybrid';
    this.logger.log(
      this.embeddings.available
        ? `file_search: hybrid search (keyword + vectors of '${this.embeddings.model}', ${this.embeddings.dimensions} dimensions, ${how})`
        : 'file_search: keyword search only (no embedding model configured: EMBEDDING_MODEL or MODELS_CONFIG "embeddings"): search_mode keyword',
    );
  }

  async create(principal: Principal, dto: CreateVectorStoreDto): Promise<VectorStoreObject> {
    const chunkingStrategy = parseChunkingStrategy(dto.chunking_strategy);
    const fileIds = [...new Set(dto.file_ids ?? [])];
    await this.checkFiles(principal.owner, fileIds, 'file_ids');
    const id = newId('vs');
    await this.store.createStore({
      id,
      owner: principal.owner,
      name: dto.name ?? '',
      description: dto.description ?? null,
      metadata: dto.metadata ?? {},
      expiresAfter: dto.expires_after ? { anchor: 'last_active_at', days: dto.expires_after.days } : null,
      embeddingModel: this.embeddings.available ? (this.embeddings.model ?? null) : null,
      dimensions: this.embeddings.available ? (this.embeddings.dimensions ?? null) : null,
    });
    if (fileIds.length)
      await this.add(
        principal.owner,
        id,
        fileIds.map((fileId) => ({ fileId, attributes: null, chunkingStrategy })),
        null,
      );
    return this.object((await this.store.getStore(principal.owner, id))!);
  }

  private object(s: StoredVectorStore): VectorStoreObject {
    return toVectorStore(s, this.search.searchMode(s));
  }

  async retrieve(principal: Principal, id: string): Promise<VectorStoreObject> {
    return this.object(await this.find(principal.owner, id));
  }

  async list(principal: Principal, q: ListVectorStoresQueryDto): Promise<ListObject<VectorStoreObject>> {
    const page = await readPage(() =>
      this.store.listStores(principal.owner, { after: q.after, before: q.before, limit: q.limit ?? 20, order: q.order ?? 'desc' }),
    );
    return list(
      page.data.map((s) => this.object(s)),
      page.hasMore,
    );
  }

  async update(principal: Principal, id: string, dto: UpdateVectorStoreDto): Promise<VectorStoreObject> {
    const changes = {
      ...(dto.name !== undefined ? { name: dto.name ?? '' } : {}),
      ...(dto.metadata !== undefined ? { metadata: dto.metadata ?? {} } : {}),
      ...(dto.expires_after !== undefined ? { expiresAfter: dto.expires_after && { anchor: 'last_active_at' as const, days: dto.expires_after.days } } : {}),
    };
    if (!(await this.store.updateStore(principal.owner, id, changes))) throw vectorStoreNotFound(id);
    return this.retrieve(principal, id);
  }

  async delete(principal: Principal, id: string): Promise<VectorStoreDeleted> {
    if (!(await this.store.deleteStore(principal.owner, id))) throw vectorStoreNotFound(id);
    return { id, object: 'vector_store.deleted', deleted: true };
  }

  async addFile(principal: Principal, vectorStoreId: string, dto: CreateVectorStoreFileDto): Promise<VectorStoreFile> {
    const chunkingStrategy = parseChunkingStrategy(dto.chunking_strategy);
    await this.find(principal.owner, vectorStoreId);
    await this.checkFiles(principal.owner, [dto.file_id], 'file_id');
    const [row] = await this.add(principal.owner, vectorStoreId, [{ fileId: dto.file_id, attributes: dto.attributes ?? null, chunkingStrategy }], null);
    return toVectorStoreFile(row);
  }

  async retrieveFile(principal: Principal, vectorStoreId: string, fileId: string): Promise<VectorStoreFile> {
    const row = await this.store.getFile(principal.owner, vectorStoreId, fileId);
    if (!row) throw await this.missing(principal.owner, vectorStoreId, fileId);
    return toVectorStoreFile(row);
  }

  async listFiles(principal: Principal, vectorStoreId: string, q: ListVectorStoreFilesQueryDto, batchId?: string): Promise<ListObject<VectorStoreFile>> {
    await this.find(principal.owner, vectorStoreId);
    const page = await readPage(() =>
      this.store.listFiles(principal.owner, vectorStoreId, {
        after: q.after,
        before: q.before,
        limit: q.limit ?? 20,
        order: q.order ?? 'desc',
        status: q.filter,
        batchId,
      }),
    );
    return list(page.data.map(toVectorStoreFile), page.hasMore);
  }

  async updateFile(
    principal: Principal,
    vectorStoreId: string,
    fileId: string,
    attributes: Record<string, string | number | boolean> | null,
  ): Promise<VectorStoreFile> {
    if (!(await this.store.updateAttributes(principal.owner, vectorStoreId, fileId, attributes)))
      throw await this.missing(principal.owner, vectorStoreId, fileId);
    return this.retrieveFile(principal, vectorStoreId, fileId);
  }

  /** Removes the file from the store (its chunks go with it); the file itself stays in the Files API. */
  async removeFile(principal: Principal, vectorStoreId: string, fileId: string): Promise<VectorStoreFileDeleted> {
    if (!(await this.store.removeFile(principal.owner, vectorStoreId, fileId))) throw await this.missing(principal.owner, vectorStoreId, fileId);
    await this.ingestion.withdraw({ vectorStoreId, fileId }).catch(() => undefined);
    return { id: fileId, object: 'vector_store.file.deleted', deleted: true };
  }

  /** The parsed text of a file as chunked, in order. */
  async fileContent(
    principal: Principal,
    vectorStoreId: string,
    fileId: string,
  ): Promise<{ object: 'vector_store.file_content.page'; data: Array<{ type: 'text'; text: string }>; has_more: false; next_page: null }> {
    const row = await this.store.getFile(principal.owner, vectorStoreId, fileId);
    if (!row) throw await this.missing(principal.owner, vectorStoreId, fileId);
    const chunks = await this.store.fileChunks(principal.owner, vectorStoreId, fileId);
    return { object: 'vector_store.file_content.page', data: chunks.map((text) => ({ type: 'text', text })), has_more: false, next_page: null };
  }

  async createBatch(principal: Principal, vectorStoreId: string, dto: CreateFileBatchDto): Promise<VectorStoreFileBatch> {
    if (dto.file_ids && dto.files) throw invalidRequest("Give either 'file_ids' or 'files', not both.", 'files', 'invalid_value');
    if (!dto.file_ids?.length && !dto.files?.length) throw invalidRequest("'file_ids' or 'files' must list at least one file.", 'file_ids', 'invalid_value');
    const strategy = parseChunkingStrategy(dto.chunking_strategy);
    const files: NewFile[] = dto.files
      ? dto.files.map((f, i) => ({
          fileId: f.file_id,
          attributes: f.attributes ?? dto.attributes ?? null,
          chunkingStrategy: f.chunking_strategy === undefined ? strategy : parseChunkingStrategy(f.chunking_strategy, `files[${i}].chunking_strategy`),
        }))
      : [...new Set(dto.file_ids)].map((fileId) => ({ fileId, attributes: dto.attributes ?? null, chunkingStrategy: strategy }));
    await this.find(principal.owner, vectorStoreId);
    await this.checkFiles(
      principal.owner,
      files.map((f) => f.fileId),
      dto.files ? 'files' : 'file_ids',
    );
    const id = newId('vsfb');
    await this.store.createBatch({ id, vectorStoreId, owner: principal.owner });
    await this.add(principal.owner, vectorStoreId, files, id);
    return this.retrieveBatch(principal, vectorStoreId, id);
  }

  async retrieveBatch(principal: Principal, vectorStoreId: string, id: string): Promise<VectorStoreFileBatch> {
    const batch = await this.store.getBatch(principal.owner, vectorStoreId, id);
    if (!batch) throw (await this.store.getStore(principal.owner, vectorStoreId)) ? batchNotFound(id) : vectorStoreNotFound(vectorStoreId);
    return toBatch(batch);
  }

  async cancelBatch(principal: Principal, vectorStoreId: string, id: string): Promise<VectorStoreFileBatch> {
    await this.retrieveBatch(principal, vectorStoreId, id);
    const cancelled = await this.store.cancelBatch(principal.owner, vectorStoreId, id);
    // A running ingestion's writes are fenced by the status; a queued one need not start.
    await Promise.all(cancelled.map((fileId) => this.ingestion.withdraw({ vectorStoreId, fileId }).catch(() => undefined)));
    return this.retrieveBatch(principal, vectorStoreId, id);
  }

  async listBatchFiles(principal: Principal, vectorStoreId: string, id: string, q: ListVectorStoreFilesQueryDto): Promise<ListObject<VectorStoreFile>> {
    await this.retrieveBatch(principal, vectorStoreId, id);
    return this.listFiles(principal, vectorStoreId, q, id);
  }

  async searchStore(principal: Principal, id: string, dto: SearchVectorStoreDto, signal?: AbortSignal): Promise<SearchResultsPage> {
    const queries = typeof dto.query === 'string' ? [dto.query] : dto.query;
    if (!Array.isArray(queries) || !queries.length || queries.length > 10 || !queries.every((q) => typeof q === 'string' && q.length <= 4096)) {
      throw invalidRequest("'query' must be a string or an array of 1 to 10 strings, each up to 4096 characters.", 'query', 'invalid_value');
    }
    const filter = dto.filters === undefined || dto.filters === null ? undefined : parseFilter(dto.filters, 'filters');
    const store = await this.find(principal.owner, id);
    const hits = await this.search.search(
      {
        owner: principal.owner,
        vectorStoreIds: [id],
        queries,
        maxResults: dto.max_num_results ?? 10,
        filter,
        scoreThreshold: dto.ranking_options?.score_threshold,
        signal,
      },
      new Map([[id, store.embeddingModel]]),
    );
    await this.store.touch([id]);
    return { object: 'vector_store.search_results.page', search_query: queries, data: hits.map(toSearchResult), has_more: false, next_page: null };
  }

  /**
   * The caller's stores among `ids`, with the embedding model of each: a missing one, or another
   * tenant's, is a 404 naming `param` (the `file_search` tool's check at create time).
   */
  async embeddingModels(owner: string, ids: string[], param: string): Promise<Map<string, string | null>> {
    const models = new Map<string, string | null>();
    for (const id of ids) models.set(id, (await this.find(owner, id, param)).embeddingModel);
    return models;
  }

  /** The `file_search` tool's search: the stores' chunks only if they are the owner's. */
  async searchForTool(request: SearchRequest): Promise<ChunkHit[]> {
    const models = await this.embeddingModels(request.owner, request.vectorStoreIds, 'vector_store_ids');
    const hits = await this.search.search(request, models);
    await this.store.touch(request.vectorStoreIds);
    return hits;
  }

  private async find(owner: string, id: string, param: string | null = null): Promise<StoredVectorStore> {
    const found = await this.store.getStore(owner, id);
    if (!found) throw vectorStoreNotFound(id, param);
    return found;
  }

  /** Which of a store and a file is missing, as the 404 to answer. */
  private async missing(owner: string, vectorStoreId: string, fileId: string): Promise<OpenAIError> {
    return (await this.store.getStore(owner, vectorStoreId)) ? fileNotFound(fileId) : vectorStoreNotFound(vectorStoreId);
  }

  /** Every file must be the caller's (another tenant's is as unknown as a missing one). */
  private async checkFiles(owner: string, fileIds: string[], param: string): Promise<void> {
    for (const fileId of fileIds) if (!(await this.files.get(owner, fileId))) throw fileNotFound(fileId, param);
  }

  /** Adds files and queues their ingestion; one that cannot be queued now is left to the reconciler. */
  private async add(owner: string, vectorStoreId: string, files: NewFile[], batchId: string | null) {
    const rows = await this.store.addFiles(owner, vectorStoreId, files, batchId);
    for (const row of rows) {
      if (row.status !== 'in_progress') continue;
      await this.ingestion.dispatch({ vectorStoreId, fileId: row.fileId }).catch((error: unknown) => {
        this.logger.warn(`ingestion of ${row.fileId} not queued now (the reconciler will): ${error instanceof Error ? error.message : String(error)}`);
      });
    }
    return rows;
  }
}
