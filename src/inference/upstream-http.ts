import http, { type IncomingMessage } from 'node:http';
import https from 'node:https';
import { setTimeout as sleep } from 'node:timers/promises';
import { abortError, fromUpstreamStatus, isAbort, upstreamTimedOut, upstreamUnreachable, type UpstreamError } from './upstream-error';

export interface UpstreamHttpOptions {
  /** The provider's name, for error messages. */
  provider: string;
  /** `https://host/v1`: paths are appended to it. */
  baseUrl: string;
  apiKey?: string;
  /** An attempt that receives nothing for this long (before or during the reply) fails. */
  timeoutMs: number;
}

export interface UpstreamCallOptions {
  signal: AbortSignal;
  /** Retries of a call that failed before its reply started (refused, reset, 408/409/429/5xx). */
  retries: number;
}

/** Statuses worth another try (as the `openai` SDK retries them). */
const RETRYABLE = new Set([408, 409, 429, 500, 502, 503, 504]);
/** A `retry-after` longer than this is not waited for: the call fails with the 429. */
const MAX_RETRY_AFTER_MS = 60_000;
/** Error bodies are read up to this size (they end up in an error message, never whole in a log). */
const ERROR_BODY_LIMIT = 64 * 1024;

/** The socket went quiet for `timeoutMs`. */
class AttemptTimedOut extends Error {}

/**
 * HTTP to one OpenAI-compatible upstream on `node:http` with a keep-alive agent. It replaces the
 * `openai` SDK on `fetch` in the request path because that costs the gateway ~6× the CPU per call
 * (web streams, its SSE decoder; docs/performance.md). The SDK's types are still the contract.
 */
export class UpstreamHttp {
  private readonly base: URL;
  private readonly agent: http.Agent;
  private readonly request: typeof http.request;
  private readonly headers: Record<string, string>;

  constructor(private readonly options: UpstreamHttpOptions) {
    this.base = new URL(options.baseUrl.endsWith('/') ? options.baseUrl : `${options.baseUrl}/`);
    const secure = this.base.protocol === 'https:';
    // LIFO reuses the warmest socket, so idle ones time out instead of racing the server's close.
    const agentOptions = { keepAlive: true, scheduling: 'lifo' as const };
    this.agent = secure ? new https.Agent(agentOptions) : new http.Agent(agentOptions);
    this.request = secure ? https.request : http.request;
    this.headers = { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'user-agent': 'responses-gateway' };
    if (options.apiKey) this.headers.authorization = `Bearer ${options.apiKey}`;
  }

  /**
   * POSTs a JSON body; resolves with a 2xx reply whose body is still to be read (with
   * `readBody` or as a stream). Any other answer becomes an UpstreamError, after `retries`.
   */
  async post(path: string, body: string, call: UpstreamCallOptions): Promise<IncomingMessage> {
    for (let attempt = 0; ; attempt++) {
      let reply: IncomingMessage;
      try {
        reply = await this.send('POST', path, body, call.signal);
      } catch (error) {
        if (call.signal.aborted) throw abortError(call.signal);
        if (error instanceof AttemptTimedOut) throw upstreamTimedOut(this.options.provider);
        if (attempt >= call.retries) throw upstreamUnreachable(this.options.provider);
        await sleep(backoffMs(attempt), undefined, { signal: call.signal });
        continue;
      }
      if (reply.statusCode! >= 200 && reply.statusCode! < 300) return reply;
      const failure = await this.failureOf(reply, call.signal);
      const wait = RETRYABLE.has(reply.statusCode!) && attempt < call.retries ? retryDelayMs(reply, attempt) : null;
      if (wait === null) throw failure;
      await sleep(wait, undefined, { signal: call.signal });
    }
  }

  /**
   * The relative path of `name` at the server's root, i.e. beside the API's `/v1` (vLLM serves
   * `/tokenize` there): `../name` under a `…/v1` base, `name` under any other.
   */
  rootPath(name: string): string {
    return /\/v1\/$/.test(this.base.pathname) ? `../${name}` : name;
  }

  /** Whether the upstream answers a GET at all (any status counts). */
  async answers(path: string, timeoutMs: number): Promise<boolean> {
    try {
      const reply = await this.send('GET', path, undefined, AbortSignal.timeout(timeoutMs));
      reply.resume();
      return true;
    } catch {
      return false;
    }
  }

