import type { CompletionUsage } from 'openai/resources/completions';
import type { ResponseUsage } from 'openai/resources/responses/responses';

/** A Chat Completions usage as the Responses usage. */
export function toUsage(usage: CompletionUsage | null | undefined): ResponseUsage | null {
  if (!usage) return null;
  return {
    input_tokens: usage.prompt_tokens,
    // Chat Completions reports no cache writes; the 6.49 types require the field.
    input_tokens_details: { cached_tokens: usage.prompt_tokens_details?.cached_tokens ?? 0, cache_write_tokens: 0 },
    output_tokens: usage.completion_tokens,
    output_tokens_details: { reasoning_tokens: usage.completion_tokens_details?.reasoning_tokens ?? 0 },
    total_tokens: usage.total_tokens,
  };
}

/** The usage of several upstream calls of one response (the compaction pass included). */
export function addUsage(total: ResponseUsage | null, next: ResponseUsage | null): ResponseUsage | null {
  if (!total || !next) return next ?? total;
  return {
    input_tokens: total.input_tokens + next.input_tokens,
    input_tokens_details: {
      cached_tokens: total.input_tokens_details.cached_tokens + next.input_tokens_details.cached_tokens,
      cache_write_tokens: 0,
    },
    output_tokens: total.output_tokens + next.output_tokens,
    output_tokens_details: { reasoning_tokens: total.output_tokens_details.reasoning_tokens + next.output_tokens_details.reasoning_tokens },
    total_tokens: total.total_tokens + next.total_tokens,
  };
}

/** The usage of a response that called no model (`generate: false`), or of a compaction that reported none. */
export const NO_USAGE: ResponseUsage = {
  input_tokens: 0,
  input_tokens_details: { cached_tokens: 0, cache_write_tokens: 0 },
  output_tokens: 0,
  output_tokens_details: { reasoning_tokens: 0 },
  total_tokens: 0,
};
