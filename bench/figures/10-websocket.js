'use strict';
/* eslint-disable @typescript-eslint/no-require-imports -- CommonJS on purpose: `node bench/run.js` runs as is, with no build step */
/**
 * Figure 10: WebSocket mode (docs/websocket.md) against HTTP, through the built gateway
 * (`ROLE=all`, DATA_DIR=memory://, an API key) and the bench upstream, whose `bench-agent` model
 * answers every turn with a `shell` function call (bench/upstream.js).
 *
 * (1) A 50-turn agent loop: each turn the client sends the previous call's
 * `function_call_output` (bench/agent-session.js: 300–1500 characters) and the model answers the
 * next call. Four series, each on a fresh connection, in alternating order round after round:
 *   - `http` (store: false): a stateless client — every turn a streamed POST with the whole history;
 *   - `ws` (store: false): one socket, `previous_response_id` + only the new item, the history
 *     from the connection-local cache;
 *   - `http-chain` and `ws-chain` (store: true): `previous_response_id` on both transports, the
 *     history from the store.
 * Per turn: wall time (send → `response.completed`), the gateway's CPU (utime + stime from
 * /proc/<pid>/stat over the whole loop, / turns: a turn costs less than the 10 ms clock tick; the
 * median of the rounds),
 * and the bytes the client wrote (JSON payloads, and the socket's bytes: HTTP headers, frame
 * headers and the upgrade included).
 *
 * (2) Memory per idle socket: N authenticated sockets opened and left idle; the gateway's RSS and,
 * after a full GC (forced through the inspector on loopback, attached only for this part), its
 * heap and external memory, against the same process before; then all closed, and measured again.
 */
const { WebSocket } = require('ws');
const procs = require('../procs');
const cleanup = require('../cleanup');
const { Client, median, pool, parseJson } = require('../client');
const { log, round } = require('../measure');
const session = require('../agent-session');

const TURNS = 50;
const KEY = 'sk-bench-websocket-0123456789abcdef';
const AUTH = { authorization: `Bearer ${KEY}` };
const MODEL = 'bench-agent';
/** @param {import('../context').Context} ctx */
const roundsOf = (ctx) => (ctx.quick ? 2 : 5);
/** @param {import('../context').Context} ctx */
const socketsOf = (ctx) => (ctx.quick ? 200 : 500);

/** @typedef {{ type: string, call_id?: string } & Record<string, unknown>} Item */
/** @typedef {{ id: string, status: string, output: Item[] }} Response */
/** @typedef {'http' | 'ws' | 'http-chain' | 'ws-chain'} Series */
/** @typedef {{ turnMs: number[], wallMs: number, cpuMs: number, payloadBytes: number, wireBytes: number, wireBytesRead: number }} Loop */

const SERIES = /** @type {Series[]} */ (['http', 'ws', 'http-chain', 'ws-chain']);

/** The turn's new items: the task, then the output of the call the model made last turn. @param {number} turn @param {Response | null} last */
function newItems(turn, last) {
  if (turn === 1) return [{ type: 'message', role: 'user', content: 'The tests in src/agents fail since the last rename: find out why and fix it.' }];
  const call = last?.output.find((i) => i.type === 'function_call');
  if (!call?.call_id) throw new Error(`turn ${turn - 1} answered no function call: ${JSON.stringify(last).slice(0, 300)}`);
  return [{ type: 'function_call_output', call_id: call.call_id, output: session.toolOutput(turn - 1) }];
}

/** @param {boolean} store */
const create = (store) => ({ model: MODEL, store, instructions: session.INSTRUCTIONS, tools: [session.SHELL_TOOL] });

/** @param {string} type @param {string} data @returns {Response | Error | null} the terminal event's response, an Error for a failure */
function terminal(type, data) {
  if (type === 'response.completed') return /** @type {{ response: Response }} */ (parseJson(data)).response;
  if (type === 'error' || type === 'response.failed' || type === 'response.incomplete') return new Error(`${type}: ${data.slice(0, 500)}`);
  return null;
}

/**
 * The loop over HTTP: `chain` false, the stateless client (the whole history every turn);
 * true, `previous_response_id` with `store: true`.
 * @param {string} url @param {boolean} chain @param {number} turns @param {number} gatewayPid @returns {Promise<Loop>}
 */
