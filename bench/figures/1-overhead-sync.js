'use strict';
/* eslint-disable @typescript-eslint/no-require-imports -- CommonJS on purpose: `node bench/run.js` runs as is, with no build step */
/** Figure 1: non-streaming creates through a ROLE=all gateway on Postgres vs the same request straight to the upstream. */
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
        ])) {
          log(`figure 1: ${target}, concurrency ${connections}, round ${round_ + 1}/${S.rounds}`);
          const run = await measuredLoad([gw, upstream, postgresOf(database.name)], { url, method: 'POST', body, connections, durationS: S.durationS });
          (runs[`${target}@${connections}`] ??= []).push(run);
        }
      }
    }
    const m = Object.fromEntries(Object.entries(runs).map(([k, v]) => [k, medianRun(v)]));
    return {
      details: { description: 'non-streaming create, store:true on Postgres, ROLE=all, vs the same request straight to the upstream', runs: m },
      measured: {
        cpu: m['gateway@32'].cpuUsPerReq.gateway,
        throughput: m['gateway@32'].rps / m['direct@32'].rps,
        addedP50: m['gateway@1'].p50Ms - m['direct@1'].p50Ms,
      },
    };
  },
};
