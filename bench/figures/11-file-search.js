'use strict';
/* eslint-disable @typescript-eslint/no-require-imports -- CommonJS on purpose: `node bench/run.js` runs as is, with no build step */
/**
 * Figure 11: file_search (docs/file-search.md) through the built gateway and the bench upstream's
 * deterministic embeddings (`/v1/embeddings`, `fakeEmbedding`: words and character trigrams,
 * 256 dimensions here).
 *
 * (1) Ingestion, Postgres: one ROLE=api process and ONE ROLE=worker (Bull on Redis); files
 *     uploaded with `POST /v1/files`, then one `POST /v1/vector_stores/{id}/file_batches`; chunks
 *     per second from the batch's create to its `completed` (the default strategy, 800/400 tokens).
 * (2) Search latency, Postgres, at 10,000 and 1,000,000 (quick: 100,000) chunks seeded in SQL
 *     (db.seedChunks: same columns as ingestion, random vectors), `POST /v1/vector_stores/{id}/search`
 *     at concurrency 1: keyword-only (a gateway without an embedding model) and hybrid (a gateway
 *     with one: the query is embedded upstream, exact similarity over every chunk, fused with the
 *     keyword ranking), interleaved. Exact similarity at a million is slow: its series is bounded in
 *     time and has fewer samples (reported).
 * (3) The same on the embedded default (PGlite, DATA_DIR on disk) at 10,000 chunks, loaded through
 *     the API (static 100-token chunks, ingestion inline in the gateway): hybrid — by pgvector's
 *     HNSW index, which PGlite bundles (the store's `search_mode`, `hybrid_hnsw`, is reported) —
 *     then keyword on the same DATA_DIR with a gateway without an embedding model.
 * (4) recall@5 on a labelled set (bench/file-search-corpus.js), hybrid vs keyword-only, per kind
 *     of query.
 */
const { mkdtempSync, rmSync } = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const http = require('node:http');
const procs = require('../procs');
const db = require('../db');
const cleanup = require('../cleanup');
const { Client, percentile, parseJson } = require('../client');
const { log, round, waitUntil, messageOf } = require('../measure');
const corpus = require('../file-search-corpus');

const MODEL = 'bench-embed';
const DIMENSIONS = 256;
const VOCAB = db.vocabulary(5000);
/** Words per seeded chunk (about 100 tokens of the synthetic vocabulary, like part (3)'s chunks). */
const WORDS_PER_CHUNK = 40;

/** @param {string} upstreamUrl */
const embeddingEnv = (upstreamUrl) => ({
  EMBEDDING_MODEL: MODEL,
  EMBEDDING_DIMENSIONS: String(DIMENSIONS),
  EMBEDDING_BASE_URL: `${upstreamUrl}/v1`,
  EMBEDDING_SEND_DIMENSIONS: 'true',
});

/** Deterministic pseudo-random words of the vocabulary. @param {number} seed @param {number} n */
function words(seed, n) {
  let x = (seed * 2654435761 + 7) >>> 0;
  const out = [];
  for (let i = 0; i < n; i++) {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    out.push(VOCAB[x % VOCAB.length]);
  }
  return out;
}

/** A query of four vocabulary words. @param {number} k */
const queryOf = (k) => words(1_000_003 + k, 4).join(' ');

/**
 * `POST /v1/files` (multipart), answering the file's id.
 * @param {string} baseUrl @param {string} filename @param {string} text @returns {Promise<string>}
 */
function upload(baseUrl, filename, text) {
  const boundary = `----bench${Math.random().toString(16).slice(2)}`;
  const body = Buffer.concat([
    Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="purpose"\r\n\r\nassistants\r\n`),
    Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${filename}"\r\nContent-Type: text/plain\r\n\r\n`),
    Buffer.from(text),
    Buffer.from(`\r\n--${boundary}--\r\n`),
  ]);
  const url = new URL(`${baseUrl}/v1/files`);
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: url.hostname,
        port: url.port,
        method: 'POST',
        path: url.pathname,
        agent: false,
        headers: { 'content-type': `multipart/form-data; boundary=${boundary}`, 'content-length': String(body.length) },
      },
      (res) => {
        /** @type {Buffer[]} */
        const chunks = [];
        res.on('data', (/** @type {Buffer} */ c) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          if (res.statusCode !== 200) reject(new Error(`POST /v1/files → ${res.statusCode}: ${text.slice(0, 300)}`));
          else resolve(/** @type {{ id: string }} */ (parseJson(text)).id);
        });
      },
    );
    req.setTimeout(60_000, () => req.destroy(new Error('POST /v1/files: no answer within 60 s')));
    req.on('error', reject);
    req.end(body);
  });
}

