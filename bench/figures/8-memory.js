'use strict';
/* eslint-disable @typescript-eslint/no-require-imports -- CommonJS on purpose: `node bench/run.js` runs as is, with no build step */
/** Figure 8: RSS of a fresh ROLE=all gateway holding 1,000 open streams to a slow upstream. */
const procs = require('../procs');
const cleanup = require('../cleanup');
const { Client, pool } = require('../client');
const { log, round, waitUntil } = require('../measure');

/** @type {import('../context').Figure} */
module.exports = {
  fig: '8',
  name: 'Memory',
  uses: ['syncDatabase'],
  targets: [
    { key: 'rss', metric: (ctx) => `RSS with ${ctx.S.streams} open streams`, unit: ' MiB', op: null, limit: null },
    { key: 'perStream', metric: 'RSS per open stream (above idle)', unit: ' KiB', op: null, limit: null },
  ],
  async run(ctx) {
    const { S, bodies } = ctx;
    const database = await ctx.syncDatabase();
    const scope = cleanup.scope('figure 8');
    try {
      // One tenant holds every stream here: the per-tenant cap (a security bound, 100 by default) is lifted.
      const gw = await ctx.gateway('gateway-memory', { ROLE: 'all', DATABASE_URL: database.url, MAX_STREAMS_PER_TENANT: '0' });
      scope.defer('gateway', () => gw.stop('SIGKILL'));
      const client = new Client(gw.url, { maxSockets: S.streams + 100 });
      const up = new Client(ctx.upstream.url);
      const controllers = Array.from({ length: S.streams }, () => new AbortController());
      scope.defer('clients', () => {
        for (const c of controllers) c.abort();
        client.close();
        up.close();
      });
      // Warm it up as a serving process would be, then let it settle before the baseline.
      await pool(200, 8, () => client.json('POST', '/v1/responses', bodies.SYNC_BODY));
      await pool(50, 8, () => client.stream('POST', '/v1/responses', bodies.STREAM_BODY));
      await procs.sleep(1000);
      const baseline = procs.rssBytes(gw.pid);
      log(`figure 8: opening ${S.streams} streams (one chunk a second)`);
      let started = 0;
      const t0 = Date.now();
      // A chunk a second, at most 60: every stream stays open while it is measured, and ends by itself.
      const body = { model: 'bench-slow1000-n60', input: bodies.PROMPT, stream: true };
      const open = controllers.map((controller) =>
        client
          .stream('POST', '/v1/responses', body, {
            signal: controller.signal,
            isFirst: (type) => {
              if (type !== 'response.output_text.delta') return false;
              started++;
              return true;
            },
          })
          .catch(() => undefined),
      );
      await waitUntil(`${S.streams} streams to get their first token`, () => Promise.resolve(started >= S.streams), 45_000, 50);
      const openMs = Date.now() - t0;
      let peak = 0;
      for (let i = 0; i < 10; i++) {
        peak = Math.max(peak, procs.rssBytes(gw.pid));
        await procs.sleep(200);
      }
      const stats = /** @type {{ openStreams: number }} */ (await up.json('GET', '/_upstream/stats'));
      for (const c of controllers) c.abort();
      await Promise.all(open);
      // The gateway must close its 1,000 upstream calls once their clients went away.
      const closing = Date.now();
      await waitUntil(
        'the upstream streams to close',
        async () => {
          const s = /** @type {{ openStreams: number }} */ (await up.json('GET', '/_upstream/stats'));
          return s.openStreams === 0;
        },
        30_000,
        100,
      );
      const mb = (/** @type {number} */ b) => round(b / 2 ** 20, 1);
      return {
        details: {
          description: `RSS of a ROLE=all gateway holding ${S.streams} concurrent synchronous streams to a slow upstream (one chunk a second)`,
          streams: S.streams,
          rssBaselineMiB: mb(baseline),
          rssWithStreamsMiB: mb(peak),
          perStreamKiB: round((peak - baseline) / S.streams / 1024, 1),
          secondsToOpenAll: round(openMs / 1000, 1),
          upstreamOpenStreamsAtPeak: stats.openStreams,
          secondsToCloseUpstreamAfterClientsLeft: round((Date.now() - closing) / 1000, 1),
        },
        measured: { rss: peak / 2 ** 20, perStream: (peak - baseline) / S.streams / 1024 },
      };
    } finally {
      await scope.close();
    }
  },
};
