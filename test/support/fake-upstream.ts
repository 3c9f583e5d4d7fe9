/**
 * Scriptable fake of an OpenAI-compatible Chat Completions upstream, for tests.
 *
 * It is a real HTTP server on loopback (plain `node:http`, no dependencies), so
 * the gateway under test talks to it exactly as it would to a real provider,
 * through the `openai` SDK:
 *
 *   const upstream = await startFakeUpstream();
 *   const client = new OpenAI({ baseURL: upstream.url, apiKey: 'k', maxRetries: 0 });
 *   upstream.enqueue({ text: 'hi' }, { status: 429, retryAfter: '1' });
 *   ...
 *   await upstream.close();
 *
 * Each `POST /v1/chat/completions` consumes the next queued `UpstreamScript`
 * (or the default script when the queue is empty) and answers according to it:
 * a `chat.completion` JSON object, or a `text/event-stream` of
 * `chat.completion.chunk`s when the request has `stream: true`. Scripts can also
 * inject failures: HTTP error statuses, delays, dropped connections, malformed
 * SSE data and requests that never get an answer.
 *
 * Every chat request is recorded (`requests`), including whether the *client*
 * hung up before the server finished answering (`closedByClient`) — that is how
 * tests check that the gateway propagates cancellation upstream.
 */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ToolCallScript {
  /** Defaults to `call_fake<request seq>_<tool index>`. */
  id?: string;
  name: string;
  /** JSON-encoded arguments, sent verbatim (streamed in 2+ fragments). */
  arguments: string;
}

export interface UpstreamScript {
  /** Assistant text (default 'Hello from upstream'; default null content when `toolCalls` is set). */
  text?: string;
  /** Explicit text chunks for streaming (default: `text` split into ~4 pieces). */
  chunks?: string[];
  /** Assistant tool_calls (finish_reason defaults to 'tool_calls'). */
  toolCalls?: ToolCallScript[];
  finishReason?: 'stop' | 'length' | 'content_filter' | 'tool_calls';
  /** Default `{prompt_tokens: 10, completion_tokens: 5}` (fixed, so tests can assert on it). */
  usage?: { prompt_tokens: number; completion_tokens: number };
  /** Sent as `reasoning_content` on the message / deltas (deltas come before the content). */
  reasoning?: string;
  /** Wait before doing anything else (before headers, errors, drops). */
  delayMs?: number;
  /** Wait between stream chunks. */
  chunkDelayMs?: number;
  /** Reply with this HTTP error status and an OpenAI error body instead. */
  status?: number;
  errorMessage?: string;
  /** `retry-after` header, sent with an error `status`. */
  retryAfter?: string;
  /** Stream: destroy the socket after N `data:` events (no terminating data). */
  dropAfterChunks?: number;
  /** Destroy the socket without any response. */
  dropImmediately?: boolean;
  /** Stream: after N `data:` events send `data: {not json` and end the response. */
  malformedAfterChunks?: number;
  /** Never answer (until the client disconnects or the fake is closed). */
  hang?: boolean;
  /** Stream: after N `data:` events send nothing more, keeping the connection open. */
  hangAfterChunks?: number;
  /**
   * Replace the content with N stamped pieces `[#<request seq>:<i>]` (i = 0..N-1), so that a
   * test can tell which upstream call each piece of an output came from.
   */
  stamp?: number;
}

/** Chooses the script of a request from its body and its sequence number (1-based, never reset). */
export type Scripter = (body: Record<string, unknown>, seq: number) => UpstreamScript | undefined;

export interface RecordedRequest {
  method: string;
  /** Path without the query string, e.g. '/v1/chat/completions'. */
  path: string;
  headers: Record<string, string | string[] | undefined>;
  /**
   * Parsed JSON request body. Typed `any` on purpose: it is whatever JSON the
   * client sent (the raw text if it was not valid JSON), and tests poke into it.
   */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  body: any;
  /** True when the client closed the connection before the server finished the response. */
  closedByClient: boolean;
  /** `Date.now()` at which the client closed it (only when `closedByClient`). */
  closedAt?: number;
  /** `Date.now()` at which the server ended its answer normally (after the last byte; not for drops and hangs). */
  finishedAt?: number;
}

