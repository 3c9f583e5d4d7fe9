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
 *
 * `POST /tokenize` (at the server root, beside `/v1`) answers like vLLM's chat tokenize, counting
 * with a real tokenizer of another family than the gateway's estimate (Llama 3's, with its chat
 * template), so tests can measure the estimate's error; a script's `countPromptTokens` makes a
 * completion's `usage.prompt_tokens` that same count.
 *
 * `POST /v1/embeddings` answers in OpenAI's shape with deterministic vectors (`fakeEmbedding`: a
 * hashed bag of words and character trigrams, unit length), so texts that share words score
 * higher; its requests are recorded apart (`embeddingRequests`) and `enqueueEmbeddings` scripts
 * failures (status, delay, hang, drop, wrong dimensions, junk) as for chat.
 *
 * The benchmark's upstream is this same server (`bench/upstream.js` runs it as its own
 * process): `benchModelScripter()` picks scripts by model name, `reuse` scripts answer from
 * bytes rendered once (the upstream's own CPU must stay small beside the gateway's), it records
 * only tagged requests, and `control` serves `GET /_upstream/wait` and `/_upstream/stats` so
 * another process can wait on a record.
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
  /** `usage.prompt_tokens` is the request's Llama 3 count, as `POST /tokenize` counts it (`llama3PromptTokens`). */
  countPromptTokens?: boolean;
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
  /**
   * Render the answer once (per model, stream and include_usage) and send the same bytes to every
   * request this script answers — ids and `created` are the first request's. Streams then go out
   * one `data:` event per turn of the event loop (`setImmediate`, or `chunkDelayMs`) with the
   * finish, usage and `[DONE]` events in one last write. For load (bench), where rendering per
   * request would cost the upstream more than what is measured. A script with stream faults
   * (`dropAfterChunks`, `malformedAfterChunks`, `hangAfterChunks`) is rendered per request.
   */
  reuse?: boolean;
}

/** How the next `POST /v1/embeddings` answers (default: the vectors asked for). */
export interface EmbeddingScript {
  /** Wait before doing anything else. */
  delayMs?: number;
  /** Reply with this HTTP error status and an OpenAI error body instead. */
  status?: number;
  errorMessage?: string;
  retryAfter?: string;
  /** Destroy the socket without any response. */
  dropImmediately?: boolean;
  /** Never answer (until the client disconnects or the fake is closed). */
  hang?: boolean;
  /** Answer vectors of this length, whatever was asked (a misconfigured model). */
  dimensions?: number;
  /** Answer one vector fewer than there are inputs. */
  missingVector?: boolean;
  /** Answer `{not json`. */
  malformed?: boolean;
  /** Pad the JSON answer with this many spaces (an oversized reply). */
  padBytes?: number;
  /** Answer only once this many embeddings requests have arrived (requests in flight together). */
  holdUntilRequests?: number;
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
  /** `<name>` when the last user message starts with `tag:<name>` (how bench tells its requests apart). */
  tag?: string;
  /** The fake's clock (`Date.now()` unless `clock` is given) when the request body was read. */
  receivedAt: number;
  /** `data:` events written so far (streams; the role chunk counts). */
  chunksSent: number;
  /** When the client closed it (only when `closedByClient`). */
  closedAt?: number;
  /** When the server ended its answer normally (after the last byte; not for drops and hangs). */
  finishedAt?: number;
}

export interface UpstreamStats {
  /** Chat Completions requests received. */
  requests: number;
  streams: number;
  /** Streams whose connection is still open. */
  openStreams: number;
}

