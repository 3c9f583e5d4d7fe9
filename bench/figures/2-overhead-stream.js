'use strict';
/* eslint-disable @typescript-eslint/no-require-imports -- CommonJS on purpose: `node bench/run.js` runs as is, with no build step */
/**
 * Figure 2: 50-chunk streams through the gateway vs straight from the upstream, and 1-chunk ones
 * (the difference is what each further chunk costs); time to first token at concurrency 1, against
 * the direct stream's and one Postgres commit (timed in the same loop).
 */
const db = require('../db');
const { log, measuredLoad, medianRun, postgresOf, round } = require('../measure');
const { percentile } = require('../client');

/** The upstream's `bench-n1` model streams one content chunk; `bench`, 50. */
const ONE_CHUNK = 'bench-n1';

/** @type {import('../context').Figure} */
module.exports = {
  fig: '2',
  name: 'Overhead, streaming',
  uses: ['sync'],
  targets: [
    { key: 'cpu', metric: 'gateway CPU per 50-chunk stream (c=32)', unit: ' ms', op: '<=', limit: 1 },
    { key: 'ttftRatio', metric: 'time to first token p50 at c=1, gateway / direct', unit: '×', op: '<=', limit: 1.3 },
    { key: 'ttftAdded', metric: 'added time to first token p50 at c=1 (gateway − direct)', unit: ' ms', op: null, limit: null },
    { key: 'ttftStored', metric: 'time to first token p50 at c=1, store:true / store:false', unit: '×', op: null, limit: null },
    { key: 'throughput', metric: 'streams/s at c=32, gateway / direct', unit: '×', op: null, limit: null },
    { key: 'perChunk', metric: 'gateway CPU per extra chunk, over the direct stream’s (c=32)', unit: ' µs', op: '<=', limit: 8 },
    {
      key: 'ttftCommit',
      metric: 'time to first token p50 at c=1, gateway / (1.5 × direct + one commit)',
      unit: '×',
      op: '<=',
      limit: 1,
    },
  ],
  async run(ctx) {
    const { S, upstream, bodies } = ctx;
    const { gw, database, gwUrl, directUrl, direct, viaGateway } = await ctx.sync();
    /** @type {Record<string, import('../measure').MeasuredRun[]>} */
    const runs = {};
    for (let round_ = 0; round_ < S.rounds; round_++) {
      for (const [target, url, body] of /** @type {Array<[string, string, unknown]>} */ ([
        ['direct', directUrl, bodies.DIRECT_STREAM_BODY],
        ['gateway', gwUrl, bodies.STREAM_BODY],
        ['direct-1', directUrl, { ...bodies.DIRECT_STREAM_BODY, model: ONE_CHUNK }],
        ['gateway-1', gwUrl, { ...bodies.STREAM_BODY, model: ONE_CHUNK }],
      ])) {
        log(`figure 2: ${target} streams, concurrency 32, round ${round_ + 1}/${S.rounds}`);
        const run = await measuredLoad([gw, upstream, postgresOf(database.name)], { url, method: 'POST', body, connections: 32, durationS: S.durationS });
        (runs[`${target}@32`] ??= []).push(run);
      }
    }
    const m = Object.fromEntries(Object.entries(runs).map(([k, v]) => [k, medianRun(v)]));
    // What each of the 49 further chunks costs: the gateway's CPU, and the direct upstream's own.
    const slope = (/** @type {string} */ target, /** @type {string} */ proc) =>
      (m[`${target}@32`].cpuUsPerReq[proc] - m[`${target}-1@32`].cpuUsPerReq[proc]) / 49;
    const perChunk = { gatewayUs: round(slope('gateway', 'gateway'), 1), directUpstreamUs: round(slope('direct', 'upstream'), 1) };
    // One commit, as the gateway's INSERT waits for it: a one-row INSERT on the same database.
    const committer = await db.connect(database.url);
    await committer.query('CREATE TABLE IF NOT EXISTS bench_commit (n bigint)');
    const commits = /** @type {number[]} */ ([]);
    // Time to first token at concurrency 1, direct and through the gateway interleaved request by
    // request, so that both see the same moments of a noisy machine.
    log(`figure 2: time to first token, ${S.ttftPairs} interleaved rounds (direct, gateway, gateway with store:false)`);
    const directFirst = (/** @type {string} */ _type, /** @type {string} */ data) => data.includes('"content":"tok');
    const gatewayFirst = (/** @type {string} */ type) => type === 'response.output_text.delta';
    // A third interleaved series, the gateway with store:false, shows what storing the response
    // adds to the time to first token (its INSERT runs beside the upstream call).
    const ttft = { direct: /** @type {number[]} */ ([]), gateway: /** @type {number[]} */ ([]), unstored: /** @type {number[]} */ ([]) };
    const total = { direct: /** @type {number[]} */ ([]), gateway: /** @type {number[]} */ ([]), unstored: /** @type {number[]} */ ([]) };
    const targets = /** @type {const} */ (['direct', 'gateway', 'unstored']);
    for (let i = 0; i < S.ttftPairs + 20; i++) {
      const order = [...targets.slice(i % 3), ...targets.slice(0, i % 3)];
      for (const target of order) {
        const r =
          target === 'direct'
            ? await direct.stream('POST', '/v1/chat/completions', bodies.DIRECT_STREAM_BODY, { isFirst: directFirst })
            : await viaGateway.stream('POST', '/v1/responses', target === 'gateway' ? bodies.STREAM_BODY : { ...bodies.STREAM_BODY, store: false }, {
                isFirst: gatewayFirst,
              });
        const ended = target === 'direct' ? r.lastData === '[DONE]' : r.lastType === 'response.completed';
        if (r.status !== 200 || r.firstMs === null || !ended)
          throw new Error(`${target} stream: status ${r.status}, last event ${r.lastType} ${r.lastData.slice(0, 200)}`);
        if (i < 20) continue; // warm-up pairs
        ttft[target].push(r.firstMs);
        total[target].push(r.totalMs);
      }
      const started = performance.now();
      await committer.query('INSERT INTO bench_commit VALUES ($1)', [i]);
      if (i >= 20) commits.push(performance.now() - started);
    }
    await committer.end();
    /** @param {typeof targets[number]} target */
    const summary = (target) => ({
      p50Ms: round(percentile(ttft[target], 50), 3),
      p99Ms: round(percentile(ttft[target], 99), 3),
      streamP50Ms: round(percentile(total[target], 50), 3),
    });
    const commitP50Ms = round(percentile(commits, 50), 3);
    const t = { direct: summary('direct'), gateway: summary('gateway'), unstored: summary('unstored'), commitP50Ms, pairs: S.ttftPairs };
    return {
      details: {
        description: '50-chunk (and 1-chunk) streams (stream:true, store:true) vs the same stream straight from the upstream',
        runs: m,
        perChunk,
        ttftConcurrency1: t,
      },
      measured: {
        cpu: m['gateway@32'].cpuUsPerReq.gateway / 1000,
        ttftRatio: t.gateway.p50Ms / t.direct.p50Ms,
        ttftAdded: t.gateway.p50Ms - t.direct.p50Ms,
        ttftStored: t.gateway.p50Ms / t.unstored.p50Ms,
        throughput: m['gateway@32'].rps / m['direct@32'].rps,
        perChunk: perChunk.gatewayUs - perChunk.directUpstreamUs,
        ttftCommit: t.gateway.p50Ms / (1.5 * t.direct.p50Ms + commitP50Ms),
      },
    };
  },
};
