'use strict';
/* eslint-disable @typescript-eslint/no-require-imports -- CommonJS on purpose: `node bench/run.js` runs as is, with no build step */
/**
 * A fast OpenAI-compatible Chat Completions upstream for the benchmark (plain node:http, no
 * dependencies). Run as its own process so its CPU time can be read from /proc apart from the
 * gateway's:
 *
 *   node bench/upstream.js            → prints {"port":N} on stdout once it listens on 127.0.0.1
 *
 * `POST /v1/chat/completions` answers from precomputed bytes so that the upstream costs as little
 * as possible. The model name selects the behaviour (the gateway forwards names unchanged):
 *
 *   bench                 one short reply; as a stream, 50 content chunks
 *   bench-n<K>            K content chunks (e.g. bench-n10000 for the resume figure)
 *   bench-slow<MS>-n<K>   K chunks, one every MS milliseconds (cancel and memory figures)
 *   any of these + .<label> the same behaviour (labels tell batches apart in the database)
 *
 * Streams honour `stream_options.include_usage` (a last chunk with `usage` and no choices) and end
 * with `data: [DONE]`. A request whose last user message starts with `tag:<name>` is recorded
 * under that name — when it arrived, how many chunks were written, when it finished, and when the
 * *client* closed the connection before the end — so the benchmark can measure how fast a cancel
 * reaches the upstream. `GET /_bench/wait?tag=…&until=chunks:N|closed|ended&timeoutMs=…` answers
 * once that is true (long poll, no busy polling).
 */
const http = require('node:http');

/** Wall-clock milliseconds with sub-millisecond precision, comparable across processes. */
const now = () => performance.timeOrigin + performance.now();

const CREATED = 1_700_000_000;
const DEFAULT_CHUNKS = 50;
const MAX_CHUNKS = 100_000;
const MAX_TAGS = 20_000;
const WORD = 'tok ';

/** @typedef {{ chunks: number, intervalMs: number }} Behaviour */
/** @typedef {{ openedAt: number, chunks: number, endedAt: number | null, closedAt: number | null }} TagRecord */

/** @param {string} model @returns {Behaviour} */
function behaviourOf(model) {
  const match = /^bench(?:-slow(\d+))?(?:-n(\d+))?(?:\.\w+)?$/.exec(model);
  if (!match) return { chunks: DEFAULT_CHUNKS, intervalMs: 0 };
  return {
    intervalMs: match[1] ? Number(match[1]) : 0,
    chunks: match[2] ? Math.min(Number(match[2]), MAX_CHUNKS) : DEFAULT_CHUNKS,
  };
}

/** @typedef {{ first: string, content: string, finish: string, usage: string, done: string }} StreamParts */

/** Precomputed stream bytes per (model, chunk count): building them once keeps the upstream cheap. @type {Map<string, StreamParts>} */
const streamCache = new Map();

/** @param {string} model @param {number} count */
function streamParts(model, count) {
  const key = `${model}\n${count}`;
  let parts = streamCache.get(key);
  if (!parts) {
    const head = { id: 'chatcmpl-bench', object: 'chat.completion.chunk', created: CREATED, model };
    /** @param {unknown} choice */
    const chunk = (choice) => `data: ${JSON.stringify({ ...head, choices: [choice] })}\n\n`;
    parts = {
      first: chunk({ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }),
      content: chunk({ index: 0, delta: { content: WORD }, finish_reason: null }),
      finish: chunk({ index: 0, delta: {}, finish_reason: 'stop' }),
      usage: `data: ${JSON.stringify({ ...head, choices: [], usage: { prompt_tokens: 10, completion_tokens: count, total_tokens: 10 + count } })}\n\n`,
      done: 'data: [DONE]\n\n',
    };
    streamCache.set(key, parts);
  }
  return parts;
}

/** @type {Map<string, string>} */
const replyCache = new Map();

/** @param {string} model @param {number} count @returns {string} */
function replyBody(model, count) {
  const key = `${model}\n${count}`;
  let body = replyCache.get(key);
  if (!body) {
    body = JSON.stringify({
      id: 'chatcmpl-bench',
      object: 'chat.completion',
      created: CREATED,
      model,
      choices: [{ index: 0, message: { role: 'assistant', content: WORD.repeat(Math.min(count, 1000)).trim() }, finish_reason: 'stop' }],
      usage: { prompt_tokens: 10, completion_tokens: count, total_tokens: 10 + count },
    });
    replyCache.set(key, body);
  }
  return body;
}

/** @type {Map<string, TagRecord>} */
const tags = new Map();
/** @type {Set<() => void>} */
const tagListeners = new Set();
const notifyTags = () => {
  for (const listener of [...tagListeners]) listener();
};

/** @param {unknown} body @returns {string | null} */
function tagOf(body) {
  const messages = /** @type {{ messages?: Array<{ role?: string, content?: unknown }> }} */ (body).messages ?? [];
  for (let i = messages.length - 1; i >= 0; i--) {
    if (messages[i].role !== 'user') continue;
    const content = messages[i].content;
    const text =
      typeof content === 'string'
        ? content
        : Array.isArray(content)
          ? /** @type {unknown[]} */ (content).map((p) => (typeof p === 'object' && p !== null && 'text' in p ? String(p.text) : '')).join('')
          : '';
    return text.startsWith('tag:') ? text.slice(4).split(/\s/)[0] : null;
  }
  return null;
}

