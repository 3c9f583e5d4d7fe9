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
 * One file per figure in bench/figures/ (`{ fig, name, targets, uses, run(ctx) }`: its table of
 * targets and its measurement); this file only orchestrates: it runs the selected figures in
 * order on one shared context (bench/context.js: the stacks they share, started on first use and
 * stopped after their last user), checks each figure's measures against its targets, and writes
 * the report. Everything is bounded in count and time; every process, database and Redis key it
 * created goes through one cleanup path (bench/cleanup.js), also when a figure fails or the run
 * is interrupted. `--quick` takes under two minutes (it skips
 * the CPU profiles unless given `--profile`); a full run about five.
 *
 * Options: --quick, --profile (profiles in a quick run), --only=1,2,…,11,profile (some figures; for development),
 * --compaction-turns=N (figure 9's session length, default 200).
 */
const { mkdirSync, writeFileSync, readdirSync, unlinkSync } = require('node:fs');
const path = require('node:path');
const os = require('node:os');
const { execFileSync } = require('node:child_process');
const procs = require('./procs');
const db = require('./db');
const cleanup = require('./cleanup');
const { hasWrk } = require('./load');
const { markdown } = require('./report');
const { createContext } = require('./context');
const { log, round } = require('./measure');

/** In run order (the order of the report's table). @type {import('./context').Figure[]} */
const FIGURES = [
  require('./figures/1-overhead-sync'),
  require('./figures/2-overhead-stream'),
  require('./figures/8-memory'),
  require('./figures/profile-sync'),
  require('./figures/7-store-scale'),
  require('./figures/3-time-to-queued'),
  require('./figures/4-background-throughput'),
  require('./figures/5-cancel-latency'),
  require('./figures/6-resume'),
  require('./figures/profile-background'),
  require('./figures/9-compaction'),
  require('./figures/10-websocket'),
  require('./figures/11-file-search'),
  require('./figures/12-scheduling'),
];

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
  ? {
      durationS: 3,
      rounds: 1,
      warmS: 1,
      ttftPairs: 100,
      queuedPairs: 200,
      bgJobs: 600,
      cancels: 20,
      replays: 3,
      storeSmall: 10_000,
      storeLarge: 100_000,
      storeSamples: 150,
      streams: 1000,
      profileS: 3,
    }
  : {
      durationS: 5,
      rounds: 3,
      warmS: 2,
      ttftPairs: 400,
      queuedPairs: 1000,
      bgJobs: 3000,
      cancels: 100,
      replays: 5,
      storeSmall: 10_000,
      storeLarge: 1_000_000,
      storeSamples: 500,
      streams: 1000,
      profileS: 8,
    };

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

/**
 * Records a figure's measures against its targets: `measured op limit` (op '<=' or '>='); a
 * `null` limit means report only.
 * @param {import('./context').Figure} figure @param {import('./context').Context} ctx @param {Record<string, number>} measured
 */
function check(figure, ctx, measured) {
  const name = typeof figure.name === 'function' ? figure.name(ctx) : figure.name;
  for (const { key, metric, unit, op, limit } of figure.targets) {
    const value = measured[key];
    const met = op === null || limit === null || !Number.isFinite(value) ? null : op === '<=' ? value <= limit : value >= limit;
    const display = `${round(value, value >= 100 ? 0 : 2)}${unit}`;
    const target = op === null || limit === null ? '—' : `${op === '<=' ? '≤' : '≥'} ${limit}${unit}`;
    const label = typeof metric === 'function' ? metric(ctx) : metric;
    results.checks.push({ fig: figure.fig, name, metric: label, measured: Number.isFinite(value) ? round(value, 3) : null, display, target, met });
  }
}

/**
 * Runs the selected figures in order; a failure is recorded and the run goes on with the next
 * one. A shared stack is released once no later selected figure uses it.
 * @param {import('./context').Context} ctx @param {boolean} redisUp
 */
async function runFigures(ctx, redisUp) {
  // A figure marked `fullOnly` runs in --quick only when --only names it (the quick run stays under two minutes).
  const todo = FIGURES.filter((f) => selected(f.fig) && (f.fig !== 'profile' || ctx.profiling()) && (!f.fullOnly || !QUICK || ONLY.includes(f.fig)));
  for (const [i, figure] of todo.entries()) {
    if (figure.redis && !redisUp) {
      if (figure.fig !== 'profile') results.errors[figure.fig] = 'Redis not reachable: not measured';
    } else {
      const started = Date.now();
      try {
        const { details, measured } = await figure.run(ctx);
        if (details !== undefined) /** @type {Record<string, unknown>} */ (results.figures)[figure.fig] = details;
        check(figure, ctx, measured ?? {});
        if (figure.fig !== 'profile') log(`figure ${figure.fig} done in ${round((Date.now() - started) / 1000, 1)} s`);
      } catch (error) {
        const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
        results.errors[figure.fig] = message;
        log(`figure ${figure.fig} FAILED: ${message}`);
      }
    }
    const later = new Set(todo.slice(i + 1).flatMap((f) => f.uses));
    for (const stack of new Set(figure.uses)) if (!later.has(stack)) await ctx.release(stack);
  }
}

async function main() {
  const started = Date.now();
  // The one cleanup path, undone newest first: processes, then Redis keys and databases, then dist/'s copy.
  cleanup.defer('copy of dist/', () => procs.removeSnapshot());
  procs.snapshotDist();
  cleanup.defer('databases', () => db.dropAll());
  cleanup.defer('processes', () => procs.killAll());
  if (!hasWrk()) {
    log(
      'wrk is not installed: using autocannon, which rounds latencies to whole milliseconds. For µs: apt-get install -y wrk (Debian/Ubuntu) or brew install wrk.',
    );
  }
  if (!(await db.postgresReachable()))
    throw new Error(`Postgres is not reachable at ${db.ADMIN_URL} (set BENCH_DATABASE_URL to a database a superuser can connect to).`);
  await db.dropStale();
  const redisUp = await db.redisReachable();
  if (!redisUp) log(`!!! Redis is not reachable at ${db.REDIS_URL}: figures 3–6 (background mode) are NOT measured. !!!`);
  else await db.cleanRedis({ stale: true });
  mkdirSync(RESULTS, { recursive: true });
  log(`${results.mode} run on ${results.machine.nproc} CPUs (${results.machine.cpuModel}), load by ${hasWrk() ? 'wrk' : 'autocannon'}`);
  const upstream = await procs.startUpstream();
  const ctx = createContext({ S, quick: QUICK, argv, resultsDir: RESULTS, upstream, profiles: results.profiles, errors: results.errors });
  try {
    await runFigures(ctx, redisUp);
  } finally {
    await cleanup.runAll();
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

// However the run ends, the one cleanup path runs ('exit' cannot wait: there, processes and dist/'s copy only).
process.on('exit', () => {
  procs.killAll();
  procs.removeSnapshot();
});
for (const signal of /** @type {const} */ (['SIGINT', 'SIGTERM', 'SIGHUP'])) {
  process.on(signal, () => {
    log(`${signal}: stopping every process of this run`);
    procs.killAll();
    void cleanup.runAll().finally(() => process.exit(130));
  });
}

main().then(
  (code) => process.exit(code),
  (error) => {
    process.stderr.write(`bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    void cleanup.runAll().finally(() => process.exit(1));
  },
);