/**
 * A vector store filled through the API: the files uploaded first, then one file batch, timed
 * from its create to `completed`. @returns {Promise<{ id: string, fileIds: string[], seconds: number }>}
 * @param {Client} client @param {string} baseUrl @param {Array<{ name: string, text: string }>} docs
 * @param {unknown} chunkingStrategy @param {number} timeoutMs
 */
async function fill(client, baseUrl, docs, chunkingStrategy, timeoutMs) {
  /** @type {string[]} */
  const fileIds = [];
  for (let i = 0; i < docs.length; i += 8) {
    fileIds.push(...(await Promise.all(docs.slice(i, i + 8).map((d) => upload(baseUrl, d.name, d.text)))));
  }
  const store = await client.json('POST', '/v1/vector_stores', { name: 'bench' });
  const id = /** @type {string} */ (store.id);
  const started = performance.now();
  /** @type {Record<string, unknown>} */
  let batch = await client.json('POST', `/v1/vector_stores/${id}/file_batches`, { file_ids: fileIds, chunking_strategy: chunkingStrategy });
  const batchId = /** @type {string} */ (batch.id);
  await waitUntil(
    `file batch of ${docs.length} files to complete`,
    async () => {
      batch = await client.json('GET', `/v1/vector_stores/${id}/file_batches/${batchId}`);
      return batch.status !== 'in_progress';
    },
    timeoutMs,
    50,
  );
  const seconds = (performance.now() - started) / 1000;
  const counts = /** @type {{ completed: number, total: number }} */ (batch.file_counts);
  if (batch.status !== 'completed' || counts.completed !== counts.total) throw new Error(`file batch ended ${JSON.stringify(batch).slice(0, 500)}`);
  return { id, fileIds, seconds };
}

/**
 * p50/p99 of `POST …/search` on each client, interleaved request by request, the first `warm`
 * dropped; a series stops once it has `samples`, or has spent `budgetMs` (its count is reported).
 * @param {Record<string, { client: Client, storeId: string }>} series @param {{ samples: number, warm: number, budgetMs: number }} o
 */
async function searchLatency(series, { samples, warm, budgetMs }) {
  /** @type {Record<string, { ms: number[], spentMs: number, hits: number }>} */
  const out = Object.fromEntries(Object.keys(series).map((name) => [name, { ms: [], spentMs: 0, hits: 0 }]));
  for (let k = 0; k < samples + warm; k++) {
    const names = Object.keys(series).filter((n) => out[n].ms.length < samples && (k < warm || out[n].spentMs < budgetMs));
    if (!names.length) break;
    if (k % 2) names.reverse();
    for (const name of names) {
      const { client, storeId } = series[name];
      const reply = await client.request('POST', `/v1/vector_stores/${storeId}/search`, { query: queryOf(k), max_num_results: 10 });
      if (reply.status !== 200) throw new Error(`search (${name}) → ${reply.status}: ${reply.text.slice(0, 300)}`);
      if (k >= warm) {
        out[name].ms.push(reply.ms);
        out[name].spentMs += reply.ms;
        out[name].hits += /** @type {{ data: unknown[] }} */ (parseJson(reply.text)).data.length;
      }
    }
  }
  return Object.fromEntries(
    Object.entries(out).map(([name, r]) => [
      name,
      {
        samples: r.ms.length,
        p50Ms: round(percentile(r.ms, 50), 2),
        p99Ms: round(percentile(r.ms, 99), 2),
        meanHits: round(r.hits / Math.max(1, r.ms.length), 1),
      },
    ]),
  );
}

/**
 * recall@5 of each kind of query: the share whose relevant file is among the first 5 results.
 * @param {Client} client @param {string} storeId @param {string[]} topicFileIds
 */
async function recallAt5(client, storeId, topicFileIds) {
  /** @type {Record<string, number>} */
  const recall = {};
  for (const kind of corpus.KINDS) {
    let found = 0;
    for (const [i, topic] of corpus.TOPICS.entries()) {
      const reply = await client.json('POST', `/v1/vector_stores/${storeId}/search`, { query: topic[kind], max_num_results: 5 });
      const ids = /** @type {Array<{ file_id: string }>} */ (reply.data).map((r) => r.file_id);
      if (ids.includes(topicFileIds[i])) found++;
    }
    recall[kind] = round(found / corpus.TOPICS.length, 3);
  }
  return recall;
}

