'use strict';
/* eslint-disable @typescript-eslint/no-require-imports -- CommonJS on purpose: `node bench/run.js` runs as is, with no build step */
/**
 * Reads a V8 `.cpuprofile` (from `node --cpu-prof`) and says where the time went: the functions
 * with the most self time, and the same time grouped by package (a node_modules package, Node's
 * own code, the gateway's dist/, the garbage collector). Percentages are of busy time — idle
 * excluded — so they read as "of the CPU the gateway spent".
 */
const { readFileSync } = require('node:fs');
const path = require('node:path');
const { ROOT } = require('./procs');
const { parseJson } = require('./client');

/**
 * @typedef {{ id: number, callFrame: { functionName: string, url: string, lineNumber: number }, children?: number[] }} ProfileNode
 * @typedef {{ nodes: ProfileNode[], samples: number[], timeDeltas: number[], startTime: number, endTime: number }} Profile
 */

/** @param {string} url */
function shortUrl(url) {
  if (!url) return '';
  const file = url.startsWith('file://') ? url.slice(7) : url;
  const relativeFile = file.startsWith('/') ? path.relative(ROOT, file) : file;
  // The run's private copy of dist/ (procs.snapshotDist) reads as dist/.
  return relativeFile.replace(/^bench\/results\/dist-\d+\.tmp\//, 'dist/');
}

/**
 * The stages of a request, by the function that runs them (matched on "functionName url"); the
 * first match from the innermost frame out wins.
 * @type {Array<[string, RegExp]>}
 */
const STAGES = [
  ['validation (ValidationPipe: class-transformer, class-validator)', /^transform .*@nestjs\/common\/pipes\/validation\.pipe/],
  ['guards (auth, rate limit)', /^canActivate /],
  ['store statements (pg: build and send)', /^\S+ dist\/(responses\/persistence|database)\//],
  ['upstream call (node:http, parsing its reply)', /^\S+ dist\/inference\/(upstream-http|openai-chat-backend)/],
  ['queue (Bull add)', /^\S+ .*node_modules\/bull\//],
  ['event log (Redis)', /^\S+ dist\/responses\/events\//],
  ['SSE events (build, serialize, write)', /^\S+ dist\/(common\/sse|responses\/event-sequencer)/],
  ['prepare (normalize the request, checks, history)', /^prepare dist\/responses\/response-creation/],
  ['run (agent loop, output building)', /^\S+ dist\/(agents|responses\/(response-executor|response-creation|lifecycle))/],
  ['reply (Fastify: serialize, write)', /^Reply\.send .*fastify/],
  ['metrics (prom-client)', /^\S+ .*node_modules\/prom-client\//],
  ['HTTP server (Fastify routing, body parsing, Nest router)', /^\S+ .*node_modules\/(fastify|@nestjs\/core|find-my-way|avvio|@fastify)\//],
  ['garbage collector', /^\(garbage collector\)/],
];

/** @param {ProfileNode['callFrame']} frame */
function categoryOf(frame) {
  const url = shortUrl(frame.url);
  if (!url) return frame.functionName.startsWith('(') ? frame.functionName : '(native / V8)';
  const modules = url.lastIndexOf('node_modules/');
  if (modules >= 0) {
    const parts = url.slice(modules + 'node_modules/'.length).split('/');
    return parts[0].startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0];
  }
  // Node's bundled fetch (the openai SDK's HTTP client) and the web streams of its bodies.
  if (url.startsWith('node:internal/deps/undici')) return 'undici (fetch)';
  if (url.startsWith('node:internal/webstreams')) return 'web streams';
  if (url.startsWith('wasm://')) return '(wasm)';
  if (url.startsWith('node:')) return 'node core';
  if (url.startsWith('dist/')) return 'gateway (dist/)';
  return url;
}

/**
 * @param {string} file
 * @param {{ top?: number, fromUs?: number, toUs?: number, requests?: number }} [options]
 *   requests: the requests served in the window, for the stages' µs per request.
 *   fromUs/toUs: only samples in this window of the monotonic clock (`process.hrtime` in µs, which
 *   is also the profile's clock on Linux), so start-up and shutdown do not count.
 */
function summarize(file, options = {}) {
  const { top = 20, fromUs = -Infinity, toUs = Infinity, requests = 0 } = options;
  const profile = /** @type {Profile} */ (parseJson(readFileSync(file, 'utf8')));
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  /** @type {Map<number, number>} */
  const parentOf = new Map();
  for (const n of profile.nodes) for (const child of n.children ?? []) parentOf.set(child, n.id);
  /** @type {Map<number, string>} memo: the package a node's self time is charged to */
  const callerOf = new Map();
  /**
   * Node's own code and V8 builtins work for someone: charge their time to the nearest caller that
   * is a package or the gateway, so that "node core" splits into "pg's socket writes", "the openai
   * SDK's fetch", … (a sample with no such caller stays where it is).
   * @param {number} id
   */
  const chargedTo = (id) => {
    const known = callerOf.get(id);
    if (known !== undefined) return known;
    const own = categoryOf(/** @type {ProfileNode} */ (byId.get(id)).callFrame);
    const parent = parentOf.get(id);
    const generic = own === 'node core' || own === '(native / V8)' || own === '(wasm)';
    const charged = generic && parent !== undefined ? chargedTo(parent) : own;
    callerOf.set(id, charged === '(root)' ? own : charged);
    return /** @type {string} */ (callerOf.get(id));
  };
  /** @type {Map<number, number>} self time (µs) per node */
  const self = new Map();
  const { samples, timeDeltas } = profile;
  // Sample i stands for the interval until sample i+1 (as Chrome DevTools counts it).
  let at = profile.startTime;
  for (let i = 0; i < samples.length; i++) {
    at += timeDeltas[i];
    if (at < fromUs || at > toUs) continue;
    const dt = i + 1 < timeDeltas.length ? timeDeltas[i + 1] : 0;
    self.set(samples[i], (self.get(samples[i]) ?? 0) + Math.max(0, dt));
  }
  let total = 0;
  let idle = 0;
  /** @type {Map<string, { name: string, where: string, category: string, us: number }>} */
  const functions = new Map();
  /** @type {Map<string, number>} */
  const categories = new Map();
  /** @type {Map<string, number>} */
  const callers = new Map();
  for (const [id, us] of self) {
    const node = byId.get(id);
    if (!node) continue;
    total += us;
    const frame = node.callFrame;
    if (frame.functionName === '(idle)') {
      idle += us;
      continue;
    }
    const name = frame.functionName || '(anonymous)';
    const where = frame.url ? `${shortUrl(frame.url)}:${frame.lineNumber + 1}` : '';
    const key = `${name} ${where}`;
    const category = categoryOf(frame);
    const entry = functions.get(key) ?? { name, where, category, us: 0 };
    entry.us += us;
    functions.set(key, entry);
    categories.set(category, (categories.get(category) ?? 0) + us);
    const caller = chargedTo(id);
    callers.set(caller, (callers.get(caller) ?? 0) + us);
  }
  const busy = total - idle;
  // Stages: each sample is charged to the innermost stage on its stack. Stacks stop at an await,
  // so a stage's continuations (pg parsing a reply, a resolved promise) land in "other".
  /** @type {Map<string, number>} */
  const stageUs = new Map();
  /** @type {Map<number, string>} */
  const stageOfNode = new Map();
  /** @param {number} id @returns {string} */
  const stageOf = (id) => {
    const known = stageOfNode.get(id);
    if (known !== undefined) return known;
    const frame = /** @type {ProfileNode} */ (byId.get(id)).callFrame;
    const label = `${frame.functionName} ${shortUrl(frame.url)}`;
    const own = STAGES.find(([, pattern]) => pattern.test(label))?.[0];
    const parent = parentOf.get(id);
    const stage = own ?? (parent !== undefined ? stageOf(parent) : 'other');
    stageOfNode.set(id, stage);
    return stage;
  };
  for (const [id, us] of self) {
    const node = byId.get(id);
    if (!node || node.callFrame.functionName === '(idle)') continue;
    const stage = node.callFrame.functionName === 'writev' || node.callFrame.functionName === 'writeBuffer' ? 'socket writes (writev)' : stageOf(id);
    stageUs.set(stage, (stageUs.get(stage) ?? 0) + us);
  }
  const pct = (/** @type {number} */ us) => Math.round((1000 * us) / Math.max(1, busy)) / 10;
  return {
    file: shortUrl(file),
    wallMs: Math.round((Math.min(toUs, profile.endTime) - Math.max(fromUs, profile.startTime)) / 1000),
    busyMs: Math.round(busy / 1000),
    idleMs: Math.round(idle / 1000),
    topFunctions: [...functions.values()]
      .sort((a, b) => b.us - a.us)
      .slice(0, top)
      .map((f) => ({ function: f.name, where: f.where, package: f.category, selfMs: Math.round(f.us / 100) / 10, pctOfBusy: pct(f.us) })),
    byPackage: [...categories.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, 15)
      .map(([category, us]) => ({ package: category, selfMs: Math.round(us / 100) / 10, pctOfBusy: pct(us) })),
    byStage: [...stageUs.entries()]
      .sort((a, b) => b[1] - a[1])
      .map(([stage, us]) => ({ stage, ms: Math.round(us / 100) / 10, pctOfBusy: pct(us), usPerRequest: requests ? Math.round(us / requests) : null })),
    byCallingPackage: [...callers.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, 15)
      .map(([caller, us]) => ({ package: caller, ms: Math.round(us / 100) / 10, pctOfBusy: pct(us) })),
  };
}

module.exports = { summarize };

// `node bench/profile.js <file.cpuprofile>` prints the summary of an existing profile.
if (require.main === module) {
  const file = process.argv[2];
  if (!file) {
    process.stderr.write('usage: node bench/profile.js <file.cpuprofile> [top]\n');
    process.exit(2);
  }
  process.stdout.write(`${JSON.stringify(summarize(file, { top: Number(process.argv[3]) || 25 }), null, 2)}\n`);
}