  /** The body of a 2xx answer to a GET (up to `limit` characters); any failure throws. */
  async getText(path: string, timeoutMs: number, limit: number): Promise<string> {
    const signal = AbortSignal.timeout(timeoutMs);
    const reply = await this.send('GET', path, undefined, signal);
    if (reply.statusCode! < 200 || reply.statusCode! >= 300) {
      reply.resume();
      throw new Error(`HTTP ${reply.statusCode}`);
    }
    return this.readBody(reply, signal, limit);
  }

  /** The whole body of a reply, as text; the attempt's idle timeout and abort still apply. */
  async readBody(reply: IncomingMessage, signal: AbortSignal, limit = Infinity): Promise<string> {
    try {
      reply.setEncoding('utf8');
      let text = '';
      for await (const piece of reply as AsyncIterable<string>) {
        text += piece;
        if (text.length > limit) {
          reply.destroy();
          break;
        }
      }
      return text;
    } catch (error) {
      throw this.readFailure(error, signal);
    }
  }

  /** What an error while reading a reply means: an abort, a timeout, or a broken reply. */
  readFailure(error: unknown, signal: AbortSignal): Error {
    if (signal.aborted) return abortError(signal);
    if (error instanceof AttemptTimedOut || (error instanceof Error && error.cause instanceof AttemptTimedOut)) return upstreamTimedOut(this.options.provider);
    return error instanceof Error ? error : new Error(String(error));
  }

  private async failureOf(reply: IncomingMessage, signal: AbortSignal): Promise<UpstreamError | Error> {
    const retryAfter = header(reply, 'retry-after');
    try {
      const body = await this.readBody(reply, signal, ERROR_BODY_LIMIT);
      return fromUpstreamStatus(reply.statusCode!, body, retryAfter, this.options.provider);
    } catch (error) {
      return isAbort(error) ? (error as Error) : fromUpstreamStatus(reply.statusCode!, '', retryAfter, this.options.provider);
    }
  }

  /** One attempt: resolves at the reply's headers. A stale keep-alive socket is retried once at once. */
  private send(method: string, path: string, body: string | undefined, signal: AbortSignal, stale = false): Promise<IncomingMessage> {
    return new Promise((resolve, reject) => {
      const url = new URL(path, this.base);
      const headers = body === undefined ? this.headers : { ...this.headers, 'content-length': String(Buffer.byteLength(body)) };
      let reply: IncomingMessage | undefined;
      const req = this.request(url, { method, headers, agent: this.agent }, (res) => resolve((reply = res)));
      // The abort by hand, not as the request's `signal` option: Node wires that with
      // `addAbortSignal`, an end-of-stream watcher of ten listeners per request (12 µs of CPU in
      // the profile of a 470 µs request; docs/performance.md).
      const onAbort = () => (reply ?? req).destroy(abortError(signal));
      if (signal.aborted) onAbort();
      else {
        signal.addEventListener('abort', onAbort, { once: true });
        req.once('close', () => signal.removeEventListener('abort', onAbort));
      }
      // Idle time, before and during the reply: a hung upstream fails the attempt. Destroying the
      // reply (once there is one) makes its reader see this error rather than a bare "aborted".
      req.setTimeout(this.options.timeoutMs, () => (reply ?? req).destroy(new AttemptTimedOut('upstream timed out')));
      req.on('error', (error: NodeJS.ErrnoException) => {
        // The server closed a pooled connection just as we reused it: the request never reached it.
        if (req.reusedSocket && !stale && error.code === 'ECONNRESET' && !signal.aborted) {
          this.send(method, path, body, signal, true).then(resolve, reject);
        } else reject(error);
      });
      req.end(body);
    });
  }
}

function header(reply: IncomingMessage, name: string): string | undefined {
  const value = reply.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** Exponential backoff with jitter: 0.5 s, 1 s, 2 s… up to 8 s, each 75–100 %. */
function backoffMs(attempt: number): number {
  return Math.min(500 * 2 ** attempt, 8_000) * (1 - Math.random() * 0.25);
}

/** The upstream's `retry-after(-ms)` when it gives one we will wait for, else the backoff; null: do not retry. */
function retryDelayMs(reply: IncomingMessage, attempt: number): number | null {
  const ms = Number(header(reply, 'retry-after-ms'));
  const after = header(reply, 'retry-after');
  let wait = Number.isFinite(ms) && ms >= 0 ? ms : NaN;
  if (Number.isNaN(wait) && after !== undefined) {
    const seconds = Number(after);
    wait = Number.isFinite(seconds) ? seconds * 1000 : Date.parse(after) - Date.now();
  }
  if (Number.isNaN(wait)) return backoffMs(attempt);
  return wait > MAX_RETRY_AFTER_MS ? null : Math.max(0, wait);
}
