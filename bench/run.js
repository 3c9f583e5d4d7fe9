'use strict';
/* eslint-disable @typescript-eslint/no-require-imports -- CommonJS on purpose: `node bench/run.js` runs as is, with no build step */
/**
 * `node bench/run.js [--quick]` — the gateway's benchmark (issue #6).
 *
 * Starts everything on loopback: the bench upstream (bench/upstream.js), the built gateway
 * (`node dist/main.js`, as separate processes, in the roles each figure needs), databases of its
 * own on the local Postgres, and a Redis key prefix of its own. Writes bench/results/latest.json
 * and latest.md (and full.* or quick.*), and prints the summary table.
 *
 * The machine is shared and noisy, so every figure is a RATIO of two things measured in the same
 * run, close together (often interleaved request by request); absolute numbers are reported too.
 * CPU time per request comes from /proc/<pid>/stat (utime + stime, all threads) before and after.
 *
 * Everything is bounded in count and time, and every process it started is killed at the end,
 * also when a figure fails or the run is interrupted. `--quick` takes under two minutes (it skips
 * the CPU profiles unless given `--profile`); a full run about five.
 *
 * Options: --quick, --profile (profiles in a quick run), --only=1,2,…,8,profile (some figures; for development).
 */
const { mkdirSync, writeFileSync, existsSync, readdirSync, unlinkSync } = require('node:fs');
const path = require('node:path');
const os = require('node:os');
const { execFileSync } = require('node:child_process');
const { Redis } = require('ioredis');
const procs = require('./procs');
const db = require('./db');
const { load, hasWrk } = require('./load');
const { Client, percentile, median, pool, now, parseJson } = require('./client');
const { summarize } = require('./profile');
const { markdown } = require('./report');

const RESULTS = path.join(__dirname, 'results');
const argv = process.argv.slice(2);
const QUICK = argv.includes('--quick');
const ONLY = (argv.find((a) => a.startsWith('--only=')) ?? '').slice('--only='.length).split(',').filter(Boolean);
const selected = (/** @type {string} */ fig) => ONLY.length === 0 || ONLY.includes(fig);

/**
 * Sizes of the run. Quick: every figure, fewer samples and shorter loads, store scale at 100,000
 * rows instead of 1,000,000.
 */
const S = QUICK
  ? { durationS: 3, rounds: 1, warmS: 1, ttftPairs: 100, queuedPairs: 200, bgJobs: 600, cancels: 20, replays: 3, storeSmall: 10_000, storeLarge: 100_000, storeSamples: 150, streams: 1000, profileS: 3 }
  : { durationS: 5, rounds: 3, warmS: 2, ttftPairs: 400, queuedPairs: 1000, bgJobs: 3000, cancels: 100, replays: 5, storeSmall: 10_000, storeLarge: 1_000_000, storeSamples: 500, streams: 1000, profileS: 8 };

const PROMPT = 'Say hello.';
const SYNC_BODY = { model: 'bench', input: PROMPT, store: true };
const STREAM_BODY = { model: 'bench', input: PROMPT, store: true, stream: true };
const DIRECT_BODY = { model: 'bench', messages: [{ role: 'user', content: PROMPT }] };
const DIRECT_STREAM_BODY = { ...DIRECT_BODY, stream: true, stream_options: { include_usage: true } };

/** @typedef {{ fig: string, name: string, metric: string, measured: number | null, display: string, target: string, met: boolean | null }} Check */

const results = {
  mode: QUICK ? 'quick' : 'full',
  command: `node bench/run.js${argv.length ? ` ${argv.join(' ')}` : ''}`,
  startedAt: new Date().toISOString(),
  finishedAt: '',
  durationS: 0,
  machine: machine(),
  loadTool: hasWrk() ? 'wrk' : 'autocannon (latencies rounded to whole ms: install wrk for µs)',
  settings: S,
  /** @type {Check[]} */
  checks: [],
  /** @type {import('./report').Figures} */
  figures: {},
  /** @type {Record<string, import('./report').ProfileSummary>} */
  profiles: {},
  /** @type {Record<string, string>} */
  errors: {},
};

function machine() {
  /** @param {string} cmd @param {string[]} args */
  const run = (cmd, args) => {
    try {
      return execFileSync(cmd, args, { encoding: 'utf8' }).trimEnd();
    } catch {
      return '';
    }
  };
  return {
    nproc: Number(run('nproc', [])) || os.cpus().length,
    cpuModel: os.cpus()[0]?.model ?? 'unknown',
    memTotalGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    freeH: run('free', ['-h']),
    node: process.version,
    os: `${os.type()} ${os.release()}`,
    loadAvgAtStart: os.loadavg().map((l) => Math.round(l * 100) / 100),
  };
}

// ---------------------------------------------------------------------------------------------
// Helpers

/** @param {number} x @param {number} [digits] */
const round = (x, digits = 2) => (Number.isFinite(x) ? Math.round(x * 10 ** digits) / 10 ** digits : x);
/** @param {string} msg */
const log = (msg) => process.stdout.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);

/**
 * Records a target: `measured op limit` (op '<=' or '>='); `null` limit means report only.
 * @param {string} fig @param {string} name @param {string} metric @param {number} measured @param {string} unit
 * @param {'<=' | '>=' | null} op @param {number | null} limit
 */
function check(fig, name, metric, measured, unit, op, limit) {
  const met = op === null || limit === null || !Number.isFinite(measured) ? null : op === '<=' ? measured <= limit : measured >= limit;
  const display = `${round(measured, measured >= 100 ? 0 : 2)}${unit}`;
  const target = op === null || limit === null ? '—' : `${op === '<=' ? '≤' : '≥'} ${limit}${unit}`;
  results.checks.push({ fig, name, metric, measured: Number.isFinite(measured) ? round(measured, 3) : null, display, target, met });
}

