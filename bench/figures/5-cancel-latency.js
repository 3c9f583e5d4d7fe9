'use strict';
/* eslint-disable @typescript-eslint/no-require-imports -- CommonJS on purpose: `node bench/run.js` runs as is, with no build step */
/** Figure 5: cancel on one API process → the worker closes its upstream call (the upstream records when). */
const { Client, now, percentile } = require('../client');
const { background } = require('../context');
const { log, round } = require('../measure');

/** @type {import('../context').Figure} */
module.exports = {
  fig: '5',
  name: 'Cancel latency',
  uses: ['background'],
  redis: true,
  targets: [
    { key: 'afterReturn', metric: 'p99, cancel returned → upstream closed', unit: ' ms', op: '<=', limit: 50 },
    { key: 'afterCall', metric: 'p99, cancel called → upstream closed', unit: ' ms', op: null, limit: null },
  ],
  async run(ctx) {
    const { S } = ctx;
    const bg = await ctx.background();
    await ctx.worker();
    log(`figure 5: ${S.cancels} cancels of running background responses (created on api-a, cancelled on api-b)`);
    const up = new Client(ctx.upstream.url);
    /** @param {string} tag @param {string} until */
    const upstreamWait = async (tag, until) =>
      /** @type {{ receivedAt: number, chunksSent: number, closedAt: number | null }} */ (
        await up.json('GET', `/_upstream/wait?tag=${tag}&until=${until}&timeoutMs=10000`)
      );
    const afterReturn = [];
    const afterCall = [];
    for (let i = 0; i < S.cancels; i++) {
      const tag = `cancel${process.pid}x${i}`;
      // One chunk every 20 ms, up to 20 s: a response that is clearly running when cancelled.
      const created = await bg.a.json('POST', '/v1/responses', background('bench-slow20-n1000', `tag:${tag}`));
      await upstreamWait(tag, 'chunks:4'); // the role event and 3 content chunks
      const called = now();
      const cancelled = await bg.b.json('POST', `/v1/responses/${String(created.id)}/cancel`);
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
    return {
      details: {
        description:
          'cancel call returned (api-b) → upstream connection closed by the worker (separate process); negative gaps (closed before the call returned) count as 0',
        ...r,
      },
      measured: { afterReturn: r.returnedToClosedP99Ms, afterCall: r.calledToClosedP99Ms },
    };
  },
};