/** The labelled set's documents: the topics first (their file ids are the answers), then distractors. */
const labelledDocs = () => [...corpus.TOPICS.map((t, i) => ({ name: t.name, text: corpus.topicText(t, i) })), ...corpus.distractors(100)];

/** @type {import('../context').Figure} */
module.exports = {
  fig: '11',
  name: 'file_search',
  uses: [],
  redis: true,
  fullOnly: true,
  targets: [
    { key: 'ingestPg', metric: 'ingestion, Postgres, 1 worker (800-token chunks)', unit: ' chunks/s', op: null, limit: null },
    { key: 'ingestPglite', metric: 'ingestion, PGlite, inline (100-token chunks)', unit: ' chunks/s', op: null, limit: null },
    ...['pg small', 'pg large', 'pglite small'].flatMap((where) =>
      ['keyword', 'hybrid'].flatMap((mode) =>
        ['p50', 'p99'].map((p) => ({
          key: `${where} ${mode} ${p}`,
          metric: (/** @type {import('../context').Context} */ ctx) =>
            `search ${p}, ${where.startsWith('pglite') ? 'PGlite' : 'Postgres'} ${(where.endsWith('small') ? ctx.S.storeSmall : ctx.S.storeLarge).toLocaleString('en')} chunks, ${mode}`,
          unit: ' ms',
          op: null,
          limit: null,
        })),
      ),
    ),
    { key: 'recallKeyword', metric: 'recall@5, keyword-only (all queries)', unit: '', op: null, limit: null },
    { key: 'recallHybrid', metric: 'recall@5, hybrid (all queries)', unit: '', op: '>=', limit: 0 },
  ],
  async run(ctx) {
    const { S, upstream } = ctx;
    const scope = cleanup.scope('figure 11');
    /** @type {Record<string, unknown>} */
    const details = {
      embeddings: `bench upstream /v1/embeddings (fakeEmbedding: words and character trigrams hashed), ${DIMENSIONS} dimensions`,
    };
    /** @type {Record<string, number>} */
    const measured = {};
    const withEmbeddings = embeddingEnv(upstream.url);
    try {
      // (1) and (4): ingestion on Postgres with one worker, then the labelled set.
      {
        const database = await db.createDatabase('fs_ingest');
        scope.defer('ingest database', () => db.dropDatabase(database.name));
        const queuePrefix = `rgbench${process.pid}fs`;
        scope.defer('redis keys', () => db.cleanRedis({ prefix: queuePrefix }));
        const env = { DATABASE_URL: database.url, REDIS_URL: db.REDIS_URL, QUEUE_PREFIX: queuePrefix };
        const [api, apiKeyword] = await Promise.all([
          ctx.gateway('fs-api', { ROLE: 'api', ...env, ...withEmbeddings }),
          ctx.gateway('fs-api-keyword', { ROLE: 'api', ...env }),
        ]);
        scope.defer('api processes', () => Promise.all([api.stop('SIGKILL'), apiKeyword.stop('SIGKILL')]));
        const worker = await ctx.gateway('fs-worker', { ROLE: 'worker', ...env, ...withEmbeddings });
        scope.defer('worker', () => worker.stop('SIGKILL'));
        const client = new Client(api.url, { maxSockets: 8 });
        const keywordClient = new Client(apiKeyword.url, { maxSockets: 1 });
        scope.defer('clients', () => {
          client.close();
          keywordClient.close();
        });
        // The worker is ready when a small batch completes (it has no HTTP server).
        await fill(client, api.url, [{ name: 'warm.txt', text: words(1, 2000).join(' ') }], undefined, 120_000).catch((error) => {
          throw new Error(`${messageOf(error)}\n${worker.output()}`);
        });
        const files = ctx.quick ? 8 : 48;
        const docs = Array.from({ length: files }, (_, i) => ({ name: `doc-${i}.txt`, text: words(100 + i, 12_000).join(' ') }));
        log(`figure 11: ingesting ${files} files of 12,000 words with one worker`);
        const ingested = await fill(client, api.url, docs, undefined, 300_000);
        const [row] = /** @type {Array<{ n: string }>} */ (
          await db.query(database.url, 'SELECT count(*) AS n FROM vector_store_chunks WHERE vector_store_id = $1', [ingested.id])
        );
        const chunks = Number(row.n);
        measured.ingestPg = chunks / ingested.seconds;
        details.ingestionPostgres = {
          files,
          bytes: docs.reduce((a, d) => a + Buffer.byteLength(d.text), 0),
          chunks,
          seconds: round(ingested.seconds, 2),
          chunksPerSecond: round(measured.ingestPg, 1),
          strategy: 'auto (static 800 / 400 tokens)',
          workers: 1,
        };
        log(`figure 11: ${chunks} chunks in ${round(ingested.seconds, 1)} s`);

        const labelled = await fill(client, api.url, labelledDocs(), undefined, 120_000);
        const topicIds = labelled.fileIds.slice(0, corpus.TOPICS.length);
        const hybrid = await recallAt5(client, labelled.id, topicIds);
        const keyword = await recallAt5(keywordClient, labelled.id, topicIds);
        const all = (/** @type {Record<string, number>} */ r) => corpus.KINDS.reduce((a, k) => a + r[k], 0) / corpus.KINDS.length;
        measured.recallKeyword = all(keyword);
        measured.recallHybrid = all(hybrid);
        details.recallAt5 = {
          documents: labelled.fileIds.length,
          relevant: corpus.TOPICS.length,
          queriesPerKind: corpus.TOPICS.length,
          keyword: { ...keyword, all: round(measured.recallKeyword, 3) },
          hybrid: { ...hybrid, all: round(measured.recallHybrid, 3) },
        };
        await scope.close();
      }

      // (2) Postgres at two sizes, seeded in SQL.
      {
        const sizes = { small: S.storeSmall, large: S.storeLarge };
        const pgScope = cleanup.scope('figure 11 postgres');
        try {
          const [small, large] = await Promise.all([db.createDatabase('fs_small'), db.createDatabase('fs_large')]);
          pgScope.defer('databases', () => Promise.all([db.dropDatabase(small.name), db.dropDatabase(large.name)]));
          log(`figure 11: seeding ${sizes.small} and ${sizes.large} chunks in SQL`);
          const seedStarted = Date.now();
          const seed = (/** @type {string} */ url, /** @type {number} */ chunks) =>
            db.seedChunks(url, {
              owner: 'default',
              storeId: 'vs_bench',
              chunks,
              perFile: 100,
              words: WORDS_PER_CHUNK,
              dimensions: DIMENSIONS,
              embeddingModel: MODEL,
              vocab: VOCAB,
            });
          await Promise.all([seed(small.url, sizes.small), seed(large.url, sizes.large)]);
          details.seedSeconds = round((Date.now() - seedStarted) / 1000, 1);
          const [size] = /** @type {Array<{ b: string }>} */ (await db.query(large.url, 'SELECT pg_database_size(current_database()) AS b'));
          details.largeDatabaseBytes = Number(size.b);
          const gateways = await Promise.all([
            ctx.gateway('fs-small-keyword', { ROLE: 'all', DATABASE_URL: small.url }),
            ctx.gateway('fs-small-hybrid', { ROLE: 'all', DATABASE_URL: small.url, ...withEmbeddings }),
            ctx.gateway('fs-large-keyword', { ROLE: 'all', DATABASE_URL: large.url }),
            ctx.gateway('fs-large-hybrid', { ROLE: 'all', DATABASE_URL: large.url, ...withEmbeddings }),
          ]);
          pgScope.defer('gateways', () => Promise.all(gateways.map((g) => g.stop('SIGKILL'))));
          const clients = gateways.map((g) => new Client(g.url, { maxSockets: 1, timeoutMs: 300_000 }));
          pgScope.defer('clients', () => clients.forEach((c) => c.close()));
          const samples = ctx.quick ? 100 : 300;
          const smallR = await searchLatency(
            { keyword: { client: clients[0], storeId: 'vs_bench' }, hybrid: { client: clients[1], storeId: 'vs_bench' } },
            { samples, warm: 20, budgetMs: 60_000 },
          );
          log(`figure 11: Postgres ${sizes.small}: ${JSON.stringify(smallR)}`);
          const largeKeyword = await searchLatency(
            { keyword: { client: clients[2], storeId: 'vs_bench' } },
            { samples: ctx.quick ? 50 : 100, warm: 5, budgetMs: 60_000 },
          );
          // Exact similarity over every chunk: bounded in time, fewer samples.
          const largeHybrid = await searchLatency(
            { hybrid: { client: clients[3], storeId: 'vs_bench' } },
            { samples: 50, warm: 0, budgetMs: ctx.quick ? 30_000 : 100_000 },
          );
          const largeR = { ...largeKeyword, ...largeHybrid };
          log(`figure 11: Postgres ${sizes.large}: ${JSON.stringify(largeR)}`);
          details.postgres = { sizes, wordsPerChunk: WORDS_PER_CHUNK, small: smallR, large: largeR };
          for (const [where, r] of /** @type {const} */ ([
            ['pg small', smallR],
            ['pg large', largeR],
          ])) {
            for (const mode of ['keyword', 'hybrid']) {
              measured[`${where} ${mode} p50`] = r[mode].p50Ms;
              measured[`${where} ${mode} p99`] = r[mode].p99Ms;
            }
          }
        } finally {
          await pgScope.close();
        }
      }

      // (3) PGlite, loaded through the API.
      {
        const liteScope = cleanup.scope('figure 11 pglite');
        try {
          const dataDir = mkdtempSync(path.join(os.tmpdir(), `rg-bench-${process.pid}-pglite-`));
          liteScope.defer('data dir', () => rmSync(dataDir, { recursive: true, force: true }));
          const lite = await ctx.gateway('fs-pglite-hybrid', { ROLE: 'all', DATA_DIR: dataDir, ...withEmbeddings });
          liteScope.defer('hybrid gateway', () => lite.stop('SIGKILL'));
          const client = new Client(lite.url, { maxSockets: 8, timeoutMs: 120_000 });
          liteScope.defer('client', () => client.close());
          // Files of 100 chunks of 100 tokens (the chunker of dist/ says how many words that is).
          /** @type {unknown} */
          const built = require(path.join(procs.dist.dir, 'vector-stores', 'ingestion', 'chunk-text.js'));
          const chunker = /** @type {{ chunkText: (t: string, o: object) => { chunks: unknown[] } }} */ (built);
          const strategy = { type: 'static', static: { max_chunk_size_tokens: 100, chunk_overlap_tokens: 0 } };
          let perFile = 1000;
          while (chunker.chunkText(words(0, perFile).join(' '), { maxChunkSizeTokens: 100, chunkOverlapTokens: 0 }).chunks.length < 100) perFile += 100;
          const files = Math.ceil(S.storeSmall / 100);
          const docs = Array.from({ length: files }, (_, i) => ({ name: `lite-${i}.txt`, text: words(500 + i, perFile).join(' ') }));
          const expected = docs.reduce((a, d) => a + chunker.chunkText(d.text, { maxChunkSizeTokens: 100, chunkOverlapTokens: 0 }).chunks.length, 0);
          log(`figure 11: loading ${files} files (${expected} chunks) into PGlite through the API`);
          const filled = await fill(client, lite.url, docs, strategy, 360_000);
          measured.ingestPglite = expected / filled.seconds;
          const searchMode = /** @type {string} */ ((await client.json('GET', `/v1/vector_stores/${filled.id}`)).search_mode);
          const samples = ctx.quick ? 100 : 300;
          const hybridR = await searchLatency({ hybrid: { client, storeId: filled.id } }, { samples, warm: 20, budgetMs: 60_000 });
          await lite.stop('SIGTERM', 20_000);
          const liteKeyword = await ctx.gateway('fs-pglite-keyword', { ROLE: 'all', DATA_DIR: dataDir });
          liteScope.defer('keyword gateway', () => liteKeyword.stop('SIGKILL'));
          const keywordClient = new Client(liteKeyword.url, { maxSockets: 1 });
          liteScope.defer('keyword client', () => keywordClient.close());
          const keywordR = await searchLatency({ keyword: { client: keywordClient, storeId: filled.id } }, { samples, warm: 20, budgetMs: 60_000 });
          const r = { ...keywordR, ...hybridR };
          log(`figure 11: PGlite ${expected}: ${JSON.stringify(r)}`);
          details.pglite = {
            chunks: expected,
            searchMode,
            files,
            wordsPerFile: perFile,
            ingestion: { seconds: round(filled.seconds, 1), chunksPerSecond: round(measured.ingestPglite, 1), strategy: 'static 100 / 0 tokens', inline: true },
            ...r,
          };
          for (const mode of ['keyword', 'hybrid']) {
            measured[`pglite small ${mode} p50`] = r[mode].p50Ms;
            measured[`pglite small ${mode} p99`] = r[mode].p99Ms;
          }
        } finally {
          await liteScope.close();
        }
      }
      return { details, measured };
    } finally {
      await scope.close();
    }
  },
};