/** @param {string} tag @returns {TagRecord} */
function record(tag) {
  // Bounded: the oldest records go first (Map keeps insertion order).
  if (tags.size >= MAX_TAGS) tags.delete(/** @type {string} */ (tags.keys().next().value));
  const entry = { openedAt: now(), chunks: 0, endedAt: null, closedAt: null };
  tags.set(tag, entry);
  return entry;
}

const stats = { requests: 0, streams: 0, openStreams: 0 };

/**
 * @param {http.IncomingMessage} req
 * @param {http.ServerResponse} res
 * @param {unknown} body
 */
function chatCompletions(req, res, body) {
  stats.requests++;
  const params = /** @type {{ model?: string, stream?: boolean, stream_options?: { include_usage?: boolean } }} */ (body);
  const model = typeof params.model === 'string' ? params.model : 'bench';
  const { chunks, intervalMs } = behaviourOf(model);
  const tag = tagOf(body);
  const entry = tag ? record(tag) : null;
  if (!params.stream) {
    const reply = replyBody(model, chunks);
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(reply) });
    res.end(reply);
    return;
  }
  stats.streams++;
  stats.openStreams++;
  const parts = streamParts(model, chunks);
  const withUsage = params.stream_options?.include_usage === true;
  let sent = 0;
  let timer = /** @type {NodeJS.Timeout | NodeJS.Immediate | null} */ (null);
  let finished = false;
  res.on('close', () => {
    stats.openStreams--;
    if (timer) {
      clearTimeout(/** @type {NodeJS.Timeout} */ (timer));
      clearImmediate(/** @type {NodeJS.Immediate} */ (timer));
    }
    if (!finished && entry) {
      entry.closedAt = now();
      notifyTags();
    }
  });
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  res.write(parts.first);
  const step = () => {
    timer = null;
    if (res.destroyed) return;
    res.write(parts.content);
    sent++;
    if (entry) {
      entry.chunks = sent;
      notifyTags();
    }
    if (sent < chunks) {
      // Fast streams yield between chunks (setImmediate) so that chunks leave as separate writes,
      // as tokens from a real model do, instead of one coalesced burst.
      timer = intervalMs > 0 ? setTimeout(step, intervalMs) : setImmediate(step);
      return;
    }
    finished = true;
    res.end(parts.finish + (withUsage ? parts.usage : '') + parts.done);
    if (entry) {
      entry.endedAt = now();
      notifyTags();
    }
  };
  step();
}

/** @param {URL} url @param {http.ServerResponse} res */
function waitForTag(url, res) {
  const tag = url.searchParams.get('tag') ?? '';
  const until = url.searchParams.get('until') ?? 'closed';
  const timeoutMs = Math.min(Number(url.searchParams.get('timeoutMs') ?? 5000), 60_000);
  const wantChunks = until.startsWith('chunks:') ? Number(until.slice(7)) : 0;
  const satisfied = () => {
    const entry = tags.get(tag);
    if (!entry) return null;
    if (until === 'closed') return entry.closedAt !== null ? entry : null;
    if (until === 'ended') return entry.endedAt !== null || entry.closedAt !== null ? entry : null;
    if (wantChunks) return entry.chunks >= wantChunks || entry.closedAt !== null ? entry : null;
    return entry; // 'opened'
  };
  /** @param {number} status @param {unknown} payload */
  const answer = (status, payload) => {
    tagListeners.delete(check);
    clearTimeout(timeout);
    const text = JSON.stringify(payload);
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  };
  const check = () => {
    const entry = satisfied();
    if (entry) answer(200, entry);
  };
  const timeout = setTimeout(() => answer(408, { error: `tag ${tag} not ${until} within ${timeoutMs} ms`, record: tags.get(tag) ?? null }), timeoutMs);
  tagListeners.add(check);
  res.on('close', () => {
    tagListeners.delete(check);
    clearTimeout(timeout);
  });
  check();
}

/** @param {http.ServerResponse} res @param {unknown} payload */
function sendJson(res, payload) {
  const text = JSON.stringify(payload);
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

const server = http.createServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://upstream');
  if (req.method === 'POST' && url.pathname === '/v1/chat/completions') {
    /** @type {Buffer[]} */
    const chunks = [];
    req.on('data', (/** @type {Buffer} */ chunk) => chunks.push(chunk));
    req.on('end', () => {
      /** @type {unknown} */
      let body;
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      } catch {
        res.writeHead(400, { 'content-type': 'application/json' });
        res.end('{"error":{"message":"invalid JSON","type":"invalid_request_error","param":null,"code":null}}');
        return;
      }
      chatCompletions(req, res, body);
    });
    return;
  }
  if (req.method === 'GET' && url.pathname === '/v1/models') {
    sendJson(res, { object: 'list', data: [{ id: 'bench', object: 'model', created: CREATED, owned_by: 'bench' }] });
    return;
  }
  if (req.method === 'GET' && url.pathname === '/_bench/wait') {
    waitForTag(url, res);
    return;
  }
  if (req.method === 'GET' && url.pathname === '/_bench/stats') {
    sendJson(res, stats);
    return;
  }
  res.writeHead(404, { 'content-type': 'application/json' });
  res.end('{"error":{"message":"not found","type":"invalid_request_error","param":null,"code":null}}');
});

// Long keep-alive, so load generators and the gateway's connection pool never pay for reconnects.
server.keepAliveTimeout = 120_000;
server.headersTimeout = 125_000;
server.maxRequestsPerSocket = 0;
server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  const address = /** @type {import('node:net').AddressInfo} */ (server.address());
  process.stdout.write(`${JSON.stringify({ port: address.port })}\n`);
});
process.on('SIGTERM', () => process.exit(0));
