import { invalidRequest } from '../common/openai-error';
import { STATIC_CHUNKING, validateStaticChunking } from './ingestion/chunk-text';
import type { ChunkingStrategy } from './persistence/vector-stores.store';

/** OpenAI's `auto` strategy: the static strategy's defaults. */
export const AUTO_CHUNKING: ChunkingStrategy = {
  type: 'static',
  static: { max_chunk_size_tokens: STATIC_CHUNKING.defaultMaxChunkSizeTokens, chunk_overlap_tokens: STATIC_CHUNKING.defaultChunkOverlapTokens },
};

/** A client's `chunking_strategy` (absent or `auto`: 800/400), checked as OpenAI checks it: a 400 naming the field. */
export function parseChunkingStrategy(value: unknown, param = 'chunking_strategy'): ChunkingStrategy {
  if (value === undefined || value === null) return AUTO_CHUNKING;
  if (typeof value !== 'object' || Array.isArray(value)) throw invalidRequest(`'${param}' must be an object.`, param, 'invalid_type');
  const v = value as { type?: unknown; static?: { max_chunk_size_tokens?: unknown; chunk_overlap_tokens?: unknown } };
  if (v.type === 'auto') return AUTO_CHUNKING;
  if (v.type !== 'static') throw invalidRequest(`'${param}.type' must be 'auto' or 'static'.`, `${param}.type`, 'invalid_value');
  const checked = validateStaticChunking(v.static, `${param}.static`);
  return { type: 'static', static: { max_chunk_size_tokens: checked.maxChunkSizeTokens, chunk_overlap_tokens: checked.chunkOverlapTokens } };
}
