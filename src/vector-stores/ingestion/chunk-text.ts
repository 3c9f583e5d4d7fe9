import { invalidRequest, missingParameter } from '../../common/openai-error';
import { tokenPieces } from '../../inference/token-counter';

/** OpenAI's static chunking strategy: its defaults and bounds. */
export const STATIC_CHUNKING = { defaultMaxChunkSizeTokens: 800, defaultChunkOverlapTokens: 400, minChunkSizeTokens: 100, maxChunkSizeTokens: 4096 } as const;
/** ~4 M tokens of text at the smallest stride OpenAI allows (100 tokens, 50 overlap): more than extraction's default maxChars yields. */
export const DEFAULT_MAX_CHUNKS = 10_000;
/**
 * Runs longer than this are tokenized in slices (tokenPieces), so that no piece has more than
 * 3 × 33 = 99 tokens, fewer than the smallest chunk: every chunk ends between pieces.
 */
const PIECE_RUN = 32;
/** A chunk may end this share of its tokens early at a paragraph, line or sentence end rather than mid-sentence. */
const BOUNDARY_SLACK = 0.1;

export interface ChunkTextOptions {
  maxChunkSizeTokens?: number;
  chunkOverlapTokens?: number;
  /** Chunks made at most; text past them is left out and `truncated` says so. */
  maxChunks?: number;
}

export interface TextChunk {
  /** `source.slice(start, end)`. */
  text: string;
  /** o200k_base tokens (tokenPieces' count: long runs counted in slices). */
  tokens: number;
  /** UTF-16 offsets into the source text, `end` exclusive. */
  start: number;
  end: number;
}

export interface ChunkedText {
  chunks: TextChunk[];
  /** `maxChunks` were made before the text's end. */
  truncated: boolean;
}

/** The problem with a static strategy's numbers, as OpenAI words its rules, or null. */
function staticProblem(
  maxChunkSizeTokens: number,
  chunkOverlapTokens: number,
): { field: 'max_chunk_size_tokens' | 'chunk_overlap_tokens'; message: string } | null {
  const { minChunkSizeTokens: min, maxChunkSizeTokens: max } = STATIC_CHUNKING;
  if (!Number.isInteger(maxChunkSizeTokens) || maxChunkSizeTokens < min || maxChunkSizeTokens > max) {
    return { field: 'max_chunk_size_tokens', message: `must be an integer between ${min} and ${max}, got ${maxChunkSizeTokens}.` };
  }
  if (!Number.isInteger(chunkOverlapTokens) || chunkOverlapTokens < 0) {
    return { field: 'chunk_overlap_tokens', message: `must be a non-negative integer, got ${chunkOverlapTokens}.` };
  }
  if (chunkOverlapTokens > maxChunkSizeTokens / 2) {
    return { field: 'chunk_overlap_tokens', message: `must not exceed half of max_chunk_size_tokens (${maxChunkSizeTokens / 2}), got ${chunkOverlapTokens}.` };
  }
  return null;
}

/**
 * A `chunking_strategy.static` object of a request, checked as OpenAI checks it: both numbers
 * required, `max_chunk_size_tokens` in 100..4096, `chunk_overlap_tokens` at most half of it. Throws
 * the 400 naming the field under `param`.
 */
export function validateStaticChunking(
  strategy: { max_chunk_size_tokens?: unknown; chunk_overlap_tokens?: unknown } | undefined,
  param = 'chunking_strategy.static',
): { maxChunkSizeTokens: number; chunkOverlapTokens: number } {
  if (!strategy || typeof strategy !== 'object') throw missingParameter(param);
  for (const field of ['max_chunk_size_tokens', 'chunk_overlap_tokens'] as const) {
    if (strategy[field] === undefined) throw missingParameter(`${param}.${field}`);
    if (typeof strategy[field] !== 'number') throw invalidRequest(`Invalid '${param}.${field}': expected an integer.`, `${param}.${field}`, 'invalid_type');
  }
  const maxChunkSizeTokens = strategy.max_chunk_size_tokens as number;
  const chunkOverlapTokens = strategy.chunk_overlap_tokens as number;
  const problem = staticProblem(maxChunkSizeTokens, chunkOverlapTokens);
  if (problem) throw invalidRequest(`Invalid '${param}.${problem.field}': ${problem.message}`, `${param}.${problem.field}`);
  return { maxChunkSizeTokens, chunkOverlapTokens };
}

