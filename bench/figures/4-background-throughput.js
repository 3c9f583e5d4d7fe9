'use strict';
/* eslint-disable @typescript-eslint/no-require-imports -- CommonJS on purpose: `node bench/run.js` runs as is, with no build step */
/** Figure 4: background responses per second with 1 and 2 workers, vs synchronous creates on the same API process. */
const procs = require('../procs');
const { now, pool } = require('../client');
const { background } = require('../context');
const { log, measuredLoad, perUnit, postgresOf, redisOf, round } = require('../measure');

/** @type {import('../context').Figure} */
module.exports = {
  fig: '4',
  name: 'Background throughput',
  uses: ['background'],
  redis: true,
  targets: [
    { key: 'oneWorker', metric: 'completed/s with 1 worker / synchronous req/s', unit: '×', op: '>=', limit: 0.7 },
    { key: 'twoWorkers', metric: 'completed/s, 2 workers / 1 worker', unit: '×', op: null, limit: null },
  ],
  async run(ctx) {
    const { S, bodies } = ctx;
    const bg = await ctx.background();
    const worker1 = await ctx.worker();
    log(`figure 4: synchronous creates on the ROLE=api process, concurrency 32, ${S.durationS} s`);
    const redisServer = await redisOf(bg.redis);
    const sync = await measuredLoad([bg.apiA, worker1, ctx.upstream, postgresOf(bg.database.name, [bg.watcher.pid]), ...redisServer], {
      url: `${bg.apiA.url}/v1/responses`,
      method: 'POST',
      body: bodies.SYNC_BODY,
      connections: 32,
      durationS: S.durationS,
    });
    /** @param {string} model @param {procs.Proc[]} workers */
    const batch = async (model, workers) => {
      log(`figure 4: ${S.bgJobs} background responses, ${workers.length} worker process(es)`);
      const meter = await procs.cpuMeter([bg.apiA, ...workers, ctx.upstream, postgresOf(bg.database.name, [bg.watcher.pid]), ...redisServer]).start();
      const submitStarted = now();
      await pool(S.bgJobs, 32, async () => {
        const reply = await bg.a.request('POST', '/v1/responses', background(model));
        if (reply.status !== 200) throw new Error(`background create: ${reply.status} ${reply.text.slice(0, 300)}`);
      });
      const submitS = (now() - submitStarted) / 1000;
      await bg.waitBackground(model, S.bgJobs, 300_000);
      const cpu = await meter.read();
      const [row] = /** @type {Array<{ completed: string, seconds: number }>} */ (
        await bg.watcher.query(
          `SELECT count(*) FILTER (WHERE status = 'completed') AS completed,
                    extract(epoch FROM max(completed_at) - min(created_at))::float8 AS seconds
             FROM responses WHERE model = $1`,
          [model],
        )
      );
      const completed = Number(row.completed);
      return {
        completed,
        perSecond: round(completed / row.seconds, 1),
        acceptedPerSecond: round(S.bgJobs / submitS, 1),
        cpuUsPerResponse: perUnit(cpu, completed).cpuUs,
      };
    };
    const one = await batch('bench.w1', [worker1]);
    const worker2 = await bg.startWorker('worker-2', 4);
    /** @type {Awaited<ReturnType<typeof batch>>} */
    let two;
    try {
      two = await batch('bench.w2', [worker1, worker2]);
    } finally {
      await worker2.stop('SIGKILL');
    }
    return {
      details: {
        description:
          'completed background responses per second (first accepted → last completed), 32 concurrent submitters on one ROLE=api process, vs synchronous creates at concurrency 32 on the same process',
        sync,
        oneWorker: one,
        twoWorkers: two,
      },
      measured: { oneWorker: one.perSecond / sync.rps, twoWorkers: two.perSecond / one.perSecond },
    };
  },
};