export interface FakeUpstream {
  /** Base URL for the OpenAI SDK, e.g. http://127.0.0.1:PORT/v1 */
  url: string;
  port: number;
  /** Every chat.completions request, in arrival order. */
  requests: RecordedRequest[];
  /** FIFO scripts for the next requests. */
  enqueue(...scripts: UpstreamScript[]): void;
  /** Script used when the queue is empty (initially `{}`). */
  setDefault(script: UpstreamScript): void;
  /** Consulted when the queue is empty, before the default script (`undefined` = the default). */
  setScripter(scripter: Scripter | undefined): void;
  /** Resolves (with a copy of `requests`) once at least `n` requests have been recorded. */
  waitForRequests(n: number, timeoutMs?: number): Promise<RecordedRequest[]>;
  /** Resolves with `closedAt` once the client has hung up on request #index before it was finished. */
  waitForClientClose(index: number, timeoutMs?: number): Promise<number>;
  /** Clears the queue, the recorded requests, the default script and the scripter. */
  reset(): void;
  /** Destroys open connections and stops listening. Idempotent. */
  close(): Promise<void>;
}

const DEFAULT_TEXT = 'Hello from upstream';
const DEFAULT_USAGE = { prompt_tokens: 10, completion_tokens: 5 } as const;
const DEFAULT_MODEL = 'upstream-model';
const DEFAULT_WAIT_MS = 2000;
/** Fixed `created` for /v1/models so responses are deterministic. */
const MODEL_CREATED = 1_700_000_000;

type JsonObject = Record<string, unknown>;

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Splits `s` into at most `n` roughly equal, non-empty pieces (none for ''). */
function splitEvenly(s: string, n: number): string[] {
  const pieces: string[] = [];
  if (s.length === 0) return pieces;
  const size = Math.ceil(s.length / n);
  for (let i = 0; i < s.length; i += size) pieces.push(s.slice(i, i + size));
  return pieces;
}

function sendJson(
  res: http.ServerResponse,
  status: number,
  body: unknown,
  extraHeaders: http.OutgoingHttpHeaders = {},
): void {
  const payload = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(payload),
    ...extraHeaders,
  });
  res.end(payload);
}

/** OpenAI-shaped error body: `{"error":{message,type,param,code}}`. */
function sendError(res: http.ServerResponse, status: number, message: string, retryAfter?: string): void {
  const headers: http.OutgoingHttpHeaders = {};
  if (retryAfter !== undefined) headers['retry-after'] = retryAfter;
  sendJson(
    res,
    status,
    {
      error: {
        message,
        type: status >= 500 ? 'server_error' : 'invalid_request_error',
        param: null,
        code: null,
      },
    },
    headers,
  );
}

function readBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/**
 * One in-flight request/response pair. Owns the timers of its script, so they
 * can all be cleared the moment the connection goes away (client hang-up, a
 * scripted drop, or `close()`): slow/hanging scripts must not keep jest alive.
 */
class Exchange {
  /** Set once the server itself destroyed the socket (scripted drop). */
  droppedByServer = false;
  private stopped = false;
  private readonly timers = new Set<NodeJS.Timeout>();
  /** Resolvers of pending sleeps/writes, released early by `stop()`. */
  private readonly wakeups = new Set<() => void>();

  constructor(
    readonly req: http.IncomingMessage,
    readonly res: http.ServerResponse,
  ) {}

  /** Whether the handler may still write. Re-check after every `await`. */
  get live(): boolean {
    return !this.stopped && !this.res.destroyed;
  }

  /** Resolves after `ms`, or as soon as the exchange stops. */
  sleep(ms: number): Promise<void> {
    if (!this.live) return Promise.resolve();
    return new Promise((resolve) => {
      const wake = (): void => {
        clearTimeout(timer);
        this.timers.delete(timer);
        this.wakeups.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      this.timers.add(timer);
      this.wakeups.add(wake);
    });
  }

  /** Writes and waits until the data is flushed to the socket (or the exchange stops). */
  write(data: string): Promise<void> {
    if (!this.live) return Promise.resolve();
    return new Promise((resolve) => {
      const wake = (): void => {
        this.wakeups.delete(wake);
        resolve();
      };
      this.wakeups.add(wake);
      this.res.write(data, () => wake());
    });
  }

  /** Scripted network failure: kill the TCP connection without a proper end. */
  drop(): void {
    this.droppedByServer = true;
    this.stop();
    this.req.socket.destroy();
  }

  /** No more writes; clears timers and releases anything awaiting. Idempotent. */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    for (const wake of [...this.wakeups]) wake();
  }
}

interface Waiter {
  /** Re-evaluates the condition; settles the waiter when it holds. */
  check(): void;
  fail(error: Error): void;
}

