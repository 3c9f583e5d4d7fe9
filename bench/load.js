'use strict';
/* eslint-disable @typescript-eslint/no-require-imports -- CommonJS on purpose: `node bench/run.js` runs as is, with no build step */
/**
 * Fixed-duration HTTP load at a fixed concurrency: wrk when it is installed (C, cheap, latencies
 * in microseconds), else autocannon (a devDependency; latencies rounded to whole milliseconds,
 * which is too coarse for the concurrency-1 overhead figure — the report says which tool ran).
 */
const { spawn, spawnSync } = require('node:child_process');
const path = require('node:path');
const { parseJson } = require('./client');
const { track } = require('./procs');

const WRK_SCRIPT = path.join(__dirname, 'wrk.lua');

/** @type {boolean | undefined} */
let wrkPresent;
function hasWrk() {
  if (wrkPresent === undefined) {
    const probe = spawnSync('wrk', ['--version'], { encoding: 'utf8' });
    wrkPresent = !probe.error; // wrk --version exits 1, but runs
  }
  return wrkPresent;
}

function toolName() {
  return hasWrk() ? 'wrk' : 'autocannon';
}

/**
 * @typedef {object} LoadResult
 * @property {string} tool
 * @property {number} requests     completed requests
 * @property {number} durationS
 * @property {number} rps
 * @property {number} p50Ms
 * @property {number} p99Ms
 * @property {number} errors       connection errors, timeouts and non-2xx answers
 */

/**
 * @typedef {object} LoadOptions
 * @property {string} url
 * @property {'GET' | 'POST'} [method]
 * @property {unknown} [body]      sent as JSON
 * @property {number} connections
 * @property {number} durationS
 */

/** @param {LoadOptions} options @returns {Promise<LoadResult>} */
function load(options) {
  return hasWrk() ? wrk(options) : autocannonLoad(options);
}

/** @param {LoadOptions} options @returns {Promise<LoadResult>} */
function wrk({ url, method = 'GET', body, connections, durationS }) {
  // One thread: the machine is small and shared, and a single wrk thread drives far more than the
  // gateway can serve, so more threads would only take CPU away from the processes measured.
  const args = ['-t1', `-c${connections}`, `-d${durationS}s`, '--timeout', '10s', '-s', WRK_SCRIPT, url];
  const env = { ...process.env, WRK_METHOD: method, WRK_BODY: body === undefined ? '' : JSON.stringify(body) };
  return new Promise((resolve, reject) => {
    const child = spawn('wrk', args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    track(child);
    let out = '';
    child.stdout.on('data', (/** @type {Buffer} */ d) => (out += d.toString()));
    child.stderr.on('data', (/** @type {Buffer} */ d) => (out += d.toString()));
    child.on('error', reject);
    child.on('exit', (code) => {
      const line = out.split('\n').find((l) => l.startsWith('BENCH_JSON '));
      if (!line) {
        reject(new Error(`wrk exited with ${code} and no summary:\n${out}`));
        return;
      }
      const s = /** @type {{ requests: number, duration_us: number, errors: Record<string, number>, latency_us: Record<string, number> }} */ (
        parseJson(line.slice('BENCH_JSON '.length))
      );
      const durationS = s.duration_us / 1e6;
      resolve({
        tool: 'wrk',
        requests: s.requests,
        durationS,
        rps: s.requests / durationS,
        p50Ms: s.latency_us.p50 / 1000,
        p99Ms: s.latency_us.p99 / 1000,
        errors: Object.values(s.errors).reduce((a, b) => a + b, 0),
      });
    });
  });
}

/** @param {LoadOptions} options @returns {Promise<LoadResult>} */
async function autocannonLoad({ url, method = 'GET', body, connections, durationS }) {
  /** @type {unknown} */
  const loaded = require('autocannon');
  const autocannon =
    /** @type {(o: object) => Promise<{ requests: { total: number }, duration: number, latency: { p50: number, p99: number }, errors: number, timeouts: number, non2xx: number }>} */ (
      loaded
    );
  const result = await autocannon({
    url,
    method,
    connections,
    duration: durationS,
    timeout: 10,
    ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
  });
  return {
    tool: 'autocannon',
    requests: result.requests.total,
    durationS: result.duration,
    rps: result.requests.total / result.duration,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    errors: result.errors + result.timeouts + result.non2xx,
  };
}

module.exports = { load, hasWrk, toolName };
