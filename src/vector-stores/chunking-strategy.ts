import { invalidRequest } from '../common/openai-error';
import type { ChunkingStrategy } from './persistence/vector-stores.store';

/** OpenAI's `auto` strategy, and the static strategy's defaults. */
export const AUTO_CHUNKING: ChunkingStrategy = { type: 'static', static: { max_chunk_size_tokens: 800, chunk_overlap_tokens: 400 } };

/** A client's `chunking_strategy` (absent or `auto`: 800/400), checked as OpenAI checks it: a 400 naming the field. */
export function parseChunkingStrategy(value: unknown, param = 'chunking_strategy'): ChunkingStrategy {
  if (value === undefined || value === null) return AUTO_CHUNKING;
  const v = value as { type?: unknown; static?: { max_chunk_size_tokens?: unknown; chunk_overlap_tokens?: unknown } };
  if (typeof value !== 'object' || Array.isArray(value)) throw invalidRequest(`'${param}' must be an object.`, param, 'invalid_type');
  if (v.type === 'auto') return AUTO_CHUNKING;
  if (v.type !== 'static') throw invalidRequest(`'${param}.type' must be 'auto' or 'static'.`, `${param}.type`, 'invalid_value');
  const max = v.static?.max_chunk_size_tokens;
  const overlap = v.static?.chunk_overlap_tokens;
  if (!Number.isInteger(max) || (max as number) < 100 || (max as number) > 4096) {
    throw invalidRequest(`'${param}.static.max_chunk_size_tokens' must be an integer from 100 to 4096.`, `${param}.static.max_chunk_size_tokens`, 'invalid_value');
  }
  if (!Number.isInteger(overlap) || (overlap as number) < 0 || (overlap as number) > (max as number) / 2) {
    throw invalidRequest(
      `'${param}.static.chunk_overlap_tokens' must be an integer from 0 to half of max_chunk_size_tokens (${Math.floor((max as number) / 2)}).`,
      `${param}.static.chunk_overlap_tokens`,
      'invalid_value',
    );
  }
  return { type: 'static', static: { max_chunk_size_tokens: max as number, chunk_overlap_tokens: overlap as number } };
}
