import { Agent, fetch as undiciFetch, Response as UndiciResponse } from 'undici';
import { UrlGuard, UrlRefusedError } from './url-guard';

/** The shape of `fetch` that HTTP clients (the MCP SDK's transports…) accept. */
export type FetchLike = (url: string | URL, init?: RequestInit) => Promise<Response>;

/** A response body longer than the caller's limit: it errors instead of being read on. */
export class ResponseTooLargeError extends Error {}

export interface GuardedFetchOptions {
  /** The most bytes read from one response body. */
  maxResponseBytes: number;
  /** Told when the URL, a redirect or a resolved address is refused (the error is then thrown). */
  onRefused?: (error: UrlRefusedError) => void;
  /** Told when a body passes `maxResponseBytes` (the body then errors). */
  onTooLarge?: () => void;
}

const MAX_REDIRECTS = 5;
const REDIRECTS = new Set([301, 302, 303, 307, 308]);

/** The refusal behind an error: undici wraps what the connect-time `lookup` threw as `cause`. */
function refusalIn(error: unknown): UrlRefusedError | undefined {
  for (let e = error, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    if (e instanceof UrlRefusedError) return e;
  }
  return undefined;
}

/**
 * Outbound HTTP for one purpose, only where its guard allows: the URL (form, address literal)
 * before connecting, every address at connect time through the connection pool's `lookup`,
 * every redirect hop (followed only within the origin), and a cap on the bytes read of each
 * response body, so that a huge answer cannot exhaust memory.
 */
export class GuardedHttp {
  private readonly dispatcher: Agent;

  constructor(readonly guard: UrlGuard) {
    this.dispatcher = new Agent({ connect: { lookup: guard.lookup() } });
  }

  fetch(options: GuardedFetchOptions): FetchLike {
    return async (input, init) => {
      try {
        return await this.follow(this.guard.target(String(input)), init ?? {}, options);
      } catch (error) {
        const refusal = refusalIn(error);
        if (!refusal) throw error;
        options.onRefused?.(refusal);
        throw refusal;
      }
    };
  }

  private async follow(url: URL, init: RequestInit, options: GuardedFetchOptions): Promise<Response> {
    for (let hop = 0; ; hop++) {
      // Node's RequestInit and undici's differ only in types: the values are the same.
      const response = await undiciFetch(url, { ...(init as object), redirect: 'manual', dispatcher: this.dispatcher });
      const location = REDIRECTS.has(response.status) ? response.headers.get('location') : null;
      const method = (init.method ?? 'GET').toUpperCase();
      // 301/302/303 turn a request with a body into a GET: left unfollowed, as the MCP SDK does.
      const keepsMethod = response.status === 307 || response.status === 308 || method === 'GET' || method === 'HEAD';
      if (!location || !keepsMethod) return this.limited(response, options);
      await response.body?.cancel();
      let next: URL;
      try {
        next = new URL(location, url);
      } catch {
        throw new UrlRefusedError('redirects to an invalid URL');
      }
      if (next.protocol !== url.protocol || next.host !== url.host) throw new UrlRefusedError('redirects to another host');
      if (hop === MAX_REDIRECTS) throw new UrlRefusedError('redirects too many times');
      url = this.guard.target(next.href);
    }
  }

  /** The response, its body counted as it is read and cut off past the limit. */
  private limited(response: UndiciResponse, options: GuardedFetchOptions): Response {
    if (!response.body) return response;
    const reader: ReadableStreamDefaultReader<Uint8Array> = response.body.getReader();
    let read = 0;
    const body = new ReadableStream<Uint8Array>({
      async pull(controller) {
        const { done, value } = await reader.read();
        if (done) return controller.close();
        read += value.byteLength;
        if (read > options.maxResponseBytes) {
          options.onTooLarge?.();
          controller.error(new ResponseTooLargeError(`the response is larger than ${options.maxResponseBytes} bytes`));
          await reader.cancel();
          return;
        }
        controller.enqueue(value);
      },
      cancel: (reason) => reader.cancel(reason),
    });
    return new UndiciResponse(body, { status: response.status, statusText: response.statusText, headers: response.headers });
  }

  close(): Promise<void> {
    return this.dispatcher.close();
  }
}
