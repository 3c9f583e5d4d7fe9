'use strict';
/* eslint-disable @typescript-eslint/no-require-imports -- CommonJS on purpose: `node bench/run.js` runs as is, with no build step */
/** `node --cpu-prof` on the gateway under the loads of figures 1 and 2; the summaries count only the samples taken while the load ran. */
const path = require('node:path');
const { existsSync, unlinkSync } = require('node:fs');
const { load } = require('../load');
const { summarize } = require('../profile');
const { log, round, messageOf } = require('../measure');

/** @type {import('../context').Figure} */
module.exports = {
  fig: 'profile',
  name: 'profile',
  uses: ['syncDatabase'],
  targets: [],
  async run(ctx) {
    if (!ctx.profiling()) return {};
    const { S, bodies, resultsDir } = ctx;
    const database = await ctx.syncDatabase();
    for (const [kind, body] of /** @type {Array<[string, unknown]>} */ ([
      ['sync', bodies.SYNC_BODY],
      ['sync-unstored', { ...bodies.SYNC_BODY, store: false }],
      ['stream', bodies.STREAM_BODY],
    ])) {
      const name = `gateway-${kind}.cpuprofile`;
      const file = path.join(resultsDir, name);
      if (existsSync(file)) unlinkSync(file);
      const gw = await ctx.gateway(`gateway-profile-${kind}`, { ROLE: 'all', DATABASE_URL: database.url }, [
        '--cpu-prof',
        `--cpu-prof-dir=${resultsDir}`,
        `--cpu-prof-name=${name}`,
      ]);
      try {
        const url = `${gw.url}/v1/responses`;
        await load({ url, method: 'POST', body, connections: 32, durationS: 1 });
        log(`profile: ${kind} creates at concurrency 32 for ${S.profileS} s under --cpu-prof`);
        const fromUs = Number(process.hrtime.bigint() / 1000n);
        const r = await load({ url, method: 'POST', body, connections: 32, durationS: S.profileS });
        const toUs = Number(process.hrtime.bigint() / 1000n);
        await gw.stop('SIGTERM', 15_000); // the profile is written at exit
        ctx.profiles[kind] = { requests: r.requests, rpsUnderProfiler: round(r.rps, 1), ...summarize(file, { fromUs, toUs, top: 15, requests: r.requests }) };
      } catch (error) {
        ctx.errors[`profile-${kind}`] = messageOf(error);
      } finally {
        await gw.stop('SIGKILL');
      }
    }
    return {};
  },
};
