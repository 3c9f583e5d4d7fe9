import { abortError, isAbort, UpstreamError, upstreamMalformed, UpstreamUnreachable } from './upstream-error';
import { EmbeddingDimensionsMismatch, Embeddings, type EmbeddingResult, type EmbedOptions, type EmbeddingUsage } from './embeddings';
import { ReplicaPicker } from './replica-picker';
import { UpstreamHttp } from './upstream-http';

export interface EmbeddingBatching {
  /** Texts per request at most. */
  batchSize: number;
  /** Tokens per request at most (a text longer than this goes alone). */
  batchTokens: number;
  /** Requests in flight at once, per `embed` call. */
  concurrency: number;
}

export interface OpenAIEmbeddingsOptions extends EmbeddingBatching {
  /** The provider's name, for error messages. */
  provider: string;
  /** One upstream, or the replicas of one (each `…/v1`). */
  baseUrl: string | readonly string[];
  apiKey?: string;
  timeoutMs: number;
  maxRetries: number;
  /** The model's id here, and the name the upstream knows it by. */
  model: string;
  upstreamModel: string;
  dimensions: number;
  /** Ask the upstream for `dimensions` (Matryoshka models); otherwise the request carries none. */
  sendDimensions: boolean;
  maxInputTokens?: number;
}

/**
 * Tokens a text is counted as when the caller gives no count: a character in three, which
 * overestimates every common tokenizer on prose (about four characters a token), so a batch stays
 * under its budget without running a tokenizer over every chunk of an ingestion.
 */
export function estimateEmbeddingTokens(text: string): number {
  return Math.max(1, Math.ceil(text.length / 3));
}

/** Consecutive [start, end) slices of `tokens.length` texts, each within `batchSize` texts and `batchTokens` tokens (a larger text alone). */
export function planBatches(tokens: readonly number[], limits: Pick<EmbeddingBatching, 'batchSize' | 'batchTokens'>): Array<[number, number]> {
  const batches: Array<[number, number]> = [];
  let start = 0;
  let sum = 0;
  for (let i = 0; i < tokens.length; i++) {
    if (i > start && (i - start >= limits.batchSize || sum + tokens[i] > limits.batchTokens)) {
      batches.push([start, i]);
      start = i;
      sum = 0;
    }
    sum += tokens[i];
  }
  if (tokens.length > start) batches.push([start, tokens.length]);
  return batches;
}

/** The vector scaled to length 1 (cosine similarity becomes a dot product); null for a zero or non-finite vector. */
export function normalize(vector: readonly number[]): number[] | null {
  let squares = 0;
  for (const x of vector) squares += x * x;
  const norm = Math.sqrt(squares);
  if (!Number.isFinite(norm) || norm === 0) return null;
  return vector.map((x) => x / norm);
}

/**
 * Runs `task` for every index in 0..count-1 with at most `limit` running at once; the first
 * failure aborts the signal the others get and is what the whole rejects with.
 */
export async function runBounded(
  count: number,
  limit: number,
  signal: AbortSignal,
  task: (index: number, signal: AbortSignal) => Promise<void>,
): Promise<void> {
  const stop = new AbortController();
  const both = AbortSignal.any([signal, stop.signal]);
  let next = 0;
  let failure: { error: unknown } | undefined;
  const runner = async (): Promise<void> => {
    while (!failure && next < count) {
      const index = next++;
      try {
        await task(index, both);
      } catch (error) {
        // The first error wins: the aborts it causes in the other runners are its consequence.
        failure ??= { error };
        stop.abort();
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, count) }, runner));
  if (signal.aborted) throw abortError(signal);
  if (failure) throw failure.error;
}

/** The most characters of one reply read per vector element: `-1.2345678901234567e-10,` and some. */
const CHARS_PER_ELEMENT = 32;
/** Besides the vectors: ids, `object` fields, usage, whitespace. */
const REPLY_OVERHEAD_CHARS = 64 * 1024;

interface EmbeddingsReply {
  data?: Array<{ index?: unknown; embedding?: unknown }>;
  usage?: { prompt_tokens?: unknown; total_tokens?: unknown };
}

/**
 * `POST …/embeddings` in OpenAI's shape, which vLLM (pooling models), Ollama, TEI and OpenAI serve:
 * texts are cut into batches (count and token budget), run a few at a time, retried like chat
 * calls (refused, 408/409/429/5xx, with backoff and `retry-after`), and spread over the
 * provider's replicas round-robin, an unreachable one handing over to the next. Every reply is
 * bounded in size by what its batch can need, checked for one vector per text of the configured
 * length, and each vector normalized to unit length.
 */
export class OpenAIEmbeddings extends Embeddings {
  readonly available = true;
  readonly model: string;
  readonly dimensions: number;
  readonly maxInputTokens: number | undefined;
  private readonly replicas: ReplicaPicker<UpstreamHttp>;