export interface FakeUpstreamOptions {
  /** Default 0: any free port. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /**
   * The timestamps of records (default `Date.now`). Bench passes a sub-millisecond wall clock
   * (`performance.timeOrigin + performance.now()`) that it compares with its own.
   */
  clock?: () => number;
  /** Record only tagged requests (see `RecordedRequest.tag`): a load of untagged ones is not kept. */
  recordOnlyTagged?: boolean;
  /** Keep at most this many records, the oldest dropped (default: all). */
  maxRecords?: number;
  /**
   * Serve `GET /_upstream/wait?tag=<name>&until=opened|chunks:<N>|ended|closed&timeoutMs=<ms>`
   * (answers the tag's record once that holds, 408 after the timeout) and `GET /_upstream/stats`,
   * for a process that drives the fake from outside (bench).
   */
  control?: boolean;
  /** `POST /tokenize`'s `max_model_len` unless `setTokenizer` says otherwise (default 8192). */
  maxModelLen?: number;
  /** `POST /v1/embeddings`: the vectors' length when the request asks for no `dimensions` (default 64). */
  embeddingDimensions?: number;
}

/** How `POST /tokenize` answers. */
export interface TokenizerSettings {
  /** Reported as `max_model_len` (default 8192). */
  maxModelLen?: number;
  /** Answer with this HTTP error status instead. */
  status?: number;
}

export interface FakeUpstream {
  /** Base URL for the OpenAI SDK, e.g. http://127.0.0.1:PORT/v1 */
  url: string;
  port: number;
  /** Every chat.completions request, in arrival order. */
  requests: RecordedRequest[];
  /** Every `POST /tokenize`, in arrival order (not in `requests`). */
  tokenizeRequests: RecordedRequest[];
  /** Every `POST /v1/embeddings`, in arrival order (not in `requests`). */
  embeddingRequests: RecordedRequest[];
  /** FIFO scripts for the next embeddings requests (the default answers normally). */
  enqueueEmbeddings(...scripts: EmbeddingScript[]): void;
  /** How `POST /tokenize` answers from now on (until `reset`). */
  setTokenizer(settings: TokenizerSettings): void;
  /** Counters since start (never reset). */
  readonly stats: Readonly<UpstreamStats>;
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
  /** Clears the queues, the recorded requests, the default script, the scripter and the tokenizer settings. */
  reset(): void;
  /** Destroys open connections and stops listening. Idempotent. */
  close(): Promise<void>;
}

const DEFAULT_TEXT = 'Hello from upstream';
const DEFAULT_USAGE = { prompt_tokens: 10, completion_tokens: 5 } as const;
const DEFAULT_MODEL = 'upstream-model';
const DEFAULT_WAIT_MS = 2000;
const DEFAULT_MAX_MODEL_LEN = 8192;
const MAX_CONTROL_WAIT_MS = 60_000;
/** Fixed `created` for /v1/models so responses are deterministic. */
const MODEL_CREATED = 1_700_000_000;
const DEFAULT_EMBEDDING_DIMENSIONS = 64;
/** The most `dimensions` an embeddings request may ask for. */
const MAX_EMBEDDING_DIMENSIONS = 8192;

/** 32-bit FNV-1a of a string's UTF-16 units: stable, fast, no dependency. */
function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

/** The words of a text as the fake's embeddings see them: runs of letters and digits, lower-cased. */
export function embeddingWords(text: string): string[] {
  return text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];
}

/**
 * The fake's embedding of a text: each word (weight 1) and each character trigram of `#word#`
 * (weight 0.5) hashed to a signed position among `dimensions`, the sum scaled to unit length — so
 * texts sharing words, or parts of words, have a higher dot product. A text without a word gets a
 * fixed unit vector (first position).
 */
export function fakeEmbedding(text: string, dimensions: number): number[] {
  const vector = new Array<number>(dimensions).fill(0);
  const add = (feature: string, weight: number): void => {
    const h = fnv1a(feature);
    vector[h % dimensions] += h & 0x80000000 ? -weight : weight;
  };
  for (const word of embeddingWords(text)) {
    add(`w:${word}`, 1);
    const marked = `#${word}#`;
    for (let i = 0; i + 3 <= marked.length; i++) add(`t:${marked.slice(i, i + 3)}`, 0.5);
  }
  const norm = Math.sqrt(vector.reduce((sum, x) => sum + x * x, 0));
  if (norm === 0) return vector.map((_, i) => (i === 0 ? 1 : 0));
  return vector.map((x) => x / norm);
}

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

