'use strict';
/* eslint-disable @typescript-eslint/no-require-imports -- CommonJS on purpose: `node bench/run.js` runs as is, with no build step */
/** Figure 3: background create vs GET /health/live on a ROLE=api process, first with no worker, then with one running the jobs. */
const { Client, percentile, pool } = require('../client');
const { background } = require('../context');
const { log, round } = require('../measure');

/** @type {import('../context').Figure} */
module.exports = {
  fig: '3',
  name: 'Time to queued',
  uses: ['background'],
  redis: true,
  targets: [
    { key: 'busyP50', metric: 'p50, background create / health (worker busy)', unit: '×', op: '<=', limit: 2 },
    { key: 'busyP99', metric: 'p99, background create / health (worker busy)', unit: '×', op: '<=', limit: 3 },
    { key: 'aloneP50', metric: 'p50, background create / health (API alone)', unit: '×', op: '<=', limit: 2 },
    { key: 'aloneP99', metric: 'p99, background create / health (API alone)', unit: '×', op: '<=', limit: 3 },
  ],
  async run(ctx) {
    const { S } = ctx;
    const bg = await ctx.background();
    /** Background creates and GET /health/live, interleaved one by one at concurrency 1 on api-a. @param {string} model */
    const timeToQueued = async (model) => {
      const c = new Client(bg.apiA.url, { maxSockets: 1 });
      const times = { queued: /** @type {number[]} */ ([]), live: /** @type {number[]} */ ([]) };
      try {
        for (let i = 0; i < S.queuedPairs + 30; i++) {
          const order = i % 2 ? /** @type {const} */ (['queued', 'live']) : /** @type {const} */ (['live', 'queued']);
          for (const kind of order) {
            const reply = kind === 'live' ? await c.request('GET', '/health/live') : await c.request('POST', '/v1/responses', background(model));
            if (reply.status !== 200) throw new Error(`${kind}: ${reply.status} ${reply.text.slice(0, 300)}`);
            if (kind === 'queued' && !reply.text.includes('"status":"queued"')) throw new Error(`not queued: ${reply.text.slice(0, 300)}`);
            if (i >= 30) times[kind].push(reply.ms); // the first 30 pairs warm up
          }
        }
      } finally {
        c.close();
      }
      return {
        createP50Ms: round(percentile(times.queued, 50), 3),
        createP99Ms: round(percentile(times.queued, 99), 3),
        liveP50Ms: round(percentile(times.live, 50), 3),
        liveP99Ms: round(percentile(times.live, 99), 3),
      };
    };
    // The API alone first: no worker runs yet, so the jobs only queue up and nothing else
    // competes for this small machine's CPUs (as when workers run elsewhere).
    log(`figure 3: ${S.queuedPairs} interleaved pairs of background create and /health/live, no worker running`);
    await pool(100, 1, () => bg.a.json('POST', '/v1/responses', background('bench.qwarm')));
    const alone = await timeToQueued('bench.qalone');
    await ctx.worker();
    await bg.waitBackground('bench.qalone', S.queuedPairs + 30, 120_000);
    log(`figure 3: ${S.queuedPairs} interleaved pairs of background create and /health/live, a worker running the jobs`);
    const busy = await timeToQueued('bench.q');
    await bg.waitBackground('bench.q', S.queuedPairs + 30, 120_000);
    return {
      details: {
        description:
          'POST background:true → 200 queued, vs GET /health/live, interleaved at concurrency 1 on a ROLE=api process: first with no worker started (jobs only queue), then with a ROLE=worker running them on the same machine',
        pairs: S.queuedPairs,
        ...busy,
        apiAloneCreateP50Ms: alone.createP50Ms,
        apiAloneCreateP99Ms: alone.createP99Ms,
        apiAloneLiveP50Ms: alone.liveP50Ms,
        apiAloneLiveP99Ms: alone.liveP99Ms,
      },
      measured: {
        busyP50: busy.createP50Ms / busy.liveP50Ms,
        busyP99: busy.createP99Ms / busy.liveP99Ms,
        aloneP50: alone.createP50Ms / alone.liveP50Ms,
        aloneP99: alone.createP99Ms / alone.liveP99Ms,
      },
    };
  },
};