/** Runs one figure; a failure is recorded and the run goes on with the next one. @param {string} fig @param {() => Promise<void>} fn */
async function figure(fig, fn) {
  if (!selected(fig)) return;
  const started = Date.now();
  try {
    await fn();
    log(`figure ${fig} done in ${round((Date.now() - started) / 1000, 1)} s`);
  } catch (error) {
    const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
    results.errors[fig] = message;
    log(`figure ${fig} FAILED: ${message}`);
  }
}

/**
 * CPU per unit of work, in µs, per watched name: total and the system (kernel) part.
 * @param {Record<string, { ms: number, sysMs: number }>} cpu @param {number} units
 */
function perUnit(cpu, units) {
  /** @param {number} ms */
  const us = (ms) => round((ms * 1000) / Math.max(1, units), 0);
  return {
    cpuUs: Object.fromEntries(Object.entries(cpu).map(([name, c]) => [name, us(c.ms)])),
    sysUs: Object.fromEntries(Object.entries(cpu).map(([name, c]) => [name, us(c.sysMs)])),
  };
}

/**
 * One load run with the CPU time of `watched` processes over it, per completed request.
 * @param {procs.Watched[]} watched @param {import('./load').LoadOptions} options
 */
async function measuredLoad(watched, options) {
  const meter = await procs.cpuMeter(watched).start();
  const r = await load(options);
  const { cpuUs, sysUs } = perUnit(await meter.read(), r.requests);
  return { rps: round(r.rps, 1), p50Ms: round(r.p50Ms, 3), p99Ms: round(r.p99Ms, 3), requests: r.requests, errors: r.errors, cpuUsPerReq: cpuUs, sysUsPerReq: sysUs };
}

/**
 * The Postgres backends of one database, as one watched "process" (less the benchmark's own).
 * @param {string} name @param {number[]} [ours] @returns {procs.Watched}
 */
const postgresOf = (name, ours = []) => ({ name: 'postgres', pids: async () => (await db.backendPids(name)).filter((pid) => !ours.includes(pid)) });

/**
 * The Redis server, as one watched "process", when it runs on this machine (its `process_id` is
 * ours to read in /proc); the whole server, so other clients of a shared Redis count too.
 * @param {Redis} redis @returns {Promise<procs.Watched[]>}
 */
async function redisOf(redis) {
  const pid = Number(/process_id:(\d+)/.exec(await redis.info('server'))?.[1]);
  if (!pid || !existsSync(`/proc/${pid}/stat`)) return [];
  return [{ name: 'redis', pids: () => Promise.resolve([pid]) }];
}

/**
 * The median of each numeric field over several rounds (the rounds damp a noisy neighbour).
 * @param {Array<{ rps: number, p50Ms: number, p99Ms: number, requests: number, errors: number, cpuUsPerReq: Record<string, number>, sysUsPerReq: Record<string, number> }>} runs
 */
function medianRun(runs) {
  const names = Object.keys(runs[0].cpuUsPerReq);
  return {
    rps: round(median(runs.map((r) => r.rps)), 1),
    p50Ms: round(median(runs.map((r) => r.p50Ms)), 3),
    p99Ms: round(median(runs.map((r) => r.p99Ms)), 3),
    requests: runs.reduce((a, r) => a + r.requests, 0),
    errors: runs.reduce((a, r) => a + r.errors, 0),
    cpuUsPerReq: Object.fromEntries(names.map((n) => [n, round(median(runs.map((r) => r.cpuUsPerReq[n])), 0)])),
    sysUsPerReq: Object.fromEntries(names.map((n) => [n, round(median(runs.map((r) => r.sysUsPerReq[n])), 0)])),
    rounds: runs.length,
  };
}

/** @param {string} what @param {() => Promise<boolean>} done @param {number} timeoutMs @param {number} [everyMs] */
async function waitUntil(what, done, timeoutMs, everyMs = 50) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await done()) return;
    await procs.sleep(everyMs);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}


// ---------------------------------------------------------------------------------------------
// The run

/** @type {procs.Proc & { url: string }} */
let upstream;
/** @type {string | null} */
let queuePrefix = null;
/** A stored request and its usage from a real synchronous create: the template of seeded rows. */
let template = /** @type {{ request: unknown, usage: unknown } | null} */ (null);

/** @param {string} name @param {Record<string, string>} env @param {string[]} [nodeFlags] */
function gateway(name, env, nodeFlags) {
  return procs.startGateway(name, { INFERENCE_BASE_URL: `${upstream.url}/v1`, LOG_LEVEL: 'warn', ...env }, { nodeFlags });
}

/**
 * Figures 1 and 2 (one ROLE=all gateway on Postgres vs the upstream straight), then figure 8 and
 * the profiles, on fresh gateways over the same database.
 */
