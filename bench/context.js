'use strict';
/* eslint-disable @typescript-eslint/no-require-imports -- CommonJS on purpose: `node bench/run.js` runs as is, with no build step */
/**
 * What the figures of one run share: its sizes, the upstream, and the stacks several figures
 * measure on, started on first use and registered with the one cleanup path (bench/cleanup.js):
 * `sync()` (figures 1 and 2: a ROLE=all gateway on Postgres, warmed up), `syncDatabase()` (also
 * figure 8 and the profiles), `background()` (figures 3–6: ROLE=api ×2 on Postgres and Redis) and
 * `worker()` (its first ROLE=worker, started after figure 3 has measured the API alone).
 * `release(name)` stops a stack once no later figure uses it (run.js calls it).
 */
const { Redis } = require('ioredis');
const procs = require('./procs');
const db = require('./db');
const cleanup = require('./cleanup');
const { load } = require('./load');
const { Client, pool } = require('./client');
const { log, waitUntil, messageOf } = require('./measure');

const PROMPT = 'Say hello.';
const bodies = {
  PROMPT,
  SYNC_BODY: { model: 'bench', input: PROMPT, store: true },
  STREAM_BODY: { model: 'bench', input: PROMPT, store: true, stream: true },
  DIRECT_BODY: { model: 'bench', messages: [{ role: 'user', content: PROMPT }] },
  DIRECT_STREAM_BODY: { model: 'bench', messages: [{ role: 'user', content: PROMPT }], stream: true, stream_options: { include_usage: true } },
};

/** @param {string} model @param {string} [input] */
const background = (model, input = PROMPT) => ({ model, input, background: true });

/**
 * @template T
 * @param {() => Promise<T>} start @returns {() => Promise<T>} `start` run once, on first call
 */
function once(start) {
  /** @type {Promise<T> | null} */
  let started = null;
  return () => (started ??= start());
}

/**
 * @param {{ S: Record<string, number>, quick: boolean, argv: string[], resultsDir: string, upstream: procs.Proc & { url: string },
 *   profiles: Record<string, import('./report').ProfileSummary>, errors: Record<string, string> }} o
 */