function sendJson(res: http.ServerResponse, status: number, body: unknown, extraHeaders: http.OutgoingHttpHeaders = {}): void {
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

/** `<name>` when the last user message starts with `tag:<name>`. */
function tagOf(body: JsonObject): string | undefined {
  const messages = body['messages'];
  if (!Array.isArray(messages)) return undefined;
  for (let i = messages.length - 1; i >= 0; i--) {
    const message: unknown = messages[i];
    if (!isObject(message) || message['role'] !== 'user') continue;
    const content = message['content'];
    const text =
      typeof content === 'string'
        ? content
        : Array.isArray(content)
          ? content.map((part) => (isObject(part) && typeof part['text'] === 'string' ? part['text'] : '')).join('')
          : '';
    return text.startsWith('tag:') ? text.slice(4).split(/\s/)[0] : undefined;
  }
  return undefined;
}

/** An answer rendered once, for `reuse` scripts. */
interface Rendered {
  requestId: string;
  /** Non-stream reply. */
  json?: string;
  /** Stream: one `data:` event each, then the finish/usage/`[DONE]` events in one string. */
  events?: string[];
  tail?: string;
  tailEvents?: number;
}

function hasStreamFaults(script: UpstreamScript): boolean {
  return script.dropAfterChunks !== undefined || script.malformedAfterChunks !== undefined || script.hangAfterChunks !== undefined;
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
  /** A stream was started (counted in `stats.openStreams` until the connection closes). */
  streaming = false;
  private stopped = false;
  private immediate?: NodeJS.Immediate;
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

  /** Runs `fn` on the next turn of the event loop (`ms` 0) or after `ms`, unless the exchange stops first. */
  soon(fn: () => void, ms: number): void {
    if (ms > 0) {
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        fn();
      }, ms);
      this.timers.add(timer);
      return;
    }
    this.immediate = setImmediate(() => {
      this.immediate = undefined;
      fn();
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
    if (this.immediate) clearImmediate(this.immediate);
    for (const wake of [...this.wakeups]) wake();
  }
}

interface Waiter {
  /** Re-evaluates the condition; settles the waiter when it holds. */
  check(): void;
  fail(error: Error): void;
}

type Llama3 = { encode(text: string, options?: { bos?: boolean; eos?: boolean }): number[] };
let llama3: Promise<Llama3> | undefined;
/** Llama 3's tokenizer (3 MB of vocabulary), loaded on first use: most suites never count (and the bench never does). */
const llama3Tokenizer = (): Promise<Llama3> =>
  (llama3 ??= import('llama3-tokenizer-js/bundle/commonjs-llama3-tokenizer-with-baked-data.cjs').then((m) => m.llama3Tokenizer));

/** A chat message's text: a string, or its text parts joined (images and files have no text here). */
function messageText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content.map((part) => (isObject(part) && typeof part['text'] === 'string' ? part['text'] : '')).join('');
}

/**
 * The prompt of a chat request as Llama 3's chat template frames it: `<|begin_of_text|>`, then per
 * message `<|start_header_id|>{role}<|end_header_id|>\n\n{content}<|eot_id|>`, the tools as JSON in
 * a system message first, an assistant's tool calls as JSON (`{"name", "parameters"}`), tool
 * results under the `ipython` role, and the assistant header the reply starts with.
 */
