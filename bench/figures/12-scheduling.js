'use strict';
/* eslint-disable @typescript-eslint/no-require-imports -- CommonJS on purpose: `node bench/run.js` runs as is, with no build step */
/**
 * Figure 12: background scheduling (docs/background.md#scheduling). A stack of its own: one
 * ROLE=api process (four tenants' keys) and ONE ROLE=worker (BACKGROUND_CONCURRENCY 4), Postgres,
 * Redis, the bench upstream's `bench-slow10-n10` (ten chunks 10 ms apart: ~100 ms a response).
 *
 * (1) Time to start of `soonest` responses (create sent → the upstream receives the request, one
 *     probe at a time, tagged so the upstream records its arrival on the same clock): idle, then
 *     under a flood of windowed (`2h`) responses from another tenant.
 * (2) Windowed completions within their windows: the flood drained, `completed_at - created_at`
 *     against the 2 h window.
 * (3) Two tenants flooding the same class, the second queued after the first: the split of the
 *     runs that complete after both are queued.
 */
const procs = require('../procs');
const db = require('../db');
const cleanup = require('../cleanup');
const { Client, now, percentile, pool } = require('../client');
const { log, round, waitUntil } = require('../measure');

const MODEL = 'bench-slow10-n10';
const TENANTS = ['batch', 'live', 'one', 'two'];
/** @param {string} tenant */
const key = (tenant) => `sk-bench-sched-${tenant}-0123456789`;

