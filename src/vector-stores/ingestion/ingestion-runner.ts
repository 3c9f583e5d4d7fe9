import { Injectable, Logger } from '@nestjs/common';
import { AppConfig } from '../../config/app-config';
import { FilesService } from '../../files/files.service';
import { Embeddings } from '../../inference/embeddings';
import { type LastError, type NewChunk, VectorStoresStore } from '../persistence/vector-stores.store';
import { chunkText } from './chunk-text';
import { extractText } from './extract-text';
import { ExtractionError } from './extraction-error';
import type { IngestionJob } from './ingestion-queue';

/** Chunks embedded and written per round trip. */
const CHUNKS_PER_WRITE = 128;

/**
 * Ingests one vector store file, wherever its job lands: claims it (attempt + 1, which fences an
 * older run), extracts its text, chunks it by tokens, embeds the chunks when the store has an
 * embedding model, writes them, and completes it. A file that cannot be read fails with
 * `last_error`; an upstream or storage failure leaves it in progress for the reconciler to run
 * again, until its attempts run out: it never stays `in_progress`.
 */
@Injectable()
export class IngestionRunner {
  private readonly logger = new Logger('Ingestion');

  constructor(
    private readonly store: VectorStoresStore,
    private readonly files: FilesService,
    private readonly embeddings: Embeddings,
    private readonly config: AppConfig,
  ) {}

  async run({ vectorStoreId, fileId }: IngestionJob, signal: AbortSignal = new AbortController().signal): Promise<string> {
    const maxAttempts = this.config.ingestionMaxAttempts;
    const claimed = await this.store.claim(vectorStoreId, fileId, maxAttempts);
    if (!claimed) {
      // Ended by someone else (cancelled, removed) — or out of attempts: then it fails.
      const failed = await this.store.fail(vectorStoreId, fileId, null, {
        code: 'server_error',
        message: `The file could not be ingested: its ingestion was interrupted ${maxAttempts} times.`,
      });
      return failed ? 'gave_up' : 'skipped';
    }
    const { owner, attempt } = claimed;
    const end = (error: LastError) => this.store.fail(vectorStoreId, fileId, attempt, error).then(() => 'failed');
    try {
      const [file, bytes, vectorStore] = await Promise.all([
        this.files.get(owner, fileId),
        this.files.read(owner, fileId),
        this.store.getStore(owner, vectorStoreId),
      ]);
      if (!file || !bytes || !vectorStore) return 'skipped'; // deleted meanwhile: its row went with it
      const { text } = await extractText(bytes, file.filename, { signal });
      const { max_chunk_size_tokens, chunk_overlap_tokens } = claimed.chunkingStrategy.static;
      const maxChunks = this.config.maxChunksPerFile;
      const { chunks, truncated } = chunkText(text, { maxChunkSizeTokens: max_chunk_size_tokens, chunkOverlapTokens: chunk_overlap_tokens, maxChunks });
      if (truncated) return await end({ code: 'invalid_file', message: `The file makes more than ${maxChunks} chunks: split it into smaller files.` });
      // The store's model, if this deployment still has it; else the file is searchable by keyword only.
      const embed = vectorStore.embeddingModel !== null && this.embeddings.available && this.embeddings.model === vectorStore.embeddingModel;
      let usageBytes = 0;
      for (let start = 0; start < chunks.length; start += CHUNKS_PER_WRITE) {
        const group = chunks.slice(start, start + CHUNKS_PER_WRITE);
        const vectors = embed
          ? (
              await this.embeddings.embed(
                group.map((c) => c.text),
                signal,
                { tokenCounts: group.map((c) => c.tokens) },
              )
            ).vectors
          : null;
        const rows: NewChunk[] = group.map((c, i) => ({ position: start + i, text: c.text, tokens: c.tokens, embedding: vectors?.[i] ?? null }));
        await this.store.saveChunks(vectorStoreId, fileId, attempt, rows);
        usageBytes += rows.reduce((n, r) => n + Buffer.byteLength(r.text) + (r.embedding ? r.embedding.length * 4 : 0), 0);
      }
      const completed = await this.store.complete(vectorStoreId, fileId, attempt, usageBytes);
      return completed ? 'completed' : 'superseded';
    } catch (error) {
      if (error instanceof ExtractionError && !error.retryable) return end({ code: error.code, message: error.message });
      const message = error instanceof Error ? error.message : String(error);
      if (attempt >= maxAttempts) return end({ code: 'server_error', message: `The file could not be ingested: ${message}` });
      // The reconciler runs it again after an interval (the embeddings upstream may be back).
      this.logger.warn(`ingestion of ${fileId} into ${vectorStoreId} (attempt ${attempt}) failed, to be retried: ${message}`);
      await this.store.postpone(vectorStoreId, fileId, attempt).catch(() => undefined);
      return 'retry';
    }
  }
}
