import { SearchProviderError } from './search-provider';

/** The most bytes read of one provider answer: results pages are small; a huge one is a fault. */
const MAX_ANSWER_BYTES = 4 * 1024 * 1024;

export interface ProviderCall {
  provider: string;
  timeoutMs: number;
  signal: AbortSignal;
  init?: RequestInit;
}

/** The body, read up to `limit` bytes (then the call fails). */
async function boundedText(response: Response, provider: string, limit: number): Promise<string> {
  if (!response.body) return '';
  const reader: ReadableStreamDefaultReader<Uint8Array> = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let read = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    read += value.byteLength;
    if (read > limit) {
      await reader.cancel();
      throw new SearchProviderError('bad_response', `${provider} sent an answer larger than ${limit} bytes`);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * One JSON call to the operator's search provider, bounded in time and size. Failures are
 * SearchProviderErrors whose messages name the provider and the status, never the URL (it may
 * carry credentials) or the key; the caller's abort is rethrown as it is.
 */
export async function providerJson(url: URL, call: ProviderCall): Promise<unknown> {
  const timeout = AbortSignal.timeout(call.timeoutMs);
  const signal = AbortSignal.any([call.signal, timeout]);
  try {
    const response = await fetch(url, { ...call.init, signal, redirect: 'error' });
    if (response.status === 429) {
      await response.body?.cancel();
      throw new SearchProviderError('rate_limited', `${call.provider} is rate limiting the searches (HTTP 429)`, 429);
    }
    if (response.status >= 500) {
      await response.body?.cancel();
      throw new SearchProviderError('unavailable', `${call.provider} failed (HTTP ${response.status})`, response.status);
    }
    if (!response.ok) {
      await response.body?.cancel();
      throw new SearchProviderError('rejected', `${call.provider} refused the search (HTTP ${response.status})`, response.status);
    }
    const text = await boundedText(response, call.provider, MAX_ANSWER_BYTES);
    try {
      return JSON.parse(text) as unknown;
    } catch {
      throw new SearchProviderError('bad_response', `${call.provider} did not answer with JSON`);
    }
  } catch (error) {
    if (error instanceof SearchProviderError) throw error;
    if (call.signal.aborted) throw error;
    if (timeout.aborted) throw new SearchProviderError('timeout', `${call.provider} did not answer within ${call.timeoutMs} ms`);
    throw new SearchProviderError('unavailable', `${call.provider} could not be reached`);
  }
}

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** `list` of the answer at `path` (e.g. `web.results`), as records; a missing list is a bad answer. */
export function resultsAt(answer: unknown, path: string[], provider: string): Json[] {
  let value: unknown = answer;
  for (const key of path) value = isObject(value) ? value[key] : undefined;
  if (value === undefined && path.length > 1 && isObject(answer)) return []; // Brave leaves `web` out when nothing matched
  if (!Array.isArray(value)) throw new SearchProviderError('bad_response', `${provider}'s answer has no ${path.join('.')} list`);
  return value.filter(isObject);
}

/** A result's string field, or ''. */
export const field = (r: Json, key: string): string => (typeof r[key] === 'string' ? r[key] : '');
