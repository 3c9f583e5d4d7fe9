'use strict';
/* eslint-disable @typescript-eslint/no-require-imports -- CommonJS on purpose: `node bench/run.js` runs as is, with no build step */
/** Measuring helpers the figures share: CPU per request over a load, medians of rounds, waiting. */
const { existsSync } = require('node:fs');
const procs = require('./procs');
const db = require('./db');
const { load } = require('./load');
const { median } = require('./client');

/** @param {number} x @param {number} [digits] */
const round = (x, digits = 2) => (Number.isFinite(x) ? Math.round(x * 10 ** digits) / 10 ** digits : x);
/** @param {string} msg */
const log = (msg) => process.stdout.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);

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
  return {
    rps: round(r.rps, 1),
    p50Ms: round(r.p50Ms, 3),
    p99Ms: round(r.p99Ms, 3),
    requests: r.requests,
    errors: r.errors,
    cpuUsPerReq: cpuUs,
    sysUsPerReq: sysUs,
  };
}

/** @typedef {Awaited<ReturnType<typeof measuredLoad>>} MeasuredRun */

/**
 * The median of each numeric field over several rounds (the rounds damp a noisy neighbour).
 * @param {MeasuredRun[]} runs
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

/**
 * The Postgres backends of one database, as one watched "process" (less the benchmark's own).
 * @param {string} name @param {number[]} [ours] @returns {procs.Watched}
 */
const postgresOf = (name, ours = []) => ({ name: 'postgres', pids: async () => (await db.backendPids(name)).filter((pid) => !ours.includes(pid)) });

/**
 * The Redis server, as one watched "process", when it runs on this machine (its `process_id` is
 * ours to read in /proc); the whole server, so other clients of a shared Redis count too.
 * @param {import('ioredis').Redis} redis @returns {Promise<procs.Watched[]>}
 */
async function redisOf(redis) {
  const pid = Number(/process_id:(\d+)/.exec(await redis.info('server'))?.[1]);
  if (!pid || !existsSync(`/proc/${pid}/stat`)) return [];
  return [{ name: 'redis', pids: () => Promise.resolve([pid]) }];
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

/** @param {unknown} error */
const messageOf = (error) => (error instanceof Error ? error.message : String(error));

module.exports = { round, log, perUnit, measuredLoad, medianRun, postgresOf, redisOf, waitUntil, messageOf };