/** @type {import('../context').Figure} */
module.exports = {
  fig: '12',
  name: 'Background scheduling',
  uses: [],
  redis: true,
  targets: [
    { key: 'startP50Ratio', metric: 'soonest time-to-start p50, under a windowed flood / idle', unit: '×', op: '<=', limit: 3 },
    { key: 'startP99Ratio', metric: 'soonest time-to-start p99, under a windowed flood / idle', unit: '×', op: null, limit: null },
    { key: 'withinWindow', metric: 'windowed responses completed within their window', unit: '', op: '>=', limit: 1 },
    { key: 'split', metric: 'runs of the second flooding tenant / the first, after both queued', unit: '×', op: '>=', limit: 0.8 },
  ],
  async run(ctx) {
    const scope = cleanup.scope('figure 12');
    try {
      const database = await db.createDatabase('sched');
      scope.defer('database', () => db.dropDatabase(database.name));
      const queuePrefix = `rgbench${process.pid}sched`;
      scope.defer('redis keys', () => db.cleanRedis({ prefix: queuePrefix }));
      const env = {
        DATABASE_URL: database.url,
        REDIS_URL: db.REDIS_URL,
        QUEUE_PREFIX: queuePrefix,
        API_KEYS: TENANTS.map((t) => `${key(t)}:${t}`).join(','),
        BACKGROUND_CONCURRENCY: '4',
        RECONCILE_INTERVAL_MS: '1000',
      };
      const api = await ctx.gateway('sched-api', { ROLE: 'api', ...env });
      scope.defer('api', () => api.stop('SIGKILL'));
      const worker = await ctx.gateway('sched-worker', { ROLE: 'worker', ...env });
      scope.defer('worker', () => worker.stop('SIGKILL'));
      /** @type {Record<string, Client>} */
      const clients = Object.fromEntries(TENANTS.map((t) => [t, new Client(api.url, { maxSockets: 32, headers: { authorization: `Bearer ${key(t)}` } })]));
      const up = new Client(ctx.upstream.url);
      scope.defer('clients', () => [...Object.values(clients), up].forEach((c) => c.close()));
      const watcher = await db.connect(database.url);
      scope.defer('watcher', () => watcher.end());
      /** @param {string} sql @param {unknown[]} [params] */
      const one = async (sql, params = []) => /** @type {Record<string, string>} */ ((await watcher.query(sql, params))[0]);
      /** @param {string} tenant @param {number} n @param {Record<string, unknown>} [extra] */
      const flood = (tenant, n, extra = {}) =>
        pool(n, 32, async () => {
          const reply = await clients[tenant].request('POST', '/v1/responses', { model: MODEL, input: 'work', background: true, ...extra });
          if (reply.status !== 200) throw new Error(`create for ${tenant}: ${reply.status} ${reply.text.slice(0, 200)}`);
        });
      /** @param {string} tenant @param {number} n */
      const drained = (tenant, n) =>
        waitUntil(
          `${n} responses of ${tenant} to complete`,
          async () => Number((await one(`SELECT count(*) AS n FROM responses WHERE owner = $1 AND status = 'completed'`, [tenant])).n) >= n,
          600_000,
          200,
        );
      const probes = ctx.quick ? 10 : 30;
      /** Time to start of `probes` soonest responses, one at a time. @param {string} label */
      const timeToStart = async (label) => {
        const ms = [];
        for (let i = 0; i < probes; i++) {
          const tag = `sched${process.pid}${label}${i}`;
          const sent = now();
          const reply = await clients.live.request('POST', '/v1/responses', { model: MODEL, input: `tag:${tag}`, background: true });
          if (reply.status !== 200) throw new Error(`probe: ${reply.status} ${reply.text.slice(0, 200)}`);
          const record = /** @type {{ receivedAt: number }} */ (await up.json('GET', `/_upstream/wait?tag=${tag}&until=opened&timeoutMs=60000`));
          ms.push(record.receivedAt - sent);
        }
        return { p50: round(percentile(ms, 50), 1), p99: round(percentile(ms, 99), 1), samples: ms.length };
      };

      // The worker is ready when a response completes.
      await flood('live', 4);
      await drained('live', 4);
      log(`figure 12: time to start, idle (${probes} probes)`);
      const idle = await timeToStart('idle');
      const windowed = ctx.quick ? 400 : 5000;
      log(`figure 12: ${windowed} windowed (2h) responses from another tenant, then ${probes} probes`);
      await flood('batch', windowed, { background_options: { completion_window: '2h' } });
      const [{ queued }] = /** @type {Array<{ queued: string }>} */ (
        await watcher.query(`SELECT count(*) AS queued FROM responses WHERE owner = 'batch' AND status = 'queued'`)
      );
      const underFlood = await timeToStart('flood');
      await drained('batch', windowed);
      const window = await one(
        `SELECT count(*) FILTER (WHERE completed_at - created_at <= interval '2 hours') AS within, count(*) AS total,
                extract(epoch FROM max(completed_at - created_at))::float8 AS longest
           FROM responses WHERE owner = 'batch'`,
      );
      const perTenant = ctx.quick ? 200 : 400;
      log(`figure 12: two tenants flooding soonest, ${perTenant} each, one after the other`);
      await flood('one', perTenant);
      await flood('two', perTenant);
      const since = await one(`SELECT now() AS at, count(*) FILTER (WHERE owner = 'one' AND status = 'completed') AS one_done FROM responses`);
      await drained('one', perTenant);
      const split = await one(
        `SELECT count(*) FILTER (WHERE owner = 'one') AS one, count(*) FILTER (WHERE owner = 'two') AS two
           FROM responses WHERE status = 'completed' AND completed_at > $1
             AND completed_at <= (SELECT max(completed_at) FROM responses WHERE owner = 'one')`,
        [since.at],
      );
      await drained('two', perTenant);
      const measured = {
        startP50Ratio: underFlood.p50 / idle.p50,
        startP99Ratio: underFlood.p99 / idle.p99,
        withinWindow: Number(window.within) / Number(window.total),
        split: Number(split.two) / Math.max(1, Number(split.one)),
      };
      return {
        details: {
          description:
            'one ROLE=api + one ROLE=worker (concurrency 4), bench-slow10-n10 (~100 ms a response); time to start = create sent → upstream request received; the split counts runs completed after both floods were queued, until the first tenant finished',
          idle,
          underFlood: { ...underFlood, windowedQueuedWhenProbed: Number(queued) },
          windowed: { total: Number(window.total), within: Number(window.within), longestSeconds: round(Number(window.longest), 1) },
          twoTenants: { perTenant, firstDoneWhenSecondQueued: Number(since.one_done), one: Number(split.one), two: Number(split.two) },
        },
        measured,
      };
    } finally {
      await scope.close();
      await procs.sleep(0);
    }
  },
};