async function phaseSync() {
  if (!['1', '2', '8', 'profile'].some(selected)) return;
  const database = await db.createDatabase('sync');
  const gw = await gateway('gateway', { ROLE: 'all', DATABASE_URL: database.url });
  const direct = new Client(upstream.url);
  const viaGateway = new Client(gw.url);
  try {
    // Both paths work before anything is measured.
    const first = await viaGateway.json('POST', '/v1/responses', SYNC_BODY);
    if (first.status !== 'completed') throw new Error(`the gateway answered ${JSON.stringify(first).slice(0, 300)}`);
    await direct.json('POST', '/v1/chat/completions', DIRECT_BODY);
    const rows = /** @type {Array<{ request: unknown, usage: unknown }>} */ (
      await db.query(database.url, `SELECT request, usage FROM responses WHERE status = 'completed' LIMIT 1`)
    );
    template = rows[0] ?? null;
    const gwUrl = `${gw.url}/v1/responses`;
    const directUrl = `${upstream.url}/v1/chat/completions`;
    log(`warming up (${S.warmS} s per path)`);
    for (const [url, body] of /** @type {Array<[string, unknown]>} */ ([
      [gwUrl, SYNC_BODY],
      [gwUrl, STREAM_BODY],
      [directUrl, DIRECT_BODY],
      [directUrl, DIRECT_STREAM_BODY],
    ])) {
      await load({ url, method: 'POST', body, connections: 32, durationS: S.warmS });
    }

    await figure('1', async () => {
      /** @type {Record<string, Array<Awaited<ReturnType<typeof measuredLoad>>>>} */
      const runs = {};
      for (let round_ = 0; round_ < S.rounds; round_++) {
        for (const connections of [1, 32]) {
          for (const [target, url, body] of /** @type {Array<[string, string, unknown]>} */ ([
            ['direct', directUrl, DIRECT_BODY],
            ['gateway', gwUrl, SYNC_BODY],
          ])) {
            log(`figure 1: ${target}, concurrency ${connections}, round ${round_ + 1}/${S.rounds}`);
            const run = await measuredLoad([gw, upstream, postgresOf(database.name)], { url, method: 'POST', body, connections, durationS: S.durationS });
            (runs[`${target}@${connections}`] ??= []).push(run);
          }
        }
      }
      const m = Object.fromEntries(Object.entries(runs).map(([k, v]) => [k, medianRun(v)]));
      results.figures['1'] = { description: 'non-streaming create, store:true on Postgres, ROLE=all, vs the same request straight to the upstream', runs: m };
      const name = 'Overhead, synchronous';
      check('1', name, 'gateway CPU per request (c=32)', m['gateway@32'].cpuUsPerReq.gateway, ' µs', '<=', 500);
      check('1', name, 'throughput at c=32, gateway / direct', m['gateway@32'].rps / m['direct@32'].rps, '×', '>=', 0.1);
      check('1', name, 'added p50 at c=1 (gateway − direct)', m['gateway@1'].p50Ms - m['direct@1'].p50Ms, ' ms', '<=', 1);
    });

    await figure('2', async () => {
      /** @type {Record<string, Array<Awaited<ReturnType<typeof measuredLoad>>>>} */
      const runs = {};
      for (let round_ = 0; round_ < S.rounds; round_++) {
        for (const [target, url, body] of /** @type {Array<[string, string, unknown]>} */ ([
          ['direct', directUrl, DIRECT_STREAM_BODY],
          ['gateway', gwUrl, STREAM_BODY],
        ])) {
          log(`figure 2: ${target} streams, concurrency 32, round ${round_ + 1}/${S.rounds}`);
          const run = await measuredLoad([gw, upstream, postgresOf(database.name)], { url, method: 'POST', body, connections: 32, durationS: S.durationS });
          (runs[`${target}@32`] ??= []).push(run);
        }
      }
      const m = Object.fromEntries(Object.entries(runs).map(([k, v]) => [k, medianRun(v)]));
      // Time to first token at concurrency 1, direct and through the gateway interleaved request by
      // request, so that both see the same moments of a noisy machine.
      log(`figure 2: time to first token, ${S.ttftPairs} interleaved rounds (direct, gateway, gateway with store:false)`);
      const directFirst = (/** @type {string} */ _type, /** @type {string} */ data) => data.includes('"content":"tok');
      const gatewayFirst = (/** @type {string} */ type) => type === 'response.output_text.delta';
      // A third interleaved series, the gateway with store:false, shows what storing the response
      // adds to the time to first token (its INSERT runs beside the upstream call).
      const ttft = { direct: /** @type {number[]} */ ([]), gateway: /** @type {number[]} */ ([]), unstored: /** @type {number[]} */ ([]) };
      const total = { direct: /** @type {number[]} */ ([]), gateway: /** @type {number[]} */ ([]), unstored: /** @type {number[]} */ ([]) };
      const targets = /** @type {const} */ (['direct', 'gateway', 'unstored']);
      for (let i = 0; i < S.ttftPairs + 20; i++) {
        const order = [...targets.slice(i % 3), ...targets.slice(0, i % 3)];
        for (const target of order) {
          const r =
            target === 'direct'
              ? await direct.stream('POST', '/v1/chat/completions', DIRECT_STREAM_BODY, { isFirst: directFirst })
              : await viaGateway.stream('POST', '/v1/responses', target === 'gateway' ? STREAM_BODY : { ...STREAM_BODY, store: false }, { isFirst: gatewayFirst });
          const ended = target === 'direct' ? r.lastData === '[DONE]' : r.lastType === 'response.completed';
          if (r.status !== 200 || r.firstMs === null || !ended) throw new Error(`${target} stream: status ${r.status}, last event ${r.lastType} ${r.lastData.slice(0, 200)}`);
          if (i < 20) continue; // warm-up pairs
          ttft[target].push(r.firstMs);
          total[target].push(r.totalMs);
        }
      }
      /** @param {typeof targets[number]} target */
      const summary = (target) => ({ p50Ms: round(percentile(ttft[target], 50), 3), p99Ms: round(percentile(ttft[target], 99), 3), streamP50Ms: round(percentile(total[target], 50), 3) });
      const t = { direct: summary('direct'), gateway: summary('gateway'), unstored: summary('unstored'), pairs: S.ttftPairs };
      results.figures['2'] = { description: '50-chunk streams (stream:true, store:true) vs the same stream straight from the upstream', runs: m, ttftConcurrency1: t };
      const name = 'Overhead, streaming';
      check('2', name, 'gateway CPU per 50-chunk stream (c=32)', m['gateway@32'].cpuUsPerReq.gateway / 1000, ' ms', '<=', 1);
      check('2', name, 'time to first token p50 at c=1, gateway / direct', t.gateway.p50Ms / t.direct.p50Ms, '×', '<=', 1.3);
      check('2', name, 'added time to first token p50 at c=1 (gateway − direct)', t.gateway.p50Ms - t.direct.p50Ms, ' ms', null, null);
      check('2', name, 'time to first token p50 at c=1, store:true / store:false', t.gateway.p50Ms / t.unstored.p50Ms, '×', null, null);
      check('2', name, 'streams/s at c=32, gateway / direct', m['gateway@32'].rps / m['direct@32'].rps, '×', null, null);
    });
  } finally {
    direct.close();
    viaGateway.close();
    await gw.stop('SIGKILL');
  }

  await figure('8', () => phaseMemory(database.url));
  await phaseProfile(database.url);
}