async function httpLoop(url, chain, turns, gatewayPid) {
  const client = new Client(url, { maxSockets: 1, headers: AUTH });
  /** @type {Set<import('node:net').Socket>} */
  const sockets = new Set();
  // Every socket the agent opens, for its byte counts (one, with keep-alive).
  const connect = client.agent.createConnection.bind(client.agent);
  client.agent.createConnection = (/** @type {Parameters<typeof connect>} */ ...args) => {
    const socket = /** @type {import('node:net').Socket} */ (connect(...args));
    sockets.add(socket);
    return socket;
  };
  try {
    /** @type {unknown[]} */
    const history = [];
    /** @type {Response | null} */
    let last = null;
    const turnMs = [];
    let payloadBytes = 0;
    const cpu0 = procs.cpuMs(gatewayPid);
    const t0 = performance.now();
    for (let turn = 1; turn <= turns; turn++) {
      const items = newItems(turn, last);
      const body = chain
        ? { ...create(true), stream: true, input: items, ...(last ? { previous_response_id: last.id } : {}) }
        : { ...create(false), stream: true, input: [...history, ...items] };
      payloadBytes += Buffer.byteLength(JSON.stringify(body));
      const seen = { end: /** @type {Response | Error | null} */ (null) };
      const r = await client.stream('POST', '/v1/responses', body, { onEvent: (type, data) => (seen.end ??= terminal(type, data)) });
      const end = seen.end;
      if (r.status !== 200 || !end || end instanceof Error)
        throw new Error(`HTTP turn ${turn}: ${r.status} ${end instanceof Error ? end.message : r.lastData.slice(0, 300)}`);
      turnMs.push(r.totalMs);
      last = end;
      history.push(...items, ...end.output);
    }
    const wallMs = performance.now() - t0;
    const cpuMs = procs.cpuMs(gatewayPid) - cpu0;
    const wire = [...sockets];
    return { turnMs, wallMs, cpuMs, payloadBytes, wireBytes: sum(wire.map((s) => s.bytesWritten)), wireBytesRead: sum(wire.map((s) => s.bytesRead)) };
  } finally {
    client.close();
  }
}

/**
 * The loop on one socket, opened as part of it: `previous_response_id` + only the new item;
 * `store` false, the history from the connection's cache; true, from the store.
 * @param {string} url @param {boolean} store @param {number} turns @param {number} gatewayPid @returns {Promise<Loop>}
 */
async function wsLoop(url, store, turns, gatewayPid) {
  const cpu0 = procs.cpuMs(gatewayPid);
  const t0 = performance.now();
  const ws = new WebSocket(`${url.replace(/^http/, 'ws')}/v1/responses`, { headers: AUTH, perMessageDeflate: false });
  /** @type {import('node:net').Socket | null} */
  let socket = null;
  ws.once('upgrade', (res) => (socket = /** @type {import('node:net').Socket} */ (res.socket)));
  try {
    await new Promise((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
      ws.once('unexpected-response', (_req, res) => reject(new Error(`upgrade refused: ${res.statusCode}`)));
    });
    /** @type {((response: Response | Error) => void) | null} */
    let settle = null;
    ws.on('message', (data) => {
      const text = textOf(data);
      const event = /** @type {{ type: string }} */ (parseJson(text));
      const end = terminal(event.type, text);
      if (end) settle?.(end);
    });
    ws.on('close', () => settle?.(new Error('the socket closed')));
    /** @type {Response | null} */
    let last = null;
    const turnMs = [];
    let payloadBytes = 0;
    for (let turn = 1; turn <= turns; turn++) {
      const message = JSON.stringify({
        type: 'response.create',
        ...create(store),
        input: newItems(turn, last),
        ...(last ? { previous_response_id: last.id } : {}),
      });
      payloadBytes += Buffer.byteLength(message);
      const started = performance.now();
      const end = await /** @type {Promise<Response | Error>} */ (
        new Promise((resolve) => {
          settle = resolve;
          ws.send(message);
        })
      );
      settle = null;
      if (end instanceof Error) throw new Error(`WebSocket turn ${turn}: ${end.message}`);
      turnMs.push(performance.now() - started);
      last = /** @type {Response} */ (end);
    }
    const closed = new Promise((resolve) => ws.once('close', resolve));
    ws.close(1000);
    await closed;
    const wallMs = performance.now() - t0;
    const cpuMs = procs.cpuMs(gatewayPid) - cpu0;
    const s = /** @type {import('node:net').Socket | null} */ (socket);
    return { turnMs, wallMs, cpuMs, payloadBytes, wireBytes: s?.bytesWritten ?? NaN, wireBytesRead: s?.bytesRead ?? NaN };
  } finally {
    ws.terminate();
  }
}