class FakeUpstreamServer implements FakeUpstream {
  readonly requests: RecordedRequest[] = [];

  private readonly server = http.createServer((req, res) => this.onRequest(req, res));
  private address?: { url: string; port: number };
  private queue: UpstreamScript[] = [];
  private defaultScript: UpstreamScript = {};
  private scripter?: Scripter;
  private readonly waiters = new Set<Waiter>();
  private readonly exchanges = new Set<Exchange>();
  /** Request counter, used for ids (never reset, so ids stay unique). */
  private seq = 0;
  private closing = false;
  private closed?: Promise<void>;

  get url(): string {
    return this.listening().url;
  }

  get port(): number {
    return this.listening().port;
  }

  async listen(port: number, host: string): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    const actualPort = (this.server.address() as AddressInfo).port;
    const urlHost = host.includes(':') ? `[${host}]` : host; // IPv6 literal
    this.address = { url: `http://${urlHost}:${actualPort}/v1`, port: actualPort };
  }

  private listening(): { url: string; port: number } {
    if (!this.address) throw new Error('fake upstream is not listening');
    return this.address;
  }

  enqueue(...scripts: UpstreamScript[]): void {
    this.queue.push(...scripts);
  }

  setDefault(script: UpstreamScript): void {
    this.defaultScript = script;
  }

  setScripter(scripter: Scripter | undefined): void {
    this.scripter = scripter;
  }

  waitForRequests(n: number, timeoutMs = DEFAULT_WAIT_MS): Promise<RecordedRequest[]> {
    return this.waitFor(`${n} request(s)`, timeoutMs, () =>
      this.requests.length >= n ? this.requests.slice() : undefined,
    );
  }

  waitForClientClose(index: number, timeoutMs = DEFAULT_WAIT_MS): Promise<number> {
    return this.waitFor(`the client to close request #${index}`, timeoutMs, () => {
      const record = this.requests[index];
      return record?.closedByClient ? record.closedAt : undefined;
    });
  }

  reset(): void {
    this.queue = [];
    this.requests.length = 0; // same array object: keeps references held by tests valid
    this.defaultScript = {};
    this.scripter = undefined;
  }

  close(): Promise<void> {
    this.closed ??= new Promise<void>((resolve, reject) => {
      // From here on, connections torn down are not the client's doing.
      this.closing = true;
      for (const waiter of [...this.waiters]) waiter.fail(new Error('fake upstream closed'));
      for (const exchange of this.exchanges) exchange.stop();
      this.server.close((err) => (err ? reject(err) : resolve()));
      // close() alone waits for keep-alive/in-flight connections; kill them.
      this.server.closeAllConnections();
    });
    return this.closed;
  }

  /** Entry point for every HTTP request. */
  private onRequest(req: http.IncomingMessage, res: http.ServerResponse): void {
    this.handle(req, res).catch((err: unknown) => {
      if (res.headersSent || res.destroyed) {
        res.destroy();
      } else {
        sendError(res, 500, `fake upstream failure: ${err instanceof Error ? err.message : String(err)}`);
      }
    });
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const path = new URL(req.url ?? '/', 'http://fake.invalid').pathname;

    if (req.method === 'GET' && path === '/v1/models') {
      sendJson(res, 200, {
        object: 'list',
        data: [{ id: DEFAULT_MODEL, object: 'model', created: MODEL_CREATED, owned_by: 'fake' }],
      });
      return;
    }
    if (req.method !== 'POST' || path !== '/v1/chat/completions') {
      sendError(res, 404, `fake upstream: no route for ${req.method ?? '?'} ${path}`);
      return;
    }

    const raw = await readBody(req);
    let body: unknown;
    let validJson = true;
    try {
      body = JSON.parse(raw);
    } catch {
      body = raw;
      validJson = false;
    }

    const record: RecordedRequest = {
      method: req.method,
      path,
      headers: { ...req.headers },
      body,
      closedByClient: false,
    };
    this.requests.push(record);
    const seq = ++this.seq;

    const exchange = new Exchange(req, res);
    this.exchanges.add(exchange);
    // Client hang-up detection. `res` 'close' fires both after a normal end and
    // when the connection dies; only the latter leaves `writableEnded` false.
    // (Not `req` 'close': it fires once the request body is consumed, while the
    // response may still be pending.)
    const onClose = (): void => {
      this.exchanges.delete(exchange);
      exchange.stop();
      if (!res.writableEnded && !exchange.droppedByServer && !this.closing && !record.closedByClient) {
        record.closedByClient = true;
        record.closedAt = Date.now();
      }
      this.notify();
    };
    res.once('close', onClose);
    this.notify();
    if (res.destroyed) {
      // The connection died between reading the body and attaching the listener.
      onClose();
      return;
    }

    if (!validJson || !isObject(body)) {
      sendError(res, 400, 'fake upstream: request body is not a JSON object');
      return;
    }

    const script = this.queue.shift() ?? this.scripter?.(body, seq) ?? this.defaultScript;

    if (script.delayMs !== undefined && script.delayMs > 0) {
      await exchange.sleep(script.delayMs);
      if (!exchange.live) return;
    }
    if (script.dropImmediately) {
      exchange.drop();
      return;
    }
    if (script.hang) return; // never answer; `onClose` records the hang-up
    if (script.status !== undefined) {
      sendError(
        res,
        script.status,
        script.errorMessage ?? `fake upstream error (status ${script.status})`,
        script.retryAfter,
      );
      return;
    }

    const ctx = new CompletionContext(script, body, seq);
    if (body['stream'] === true) {
      await this.stream(exchange, script, ctx);
    } else {
      sendJson(res, 200, ctx.completion(), { 'x-request-id': ctx.requestId });
    }
    if (res.writableEnded && !exchange.droppedByServer) {
      record.finishedAt = Date.now();
      this.notify();
    }
  }

  private async stream(exchange: Exchange, script: UpstreamScript, ctx: CompletionContext): Promise<void> {
    const { res } = exchange;
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
      connection: 'keep-alive',
      'x-request-id': ctx.requestId,
    });
    res.flushHeaders();

    const events = [...ctx.chunks().map((chunk) => JSON.stringify(chunk)), '[DONE]'];
    for (let sent = 0; sent < events.length; sent++) {
      if (script.dropAfterChunks !== undefined && sent >= script.dropAfterChunks) {
        exchange.drop();
        return;
      }
      if (script.malformedAfterChunks !== undefined && sent >= script.malformedAfterChunks) {
        res.end('data: {not json\n\n');
        return;
      }
      if (script.hangAfterChunks !== undefined && sent >= script.hangAfterChunks) return; // silence until the client goes
      if (sent > 0 && script.chunkDelayMs !== undefined && script.chunkDelayMs > 0) {
        await exchange.sleep(script.chunkDelayMs);
        if (!exchange.live) return;
      }
      // Awaiting the flush makes a following scripted drop deterministic
      // (the client has received exactly N events before the socket dies).
      await exchange.write(`data: ${events[sent]}\n\n`);
      if (!exchange.live) return;
    }
    res.end();
  }

  /** Resolves with `probe()`'s value once it is defined; rejects after `timeoutMs`. */
  private waitFor<T>(what: string, timeoutMs: number, probe: () => T | undefined): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const now = probe();
      if (now !== undefined) {
        resolve(now);
        return;
      }
      if (this.closing) {
        reject(new Error('fake upstream closed'));
        return;
      }
      const settle = (): void => {
        clearTimeout(timer);
        this.waiters.delete(waiter);
      };
      const waiter: Waiter = {
        check: () => {
          const value = probe();
          if (value === undefined) return;
          settle();
          resolve(value);
        },
        fail: (error) => {
          settle();
          reject(error);
        },
      };
      const timer = setTimeout(
        () =>
          waiter.fail(
            new Error(
              `fake upstream: timed out after ${timeoutMs}ms waiting for ${what} ` +
                `(${this.requests.length} request(s) recorded)`,
            ),
          ),
        timeoutMs,
      );
      this.waiters.add(waiter);
    });
  }

  private notify(): void {
    for (const waiter of [...this.waiters]) waiter.check();
  }
}