function createContext({ S, quick, argv, resultsDir, upstream, profiles, errors }) {
  /** @type {Map<string, { close(): Promise<void> }>} */
  const scopes = new Map();

  /** @param {string} name @param {Record<string, string>} env @param {string[]} [nodeFlags] */
  const gateway = (name, env, nodeFlags) => procs.startGateway(name, { INFERENCE_BASE_URL: `${upstream.url}/v1`, LOG_LEVEL: 'warn', ...env }, { nodeFlags });

  /** @param {string} name */
  const scopeOf = (name) => {
    const scope = cleanup.scope(name);
    scopes.set(name, scope);
    return scope;
  };

  const syncDatabase = once(() => db.createDatabase('sync'));

  /** What a stack leaves for later figures. */
  const shared = {
    /** A stored request and its usage from a real synchronous create: the template of seeded rows (figure 7). */ template:
      /** @type {{ request: unknown, usage: unknown } | null} */ (null),
  };

  /** Figures 1 and 2: one ROLE=all gateway on Postgres and the upstream straight, both warmed up. */
  const syncStack = once(async () => {
    const database = await syncDatabase();
    const scope = scopeOf('sync');
    const gw = await gateway('gateway', { ROLE: 'all', DATABASE_URL: database.url });
    scope.defer('gateway', () => gw.stop('SIGKILL'));
    const direct = new Client(upstream.url);
    const viaGateway = new Client(gw.url);
    scope.defer('clients', () => {
      direct.close();
      viaGateway.close();
    });
    // Both paths work before anything is measured.
    const first = await viaGateway.json('POST', '/v1/responses', bodies.SYNC_BODY);
    if (first.status !== 'completed') throw new Error(`the gateway answered ${JSON.stringify(first).slice(0, 300)}`);
    await direct.json('POST', '/v1/chat/completions', bodies.DIRECT_BODY);
    const rows = /** @type {Array<{ request: unknown, usage: unknown }>} */ (
      await db.query(database.url, `SELECT request, usage FROM responses WHERE status = 'completed' LIMIT 1`)
    );
    shared.template = rows[0] ?? null;
    const gwUrl = `${gw.url}/v1/responses`;
    const directUrl = `${upstream.url}/v1/chat/completions`;
    log(`warming up (${S.warmS} s per path)`);
    for (const [url, body] of /** @type {Array<[string, unknown]>} */ ([
      [gwUrl, bodies.SYNC_BODY],
      [gwUrl, bodies.STREAM_BODY],
      [directUrl, bodies.DIRECT_BODY],
      [directUrl, bodies.DIRECT_STREAM_BODY],
    ])) {
      await load({ url, method: 'POST', body, connections: 32, durationS: S.warmS });
    }
    return { database, gw, direct, viaGateway, gwUrl, directUrl };
  });

  /** Figures 3–6: two ROLE=api processes on a database and a Redis prefix of their own (no worker yet). */
  const backgroundStack = once(async () => {
    const database = await db.createDatabase('bg');
    const queuePrefix = `rgbench${process.pid}`;
    const scope = scopeOf('background');
    // Registered first, so undone last: the keys go once every process using them is gone.
    scope.defer('redis keys', () => db.cleanRedis({ prefix: queuePrefix }));
    const redis = new Redis(db.REDIS_URL, { lazyConnect: false, maxRetriesPerRequest: 1 });
    scope.defer('redis client', () => redis.disconnect());
    const env = { ROLE: 'api', DATABASE_URL: database.url, REDIS_URL: db.REDIS_URL, QUEUE_PREFIX: queuePrefix };
    const watcher = await db.connect(database.url);
    scope.defer('watcher', () => watcher.end());
    const [apiA, apiB] = await Promise.all([gateway('api-a', env), gateway('api-b', env)]);
    scope.defer('api processes', () => Promise.all([apiA.stop('SIGKILL'), apiB.stop('SIGKILL')]));
    const a = new Client(apiA.url);
    const b = new Client(apiB.url);
    scope.defer('clients', () => {
      a.close();
      b.close();
    });

    /** How many processes listen for cancel signals under our prefix: every API process and worker subscribes once it is ready. */
    const subscribers = async () => {
      const reply = /** @type {[string, number]} */ (await redis.call('PUBSUB', 'NUMSUB', `${queuePrefix}:cancel`));
      return Number(reply[1]);
    };
    /** @param {string} name @param {number} expectedSubscribers */
    const startWorker = async (name, expectedSubscribers) => {
      const worker = await gateway(name, { ...env, ROLE: 'worker' });
      scope.defer(name, () => worker.stop('SIGKILL'));
      await waitUntil(`${name} to subscribe`, async () => (await subscribers()) >= expectedSubscribers, 60_000, 100).catch((error) => {
        throw new Error(`${messageOf(error)}\n${worker.output()}`);
      });
      // Bull's processor is registered right after the subscription (onApplicationBootstrap).
      await procs.sleep(500);
      return worker;
    };
    /**
     * Waits until every background response of `model` has ended.
     * @param {string} model @param {number} expected @param {number} timeoutMs
     */
    const waitBackground = (model, expected, timeoutMs) =>
      waitUntil(
        `${expected} background responses of ${model} to end`,
        async () => {
          const [row] = /** @type {Array<{ total: string, pending: string }>} */ (
            await watcher.query(
              `SELECT count(*) AS total, count(*) FILTER (WHERE status IN ('queued', 'in_progress')) AS pending FROM responses WHERE model = $1`,
              [model],
            )
          );
          return Number(row.total) >= expected && Number(row.pending) === 0;
        },
        timeoutMs,
        100,
      );
    return { database, queuePrefix, redis, env, watcher, apiA, apiB, a, b, subscribers, startWorker, waitBackground };
  });

  /** The background stack's first worker, warmed up (and proof that it runs jobs). */
  const workerStack = once(async () => {
    const bg = await backgroundStack();
    const worker1 = await bg.startWorker('worker-1', 3);
    await pool(64, 8, () => bg.a.json('POST', '/v1/responses', background('bench.warm')));
    await bg.waitBackground('bench.warm', 64, 60_000);
    await load({ url: `${bg.apiA.url}/v1/responses`, method: 'POST', body: bodies.SYNC_BODY, connections: 32, durationS: S.warmS });
    return worker1;
  });

  const ctx = {
    S,
    quick,
    argv,
    resultsDir,
    upstream,
    bodies,
    gateway,
    syncDatabase,
    /** Part of full runs (docs/performance.md reads them); in --quick only when asked, to stay under two minutes. */
    profiling: () => !quick || argv.includes('--profile'),
    shared,
    /** Where profiles and failures that are not a figure's are reported (bench/results/latest.json). */
    profiles,
    errors,

    sync: syncStack,
    background: backgroundStack,
    worker: workerStack,

    /** Stops a stack (`sync`, `background`) now; a no-op for one never started. @param {string} name */
    release: async (name) => {
      await scopes.get(name)?.close();
      scopes.delete(name);
    },
  };
  return ctx;
}

/** @typedef {ReturnType<typeof createContext>} Context */
/**
 * A figure: `targets` are its table of targets (`op` '<=' or '>=', `limit` null: reported only),
 * `run` measures and returns the figure's details (bench/results/latest.json) and one measured
 * value per target key. `uses` names the shared stacks it needs (released after its last user);
 * `fullOnly`: not part of --quick runs unless --only names it.
 * @typedef {{ key: string, metric: string | ((ctx: Context) => string), unit: string, op: '<=' | '>=' | null, limit: number | null }} Target
 * @typedef {{ fig: string, name: string | ((ctx: Context) => string), uses: string[], redis?: boolean, fullOnly?: boolean, targets: Target[],
 *   run: (ctx: Context) => Promise<{ details?: unknown, measured?: Record<string, number> }> }} Figure
 */

module.exports = { createContext, bodies, background };
