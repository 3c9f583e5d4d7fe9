'use strict';
/* eslint-disable @typescript-eslint/no-require-imports -- CommonJS on purpose: `node bench/run.js` runs as is, with no build step */
/**
 * The processes of a benchmark run: spawning them (each `node` is its own process, so its CPU
 * time and memory can be read from /proc), reading their CPU time and RSS, and killing every one
 * of them at the end — including when the run fails or is interrupted.
 */
const { spawn, execFileSync } = require('node:child_process');
const { readFileSync, existsSync, mkdirSync, readdirSync, rmSync, cpSync } = require('node:fs');
const net = require('node:net');
const http = require('node:http');

const path = require('node:path');

const ROOT = path.join(__dirname, '..');
const BUILT = path.join(ROOT, 'dist');

/**
 * The build the run uses: a private copy of dist/, so that someone running `npm run build` in the
 * same checkout meanwhile (nest build empties dist/ first) cannot pull it from under the run. It
 * lives in bench/results/ so that `require` still finds the checkout's node_modules.
 */
const dist = { dir: BUILT };

/** Copies dist/ to bench/results/dist-<pid>.tmp (and removes the copies of runs that died). */
function snapshotDist() {
  if (!existsSync(path.join(BUILT, 'main.js'))) throw new Error('dist/main.js is missing: run `npm run build` first.');
  const results = path.join(__dirname, 'results');
  mkdirSync(results, { recursive: true });
  for (const entry of readdirSync(results)) {
    const pid = Number(/^dist-(\d+)\.tmp$/.exec(entry)?.[1]);
    if (pid && pid !== process.pid && !existsSync(`/proc/${pid}`)) rmSync(path.join(results, entry), { recursive: true, force: true });
  }
  const copy = path.join(results, `dist-${process.pid}.tmp`);
  cpSync(BUILT, copy, { recursive: true });
  dist.dir = copy;
}

/** Removes this run's copy of dist/ (synchronous: also called on 'exit'). */
function removeSnapshot() {
  if (dist.dir !== BUILT) rmSync(dist.dir, { recursive: true, force: true });
  dist.dir = BUILT;
}

/** Clock ticks per second of /proc/<pid>/stat's utime and stime (almost always 100). */
const CLK_TCK = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/**
 * @typedef {object} Proc
 * @property {string} name
 * @property {number} pid
 * @property {import('node:child_process').ChildProcess} child
 * @property {() => string} output   the last lines it wrote (for error messages)
 * @property {Promise<number | string | null>} exited
 * @property {(signal?: NodeJS.Signals, timeoutMs?: number) => Promise<void>} stop  signal, then SIGKILL after timeoutMs
 */

/** @type {Set<Proc>} */
const running = new Set();

/**
 * Spawns `node <args>` with exactly `env` (plus PATH): nothing leaks in from the caller's
 * environment, so a DATABASE_URL or REDIS_URL of the shell cannot point a process elsewhere.
 * @param {string} name
 * @param {string[]} args
 * @param {Record<string, string>} env
 * @param {string[]} [nodeFlags]
 * @returns {Proc}
 */
function spawnNode(name, args, env, nodeFlags = []) {
  const child = spawn(process.execPath, [...nodeFlags, ...args], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (child.pid === undefined) throw new Error(`could not spawn ${name}`);
  // Keep only the tail of its output: a long run must not grow the benchmark's own memory.
  /** @type {string[]} */
  const tail = [];
  /** @param {Buffer} data */
  const keep = (data) => {
    for (const line of data.toString().split('\n')) {
      if (!line) continue;
      tail.push(line.length > 2000 ? `${line.slice(0, 2000)}…` : line);
      if (tail.length > 200) tail.shift();
    }
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  /** @type {Promise<number | string | null>} */
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal)));
  /** @type {Proc} */
  const proc = {
    name,
    pid: child.pid,
    child,
    output: () => tail.join('\n'),
    exited,
    async stop(signal = 'SIGTERM', timeoutMs = 5000) {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill(signal);
        const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
        await exited;
        clearTimeout(timer);
      }
      running.delete(proc);
    },
  };
  running.add(proc);
  void exited.then(() => running.delete(proc));
  return proc;
}

/** Other children (the load generator), killed with the rest. @type {Set<import('node:child_process').ChildProcess>} */
const others = new Set();

/** Registers a child process that must not outlive the run. @param {import('node:child_process').ChildProcess} child */
function track(child) {
  others.add(child);
  child.once('exit', () => others.delete(child));
}

/** SIGKILLs every process this run started (by its own pid); synchronous, so it works in 'exit'. */
function killAll() {
  for (const child of [...[...running].map((p) => p.child), ...others]) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
  running.clear();
  others.clear();
}

/**
 * CPU time a process has used so far, in milliseconds: user and system, all threads. 0 for a
 * process that is gone or cannot be read (a Postgres backend that just exited, say).
 * @param {number} pid @returns {{ user: number, sys: number }}
 */
function cpuSplit(pid) {
  let stat;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return { user: 0, sys: 0 };
  }
  // The command name (field 2) may contain spaces: count fields from after its closing ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { user: (Number(fields[11]) * 1000) / CLK_TCK, sys: (Number(fields[12]) * 1000) / CLK_TCK };
}

