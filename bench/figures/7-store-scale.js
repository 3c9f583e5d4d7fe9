'use strict';
/* eslint-disable @typescript-eslint/no-require-imports -- CommonJS on purpose: `node bench/run.js` runs as is, with no build step */
/** Figure 7: retrieve and list with 10,000 vs 1,000,000 (quick: 100,000) stored responses. */
const db = require('../db');
const cleanup = require('../cleanup');
const { Client, percentile, parseJson } = require('../client');
const { log, round } = require('../measure');

/** @param {import('../context').Context} ctx */
const scale = (ctx) => `Store scale (${ctx.S.storeSmall.toLocaleString('en')} → ${ctx.S.storeLarge.toLocaleString('en')})`;

/** @type {import('../context').Figure} */
module.exports = {
  fig: '7',
  name: scale,
  uses: [],
  targets: [
    { key: 'retrieve', metric: 'retrieve p50, large / small', unit: '×', op: '<=', limit: 1.5 },
    { key: 'list, first page', metric: 'list, first page p50, large / small', unit: '×', op: '<=', limit: 1.5 },
    { key: 'list, deep page', metric: 'list, deep page p50, large / small', unit: '×', op: '<=', limit: 1.5 },
  ],
  async run(ctx) {
    const { S, bodies } = ctx;
    const sizes = { small: S.storeSmall, large: S.storeLarge };
    const scope = cleanup.scope('figure 7');
    try {
      const [small, large] = await Promise.all([db.createDatabase('store_small'), db.createDatabase('store_large')]);
      scope.defer('databases', () => Promise.all([db.dropDatabase(small.name), db.dropDatabase(large.name)]));
      const seedTemplate = ctx.shared.template ?? {
        request: { model: 'bench', input: [{ type: 'message', role: 'user', content: [{ type: 'input_text', text: bodies.PROMPT }] }], store: true },
        usage: null,
      };
      log(`figure 7: seeding ${sizes.small} and ${sizes.large} responses`);
      const seedStarted = Date.now();
      await Promise.all([
        db.seedResponses(small.url, { owner: 'default', from: 0, to: sizes.small, template: seedTemplate }),
        db.seedResponses(large.url, { owner: 'default', from: 0, to: sizes.large, template: seedTemplate }),
      ]);
      const seedS = round((Date.now() - seedStarted) / 1000, 1);
      const [gwSmall, gwLarge] = await Promise.all([
        ctx.gateway('gateway-store-small', { ROLE: 'all', DATABASE_URL: small.url }),
        ctx.gateway('gateway-store-large', { ROLE: 'all', DATABASE_URL: large.url }),
      ]);
      scope.defer('gateways', () => Promise.all([gwSmall.stop('SIGKILL'), gwLarge.stop('SIGKILL')]));
      const clients = { small: new Client(gwSmall.url, { maxSockets: 1 }), large: new Client(gwLarge.url, { maxSockets: 1 }) };
      scope.defer('clients', () => {
        clients.small.close();
        clients.large.close();
      });
      // Deep: 2–10 % from the oldest end, i.e. 90–98 % of the way down the newest-first listing.
      /** @param {number} n @param {number} k */
      const deepId = (n, k) => db.seededId(Math.floor(n * 0.02 + ((k * 7919) % Math.floor(n * 0.08))));
      /** @type {Record<string, (size: 'small' | 'large', k: number) => string>} */
      const ops = {
        retrieve: (size, k) => `/v1/responses/${db.seededId((k * 104_729 + 13) % sizes[size])}`,
        'list, first page': () => '/v1/responses?limit=20',
        'list, deep page': (size, k) => `/v1/responses?limit=20&after=${deepId(sizes[size], k)}`,
      };
      /** @type {Record<string, Record<string, number[]>>} */
      const times = {};
      for (const [op, pathOf] of Object.entries(ops)) {
        times[op] = { small: [], large: [] };
        for (let k = 0; k < S.storeSamples + 30; k++) {
          const order = k % 2 ? /** @type {const} */ (['small', 'large']) : /** @type {const} */ (['large', 'small']);
          for (const size of order) {
            const reply = await clients[size].request('GET', pathOf(size, k));
            if (reply.status !== 200) throw new Error(`${op} on ${size}: ${reply.status} ${reply.text.slice(0, 300)}`);
            if (op.startsWith('list') && /** @type {{ data: unknown[] }} */ (parseJson(reply.text)).data.length !== 20) {
              throw new Error(`${op} on ${size}: not 20 rows`);
            }
            if (k >= 30) times[op][size].push(reply.ms); // the first 30 warm caches and the JIT
          }
        }
      }
      const table = Object.fromEntries(
        Object.entries(times).map(([op, t]) => [
          op,
          {
            smallP50Ms: round(percentile(t.small, 50), 3),
            largeP50Ms: round(percentile(t.large, 50), 3),
            ratio: round(percentile(t.large, 50) / percentile(t.small, 50), 3),
          },
        ]),
      );
      return {
        details: {
          description: `p50 of single requests (concurrency 1), ${sizes.small} vs ${sizes.large} stored responses of one owner, interleaved`,
          sizes,
          seedSeconds: seedS,
          samples: S.storeSamples,
          ops: table,
        },
        measured: Object.fromEntries(Object.entries(table).map(([op, r]) => [op, r.ratio])),
      };
    } finally {
      await scope.close();
    }
  },
};