/** Figure 8: RSS of a fresh ROLE=all gateway holding 1,000 open streams to a slow upstream. */
async function phaseMemory(/** @type {string} */ databaseUrl) {
  const gw = await gateway('gateway-memory', { ROLE: 'all', DATABASE_URL: databaseUrl });
  const client = new Client(gw.url, { maxSockets: S.streams + 100 });
  const up = new Client(upstream.url);
  const controllers = Array.from({ length: S.streams }, () => new AbortController());
  /** @type {Array<Promise<unknown>>} */
  let open = [];
  try {
    // Warm it up as a serving process would be, then let it settle before the baseline.
    await pool(200, 8, () => client.json('POST', '/v1/responses', SYNC_BODY));
    await pool(50, 8, () => client.stream('POST', '/v1/responses', STREAM_BODY));
    await procs.sleep(1000);
    const baseline = procs.rssBytes(gw.pid);
    log(`figure 8: opening ${S.streams} streams (one chunk a second)`);
    let started = 0;
    const t0 = Date.now();
    // A chunk a second, at most 60: every stream stays open while it is measured, and ends by itself.
    const body = { model: 'bench-slow1000-n60', input: PROMPT, stream: true };
    open = controllers.map((controller) =>
      client
        .stream('POST', '/v1/responses', body, {
          signal: controller.signal,
          isFirst: (type) => {
            if (type !== 'response.output_text.delta') return false;
            started++;
            return true;
          },
        })
        .catch(() => undefined),
    );
    await waitUntil(`${S.streams} streams to get their first token`, () => Promise.resolve(started >= S.streams), 45_000, 50);
    const openMs = Date.now() - t0;
    let peak = 0;
    for (let i = 0; i < 10; i++) {
      peak = Math.max(peak, procs.rssBytes(gw.pid));
      await procs.sleep(200);
    }
    const stats = /** @type {{ openStreams: number }} */ (await up.json('GET', '/_upstream/stats'));
    for (const c of controllers) c.abort();
    await Promise.all(open);
    // The gateway must close its 1,000 upstream calls once their clients went away.
    const closing = Date.now();
    await waitUntil('the upstream streams to close', async () => {
      const s = /** @type {{ openStreams: number }} */ (await up.json('GET', '/_upstream/stats'));
      return s.openStreams === 0;
    }, 30_000, 100);
    const mb = (/** @type {number} */ b) => round(b / 2 ** 20, 1);
    results.figures['8'] = {
      description: `RSS of a ROLE=all gateway holding ${S.streams} concurrent synchronous streams to a slow upstream (one chunk a second)`,
      streams: S.streams,
      rssBaselineMiB: mb(baseline),
      rssWithStreamsMiB: mb(peak),
      perStreamKiB: round((peak - baseline) / S.streams / 1024, 1),
      secondsToOpenAll: round(openMs / 1000, 1),
      upstreamOpenStreamsAtPeak: stats.openStreams,
      secondsToCloseUpstreamAfterClientsLeft: round((Date.now() - closing) / 1000, 1),
    };
    check('8', 'Memory', `RSS with ${S.streams} open streams`, peak / 2 ** 20, ' MiB', null, null);
    check('8', 'Memory', 'RSS per open stream (above idle)', (peak - baseline) / S.streams / 1024, ' KiB', null, null);
  } finally {
    for (const c of controllers) c.abort();
    client.close();
    up.close();
    await gw.stop('SIGKILL');
  }
}

/** Part of full runs (docs/performance.md reads them); in --quick only when asked, to stay under two minutes. */
const profiling = () => (QUICK ? argv.includes('--profile') : selected('profile'));

/**
 * `node --cpu-prof` on the gateway under the loads of figures 1 and 2; the summaries count only
 * the samples taken while the load ran.
 */
async function phaseProfile(/** @type {string} */ databaseUrl) {
  if (!profiling()) return;
  for (const [kind, body] of /** @type {Array<[string, unknown]>} */ ([
    ['sync', SYNC_BODY],
    ['stream', STREAM_BODY],
  ])) {
    const name = `gateway-${kind}.cpuprofile`;
    const file = path.join(RESULTS, name);
    if (existsSync(file)) unlinkSync(file);
    const gw = await gateway(`gateway-profile-${kind}`, { ROLE: 'all', DATABASE_URL: databaseUrl }, ['--cpu-prof', `--cpu-prof-dir=${RESULTS}`, `--cpu-prof-name=${name}`]);
    try {
      const url = `${gw.url}/v1/responses`;
      await load({ url, method: 'POST', body, connections: 32, durationS: 1 });
      log(`profile: ${kind} creates at concurrency 32 for ${S.profileS} s under --cpu-prof`);
      const fromUs = Number(process.hrtime.bigint() / 1000n);
      const r = await load({ url, method: 'POST', body, connections: 32, durationS: S.profileS });
      const toUs = Number(process.hrtime.bigint() / 1000n);
      await gw.stop('SIGTERM', 15_000); // the profile is written at exit
      results.profiles[kind] = { requests: r.requests, rpsUnderProfiler: round(r.rps, 1), ...summarize(file, { fromUs, toUs, top: 15 }) };
    } catch (error) {
      results.errors[`profile-${kind}`] = error instanceof Error ? error.message : String(error);
    } finally {
      await gw.stop('SIGKILL');
    }
  }
}