/** A `ws` message as text. @param {import('ws').RawData} data */
const textOf = (data) => (Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data)).toString('utf8');

/** @param {number[]} xs */
const sum = (xs) => xs.reduce((a, b) => a + b, 0);

/**
 * A Chrome DevTools Protocol session on the gateway's inspector (loopback): full GCs and
 * `process.memoryUsage()` read inside the process.
 * @param {string} wsUrl
 */
async function inspector(wsUrl) {
  const ws = new WebSocket(wsUrl, { perMessageDeflate: false });
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  let next = 0;
  /** @type {Map<number, (reply: { result?: unknown, error?: unknown }) => void>} */
  const waiting = new Map();
  ws.on('message', (data) => {
    const reply = /** @type {{ id?: number, result?: unknown, error?: unknown }} */ (parseJson(textOf(data)));
    if (reply.id !== undefined) waiting.get(reply.id)?.(reply);
  });
  /** @param {string} method @param {Record<string, unknown>} [params] @returns {Promise<unknown>} */
  const call = (method, params = {}) =>
    new Promise((resolve, reject) => {
      const id = ++next;
      waiting.set(id, (reply) => {
        waiting.delete(id);
        if (reply.error) reject(new Error(`${method}: ${JSON.stringify(reply.error)}`));
        else resolve(reply.result);
      });
      ws.send(JSON.stringify({ id, method, params }));
    });
  return {
    /** Heap, external and RSS after two full GCs, in bytes. */
    async memory() {
      await call('HeapProfiler.collectGarbage');
      await call('HeapProfiler.collectGarbage');
      const result = /** @type {{ result: { value: string } }} */ (
        await call('Runtime.evaluate', { expression: 'JSON.stringify(process.memoryUsage())', returnByValue: true })
      );
      return /** @type {{ rss: number, heapUsed: number, external: number, arrayBuffers: number }} */ (parseJson(result.result.value));
    },
    close: () => ws.terminate(),
  };
}