/** Builds the response payloads (full completion or chunks) for one request. */
class CompletionContext {
  readonly id: string;
  readonly requestId: string;
  readonly created = Math.floor(Date.now() / 1000);
  readonly model: string;
  private readonly includeUsage: boolean;
  private readonly script: UpstreamScript;

  constructor(script: UpstreamScript, body: JsonObject, seq: number) {
    this.script =
      script.stamp !== undefined && script.stamp > 0
        ? { ...script, text: undefined, chunks: Array.from({ length: script.stamp }, (_, i) => `[#${seq}:${i}]`) }
        : script;
    const suffix = String(seq).padStart(6, '0');
    this.id = `chatcmpl-fake${suffix}`;
    this.requestId = `req_fake${suffix}`;
    this.model = typeof body['model'] === 'string' ? body['model'] : DEFAULT_MODEL;
    const streamOptions = body['stream_options'];
    this.includeUsage = isObject(streamOptions) && streamOptions['include_usage'] === true;
  }

  /** Full content for non-stream replies (null when only tool calls were scripted). */
  private get content(): string | null {
    const { text, chunks, toolCalls } = this.script;
    if (text !== undefined) return text;
    if (chunks !== undefined) return chunks.join('');
    return toolCalls?.length ? null : DEFAULT_TEXT;
  }