export function llama3Prompt(body: Record<string, unknown>, addGenerationPrompt = true): string {
  const turn = (role: string, content: string) => `<|start_header_id|>${role}<|end_header_id|>\n\n${content}<|eot_id|>`;
  let prompt = '<|begin_of_text|>';
  const tools = body['tools'];
  if (Array.isArray(tools) && tools.length) prompt += turn('system', tools.map((tool) => JSON.stringify(tool, null, 4)).join('\n\n'));
  for (const message of Array.isArray(body['messages']) ? (body['messages'] as unknown[]) : []) {
    if (!isObject(message)) continue;
    const role = typeof message['role'] === 'string' ? message['role'] : 'user';
    const calls = Array.isArray(message['tool_calls']) ? (message['tool_calls'] as unknown[]) : [];
    const callText = calls
      .map((call) => (isObject(call) && isObject(call['function']) ? call['function'] : {}))
      .map((fn) => JSON.stringify({ name: fn['name'], parameters: typeof fn['arguments'] === 'string' ? fn['arguments'] : '' }))
      .join('\n');
    const text = [messageText(message['content']), callText].filter(Boolean).join('\n');
    prompt += turn(role === 'tool' ? 'ipython' : role === 'developer' ? 'system' : role, text);
  }
  return addGenerationPrompt ? `${prompt}<|start_header_id|>assistant<|end_header_id|>\n\n` : prompt;
}

/** The Llama 3 token count of a chat request (`/tokenize`'s `count`, and `usage.prompt_tokens` with `countPromptTokens`). */
export async function llama3PromptTokens(body: Record<string, unknown>, addGenerationPrompt = true): Promise<number> {
  return (await llama3Tokenizer()).encode(llama3Prompt(body, addGenerationPrompt), { bos: false, eos: false }).length;
}

class FakeUpstreamServer implements FakeUpstream {
  readonly requests: RecordedRequest[] = [];
  readonly tokenizeRequests: RecordedRequest[] = [];
  readonly embeddingRequests: RecordedRequest[] = [];
  readonly stats: UpstreamStats = { requests: 0, streams: 0, openStreams: 0 };

  private readonly server = http.createServer((req, res) => this.onRequest(req, res));
  private readonly now: () => number;
  /** The latest record of each tag. */
  private readonly tagged = new Map<string, RecordedRequest>();
  /** Renderings of `reuse` scripts, per model/stream/include_usage. */
  private readonly rendered = new WeakMap<UpstreamScript, Map<string, Rendered>>();
  private address?: { url: string; port: number };
  private queue: UpstreamScript[] = [];
  private embeddingQueue: EmbeddingScript[] = [];
  private defaultScript: UpstreamScript = {};
  private scripter?: Scripter;
  private tokenizer: TokenizerSettings = {};
  private readonly waiters = new Set<Waiter>();
  private readonly exchanges = new Set<Exchange>();
  /** Request counter, used for ids (never reset, so ids stay unique). */
  private seq = 0;
  private closing = false;
  private closed?: Promise<void>;

  constructor(private readonly options: FakeUpstreamOptions) {
    this.now = options.clock ?? Date.now;
    // Long keep-alive, so that a load generator and the gateway's pool never pay for reconnects
    // (close() destroys every connection anyway).
    this.server.keepAliveTimeout = 120_000;
    this.server.headersTimeout = 125_000;
    this.server.maxRequestsPerSocket = 0;
  }

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

  enqueueEmbeddings(...scripts: EmbeddingScript[]): void {
    this.embeddingQueue.push(...scripts);
  }

  setDefault(script: UpstreamScript): void {
    this.defaultScript = script;
  }

  setScripter(scripter: Scripter | undefined): void {
    this.scripter = scripter;
  }

  setTokenizer(settings: TokenizerSettings): void {
    this.tokenizer = { ...settings };
  }