const SENTENCE_END = /[.!?;:…。！？]["'”’)\]]*$/;

/**
 * OpenAI's static chunking: windows of at most `maxChunkSizeTokens` tokens, each starting
 * `chunkOverlapTokens` tokens (at most) before the previous one ended. Windows end between the
 * tokenizer's pieces (words with their leading space, punctuation, whitespace runs), so no word is
 * cut, and up to a tenth early at a paragraph, line or sentence end where there is one. Chunks
 * neither start nor end with whitespace-only pieces; blank text makes no chunk. Synchronous: the
 * tokenizer's cost, ~1–3 µs per character counted once per overlap (bounded by `maxChunks`).
 */
export function chunkText(text: string, options: ChunkTextOptions = {}): ChunkedText {
  const max = options.maxChunkSizeTokens ?? STATIC_CHUNKING.defaultMaxChunkSizeTokens;
  const overlap = options.chunkOverlapTokens ?? STATIC_CHUNKING.defaultChunkOverlapTokens;
  const maxChunks = options.maxChunks ?? DEFAULT_MAX_CHUNKS;
  const problem = staticProblem(max, overlap);
  if (problem) throw new RangeError(`chunkText: ${problem.field} ${problem.message}`);
  if (!Number.isSafeInteger(maxChunks) || maxChunks <= 0) throw new RangeError(`chunkText: maxChunks must be a positive integer, got ${maxChunks}`);

  // Pieces are tokenized as the windows reach them, so that maxChunks bounds the work too.
  const ends: number[] = [];
  const tokens: number[] = [];
  const blank: boolean[] = [];
  const source = tokenPieces(text, PIECE_RUN);
  let done = false;
  const has = (i: number): boolean => {
    while (!done && tokens.length <= i) {
      const next = source.next();
      if (next.done) done = true;
      else {
        const start = ends.length ? ends[ends.length - 1] : 0;
        ends.push(start + next.value.length);
        tokens.push(next.value.tokens);
        blank.push(!/\S/.test(text.slice(start, start + next.value.length)));
      }
    }
    return i < tokens.length;
  };
  const startOf = (i: number): number => (i ? ends[i - 1] : 0);
  const sum = (from: number, to: number): number => {
    let total = 0;
    for (let i = from; i < to; i++) total += tokens[i];
    return total;
  };

  const chunks: TextChunk[] = [];
  let first = 0;
  for (;;) {
    while (has(first) && blank[first]) first++;
    if (!has(first)) return { chunks, truncated: false };
    if (chunks.length === maxChunks) return { chunks, truncated: true };
    let end = first;
    let size = 0;
    while (has(end) && size + tokens[end] <= max) size += tokens[end++];
    const more = has(end);
    if (more) end = preferredEnd(text, first, end, Math.floor(max * BOUNDARY_SLACK), tokens, startOf);
    let last = end;
    while (blank[last - 1]) last--;
    const start = startOf(first);
    chunks.push({ text: text.slice(start, ends[last - 1]), tokens: sum(first, last), start, end: ends[last - 1] });
    if (!more) return { chunks, truncated: false };
    // The next window starts as far back as the overlap allows, and always after this one's start.
    let next = end;
    let shared = 0;
    while (next - 1 > first && shared + tokens[next - 1] <= overlap) shared += tokens[--next];
    first = next;
  }
}

/**
 * Where a full window had better end: the last paragraph or line break, else the last sentence end,
 * among the piece boundaries that give up at most `slack` tokens; else where it is.
 */
function preferredEnd(text: string, first: number, end: number, slack: number, tokens: number[], startOf: (i: number) => number): number {
  let sentence = -1;
  let given = 0;
  for (let j = end; j > first + 1 && given <= slack; given += tokens[--j]) {
    const at = startOf(j);
    if (text[at - 1] === '\n' || text[at] === '\n') return j;
    if (sentence < 0 && /\s/.test(text[at] ?? '') && SENTENCE_END.test(text.slice(Math.max(0, at - 4), at))) sentence = j;
  }
  return sentence > 0 ? sentence : end;
}