/** Figure 7: retrieve and list with 10,000 vs 1,000,000 (quick: 100,000) stored responses. */
async function phaseStore() {
  if (!selected('7')) return;
  await figure('7', async () => {
    const sizes = { small: S.storeSmall, large: S.storeLarge };
    const [small, large] = await Promise.all([db.createDatabase('store_small'), db.createDatabase('store_large')]);
    const seedTemplate = template ?? {
      request: { model: 'bench', input: [{ type: 'message', role: 'user', content: [{ type: 'input_text', text: PROMPT }] }], store: true },
      usage: null,
    };
    log(`figure 7: seeding ${sizes.small} and ${sizes.large} responses`);
    const seedStarted = Date.now();
    await Promise.all([
      db.seedResponses(small.url, { owner: 'default', from: 0, to: sizes.small, template: seedTemplate }),
      db.seedResponses(large.url, { owner: 'default', from: 0, to: sizes.large, template: seedTemplate }),
    ]);
    const seedS = round((Date.now() - seedStarted) / 1000, 1);
    const [gwSmall, gwLarge] = await Promise.all([
      gateway('gateway-store-small', { ROLE: 'all', DATABASE_URL: small.url }),
      gateway('gateway-store-large', { ROLE: 'all', DATABASE_URL: large.url }),
    ]);
    const clients = { small: new Client(gwSmall.url, { maxSockets: 1 }), large: new Client(gwLarge.url, { maxSockets: 1 }) };
    try {
      // Deep: 2–10 % from the oldest end, i.e. 90–98 % of the way down the newest-first listing.
      /** @param {number} n @param {number} k */
      const deepId = (n, k) => db.seededId(Math.floor(n * 0.02 + ((k * 7919) % Math.floor(n * 0.08))));
      /** @type {Record<string, (size: 'small' | 'large', k: number) => string>} */
      const ops = {
        retrieve: (size, k) => `/v1/responses/${db.seededId((k * 104_729 + 13) % sizes[size])}`,
        'list, first page': () => '/v1/responses?limit=20',
        'list, deep page': (size, k) => `/v1/responses?limit=20&after=${deepId(sizes[size], k)}`,
      };
      /** @type {Record<string, Record<string, number[]>>} */
      const times = {};
      for (const [op, pathOf] of Object.entries(ops)) {
        times[op] = { small: [], large: [] };
        for (let k = 0; k < S.storeSamples + 30; k++) {
          const order = k % 2 ? /** @type {const} */ (['small', 'large']) : /** @type {const} */ (['large', 'small']);
          for (const size of order) {
            const reply = await clients[size].request('GET', pathOf(size, k));
            if (reply.status !== 200) throw new Error(`${op} on ${size}: ${reply.status} ${reply.text.slice(0, 300)}`);
            if (op.startsWith('list') && (/** @type {{ data: unknown[] }} */ (parseJson(reply.text)).data.length !== 20)) {
              throw new Error(`${op} on ${size}: not 20 rows`);
            }
            if (k >= 30) times[op][size].push(reply.ms); // the first 30 warm caches and the JIT
          }
        }
      }
      const table = Object.fromEntries(
        Object.entries(times).map(([op, t]) => [
          op,
          { smallP50Ms: round(percentile(t.small, 50), 3), largeP50Ms: round(percentile(t.large, 50), 3), ratio: round(percentile(t.large, 50) / percentile(t.small, 50), 3) },
        ]),
      );
      results.figures['7'] = { description: `p50 of single requests (concurrency 1), ${sizes.small} vs ${sizes.large} stored responses of one owner, interleaved`, sizes, seedSeconds: seedS, samples: S.storeSamples, ops: table };
      for (const [op, r] of Object.entries(table)) {
        check('7', `Store scale (${sizes.small.toLocaleString('en')} → ${sizes.large.toLocaleString('en')})`, `${op} p50, large / small`, r.ratio, '×', '<=', 1.5);
      }
    } finally {
      clients.small.close();
      clients.large.close();
      await Promise.all([gwSmall.stop('SIGKILL'), gwLarge.stop('SIGKILL')]);
      await Promise.all([db.dropDatabase(small.name), db.dropDatabase(large.name)]);
    }
  });
}

/** How many processes listen for cancel signals under our prefix: every API process and worker subscribes once it is ready. */
async function subscribers(/** @type {Redis} */ redis) {
  const reply = /** @type {[string, number]} */ (await redis.call('PUBSUB', 'NUMSUB', `${queuePrefix}:cancel`));
  return Number(reply[1]);
}

/**
 * Waits until every background response of `model` has ended.
 * @param {{ query: (sql: string, params?: unknown[]) => Promise<unknown[]> }} watcher @param {string} model @param {number} expected @param {number} timeoutMs
 */
async function waitBackground(watcher, model, expected, timeoutMs) {
  await waitUntil(
    `${expected} background responses of ${model} to end`,
    async () => {
      const [row] = /** @type {Array<{ total: string, pending: string }>} */ (
        await watcher.query(`SELECT count(*) AS total, count(*) FILTER (WHERE status IN ('queued', 'in_progress')) AS pending FROM responses WHERE model = $1`, [model])
      );
      return Number(row.total) >= expected && Number(row.pending) === 0;
    },
    timeoutMs,
    100,
  );
}