/** @type {import('../context').Figure} */
module.exports = {
  fig: '10',
  name: 'WebSocket mode',
  uses: [],
  // About 50 s on its own (a third of it the embedded store's start-up): full runs, or --only=10.
  fullOnly: true,
  targets: [
    {
      key: 'httpCpu',
      metric: `store: false, HTTP (the whole history each turn): gateway CPU per turn, ${TURNS}-turn loop`,
      unit: ' ms',
      op: null,
      limit: null,
    },
    { key: 'wsCpu', metric: 'store: false, WebSocket (previous_response_id, connection cache): gateway CPU per turn', unit: ' ms', op: null, limit: null },
    { key: 'cpuRatio', metric: 'store: false: gateway CPU per turn, WebSocket / HTTP', unit: '×', op: '<=', limit: 1 },
    { key: 'wallRatio', metric: `store: false: wall time of the ${TURNS} turns, WebSocket / HTTP`, unit: '×', op: '<=', limit: 1 },
    { key: 'p50Ratio', metric: 'store: false: p50 wall time per turn, WebSocket / HTTP', unit: '×', op: null, limit: null },
    { key: 'bytesRatio', metric: 'store: false: bytes the client wrote (on the wire), WebSocket / HTTP', unit: '×', op: '<=', limit: 0.1 },
    // Both transports do the same work here (the history from the store) but the HTTP request itself: no worse, within the noise.
    { key: 'chainCpuRatio', metric: 'store: true, previous_response_id on both: gateway CPU per turn, WebSocket / HTTP', unit: '×', op: '<=', limit: 1.1 },
    {
      key: 'heapPerSocket',
      metric: (ctx) => `${socketsOf(ctx)} idle sockets: heap + external per socket (after a full GC)`,
      unit: ' KiB',
      op: '<=',
      limit: 16,
    },
    { key: 'rssPerSocket', metric: 'idle sockets: RSS per socket', unit: ' KiB', op: '<=', limit: 32 },
    { key: 'heapLeftPerSocket', metric: 'after closing them: heap + external left per socket', unit: ' KiB', op: '<=', limit: 1 },
  ],
  async run(ctx) {
    const ROUNDS = roundsOf(ctx);
    const SOCKETS = socketsOf(ctx);
    const scope = cleanup.scope('figure 10');
    try {
      const gw = await ctx.gateway(
        'gateway-websocket',
        {
          ROLE: 'all',
          DATA_DIR: 'memory://',
          SECRETS_KEY: 'bench-websocket-secret-key-0123456789',
          API_KEYS: `${KEY}:bench-ws`,
          // One tenant holds every idle socket of part (2): the per-tenant cap (50 by default) is lifted for the run.
          MAX_WS_CONNECTIONS_PER_TENANT: String(SOCKETS + 10),
        },
        // The inspector, on loopback, for part (2)'s forced GCs; nothing attaches before then.
        ['--inspect=127.0.0.1:0'],
      );
      scope.defer('gateway', () => gw.stop('SIGKILL'));

      /** @type {(series: Series, turns: number) => Promise<Loop>} */
      const loop = (series, turns) =>
        series === 'http' || series === 'http-chain'
          ? httpLoop(gw.url, series === 'http-chain', turns, gw.pid)
          : wsLoop(gw.url, series === 'ws-chain', turns, gw.pid);

      log(`figure 10: warming up, then ${ROUNDS} rounds of 4 × ${TURNS}-turn loops`);
      // A whole loop of each first: the first loops of a fresh process cost up to twice the later ones (JIT).
      for (const series of SERIES) await loop(series, TURNS);
      /** @type {Record<Series, Loop[]>} */
      const loops = { http: [], ws: [], 'http-chain': [], 'ws-chain': [] };
      for (let r = 0; r < ROUNDS; r++) {
        for (const series of r % 2 ? [...SERIES].reverse() : SERIES) loops[series].push(await loop(series, TURNS));
      }
      /** @param {Series} series */
      const summary = (series) => {
        const ls = loops[series];
        const turnMs = ls.flatMap((l) => l.turnMs);
        // CPU: the median loop's, per turn (a loop is tens of clock ticks; a turn is less than one).
        return {
          cpuMsPerTurn: round(median(ls.map((l) => l.cpuMs)) / TURNS, 3),
          p50TurnMs: round(median(turnMs), 2),
          lastTurnP50Ms: round(median(ls.map((l) => l.turnMs[TURNS - 1])), 2),
          sumOfTurnsMs: round(median(ls.map((l) => sum(l.turnMs))), 1),
          loopWallMs: round(median(ls.map((l) => l.wallMs)), 1),
          payloadBytes: ls[0].payloadBytes,
          wireBytesWritten: ls[0].wireBytes,
          wireBytesRead: ls[0].wireBytesRead,
          cpuMsPerLoop: ls.map((l) => l.cpuMs),
        };
      };
      const series = Object.fromEntries(SERIES.map((s) => [s, summary(s)]));
      const [http, ws, httpChain, wsChain] = SERIES.map((s) => series[s]);
      log(`figure 10: CPU per turn http ${http.cpuMsPerTurn} ms, ws ${ws.cpuMsPerTurn} ms; opening ${SOCKETS} idle sockets`);

      // (2) Memory per idle socket.
      const url = /Debugger listening on (ws:\/\/\S+)/.exec(gw.output())?.[1];
      if (!url) throw new Error(`the gateway did not say where its inspector listens:\n${gw.output()}`);
      const inspect = await inspector(url);
      scope.defer('inspector', () => inspect.close());
      /** @type {WebSocket[]} */
      const sockets = [];
      scope.defer('sockets', () => sockets.forEach((s) => s.terminate()));
      await procs.sleep(500);
      const before = await inspect.memory();
      const rssBefore = procs.rssBytes(gw.pid);
      await pool(SOCKETS, 16, async () => {
        const s = new WebSocket(`${gw.url.replace(/^http/, 'ws')}/v1/responses`, { headers: AUTH, perMessageDeflate: false });
        sockets.push(s);
        await new Promise((resolve, reject) => {
          s.once('open', resolve);
          s.once('error', reject);
          s.once('unexpected-response', (_req, res) => reject(new Error(`upgrade refused: ${res.statusCode}`)));
        });
      });
      await procs.sleep(1000);
      const open = await inspect.memory();
      const rssOpen = procs.rssBytes(gw.pid);
      const stillOpen = sockets.filter((s) => s.readyState === WebSocket.OPEN).length;
      if (stillOpen !== SOCKETS) throw new Error(`${SOCKETS - stillOpen} of ${SOCKETS} idle sockets closed while measured`);
      await Promise.all(
        sockets.map(
          (s) =>
            new Promise((resolve) => {
              s.once('close', resolve);
              s.close(1000);
            }),
        ),
      );
      // Every close handshake is done (the last 'close' arrived): a moment for the gateway's own 'close' handlers.
      await procs.sleep(1000);
      const after = await inspect.memory();
      const rssAfter = procs.rssBytes(gw.pid);
      const heapOf = (/** @type {typeof before} */ m) => m.heapUsed + m.external;
      const kib = (/** @type {number} */ bytes) => round(bytes / SOCKETS / 1024, 2);
      const mib = (/** @type {number} */ bytes) => round(bytes / 2 ** 20, 1);
      const memory = {
        sockets: SOCKETS,
        heapUsedMiB: { before: mib(before.heapUsed), open: mib(open.heapUsed), closed: mib(after.heapUsed) },
        externalMiB: { before: mib(before.external), open: mib(open.external), closed: mib(after.external) },
        rssMiB: { before: mib(rssBefore), open: mib(rssOpen), closed: mib(rssAfter) },
        heapPerSocketKiB: kib(open.heapUsed - before.heapUsed),
        externalPerSocketKiB: kib(open.external - before.external),
        rssPerSocketKiB: kib(rssOpen - rssBefore),
        heapLeftPerSocketKiB: kib(heapOf(after) - heapOf(before)),
      };
      /** @param {number} a @param {number} b */
      const ratio = (a, b) => round(a / b, 3);
      return {
        details: {
          description: `${TURNS}-turn agent loop (every turn a function call and its 300–1500-character output), ${ROUNDS} rounds of each series in alternating order, each loop on a fresh connection, through a ROLE=all gateway on DATA_DIR=memory:// with an API key; then ${SOCKETS} idle authenticated sockets`,
          turns: TURNS,
          rounds: ROUNDS,
          series,
          ratios: {
            storeFalse: {
              cpuPerTurn: ratio(ws.cpuMsPerTurn, http.cpuMsPerTurn),
              sumOfTurns: ratio(ws.sumOfTurnsMs, http.sumOfTurnsMs),
              p50Turn: ratio(ws.p50TurnMs, http.p50TurnMs),
              payloadBytes: ratio(ws.payloadBytes, http.payloadBytes),
              wireBytesWritten: ratio(ws.wireBytesWritten, http.wireBytesWritten),
            },
            storeTrue: {
              cpuPerTurn: ratio(wsChain.cpuMsPerTurn, httpChain.cpuMsPerTurn),
              sumOfTurns: ratio(wsChain.sumOfTurnsMs, httpChain.sumOfTurnsMs),
              p50Turn: ratio(wsChain.p50TurnMs, httpChain.p50TurnMs),
              wireBytesWritten: ratio(wsChain.wireBytesWritten, httpChain.wireBytesWritten),
            },
          },
          memory,
        },
        measured: {
          httpCpu: http.cpuMsPerTurn,
          wsCpu: ws.cpuMsPerTurn,
          cpuRatio: ws.cpuMsPerTurn / http.cpuMsPerTurn,
          wallRatio: ws.sumOfTurnsMs / http.sumOfTurnsMs,
          p50Ratio: ws.p50TurnMs / http.p50TurnMs,
          bytesRatio: ws.wireBytesWritten / http.wireBytesWritten,
          chainCpuRatio: wsChain.cpuMsPerTurn / httpChain.cpuMsPerTurn,
          heapPerSocket: (heapOf(open) - heapOf(before)) / SOCKETS / 1024,
          rssPerSocket: (rssOpen - rssBefore) / SOCKETS / 1024,
          heapLeftPerSocket: (heapOf(after) - heapOf(before)) / SOCKETS / 1024,
        },
      };
    } finally {
      await scope.close();
    }
  },
};
