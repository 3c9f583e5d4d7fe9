'use strict';
/* eslint-disable @typescript-eslint/no-require-imports -- CommonJS on purpose: `node bench/run.js` runs as is, with no build step */
/**
 * Figure 1: non-streaming creates through a ROLE=all gateway on Postgres vs the same request
 * straight to the upstream, stored and (at c=32) not. The CPU targets are ratios to the direct
 * upstream's own CPU per request in the same run (the yardstick of issue #22): they move with the
 * machine far less than µs do.
 */
const { log, measuredLoad, medianRun, postgresOf } = require('../measure');

/** @type {import('../context').Figure} */
module.exports = {
  fig: '1',
  name: 'Overhead, synchronous',
  uses: ['sync'],
  targets: [
    { key: 'cpu', metric: 'gateway CPU per request (c=32)', unit: ' µs', op: '<=', limit: 500 },
    { key: 'throughput', metric: 'throughput at c=32, gateway / direct', unit: '×', op: '>=', limit: 0.1 },
    { key: 'addedP50', metric: 'added p50 at c=1 (gateway − direct)', unit: ' ms', op: '<=', limit: 1 },
    { key: 'unstoredRatio', metric: '`store: false`: gateway CPU per request / direct upstream CPU per request (c=32)', unit: '×', op: '<=', limit: 5 },
    { key: 'storedRatio', metric: '`store: true`: gateway CPU per request / direct upstream CPU per request (c=32)', unit: '×', op: '<=', limit: 8 },
    { key: 'postgresRatio', metric: '`store: true`: Postgres CPU per request / direct upstream CPU per request (c=32)', unit: '×', op: '<=', limit: 5 },
    { key: 'unstoredCpu', metric: '`store: false`: gateway CPU per request (c=32)', unit: ' µs', op: null, limit: null },
  ],
  async run(ctx) {
    const { S, upstream, bodies } = ctx;
    const { gw, database, gwUrl, directUrl } = await ctx.sync();
    /** @type {Record<string, import('../measure').MeasuredRun[]>} */
    const runs = {};
    for (let round_ = 0; round_ < S.rounds; round_++) {
      for (const connections of [1, 32]) {
        for (const [target, url, body] of /** @type {Array<[string, string, unknown]>} */ ([
          ['direct', directUrl, bodies.DIRECT_BODY],
          ['gateway', gwUrl, bodies.SYNC_BODY],
          ...(connections === 32 ? [['unstored', gwUrl, { ...bodies.SYNC_BODY, store: false }]] : []),
        ])) {
          log(`figure 1: ${target}, concurrency ${connections}, round ${round_ + 1}/${S.rounds}`);
          const run = await measuredLoad([gw, upstream, postgresOf(database.name)], { url, method: 'POST', body, connections, durationS: S.durationS });
          (runs[`${target}@${connections}`] ??= []).push(run);
        }
      }
    }
    const m = Object.fromEntries(Object.entries(runs).map(([k, v]) => [k, medianRun(v)]));
    const yardstick = m['direct@32'].cpuUsPerReq.upstream;
    return {
      details: {
        description: 'non-streaming create, store:true on Postgres (and, "unstored", store:false), ROLE=all, vs the same request straight to the upstream',
        runs: m,
        directUpstreamCpuUs: yardstick,
      },
      measured: {
        cpu: m['gateway@32'].cpuUsPerReq.gateway,
        throughput: m['gateway@32'].rps / m['direct@32'].rps,
        addedP50: m['gateway@1'].p50Ms - m['direct@1'].p50Ms,
        unstoredRatio: m['unstored@32'].cpuUsPerReq.gateway / yardstick,
        storedRatio: m['gateway@32'].cpuUsPerReq.gateway / yardstick,
        postgresRatio: m['gateway@32'].cpuUsPerReq.postgres / yardstick,
        unstoredCpu: m['unstored@32'].cpuUsPerReq.gateway,
      },
    };
  },
};