/** Figures 3–6: ROLE=api ×2 and ROLE=worker processes on Postgres and Redis (Bull). */
async function phaseBackground() {
  if (!['3', '4', '5', '6'].some(selected)) return;
  const database = await db.createDatabase('bg');
  queuePrefix = `rgbench${process.pid}`;
  const redis = new Redis(db.REDIS_URL, { lazyConnect: false, maxRetriesPerRequest: 1 });
  const env = { ROLE: 'api', DATABASE_URL: database.url, REDIS_URL: db.REDIS_URL, QUEUE_PREFIX: queuePrefix };
  const watcher = await db.connect(database.url);
  try {
    const [apiA, apiB] = await Promise.all([gateway('api-a', env), gateway('api-b', env)]);
    /** @param {string} name @param {number} expectedSubscribers */
    const startWorker = async (name, expectedSubscribers) => {
      const worker = await gateway(name, { ...env, ROLE: 'worker' });
      await waitUntil(`${name} to subscribe`, async () => (await subscribers(redis)) >= expectedSubscribers, 60_000, 100).catch((error) => {
        throw new Error(`${error instanceof Error ? error.message : String(error)}\n${worker.output()}`);
      });
      // Bull's processor is registered right after the subscription (onApplicationBootstrap).
      await procs.sleep(500);
      return worker;
    };
    const a = new Client(apiA.url);
    const b = new Client(apiB.url);
    const background = (/** @type {string} */ model, /** @type {string} */ input = PROMPT) => ({ model, input, background: true });

    /**
     * Background creates and GET /health/live, interleaved one by one at concurrency 1 on api-a.
     * @param {string} model
     */
    const timeToQueued = async (model) => {
      const c = new Client(apiA.url, { maxSockets: 1 });
      const times = { queued: /** @type {number[]} */ ([]), live: /** @type {number[]} */ ([]) };
      for (let i = 0; i < S.queuedPairs + 30; i++) {
        const order = i % 2 ? /** @type {const} */ (['queued', 'live']) : /** @type {const} */ (['live', 'queued']);
        for (const kind of order) {
          const reply = kind === 'live' ? await c.request('GET', '/health/live') : await c.request('POST', '/v1/responses', background(model));
          if (reply.status !== 200) throw new Error(`${kind}: ${reply.status} ${reply.text.slice(0, 300)}`);
          if (kind === 'queued' && !reply.text.includes('"status":"queued"')) throw new Error(`not queued: ${reply.text.slice(0, 300)}`);
          if (i >= 30) times[kind].push(reply.ms); // the first 30 pairs warm up
        }
      }
      c.close();
      return {
        createP50Ms: round(percentile(times.queued, 50), 3),
        createP99Ms: round(percentile(times.queued, 99), 3),
        liveP50Ms: round(percentile(times.live, 50), 3),
        liveP99Ms: round(percentile(times.live, 99), 3),
      };
    };

    // Time to queued with the API alone first: no worker runs yet, so the jobs only queue up and
    // nothing else competes for this small machine's CPUs (as when workers run elsewhere).
    /** @type {Awaited<ReturnType<typeof timeToQueued>> | null} */
    let alone = null;
    if (selected('3')) {
      log(`figure 3: ${S.queuedPairs} interleaved pairs of background create and /health/live, no worker running`);
      await pool(100, 1, () => a.json('POST', '/v1/responses', background('bench.qwarm')));
      alone = await timeToQueued('bench.qalone');
    }
    const worker1 = await startWorker('worker-1', 3);
    // Warm-up (and proof that the worker runs jobs): background and synchronous creates.
    await pool(64, 8, () => a.json('POST', '/v1/responses', background('bench.warm')));
    await waitBackground(watcher, 'bench.warm', 64, 60_000);
    if (alone) await waitBackground(watcher, 'bench.qalone', S.queuedPairs + 30, 120_000);
    await load({ url: `${apiA.url}/v1/responses`, method: 'POST', body: SYNC_BODY, connections: 32, durationS: S.warmS });

    await figure('3', async () => {
      log(`figure 3: ${S.queuedPairs} interleaved pairs of background create and /health/live, a worker running the jobs`);
      const busy = await timeToQueued('bench.q');
      await waitBackground(watcher, 'bench.q', S.queuedPairs + 30, 120_000);
      results.figures['3'] = {
        description:
          'POST background:true → 200 queued, vs GET /health/live, interleaved at concurrency 1 on a ROLE=api process: first with no worker started (jobs only queue), then with a ROLE=worker running them on the same machine',
        pairs: S.queuedPairs,
        ...busy,
        ...(alone ? { apiAloneCreateP50Ms: alone.createP50Ms, apiAloneCreateP99Ms: alone.createP99Ms, apiAloneLiveP50Ms: alone.liveP50Ms, apiAloneLiveP99Ms: alone.liveP99Ms } : {}),
      };
      check('3', 'Time to queued', 'p50, background create / health (worker busy)', busy.createP50Ms / busy.liveP50Ms, '×', '<=', 3);
      check('3', 'Time to queued', 'p99, background create / health (worker busy)', busy.createP99Ms / busy.liveP99Ms, '×', '<=', 3);
      if (alone) {
        check('3', 'Time to queued', 'p50, background create / health (API alone)', alone.createP50Ms / alone.liveP50Ms, '×', '<=', 3);
        check('3', 'Time to queued', 'p99, background create / health (API alone)', alone.createP99Ms / alone.liveP99Ms, '×', '<=', 3);
      }
    });

    await figure('4', async () => {
      log(`figure 4: synchronous creates on the ROLE=api process, concurrency 32, ${S.durationS} s`);
      const redisServer = await redisOf(redis);
      const sync = await measuredLoad([apiA, worker1, upstream, postgresOf(database.name, [watcher.pid]), ...redisServer], { url: `${apiA.url}/v1/responses`, method: 'POST', body: SYNC_BODY, connections: 32, durationS: S.durationS });
      /** @param {string} model @param {procs.Proc[]} workers */
      const batch = async (model, workers) => {
        log(`figure 4: ${S.bgJobs} background responses, ${workers.length} worker process(es)`);
        const meter = await procs.cpuMeter([apiA, ...workers, upstream, postgresOf(database.name, [watcher.pid]), ...redisServer]).start();
        const submitStarted = now();
        await pool(S.bgJobs, 32, async () => {
          const reply = await a.request('POST', '/v1/responses', background(model));
          if (reply.status !== 200) throw new Error(`background create: ${reply.status} ${reply.text.slice(0, 300)}`);
        });
        const submitS = (now() - submitStarted) / 1000;
        await waitBackground(watcher, model, S.bgJobs, 300_000);
        const cpu = await meter.read();
        const [row] = /** @type {Array<{ completed: string, seconds: number }>} */ (
          await watcher.query(
            `SELECT count(*) FILTER (WHERE status = 'completed') AS completed,
                    extract(epoch FROM max(completed_at) - min(created_at))::float8 AS seconds
             FROM responses WHERE model = $1`,
            [model],
          )
        );
        const completed = Number(row.completed);
        return {
          completed,
          perSecond: round(completed / row.seconds, 1),
          acceptedPerSecond: round(S.bgJobs / submitS, 1),
          cpuUsPerResponse: perUnit(cpu, completed).cpuUs,
        };
      };
      const one = await batch('bench.w1', [worker1]);
      const worker2 = await startWorker('worker-2', 4);
      let two;
      try {
        two = await batch('bench.w2', [worker1, worker2]);
      } finally {
        await worker2.stop('SIGKILL');
      }
      results.figures['4'] = {
        description: 'completed background responses per second (first accepted → last completed), 32 concurrent submitters on one ROLE=api process, vs synchronous creates at concurrency 32 on the same process',
        sync,
        oneWorker: one,
        twoWorkers: two,
      };
      check('4', 'Background throughput', 'completed/s with 1 worker / synchronous req/s', one.perSecond / sync.rps, '×', '>=', 0.5);
      check('4', 'Background throughput', 'completed/s, 2 workers / 1 worker', two.perSecond / one.perSecond, '×', null, null);
    });

    await figure('5', async () => {
      log(`figure 5: ${S.cancels} cancels of running background responses (created on api-a, cancelled on api-b)`);
      const up = new Client(upstream.url);
      /** @param {string} tag @param {string} until */
      const upstreamWait = async (tag, until) =>
        /** @type {{ receivedAt: number, chunksSent: number, closedAt: number | null }} */ (await up.json('GET', `/_upstream/wait?tag=${tag}&until=${until}&timeoutMs=10000`));
      const afterReturn = [];
      const afterCall = [];
      for (let i = 0; i < S.cancels; i++) {
        const tag = `cancel${process.pid}x${i}`;
        // One chunk every 20 ms, up to 20 s: a response that is clearly running when cancelled.
        const created = await a.json('POST', '/v1/responses', background('bench-slow20-n1000', `tag:${tag}`));
        await upstreamWait(tag, 'chunks:4'); // the role event and 3 content chunks
        const called = now();
        const cancelled = await b.json('POST', `/v1/responses/${String(created.id)}/cancel`);
        const returned = now();
        if (cancelled.status !== 'cancelled') throw new Error(`cancel answered status ${String(cancelled.status)}`);
        const closed = await upstreamWait(tag, 'closed');
        afterReturn.push(/** @type {number} */ (closed.closedAt) - returned);
        afterCall.push(/** @type {number} */ (closed.closedAt) - called);
      }
      up.close();
      const clamp = afterReturn.map((x) => Math.max(0, x));
      const r = {
        returnedToClosedP50Ms: round(percentile(clamp, 50), 3),
        returnedToClosedP99Ms: round(percentile(clamp, 99), 3),
        returnedToClosedMaxMs: round(Math.max(...clamp), 3),
        calledToClosedP50Ms: round(percentile(afterCall, 50), 3),
        calledToClosedP99Ms: round(percentile(afterCall, 99), 3),
        closedBeforeReturn: afterReturn.filter((x) => x < 0).length,
        cancels: S.cancels,
      };
      results.figures['5'] = { description: 'cancel call returned (api-b) → upstream connection closed by the worker (separate process); negative gaps (closed before the call returned) count as 0', ...r };
      check('5', 'Cancel latency', 'p99, cancel returned → upstream closed', r.returnedToClosedP99Ms, ' ms', '<=', 50);
      check('5', 'Cancel latency', 'p99, cancel called → upstream closed', r.calledToClosedP99Ms, ' ms', null, null);
    });

    await figure('6', async () => {
      const events = 10_000;
      log(`figure 6: a background stream of ${events} deltas, replayed on api-b`);
      let id = '';
      await a.stream('POST', '/v1/responses', { model: `bench-n${events}`, input: PROMPT, background: true, stream: true }, {
        stop: (type, data) => {
          if (type !== 'response.created') return false;
          id = /** @type {{ response: { id: string } }} */ (parseJson(data)).response.id;
          return true; // going away stops only this reading, never the response
        },
      });
      await waitUntil(
        'the 10,000-delta response to complete',
        async () => (await a.json('GET', `/v1/responses/${id}`)).status === 'completed',
        180_000,
        200,
      );
      // How long the worker took to produce them live (the row's own timestamps, ms precision).
      const [timing] = /** @type {Array<{ seconds: number }>} */ (
        await watcher.query('SELECT extract(epoch FROM completed_at - created_at)::float8 AS seconds FROM responses WHERE id = $1', [id])
      );
      const generatedS = timing.seconds;
      const all = await b.stream('GET', `/v1/responses/${id}?stream=true`, undefined);
      const after = all.events - 1 - events; // replay exactly `events` events
      if (after < 0 || all.lastType !== 'response.completed') throw new Error(`the full replay had ${all.events} events, ending with ${all.lastType}`);
      const rates = [];
      const cpuPer1000 = [];
      for (let r = 0; r < S.replays; r++) {
        const meter = await procs.cpuMeter([apiB]).start();
        const replay = await b.stream('GET', `/v1/responses/${id}?stream=true&starting_after=${after}`, undefined);
        const cpu = await meter.read();
        if (replay.events !== events || replay.lastType !== 'response.completed') throw new Error(`replay ${r}: ${replay.events} events, last ${replay.lastType}`);
        rates.push(events / (replay.totalMs / 1000));
        cpuPer1000.push((cpu['api-b'].ms * 1000) / events);
      }
      const r = {
        events,
        replays: S.replays,
        eventsPerSecond: round(median(rates), 0),
        replayMs: round((events / median(rates)) * 1000, 1),
        apiCpuMsPer1000Events: round(median(cpuPer1000), 1),
        liveGenerationSeconds: round(generatedS, 2),
        liveEventsPerSecond: round(all.events / generatedS, 0),
      };
      results.figures['6'] = { description: `GET ?stream=true&starting_after=N on another API process, replaying ${events} stored events of a finished background stream`, ...r };
      check('6', 'Resume', `replay rate (${events.toLocaleString('en')} events)`, r.eventsPerSecond, ' events/s', null, null);
    });

    if (profiling()) {
      // The API and worker roles under --cpu-prof, on a batch of background responses like figure 4's.
      await worker1.stop('SIGKILL');
      const flags = (/** @type {string} */ name) => ['--cpu-prof', `--cpu-prof-dir=${RESULTS}`, `--cpu-prof-name=${name}`];
      const files = { api: path.join(RESULTS, 'api-background.cpuprofile'), worker: path.join(RESULTS, 'worker-background.cpuprofile') };
      for (const file of Object.values(files)) if (existsSync(file)) unlinkSync(file);
      const apiP = await gateway('api-profile', env, flags('api-background.cpuprofile'));
      const workerP = await gateway('worker-profile', { ...env, ROLE: 'worker' }, flags('worker-background.cpuprofile'));
      try {
        await waitUntil('the profiled worker to subscribe', async () => (await subscribers(redis)) >= 4, 60_000, 100);
        await procs.sleep(500);
        const p = new Client(apiP.url);
        await pool(64, 8, () => p.json('POST', '/v1/responses', background('bench.pwarm')));
        await waitBackground(watcher, 'bench.pwarm', 64, 60_000);
        log(`profile: ${S.bgJobs} background responses through ROLE=api and ROLE=worker under --cpu-prof`);
        const fromUs = Number(process.hrtime.bigint() / 1000n);
        await pool(S.bgJobs, 32, () => p.request('POST', '/v1/responses', background('bench.prof')));
        await waitBackground(watcher, 'bench.prof', S.bgJobs, 300_000);
        const toUs = Number(process.hrtime.bigint() / 1000n);
        await Promise.all([apiP.stop('SIGTERM', 15_000), workerP.stop('SIGTERM', 15_000)]);
        const seconds = (toUs - fromUs) / 1e6;
        for (const [kind, file] of Object.entries(files)) {
          results.profiles[`background-${kind}`] = { requests: S.bgJobs, rpsUnderProfiler: round(S.bgJobs / seconds, 1), ...summarize(file, { fromUs, toUs, top: 15 }) };
        }
      } catch (error) {
        results.errors['profile-background'] = error instanceof Error ? error.message : String(error);
      } finally {
        await Promise.all([apiP.stop('SIGKILL'), workerP.stop('SIGKILL')]);
      }
    }
  } finally {
    redis.disconnect();
    await watcher.end();
  }
}