  /** Content pieces for stream replies. */
  private get contentPieces(): string[] {
    return this.script.chunks ?? splitEvenly(this.content ?? '', 4);
  }

  private get toolCalls(): Required<ToolCallScript>[] {
    return (this.script.toolCalls ?? []).map((call, index) => ({
      id: call.id ?? `call_${this.id.slice('chatcmpl-'.length)}_${index}`,
      name: call.name,
      arguments: call.arguments,
    }));
  }

  private get finishReason(): NonNullable<UpstreamScript['finishReason']> {
    return this.script.finishReason ?? (this.script.toolCalls?.length ? 'tool_calls' : 'stop');
  }

  private get usage(): { prompt_tokens: number; completion_tokens: number; total_tokens: number } {
    const { prompt_tokens, completion_tokens } = this.script.usage ?? DEFAULT_USAGE;
    return { prompt_tokens, completion_tokens, total_tokens: prompt_tokens + completion_tokens };
  }

  /** `chat.completion` object for non-stream requests. */
  completion(): JsonObject {
    const message: JsonObject = { role: 'assistant', content: this.content };
    const toolCalls = this.toolCalls;
    if (toolCalls.length > 0) {
      message['tool_calls'] = toolCalls.map((call) => ({
        id: call.id,
        type: 'function',
        function: { name: call.name, arguments: call.arguments },
      }));
    }
    if (this.script.reasoning !== undefined) message['reasoning_content'] = this.script.reasoning;
    return {
      id: this.id,
      object: 'chat.completion',
      created: this.created,
      model: this.model,
      choices: [{ index: 0, message, finish_reason: this.finishReason, logprobs: null }],
      usage: this.usage,
    };
  }

  /**
   * `chat.completion.chunk` objects, in the order OpenAI sends them: role,
   * reasoning deltas, content deltas, tool-call deltas (header then argument
   * fragments, per call), finish_reason, and the usage chunk if requested.
   * `[DONE]` is appended by the caller.
   */
  chunks(): JsonObject[] {
    const deltas: JsonObject[] = [{ role: 'assistant', content: '' }];
    for (const piece of splitEvenly(this.script.reasoning ?? '', 4)) deltas.push({ reasoning_content: piece });
    for (const piece of this.contentPieces) deltas.push({ content: piece });
    this.toolCalls.forEach((call, index) => {
      deltas.push({
        tool_calls: [{ index, id: call.id, type: 'function', function: { name: call.name, arguments: '' } }],
      });
      // n=3 guarantees at least 2 fragments for arguments of 2+ characters.
      for (const fragment of splitEvenly(call.arguments, 3)) {
        deltas.push({ tool_calls: [{ index, function: { arguments: fragment } }] });
      }
    });

    const chunks = deltas.map((delta) => this.chunk([{ index: 0, delta, finish_reason: null, logprobs: null }]));
    chunks.push(this.chunk([{ index: 0, delta: {}, finish_reason: this.finishReason, logprobs: null }]));
    if (this.includeUsage) chunks.push({ ...this.chunk([]), usage: this.usage });
    return chunks;
  }

  private chunk(choices: JsonObject[]): JsonObject {
    const chunk: JsonObject = {
      id: this.id,
      object: 'chat.completion.chunk',
      created: this.created,
      model: this.model,
      choices,
    };
    // Like OpenAI: with include_usage, every chunk but the last has `usage: null`.
    if (this.includeUsage) chunk['usage'] = null;
    return chunk;
  }
}

/** Starts the fake on `host` (default 127.0.0.1) and `port` (default 0 = any free port). */
export async function startFakeUpstream(opts: { port?: number; host?: string } = {}): Promise<FakeUpstream> {
  const upstream = new FakeUpstreamServer();
  await upstream.listen(opts.port ?? 0, opts.host ?? '127.0.0.1');
  return upstream;
}