  constructor(private readonly options: OpenAIEmbeddingsOptions) {
    super();
    this.model = options.model;
    this.dimensions = options.dimensions;
    this.maxInputTokens = options.maxInputTokens;
    const urls = typeof options.baseUrl === 'string' ? [options.baseUrl] : [...options.baseUrl];
    const http = urls.map((baseUrl) => new UpstreamHttp({ provider: options.provider, baseUrl, apiKey: options.apiKey, timeoutMs: options.timeoutMs }));
    this.replicas = new ReplicaPicker(http, urls);
  }

  async embed(texts: readonly string[], signal: AbortSignal, options: EmbedOptions = {}): Promise<EmbeddingResult> {
    const counts = options.tokenCounts;
    if (counts && counts.length !== texts.length) throw new Error(`embed: ${counts.length} token counts for ${texts.length} texts`);
    // An empty input is refused by OpenAI and vLLM alike: the caller should not have a chunk without text.
    const empty = texts.findIndex((t) => t.length === 0);
    if (empty >= 0) throw new Error(`embed: text ${empty} is empty`);
    const batches = planBatches(counts ?? texts.map(estimateEmbeddingTokens), this.options);
    const vectors: number[][] = new Array<number[]>(texts.length);
    const usage: EmbeddingUsage = { prompt_tokens: 0, total_tokens: 0 };
    await runBounded(batches.length, this.options.concurrency, signal, async (i, batchSignal) => {
      const [start, end] = batches[i];
      const reply = await this.request(texts.slice(start, end), batchSignal);
      reply.vectors.forEach((v, j) => (vectors[start + j] = v));
      usage.prompt_tokens += reply.usage.prompt_tokens;
      usage.total_tokens += reply.usage.total_tokens;
    });
    return { vectors, model: this.model, dimensions: this.dimensions, usage };
  }

  /** One batch: to the round-robin replica, the next one when it cannot be reached at all. */
  private async request(input: string[], signal: AbortSignal): Promise<{ vectors: number[][]; usage: EmbeddingUsage }> {
    const body = JSON.stringify({ model: this.options.upstreamModel, input, ...(this.options.sendDimensions ? { dimensions: this.dimensions } : {}) });
    const limit = input.length * (this.dimensions * CHARS_PER_ELEMENT + 256) + REPLY_OVERHEAD_CHARS;
    const order = this.replicas.order();
    for (let i = 0; ; i++) {
      const http = order[i];
      let text: string;
      try {
        const reply = await http.post('embeddings', body, { signal, retries: this.options.maxRetries });
        text = await http.readBody(reply, signal, limit);
      } catch (error) {
        if (error instanceof UpstreamUnreachable && i < order.length - 1) continue;
        throw isAbort(error) || error instanceof UpstreamError ? error : upstreamMalformed(this.options.provider);
      }
      if (text.length > limit) {
        throw new UpstreamError(
          502,
          'server_error',
          'server_error',
          `The embedding server '${this.options.provider}' sent a reply larger than ${input.length} vectors of ${this.dimensions} dimensions can be.`,
        );
      }
      return this.parse(text, input.length);
    }
  }

  private parse(text: string, count: number): { vectors: number[][]; usage: EmbeddingUsage } {
    let reply: EmbeddingsReply;
    try {
      reply = JSON.parse(text) as EmbeddingsReply;
    } catch {
      throw upstreamMalformed(this.options.provider);
    }
    const data = reply?.data;
    if (!Array.isArray(data) || data.length !== count) throw upstreamMalformed(this.options.provider);
    const vectors = new Array<number[]>(count);
    data.forEach((item, position) => {
      // OpenAI, vLLM, TEI and Ollama all send `index`; without one the position stands for it.
      const index = item?.index === undefined ? position : item.index;
      const embedding = item?.embedding;
      if (typeof index !== 'number' || !Number.isInteger(index) || index < 0 || index >= count || vectors[index])
        throw upstreamMalformed(this.options.provider);
      if (!Array.isArray(embedding) || !embedding.every((x) => typeof x === 'number')) throw upstreamMalformed(this.options.provider);
      if (embedding.length !== this.dimensions) throw new EmbeddingDimensionsMismatch(this.model, this.dimensions, embedding.length);
      const unit = normalize(embedding);
      if (!unit) throw upstreamMalformed(this.options.provider);
      vectors[index] = unit;
    });
    const tokens = (value: unknown): number => (typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : 0);
    const prompt = tokens(reply.usage?.prompt_tokens);
    return { vectors, usage: { prompt_tokens: prompt, total_tokens: tokens(reply.usage?.total_tokens) || prompt } };
  }
}