/**
 * Deletes every Redis key under this run's prefix — and under the prefix of earlier runs whose
 * process no longer runs (killed before they could clean up).
 * @param {{ stale?: boolean }} [options]
 */
async function cleanRedis(options = {}) {
  if (!queuePrefix && !options.stale) return;
  const redis = new Redis(db.REDIS_URL, { maxRetriesPerRequest: 1 });
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', options.stale ? 'rgbench*' : `${queuePrefix}:*`, 'COUNT', 1000);
      const doomed = options.stale
        ? keys.filter((k) => {
            const pid = Number(/^rgbench(\d+):/.exec(k)?.[1]);
            return pid && pid !== process.pid && !existsSync(`/proc/${pid}`);
          })
        : keys;
      if (doomed.length) await redis.unlink(...doomed);
      cursor = next;
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}

async function main() {
  const started = Date.now();
  procs.snapshotDist();
  if (!hasWrk()) {
    log('wrk is not installed: using autocannon, which rounds latencies to whole milliseconds. For µs: apt-get install -y wrk (Debian/Ubuntu) or brew install wrk.');
  }
  if (!(await db.postgresReachable())) throw new Error(`Postgres is not reachable at ${db.ADMIN_URL} (set BENCH_DATABASE_URL to a database a superuser can connect to).`);
  await db.dropStale();
  const redisUp = await db.redisReachable();
  if (!redisUp) log(`!!! Redis is not reachable at ${db.REDIS_URL}: figures 3–6 (background mode) are NOT measured. !!!`);
  else await cleanRedis({ stale: true });
  mkdirSync(RESULTS, { recursive: true });
  log(`${results.mode} run on ${results.machine.nproc} CPUs (${results.machine.cpuModel}), load by ${hasWrk() ? 'wrk' : 'autocannon'}`);
  upstream = await procs.startUpstream();
  try {
    await phaseSync();
    await phaseStore();
    if (redisUp) await phaseBackground();
    else for (const fig of ['3', '4', '5', '6']) if (selected(fig)) results.errors[fig] = 'Redis not reachable: not measured';
  } finally {
    procs.killAll();
    await cleanRedis().catch(() => undefined);
    await db.dropAll();
    procs.removeSnapshot();
  }
  results.finishedAt = new Date().toISOString();
  results.durationS = round((Date.now() - started) / 1000, 1);
  const md = markdown(results);
  const json = `${JSON.stringify(results, null, 2)}\n`;
  for (const base of ['latest', results.mode]) {
    writeFileSync(path.join(RESULTS, `${base}.json`), json);
    writeFileSync(path.join(RESULTS, `${base}.md`), md);
  }
  process.stdout.write(`\n${md}\n`);
  log(`wrote bench/results/latest.json and latest.md (${results.durationS} s)`);
  // Profiles of earlier runs with other names are not kept.
  for (const f of readdirSync(RESULTS)) if (f.startsWith('CPU.') && f.endsWith('.cpuprofile')) unlinkSync(path.join(RESULTS, f));
  return Object.keys(results.errors).length ? 1 : 0;
}

// Every process this run started dies with it, however it ends.
process.on('exit', () => {
  procs.killAll();
  procs.removeSnapshot();
});
for (const signal of /** @type {const} */ (['SIGINT', 'SIGTERM', 'SIGHUP'])) {
  process.on(signal, () => {
    log(`${signal}: stopping every process of this run`);
    procs.killAll();
    void Promise.all([cleanRedis(), db.dropAll()])
      .catch(() => undefined)
      .finally(() => process.exit(130));
  });
}

main().then(
  (code) => process.exit(code),
  (error) => {
    process.stderr.write(`bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    procs.killAll();
    void Promise.all([cleanRedis(), db.dropAll()])
      .catch(() => undefined)
      .finally(() => process.exit(1));
  },
);