/** @param {number} pid */
function cpuMs(pid) {
  const { user, sys } = cpuSplit(pid);
  return user + sys;
}

/** Resident set size in bytes. */
function rssBytes(/** @type {number} */ pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = /^VmRSS:\s+(\d+) kB$/m.exec(status);
  return match ? Number(match[1]) * 1024 : 0;
}

/**
 * Processes whose CPU time is measured together under one name: one of ours, or a set found at
 * each reading (the Postgres backends serving a database come and go with the connection pool).
 * @typedef {Proc | { name: string, pids: () => Promise<number[]> }} Watched
 */

/**
 * CPU time of several processes (or groups) between `start()` and `read()`. A process of a group
 * that appeared in between counts from zero (its start-up is part of the cost); one that exited in
 * between is lost (rare: pools keep their connections under load).
 * @param {Watched[]} watched
 */
function cpuMeter(watched) {
  /** @type {Map<string, Map<number, { user: number, sys: number }>>} */
  const before = new Map();
  /** @param {Watched} w */
  const pidsOf = async (w) => ('pid' in w ? [w.pid] : await w.pids().catch(() => []));
  return {
    async start() {
      for (const w of watched) before.set(w.name, new Map((await pidsOf(w)).map((pid) => [pid, cpuSplit(pid)])));
      return this;
    },
    /** @returns {Promise<Record<string, { ms: number, userMs: number, sysMs: number }>>} CPU per name since `start()` */
    async read() {
      /** @type {Record<string, { ms: number, userMs: number, sysMs: number }>} */
      const out = {};
      for (const w of watched) {
        let user = 0;
        let sys = 0;
        for (const pid of await pidsOf(w)) {
          const now = cpuSplit(pid);
          const then = before.get(w.name)?.get(pid) ?? { user: 0, sys: 0 };
          user += now.user - then.user;
          sys += now.sys - then.sys;
        }
        out[w.name] = { ms: user + sys, userMs: user, sysMs: sys };
      }
      return out;
    },
  };
}

/**
 * A TCP port that was free a moment ago (the gateway needs a fixed PORT to be found at LOG_LEVEL=warn).
 * @returns {Promise<number>}
 */
function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = /** @type {net.AddressInfo} */ (server.address());
      server.close(() => resolve(port));
    });
  });
}

/** @param {number} ms */
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** @param {string} url @returns {Promise<number>} the status code, 0 when nothing answered */
function httpStatus(url) {
  return new Promise((resolve) => {
    const req = http.get(url, { agent: false, timeout: 1000 }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(0));
  });
}

/**
 * Waits until `url` answers 200, or fails with the process's output when it exits or takes too long.
 * @param {Proc} proc @param {string} url @param {number} [timeoutMs]
 */
async function waitHttp(proc, url, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  let exited = false;
  void proc.exited.then(() => (exited = true));
  while (Date.now() < deadline) {
    if (exited) throw new Error(`${proc.name} exited before it answered ${url}:\n${proc.output()}`);
    if ((await httpStatus(url)) === 200) return;
    await sleep(100);
  }
  throw new Error(`${proc.name} did not answer ${url} within ${timeoutMs} ms:\n${proc.output()}`);
}

/**
 * The built gateway (`node dist/main.js`) on a port of its own. Resolves once /health/live answers
 * (workers have no HTTP server: the caller checks their readiness another way).
 * @param {string} name @param {Record<string, string>} env @param {{ nodeFlags?: string[] }} [options]
 * @returns {Promise<Proc & { url: string }>}
 */
async function startGateway(name, env, options = {}) {
  if (env.ROLE === 'worker') {
    return Object.assign(spawnNode(name, [path.join(dist.dir, 'main.js')], env, options.nodeFlags), { url: '' });
  }
  const port = await freePort();
  const proc = spawnNode(name, [path.join(dist.dir, 'main.js')], { ...env, PORT: String(port), HOST: '127.0.0.1' }, options.nodeFlags);
  const url = `http://127.0.0.1:${port}`;
  await waitHttp(proc, `${url}/health/live`);
  return Object.assign(proc, { url });
}

/**
 * The bench upstream (bench/upstream.js); resolves with its base URL once it listens.
 * @returns {Promise<Proc & { url: string }>}
 */
function startUpstream() {
  const proc = spawnNode('upstream', [path.join(__dirname, 'upstream.js')], {});
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the upstream did not start:\n${proc.output()}`)), 10_000);
    proc.child.stdout?.once('data', (/** @type {Buffer} */ data) => {
      clearTimeout(timer);
      /** @type {unknown} */
      const announced = JSON.parse(data.toString().split('\n')[0]);
      const { port } = /** @type {{ port: number }} */ (announced);
      resolve(Object.assign(proc, { url: `http://127.0.0.1:${port}` }));
    });
    void proc.exited.then((code) => reject(new Error(`the upstream exited with ${code}:\n${proc.output()}`)));
  });
}

module.exports = {
  ROOT,
  dist,
  snapshotDist,
  removeSnapshot,
  CLK_TCK,
  spawnNode,
  track,
  killAll,
  cpuMs,
  cpuSplit,
  rssBytes,
  cpuMeter,
  freePort,
  sleep,
  waitHttp,
  startGateway,
  startUpstream,
};
