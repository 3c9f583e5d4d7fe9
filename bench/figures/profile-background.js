'use strict';
/* eslint-disable @typescript-eslint/no-require-imports -- CommonJS on purpose: `node bench/run.js` runs as is, with no build step */
/** The API and worker roles under --cpu-prof, on a batch of background responses like figure 4's (after figures 3–6, on their stack). */
const path = require('node:path');
const { existsSync, unlinkSync } = require('node:fs');
const procs = require('../procs');
const { Client, pool } = require('../client');
const { background } = require('../context');
const { summarize } = require('../profile');
const { log, round, waitUntil, messageOf } = require('../measure');

/** @type {import('../context').Figure} */
module.exports = {
  fig: 'profile',
  name: 'profile',
  uses: ['background'],
  redis: true,
  targets: [],
  async run(ctx) {
    if (!ctx.profiling()) return {};
    const { S, resultsDir } = ctx;
    const bg = await ctx.background();
    // The API and worker roles under --cpu-prof, on a batch of background responses like figure 4's.
    await (await ctx.worker()).stop('SIGKILL');
    const flags = (/** @type {string} */ name) => ['--cpu-prof', `--cpu-prof-dir=${resultsDir}`, `--cpu-prof-name=${name}`];
    const files = { api: path.join(resultsDir, 'api-background.cpuprofile'), worker: path.join(resultsDir, 'worker-background.cpuprofile') };
    for (const file of Object.values(files)) if (existsSync(file)) unlinkSync(file);
    const apiP = await ctx.gateway('api-profile', bg.env, flags('api-background.cpuprofile'));
    const workerP = await ctx.gateway('worker-profile', { ...bg.env, ROLE: 'worker' }, flags('worker-background.cpuprofile'));
    const p = new Client(apiP.url);
    try {
      await waitUntil('the profiled worker to subscribe', async () => (await bg.subscribers()) >= 4, 60_000, 100);
      await procs.sleep(500);
      await pool(64, 8, () => p.json('POST', '/v1/responses', background('bench.pwarm')));
      await bg.waitBackground('bench.pwarm', 64, 60_000);
      log(`profile: ${S.bgJobs} background responses through ROLE=api and ROLE=worker under --cpu-prof`);
      const fromUs = Number(process.hrtime.bigint() / 1000n);
      await pool(S.bgJobs, 32, () => p.request('POST', '/v1/responses', background('bench.prof')));
      await bg.waitBackground('bench.prof', S.bgJobs, 300_000);
      const toUs = Number(process.hrtime.bigint() / 1000n);
      await Promise.all([apiP.stop('SIGTERM', 15_000), workerP.stop('SIGTERM', 15_000)]);
      const seconds = (toUs - fromUs) / 1e6;
      for (const [kind, file] of Object.entries(files)) {
        ctx.profiles[`background-${kind}`] = {
          requests: S.bgJobs,
          rpsUnderProfiler: round(S.bgJobs / seconds, 1),
          ...summarize(file, { fromUs, toUs, top: 15, requests: S.bgJobs }),
        };
      }
    } catch (error) {
      ctx.errors['profile-background'] = messageOf(error);
    } finally {
      p.close();
      await Promise.all([apiP.stop('SIGKILL'), workerP.stop('SIGKILL')]);
    }
    return {};
  },
};
