'use strict';
/* eslint-disable @typescript-eslint/no-require-imports -- CommonJS on purpose: `node bench/security.js` runs as is, with no build step */
/* eslint-disable @typescript-eslint/no-unsafe-member-access, @typescript-eslint/no-unsafe-assignment, @typescript-eslint/no-unsafe-call, @typescript-eslint/no-unsafe-argument, @typescript-eslint/no-unsafe-return -- it reads loosely typed JSON off the wire and out of dist/, as the tests do */
/**
 * The figures of docs/security.md, against a built gateway (`npm run build`; `--dist DIR` for
 * another build, e.g. one of an older commit), on loopback only:
 *
 *   node bench/security.js refs [--mb 4] [--ids 200]   Postgres backend peak memory while N item references resolve
 *   node bench/security.js redos                        request time and worst /health/live under a ReDoS schema
 *   node bench/security.js schemas [--count 2000]       gateway RSS and heap after N distinct output schemas
 *   node bench/security.js mcp [--mb 300]               gateway peak RSS over one MCP tool result of N MB
 *
 * `refs` needs Postgres (DATABASE_URL, default postgres://postgres@127.0.0.1:5432/test); the
 * others start the gateway on embedded PGlite with a scripted upstream (and MCP server).
 */
const { spawn } = require('node:child_process');
const { randomBytes } = require('node:crypto');
const { readFileSync } = require('node:fs');
const http = require('node:http');
const path = require('node:path');

const args = process.argv.slice(2);
const option = (/** @type {string} */ name, /** @type {string} */ fallback) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : fallback;
};
const DIST = path.resolve(option('dist', path.join(__dirname, '..', 'dist')));
const ADMIN_URL = process.env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/test';

/** A /proc/<pid>/status figure in MiB (VmHWM: peak resident, VmRSS: resident now). */
const status = (/** @type {number} */ pid, /** @type {string} */ field) =>
  Number(new RegExp(`${field}:\\s+(\\d+)`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;
const sleep = (/** @type {number} */ ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** A loopback server; resolves with its port. @param {http.RequestListener} handler */
async function listen(handler) {
  const server = http.createServer(handler);
  await new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(undefined)));
  return { server, port: /** @type {import('node:net').AddressInfo} */ (server.address()).port };
}

/** A Chat Completions upstream: `reply(body)` gives the assistant message. @param {(body: any) => object} reply */
function upstream(reply) {
  return listen((req, res) => {
    let body = '';
    req.on('data', (chunk) => (body += chunk));
    req.on('end', () => {
      const message = reply(JSON.parse(body));
      const finish = 'tool_calls' in message ? 'tool_calls' : 'stop';
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          id: 'c',
          object: 'chat.completion',
          created: 0,
          model: 'm',
          choices: [{ index: 0, message, finish_reason: finish }],
          usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 },
        }),
      );
    });
  });
}

