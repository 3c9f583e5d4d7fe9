import { UpstreamError } from './upstream-error';

/** What one `embed` call cost upstream (summed over its batches; 0 when the upstream reports nothing). */
export interface EmbeddingUsage {
  prompt_tokens: number;
  total_tokens: number;
}

export interface EmbeddingResult {
  /** One unit-length vector per text, in the texts' order. */
  vectors: number[][];
  /** The configured model id (not the upstream's alias). */
  model: string;
  dimensions: number;
  usage: EmbeddingUsage;
}

export interface EmbedOptions {
  /** Token counts of the texts, when the caller has them (the chunker does): batches are cut by them instead of an estimate. */
  tokenCounts?: readonly number[];
}

/**
 * The deployment's embedding model (port): text → vectors for vector stores and file_search.
 * Without a configured model it is `available: false` and vector stores run keyword-only.
 * `embed` throws UpstreamError for every upstream failure (EmbeddingDimensionsMismatch when the
 * vectors are not `dimensions` long), and an AbortError when `signal` aborts.
 */
export abstract class Embeddings {
  abstract readonly available: boolean;
  /** The model's id; undefined when unavailable. */
  abstract readonly model: string | undefined;
  /** The length of its vectors; undefined when unavailable. */
  abstract readonly dimensions: number | undefined;
  /** Its longest input in tokens (MODELS_CONFIG `contextWindow`), when known: longer texts may be refused or cut by the upstream. */
  abstract readonly maxInputTokens: number | undefined;
  abstract embed(texts: readonly string[], signal: AbortSignal, options?: EmbedOptions): Promise<EmbeddingResult>;
}

/** No embedding model configured. */
export class NoEmbeddings extends Embeddings {
  readonly available = false;
  readonly model = undefined;
  readonly dimensions = undefined;
  readonly maxInputTokens = undefined;

  embed(_texts: readonly string[], _signal: AbortSignal): Promise<EmbeddingResult> {
    return Promise.reject(new EmbeddingsUnavailable());
  }
}

/** `embed` on a deployment without an embedding model: a caller that did not check `available`. */
export class EmbeddingsUnavailable extends Error {
  constructor() {
    super('No embedding model is configured (MODELS_CONFIG "embeddings", or EMBEDDING_MODEL): vector stores are keyword-only.');
  }
}

/** The upstream's vectors are not as long as the configuration says: a misconfiguration, not a passing fault. */
export class EmbeddingDimensionsMismatch extends UpstreamError {
  constructor(
    readonly model: string,
    readonly expected: number,
    readonly received: number,
  ) {
    super(
      502,
      'server_error',
      'server_error',
      `The embedding model '${model}' returned vectors of ${received} dimensions, but ${expected} are configured (its dimensions in MODELS_CONFIG, or EMBEDDING_DIMENSIONS).`,
    );
  }
}
