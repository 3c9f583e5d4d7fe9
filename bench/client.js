'use strict';
/* eslint-disable @typescript-eslint/no-require-imports -- CommonJS on purpose: `node bench/run.js` runs as is, with no build step */
/**
 * A small HTTP client for the measurements wrk cannot make: single requests timed one by one
 * (interleaved between two targets, so both see the same machine noise), and server-sent event
 * streams read as they arrive (time to first token, replay rate, thousands of open streams).
 * Plain node:http with keep-alive: the openai SDK would add its own parsing cost to every number.
 */
const http = require('node:http');

/** Wall-clock milliseconds with sub-millisecond precision, comparable with the upstream's. */
const now = () => performance.timeOrigin + performance.now();

/**
 * JSON.parse typed `unknown` (not `any`): callers say what they expect with a cast.
 * @param {string} text @returns {unknown}
 */
function parseJson(text) {
  return JSON.parse(text);
}

/** @param {number[]} values @param {number} p (0–100) */
function percentile(values, p) {
  if (!values.length) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

/** @param {number[]} values */
const median = (values) => percentile(values, 50);

/**
 * @typedef {object} Reply
 * @property {number} status
 * @property {string} text
 * @property {number} ms    from sending the request to the end of the body
 */

/**
 * @typedef {object} StreamResult
 * @property {number} status
 * @property {number} events          `data:` lines seen
 * @property {number | null} firstMs   when `isFirst` first said yes (null: never)
 * @property {number} totalMs          to the end of the stream (or until `stop` said so)
 * @property {string} lastType         the `event:` of the last event
 * @property {string} lastData         the data of the last event
 */

class Client {
  /**
   * @param {string} baseUrl @param {{ maxSockets?: number, headers?: Record<string, string>, timeoutMs?: number }} [options]
   *   `headers` go on every request (a bearer key); `timeoutMs`: how long a request may take (default 60 s)
   */
  constructor(baseUrl, options = {}) {
    const url = new URL(baseUrl);
    this.host = url.hostname;
    this.port = Number(url.port);
    this.agent = new http.Agent({ keepAlive: true, maxSockets: options.maxSockets ?? 64 });
    /** @type {Record<string, string>} */
    this.headers = options.headers ?? {};
    this.timeoutMs = options.timeoutMs ?? 60_000;
  }

  /** @param {string | undefined} payload */
  headersFor(payload) {
    return payload === undefined ? this.headers : { ...this.headers, 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(payload)) };
  }

  /**
   * @param {string} method @param {string} path @param {unknown} [body]
   * @returns {Promise<Reply>}
   */
  request(method, path, body) {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    return new Promise((resolve, reject) => {
      const started = performance.now();
      const req = http.request(
        {
          host: this.host,
          port: this.port,
          method,
          path,
          agent: this.agent,
          headers: this.headersFor(payload),
        },
        (res) => {
          /** @type {Buffer[]} */
          const chunks = [];
          res.on('data', (/** @type {Buffer} */ c) => chunks.push(c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8'), ms: performance.now() - started }));
          res.on('error', reject);
        },
      );
      req.setTimeout(this.timeoutMs, () => req.destroy(new Error(`${method} ${path}: no answer within ${this.timeoutMs / 1000} s`)));
      req.on('error', reject);
      req.end(payload);
    });
  }

  /**
   * A JSON request that must succeed.
   * @param {string} method @param {string} path @param {unknown} [body]
   * @returns {Promise<Record<string, unknown>>} the parsed body
   */
  async json(method, path, body) {
    const reply = await this.request(method, path, body);
    if (reply.status < 200 || reply.status >= 300) throw new Error(`${method} ${path} → ${reply.status}: ${reply.text.slice(0, 500)}`);
    return /** @type {Record<string, unknown>} */ (parseJson(reply.text));
  }

  /**
   * Reads a server-sent event stream as it arrives.
   * @param {string} method @param {string} path @param {unknown} body
   * @param {{ isFirst?: (type: string, data: string) => boolean, stop?: (type: string, data: string) => boolean, onEvent?: (type: string, data: string) => void, signal?: AbortSignal }} [hooks]
   *   `isFirst` marks the event whose arrival time is `firstMs`; `stop` ends the reading early (the connection is closed); `onEvent` sees every event.
   * @returns {Promise<StreamResult>}
   */
  stream(method, path, body, hooks = {}) {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    return new Promise((resolve, reject) => {
      const started = performance.now();
      const result = { status: 0, events: 0, firstMs: /** @type {number | null} */ (null), totalMs: 0, lastType: '', lastData: '' };
      const req = http.request(
        {
          host: this.host,
          port: this.port,
          method,
          path,
          agent: this.agent,
          signal: hooks.signal,
          headers: this.headersFor(payload),
        },
        (res) => {
          result.status = res.statusCode ?? 0;
          res.setEncoding('utf8');
          let buffer = '';
          let type = '';
          let stopped = false;
          res.on('data', (/** @type {string} */ text) => {
            if (stopped) return;
            buffer += text;
            let newline;
            while ((newline = buffer.indexOf('\n')) >= 0) {
              const line = buffer.slice(0, newline);
              buffer = buffer.slice(newline + 1);
              if (line.startsWith('event: ')) type = line.slice(7);
              else if (line.startsWith('data: ')) {
                const data = line.slice(6);
                result.events++;
                result.lastType = type;
                result.lastData = data;
                hooks.onEvent?.(type, data);
                if (result.firstMs === null && hooks.isFirst?.(type, data)) result.firstMs = performance.now() - started;
                if (hooks.stop?.(type, data)) {
                  stopped = true;
                  result.totalMs = performance.now() - started;
                  req.destroy();
                  resolve(result);
                  return;
                }
              }
            }
          });
          res.on('end', () => {
            if (stopped) return;
            result.totalMs = performance.now() - started;
            resolve(result);
          });
          res.on('error', (error) => (stopped ? undefined : reject(error)));
        },
      );
      req.setTimeout(120_000, () => req.destroy(new Error(`${method} ${path}: stream silent for 120 s`)));
      req.on('error', (error) => (result.totalMs ? undefined : reject(error)));
      req.end(payload);
    });
  }

  close() {
    this.agent.destroy();
  }
}

/**
 * Runs `count` calls of `fn` with at most `concurrency` at once.
 * @template T
 * @param {number} count @param {number} concurrency @param {(i: number) => Promise<T>} fn
 * @returns {Promise<T[]>}
 */
async function pool(count, concurrency, fn) {
  /** @type {T[]} */
  const results = new Array(count);
  let next = 0;
  const lane = async () => {
    while (next < count) {
      const i = next++;
      results[i] = await fn(i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, lane));
  return results;
}

module.exports = { Client, percentile, median, pool, now, parseJson };