/** The built gateway on PGlite in memory, pointed at `upstreamPort`. @param {number} upstreamPort @param {Record<string, string>} env */
async function gateway(upstreamPort, env = {}) {
  const port = 18000 + Math.floor(Math.random() * 1000);
  const child = spawn(process.execPath, [path.join(DIST, 'main.js')], {
    env: {
      PATH: process.env.PATH,
      PORT: String(port),
      HOST: '127.0.0.1',
      DATA_DIR: 'memory://',
      LOG_LEVEL: 'error',
      INFERENCE_BASE_URL: `http://127.0.0.1:${upstreamPort}/v1`,
      ...env,
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    try {
      if ((await fetch(`${url}/health/live`)).ok) break;
    } catch {
      if (i > 300) throw new Error('the gateway did not start');
    }
    await sleep(100);
  }
  return { url, pid: /** @type {number} */ (child.pid), stop: () => child.kill('SIGTERM') };
}

/** @param {string} url @param {unknown} body */
async function post(url, body) {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: res.status, body: /** @type {any} */ (await res.json()) };
}

async function refs() {
  const { Client } = require('pg');
  const { DataSource } = require('typeorm');
  const { dataSourceOptions } = require(path.join(DIST, 'data-source'));
  const { TypeOrmResponsesStore } = require(path.join(DIST, 'responses/persistence/typeorm-responses.store'));
  const mb = Number(option('mb', '4'));
  const ids = Number(option('ids', '200'));
  const name = `rg_bench_refs_${process.pid}`;
  const admin = new Client({ connectionString: ADMIN_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  // One connection, so that the backend measured is the one that runs the lookup.
  const ds = new DataSource({ ...dataSourceOptions({ databaseUrl: url.toString(), dataDir: '' }), extra: { max: 1 } });
  try {
    await ds.initialize();
    await ds.runMigrations();
    const store = new TypeOrmResponsesStore(ds);
    const per = 64 * 1024; // random text: TOAST cannot shrink it
    const output = Array.from({ length: Math.ceil((mb * 1024 * 1024) / per) }, (_, i) => ({
      id: `msg_${i}`,
      type: 'message',
      role: 'assistant',
      status: 'completed',
      content: [{ type: 'output_text', text: randomBytes(per / 2).toString('hex'), annotations: [] }],
    }));
    const now = new Date();
    const response = { id: 'resp_big', object: 'response', created_at: 0, status: 'completed', model: 'm', output };
    await store.create({
      id: 'resp_big',
      owner: 'o',
      status: 'completed',
      background: false,
      model: 'm',
      previousResponseId: null,
      attempt: 1,
      request: { model: 'm' },
      response,
      createdAt: now,
      completedAt: now,
      inputItems: [],
    });
    const [{ pid }] = await ds.query('SELECT pg_backend_pid() AS pid');
    const before = status(pid, 'VmHWM');
    // All ids but the last are missing: each used to be tested against the whole document.
    const wanted = [...Array.from({ length: ids - 1 }, (_, i) => `msg_absent${i}`), 'msg_0'];
    const started = performance.now();
    const found = await store.findItems('o', wanted);
    const ms = performance.now() - started;
    console.log(
      JSON.stringify({
        output_mb: mb,
        ids,
        found: found.size,
        backend_peak_mib_before: Math.round(before),
        backend_peak_mib_after: Math.round(status(pid, 'VmHWM')),
        ms: Math.round(ms),
      }),
    );
  } finally {
    await ds.destroy().catch(() => undefined);
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.end();
  }
}

/** The last user message, echoed: the model "answers" what the test wants validated. */
const echo = (/** @type {any} */ body) => {
  const last = [...body.messages].reverse().find((m) => m.role === 'user');
  return { role: 'assistant', content: typeof last.content === 'string' ? last.content : last.content.map((/** @type {any} */ p) => p.text ?? '').join('') };
};
const strict = (/** @type {unknown} */ schema, /** @type {string} */ input) => ({
  model: 'm',
  input,
  store: false,
  text: { format: { type: 'json_schema', name: 'r', schema, strict: true } },
});

async function redos() {
  const up = await upstream(echo);
  const gw = await gateway(up.port);
  try {
    let worst = 0;
    let stop = false;
    const poller = (async () => {
      while (!stop) {
        const t = performance.now();
        await fetch(`${gw.url}/health/live`);
        worst = Math.max(worst, performance.now() - t);
        await sleep(20);
      }
    })();
    await sleep(300);
    const t = performance.now();
    const r = await post(`${gw.url}/v1/responses`, strict({ type: 'string', pattern: '^(a+)+$' }, JSON.stringify(`${'a'.repeat(27)}!`)));
    const took = performance.now() - t;
    await sleep(300);
    stop = true;
    await poller;
    console.log(JSON.stringify({ request_ms: Math.round(took), status: r.status, worst_health_live_ms: Math.round(worst) }));
  } finally {
    gw.stop();
    up.server.close();
  }
}

async function schemas() {
  const up = await upstream(echo);
  const gw = await gateway(up.port);
  try {
    const n = Number(option('count', '2000'));
    const schemaOf = (/** @type {number} */ i) => ({
      type: 'object',
      properties: Object.fromEntries(Array.from({ length: 100 }, (_, k) => [`f${i}_${k}`, { type: 'string', minLength: 1, maxLength: 100 }])),
      required: [],
      additionalProperties: true,
    });
    const heap = async () =>
      Math.round(Number(/rg_nodejs_heap_size_used_bytes (\d+)/.exec(await (await fetch(`${gw.url}/metrics`)).text())?.[1] ?? 0) / 2 ** 20);
    await post(`${gw.url}/v1/responses`, strict(schemaOf(-1), '{}'));
    const rssBefore = status(gw.pid, 'VmRSS');
    const heapBefore = await heap();
    /** @type {Record<number, number>} */
    const statuses = {};
    let i = 0;
    await Promise.all(
      Array.from({ length: 4 }, async () => {
        while (i < n) {
          const r = await post(`${gw.url}/v1/responses`, strict(schemaOf(i++), '{}'));
          statuses[r.status] = (statuses[r.status] ?? 0) + 1;
        }
      }),
    );
    await sleep(500);
    console.log(
      JSON.stringify({
        schemas: n,
        rss_mb_before: Math.round(rssBefore),
        rss_mb_after: Math.round(status(gw.pid, 'VmRSS')),
        heap_mb_before: heapBefore,
        heap_mb_after: await heap(),
        statuses,
      }),
    );
  } finally {
    gw.stop();
    up.server.close();
  }
}

async function mcp() {
  const { McpServer } = require('@modelcontextprotocol/sdk/server/mcp.js');
  const { StreamableHTTPServerTransport } = require('@modelcontextprotocol/sdk/server/streamableHttp.js');
  const big = 'x'.repeat(Number(option('mb', '300')) * 1024 * 1024);
  // The model calls the tool once, then answers.
  const up = await upstream((body) =>
    body.messages.some((/** @type {any} */ m) => m.role === 'tool')
      ? { role: 'assistant', content: 'done' }
      : { role: 'assistant', content: null, tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'big__huge', arguments: '{}' } }] },
  );
  const tools = await listen((req, res) => {
    if (req.method !== 'POST') return void res.writeHead(405).end();
    let body = '';
    req.on('data', (chunk) => (body += chunk));
    req.on('end', () => {
      const server = new McpServer({ name: 'big', version: '1' });
      server.registerTool('huge', { description: 'a huge output', inputSchema: {} }, () => ({ content: [{ type: 'text', text: big }] }));
      const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
      res.on('close', () => void Promise.all([transport.close(), server.close()]));
      void server.connect(transport).then(() => transport.handleRequest(req, res, JSON.parse(body)));
    });
  });
  const gw = await gateway(up.port, { MCP_ALLOWED_HOSTS: '127.0.0.1', MCP_ALLOW_HTTP: 'true' });
  try {
    const idle = status(gw.pid, 'VmHWM');
    const started = performance.now();
    const r = await post(`${gw.url}/v1/responses`, {
      model: 'm',
      input: 'go',
      tools: [{ type: 'mcp', server_label: 'big', server_url: `http://127.0.0.1:${tools.port}/mcp`, require_approval: 'never' }],
    });
    const call = (r.body.output ?? []).find((/** @type {any} */ o) => o.type === 'mcp_call');
    console.log(
      JSON.stringify({
        status: r.status,
        response_status: r.body.status,
        mcp_call_output_bytes: call?.output == null ? null : Buffer.byteLength(call.output),
        mcp_call_error: call?.error?.slice(0, 120),
        seconds: Math.round(performance.now() - started) / 1000,
        idle_peak_rss_mb: Math.round(idle),
        peak_rss_mb: Math.round(status(gw.pid, 'VmHWM')),
      }),
    );
  } finally {
    gw.stop();
    up.server.close();
    tools.server.close();
  }
}

/** @type {Record<string, () => Promise<void>>} */
const FIGURES = { refs, redos, schemas, mcp };
const figure = FIGURES[args[0]];
if (!figure) {
  console.error(`usage: node bench/security.js ${Object.keys(FIGURES).join('|')} [options] (see the head of this file)`);
  process.exit(2);
}
figure().then(
  () => process.exit(0),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
