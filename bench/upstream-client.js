'use strict';
/* eslint-disable @typescript-eslint/no-require-imports -- CommonJS on purpose: `node bench/…` runs as is, with no build step */
/**
 * `node bench/upstream-client.js` — what one upstream Chat Completions call costs the *calling*
 * process in CPU, by HTTP client: the openai SDK as the gateway first used it (global fetch, i.e. undici
 * and web streams), the SDK on a fetch built on node:http, bare global fetch, and node:http with
 * JSON.parse (and a line splitter for streams). Against bench/upstream.js, 8 calls in flight,
 * five interleaved rounds, medians. docs/performance.md uses it to size the cost of the gateway's
 * upstream client, which is the largest single item in its CPU profile.
 */
const http = require('node:http');
const { Readable } = require('node:stream');
const { default: OpenAI } = require('openai');
const procs = require('./procs');
const { median } = require('./client');

/** CPU time of this process, in ms. */
const cpuMs = () => {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1000;
};

async function main() {
  const upstream = await procs.startUpstream();
  const agent = new http.Agent({ keepAlive: true, maxSockets: 32 });
  try {
    const { port } = new URL(upstream.url);
    const params = { model: 'bench', messages: [{ role: /** @type {const} */ ('user'), content: 'Say hello.' }] };

    /**
     * A `fetch` on node:http with a keep-alive agent, returning a WHATWG Response over the Node stream.
     * @param {string | URL | Request} input @param {RequestInit} [init] @returns {Promise<Response>}
     */
    const nodeFetch = (input, init = {}) =>
      new Promise((resolve, reject) => {
        const url = new URL(typeof input === 'string' || input instanceof URL ? input : input.url);
        /** @type {Record<string, string>} */
        const headers = {};
        new Headers(init.headers).forEach((value, key) => (headers[key] = value));
        const req = http.request(
          { host: url.hostname, port: url.port, path: url.pathname + url.search, method: init.method ?? 'GET', agent, headers },
          (res) => {
            const out = new Headers();
            for (const [key, value] of Object.entries(res.headers)) if (value !== undefined) out.set(key, Array.isArray(value) ? value.join(', ') : value);
            resolve(new Response(/** @type {ReadableStream} */ (Readable.toWeb(res)), { status: res.statusCode, headers: out }));
          },
        );
        req.on('error', reject);
        req.end(typeof init.body === 'string' ? init.body : undefined);
      });
    const sdk = new OpenAI({ baseURL: `${upstream.url}/v1`, apiKey: 'unused', maxRetries: 0, logLevel: 'off' });
    const sdkOnHttp = new OpenAI({ baseURL: `${upstream.url}/v1`, apiKey: 'unused', maxRetries: 0, logLevel: 'off', fetch: nodeFetch });

    for (const stream of [false, true]) {
      const body = JSON.stringify(stream ? { ...params, stream: true, stream_options: { include_usage: true } } : params);
      /** @param {OpenAI} client */
      const viaSdk = async (client) => {
        // A signal, as the gateway passes one to every call.
        const signal = new AbortController().signal;
        if (!stream) return void (await client.chat.completions.create(params, { signal }));
        const chunks = await client.chat.completions.create({ ...params, stream: true, stream_options: { include_usage: true } }, { signal });
        for await (const chunk of chunks) void chunk;
      };
      const viaFetch = async () => {
        const res = await fetch(`${upstream.url}/v1/chat/completions`, { method: 'POST', body, headers: { 'content-type': 'application/json' } });
        if (!stream) return void (await res.json());
        const reader = /** @type {ReadableStream<Uint8Array>} */ (res.body).getReader();
        while (!(await reader.read()).done);
      };
      const viaHttp = () =>
        new Promise((resolve, reject) => {
          const headers = { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) };
          const req = http.request({ host: '127.0.0.1', port, path: '/v1/chat/completions', method: 'POST', agent, headers }, (res) => {
            res.setEncoding('utf8');
            let text = '';
            res.on('data', (/** @type {string} */ piece) => {
              text += piece;
              if (!stream) return;
              let end;
              while ((end = text.indexOf('\n\n')) >= 0) {
                const event = text.slice(0, end);
                text = text.slice(end + 2);
                if (event !== 'data: [DONE]') JSON.parse(event.slice(6));
              }
            });
            res.on('end', () => resolve(stream ? undefined : JSON.parse(text)));
          });
          req.on('error', reject);
          req.end(body);
        });
      /** @type {Record<string, () => Promise<unknown>>} */
      const clients = {
        'openai SDK on global fetch (as the gateway)': () => viaSdk(sdk),
        'openai SDK on a node:http fetch': () => viaSdk(sdkOnHttp),
        'global fetch, no SDK': viaFetch,
        'node:http + JSON.parse': viaHttp,
      };
      /** @type {Record<string, number[]>} */
      const perCall = {};
      for (let round = 0; round < 5; round++) {
        for (const [name, call] of Object.entries(clients)) {
          for (let i = 0; i < 100; i++) await call(); // warm-up
          const calls = 1600;
          const before = cpuMs();
          await Promise.all(
            Array.from({ length: 8 }, async () => {
              for (let i = 0; i < calls / 8; i++) await call();
            }),
          );
          (perCall[name] ??= []).push(((cpuMs() - before) * 1000) / calls);
        }
      }
      process.stdout.write(`\n${stream ? 'streamed, 50 chunks' : 'non-streaming'}: CPU µs of the calling process per upstream call (median of 5 rounds)\n`);
      for (const [name, values] of Object.entries(perCall)) process.stdout.write(`  ${String(Math.round(median(values))).padStart(6)}  ${name}\n`);
    }
  } finally {
    agent.destroy();
    procs.killAll();
  }
}

main().catch((error) => {
  procs.killAll();
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