  waitForRequests(n: number, timeoutMs = DEFAULT_WAIT_MS): Promise<RecordedRequest[]> {
    return this.waitFor(`${n} request(s)`, timeoutMs, () => (this.requests.length >= n ? this.requests.slice() : undefined));
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
    this.tokenizeRequests.length = 0;
    this.embeddingRequests.length = 0;
    this.embeddingQueue = [];
    this.tagged.clear();
    this.defaultScript = {};
    this.scripter = undefined;
    this.tokenizer = {};
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

    if (this.options.control && req.method === 'GET' && path === '/_upstream/wait') {
      await this.controlWait(new URL(req.url ?? '/', 'http://fake.invalid').searchParams, res);
      return;
    }
    if (this.options.control && req.method === 'GET' && path === '/_upstream/stats') {
      sendJson(res, 200, this.stats);
      return;
    }
    if (req.method === 'GET' && path === '/v1/models') {
      sendJson(res, 200, {
        object: 'list',
        data: [{ id: DEFAULT_MODEL, object: 'model', created: MODEL_CREATED, owned_by: 'fake' }],
      });
      return;
    }
    if (req.method === 'POST' && path === '/tokenize') {
      await this.tokenize(req, res);
      return;
    }
    if (req.method === 'POST' && path === '/v1/embeddings') {
      await this.embeddings(req, res);
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

    this.stats.requests++;
    const tag = validJson && isObject(body) ? tagOf(body) : undefined;
    const record = tag !== undefined || !this.options.recordOnlyTagged ? this.record(req, path, body, tag) : undefined;
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
      if (exchange.streaming) this.stats.openStreams--;
      if (record && !res.writableEnded && !exchange.droppedByServer && !this.closing && !record.closedByClient) {
        record.closedByClient = true;
        record.closedAt = this.now();
      }
      if (record) this.notify();
    };
    res.once('close', onClose);
    if (record) this.notify();
    if (res.destroyed) {
      // The connection died between reading the body and attaching the listener.
      onClose();
      return;
    }

    if (!validJson || !isObject(body)) {
      sendError(res, 400, 'fake upstream: request body is not a JSON object');
      return;
    }

    let script = this.queue.shift() ?? this.scripter?.(body, seq) ?? this.defaultScript;
    if (script.countPromptTokens) {
      script = {
        ...script,
        usage: { prompt_tokens: await llama3PromptTokens(body), completion_tokens: script.usage?.completion_tokens ?? DEFAULT_USAGE.completion_tokens },
      };
    }

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
      sendError(res, script.status, script.errorMessage ?? `fake upstream error (status ${script.status})`, script.retryAfter);
      return;
    }

    const stream = body['stream'] === true;
    if (stream) {
      this.stats.streams++;
      this.stats.openStreams++;
      exchange.streaming = true;
    }
    if (script.reuse && !(stream && hasStreamFaults(script))) {
      this.sendRendered(exchange, script, this.renderOnce(script, body, seq, stream), record);
      return;
    }
    const ctx = new CompletionContext(script, body, seq);
    if (stream) {
      await this.stream(exchange, script, ctx, record);
    } else {
      sendJson(res, 200, ctx.completion(), { 'x-request-id': ctx.requestId });
    }
    if (record && res.writableEnded && !exchange.droppedByServer) {
      record.finishedAt = this.now();
      this.notify();
    }
  }

  /** vLLM's `POST /tokenize`: chat form (`messages`, `tools`, `add_generation_prompt`) or `prompt`; answers `{count, max_model_len, tokens}`. */
  private async tokenize(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const raw = await readBody(req);
    let body: unknown;
    try {
      body = JSON.parse(raw);
    } catch {
      body = raw;
    }
    this.tokenizeRequests.push({
      method: 'POST',
      path: '/tokenize',
      headers: { ...req.headers },
      body,
      closedByClient: false,
      receivedAt: this.now(),
      chunksSent: 0,
    });
    if (this.tokenizer.status !== undefined) return sendError(res, this.tokenizer.status, `fake upstream tokenize error (status ${this.tokenizer.status})`);
    if (!isObject(body)) return sendError(res, 400, 'fake upstream: request body is not a JSON object');
    const count =
      typeof body['prompt'] === 'string'
        ? (await llama3Tokenizer()).encode(body['prompt'], { bos: false, eos: false }).length
        : await llama3PromptTokens(body, body['add_generation_prompt'] !== false);
    sendJson(res, 200, { count, max_model_len: this.tokenizer.maxModelLen ?? this.options.maxModelLen ?? DEFAULT_MAX_MODEL_LEN, tokens: [] });
  }

  /**
   * OpenAI's `POST /v1/embeddings`: `input` a string or strings (token arrays are refused),
   * `dimensions` honoured, `encoding_format` `float` (default) or `base64` (little-endian float32,
   * what the `openai` SDK asks for); `usage` counts words.
   */
  private async embeddings(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const raw = await readBody(req);
    let body: unknown;
    try {
      body = JSON.parse(raw);
    } catch {
      body = raw;
    }
    const record: RecordedRequest = {
      method: 'POST',
      path: '/v1/embeddings',
      headers: { ...req.headers },
      body,
      closedByClient: false,
      receivedAt: this.now(),
      chunksSent: 0,
    };
    this.embeddingRequests.push(record);
    this.notify();
    const exchange = new Exchange(req, res);
    this.exchanges.add(exchange);
    res.once('close', () => {
      this.exchanges.delete(exchange);
      exchange.stop();
      if (!res.writableEnded && !exchange.droppedByServer && !this.closing) {
        record.closedByClient = true;
        record.closedAt = this.now();
      }
    });
    const script = this.embeddingQueue.shift() ?? {};
    if (script.holdUntilRequests !== undefined) {
      const n = script.holdUntilRequests;
      await this.waitFor(`${n} embeddings request(s)`, DEFAULT_WAIT_MS, () => (this.embeddingRequests.length >= n ? true : undefined));
      if (!exchange.live) return;
    }
    if (script.delayMs !== undefined && script.delayMs > 0) {
      await exchange.sleep(script.delayMs);
      if (!exchange.live) return;
    }
    if (script.dropImmediately) return exchange.drop();
    if (script.hang) return;
    if (script.status !== undefined)
      return sendError(res, script.status, script.errorMessage ?? `fake upstream error (status ${script.status})`, script.retryAfter);
    if (script.malformed) {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{not json');
      return;
    }
    if (!isObject(body)) return sendError(res, 400, 'fake upstream: request body is not a JSON object');
    const input = body['input'];
    const strings = Array.isArray(input) ? (input as unknown[]) : [];
    const texts = typeof input === 'string' ? [input] : strings.length && strings.every((t): t is string => typeof t === 'string') ? strings : null;
    if (!texts || texts.length === 0 || texts.some((t) => t.length === 0))
      return sendError(res, 400, "fake upstream: 'input' must be a non-empty string or strings");
    const asked = body['dimensions'];
    if (asked !== undefined && (typeof asked !== 'number' || !Number.isInteger(asked) || asked < 1 || asked > MAX_EMBEDDING_DIMENSIONS)) {
      return sendError(res, 400, `fake upstream: 'dimensions' must be an integer in 1..${MAX_EMBEDDING_DIMENSIONS}`);
    }
    const dimensions = script.dimensions ?? asked ?? this.options.embeddingDimensions ?? DEFAULT_EMBEDDING_DIMENSIONS;
    const base64 = body['encoding_format'] === 'base64';
    const answered = script.missingVector ? texts.slice(1) : texts;
    const data = answered.map((text, index) => {
      const vector = fakeEmbedding(text, dimensions);
      return { object: 'embedding', index, embedding: base64 ? Buffer.from(new Float32Array(vector).buffer).toString('base64') : vector };
    });
    const tokens = texts.reduce((sum, text) => sum + embeddingWords(text).length, 0);
    const payload = JSON.stringify({
      object: 'list',
      data,
      model: typeof body['model'] === 'string' ? body['model'] : DEFAULT_MODEL,
      usage: { prompt_tokens: tokens, total_tokens: tokens },
    });
    const padded = script.padBytes ? `${payload}${' '.repeat(script.padBytes)}` : payload;
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(padded) });
    res.end(padded);
    record.finishedAt = this.now();
  }

  private record(req: http.IncomingMessage, path: string, body: unknown, tag: string | undefined): RecordedRequest {
    const record: RecordedRequest = {
      method: req.method ?? 'POST',
      path,
      headers: { ...req.headers },
      body,
      closedByClient: false,
      receivedAt: this.now(),
      chunksSent: 0,
    };
    if (tag !== undefined) {
      record.tag = tag;
      this.tagged.set(tag, record);
    }
    this.requests.push(record);
    const max = this.options.maxRecords;
    if (max !== undefined && this.requests.length > max) {
      const dropped = this.requests.shift();
      if (dropped?.tag !== undefined && this.tagged.get(dropped.tag) === dropped) this.tagged.delete(dropped.tag);
    }
    return record;
  }

  /** The rendering of a `reuse` script for this request's shape, built on first use. */
  private renderOnce(script: UpstreamScript, body: JsonObject, seq: number, stream: boolean): Rendered {
    const streamOptions = body['stream_options'];
    const key = `${String(body['model'])}\n${stream}\n${isObject(streamOptions) && streamOptions['include_usage'] === true}`;
    let byShape = this.rendered.get(script);
    if (!byShape) this.rendered.set(script, (byShape = new Map()));
    let rendered = byShape.get(key);
    if (!rendered) {
      const ctx = new CompletionContext(script, body, seq);
      rendered = { requestId: ctx.requestId };
      if (stream) {
        const events = ctx.chunks().map((chunk) => `data: ${JSON.stringify(chunk)}\n\n`);
        const last = events.length - (ctx.includeUsage ? 2 : 1); // the finish chunk, then the usage chunk
        rendered.events = events.slice(0, last);
        rendered.tail = `${events.slice(last).join('')}data: [DONE]\n\n`;
        rendered.tailEvents = events.length - last + 1;
      } else {
        rendered.json = JSON.stringify(ctx.completion());
      }
      byShape.set(key, rendered);
    }
    return rendered;
  }

  /** Sends a rendered answer: no per-request rendering, no waiting on flushes (see `reuse`). */
  private sendRendered(exchange: Exchange, script: UpstreamScript, rendered: Rendered, record: RecordedRequest | undefined): void {
    const { res } = exchange;
    const finished = (): void => {
      if (!record) return;
      record.finishedAt = this.now();
      this.notify();
    };
    if (rendered.json !== undefined) {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(rendered.json), 'x-request-id': rendered.requestId });
      res.end(rendered.json);
      finished();
      return;
    }
    const events = rendered.events ?? [];
    const intervalMs = script.chunkDelayMs ?? 0;
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', 'x-request-id': rendered.requestId });
    // As tokens from a real model: the role and first content events go with the headers, then one
    // event per turn of the event loop (or every `chunkDelayMs`) as separate writes, not one burst;
    // the finish/usage/[DONE] events right after the last one.
    let sent = 0;
    const step = (): void => {
      if (!exchange.live) return;
      res.write(events[sent++]);
      if (sent === 1 && sent < events.length) res.write(events[sent++]);
      if (record) {
        record.chunksSent = sent;
        this.notify();
      }
      if (sent < events.length) {
        exchange.soon(step, intervalMs);
        return;
      }
      res.end(rendered.tail);
      if (record) record.chunksSent = sent + (rendered.tailEvents ?? 0);
      finished();
    };
    step();
  }

  /** `GET /_upstream/wait` (see `FakeUpstreamOptions.control`). */
  private async controlWait(params: URLSearchParams, res: http.ServerResponse): Promise<void> {
    const tag = params.get('tag') ?? '';
    const until = params.get('until') ?? 'closed';
    const timeoutMs = Math.min(Number(params.get('timeoutMs') ?? DEFAULT_WAIT_MS), MAX_CONTROL_WAIT_MS);
    const wantChunks = until.startsWith('chunks:') ? Number(until.slice('chunks:'.length)) : 0;
    const holds = (r: RecordedRequest): boolean =>
      until === 'closed'
        ? r.closedByClient
        : until === 'ended'
          ? r.finishedAt !== undefined || r.closedByClient
          : wantChunks > 0
            ? r.chunksSent >= wantChunks || r.closedByClient
            : true; // 'opened'
    const view = (r: RecordedRequest | undefined) =>
      r && {
        tag: r.tag,
        receivedAt: r.receivedAt,
        chunksSent: r.chunksSent,
        finishedAt: r.finishedAt ?? null,
        closedAt: r.closedAt ?? null,
        closedByClient: r.closedByClient,
      };
    try {
      const record = await this.waitFor(`tag ${tag} to be ${until}`, timeoutMs, () => {
        const r = this.tagged.get(tag);
        return r && holds(r) ? r : undefined;
      });
      if (!res.destroyed) sendJson(res, 200, view(record));
    } catch (error) {
      if (!res.destroyed) sendJson(res, 408, { error: error instanceof Error ? error.message : String(error), record: view(this.tagged.get(tag)) ?? null });
    }
  }

  private async stream(exchange: Exchange, script: UpstreamScript, ctx: CompletionContext, record: RecordedRequest | undefined): Promise<void> {
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
      if (record) {
        record.chunksSent = sent + 1;
        this.notify();
      }
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
        () => waiter.fail(new Error(`fake upstream: timed out after ${timeoutMs}ms waiting for ${what} ` + `(${this.requests.length} request(s) recorded)`)),
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
  readonly includeUsage: boolean;
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

const BENCH_WORD = 'tok ';
const BENCH_CHUNKS = 50;
const BENCH_MAX_CHUNKS = 100_000;

/**
 * Scripts by model name, the benchmark's vocabulary (the gateway forwards names unchanged), all
 * `reuse`: `bench` one answer of 50 content chunks `tok `; `bench-n<K>` K chunks;
 * `bench-slow<MS>-n<K>` K chunks, one every MS ms; any of these + `.<label>` the same (labels tell
 * batches apart in the database); any other name is `bench`. Usage: 10 prompt tokens, K completion.
 */
export function benchModelScripter(): Scripter {
  const scripts = new Map<string, UpstreamScript>();
  return (body) => {
    const model = typeof body['model'] === 'string' ? body['model'] : 'bench';
    let script = scripts.get(model);
    if (!script) {
      const match = /^bench(?:-slow(\d+))?(?:-n(\d+))?(?:\.\w+)?$/.exec(model);
      const count = match?.[2] ? Math.min(Number(match[2]), BENCH_MAX_CHUNKS) : BENCH_CHUNKS;
      script = {
        reuse: true,
        text: BENCH_WORD.repeat(Math.min(count, 1000)).trim(),
        chunks: Array.from({ length: count }, () => BENCH_WORD),
        usage: { prompt_tokens: 10, completion_tokens: count },
        chunkDelayMs: match?.[1] ? Number(match[1]) : 0,
      };
      if (scripts.size >= 1000) scripts.clear(); // bounded: names are few, but they come from clients
      scripts.set(model, script);
    }
    return script;
  };
}

/** Starts the fake on `host` (default 127.0.0.1) and `port` (default 0 = any free port). */
export async function startFakeUpstream(opts: FakeUpstreamOptions = {}): Promise<FakeUpstream> {
  const upstream = new FakeUpstreamServer(opts);
  await upstream.listen(opts.port ?? 0, opts.host ?? '127.0.0.1');
  return upstream;
}
