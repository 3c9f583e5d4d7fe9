'use strict';
/* eslint-disable @typescript-eslint/no-require-imports -- CommonJS on purpose: `node bench/run.js` runs as is, with no build step */
/**
 * The benchmark's own Postgres databases (`rg_bench_<pid>_<name>`): created, migrated with the
 * app's own migrations from dist/, seeded, and dropped at the end — never the shared `test`
 * database, which other runs use.
 */
const path = require('node:path');
const { existsSync } = require('node:fs');
const { Client } = require('pg');
const { dist } = require('./procs');

const ADMIN_URL = process.env.BENCH_DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/test';
const REDIS_URL = process.env.BENCH_REDIS_URL || 'redis://127.0.0.1:6379';

/** @type {Set<string>} */
const created = new Set();

/** @param {string} url @param {(c: import('pg').Client) => Promise<T>} fn @template T */
async function withClient(url, fn) {
  const client = new Client({ connectionString: url, connectionTimeoutMillis: 5000 });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function postgresReachable() {
  try {
    await withClient(ADMIN_URL, (c) => c.query('SELECT 1'));
    return true;
  } catch {
    return false;
  }
}

/** @returns {Promise<boolean>} */
function redisReachable() {
  const { hostname, port } = new URL(REDIS_URL);
  const net = require('node:net');
  return new Promise((resolve) => {
    const socket = new net.Socket();
    /** @param {boolean} ok */
    const done = (ok) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(2000, () => done(false));
    socket.once('error', () => done(false));
    socket.connect(Number(port || 6379), hostname, () => {
      socket.write('PING\r\n');
      socket.once('data', (data) => done(data.toString().startsWith('+PONG')));
    });
  });
}

/** @param {string} name @returns {string} the database's URL */
function urlOf(name) {
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  return url.toString();
}

/**
 * A new database with the app's schema, through `dataSourceOptions` and `runMigrations()` from the
 * built app: exactly the migrations a deployment runs.
 * @param {string} suffix @returns {Promise<{ name: string, url: string }>}
 */
async function createDatabase(suffix) {
  const name = `rg_bench_${process.pid}_${suffix}`;
  await withClient(ADMIN_URL, (c) => c.query(`CREATE DATABASE ${name}`));
  created.add(name);
  const url = urlOf(name);
  const { DataSource } = require('typeorm');
  /** @type {unknown} */
  const built = require(path.join(dist.dir, 'data-source'));
  const { dataSourceOptions } = /** @type {{ dataSourceOptions: (s: { databaseUrl: string, dataDir: string }) => import('typeorm').DataSourceOptions }} */ (
    built
  );
  const dataSource = new DataSource(dataSourceOptions({ databaseUrl: url, dataDir: '' }));
  await dataSource.initialize();
  try {
    await dataSource.runMigrations();
  } finally {
    await dataSource.destroy();
  }
  return { name, url };
}

/** @param {string} name */
async function dropDatabase(name) {
  await withClient(ADMIN_URL, (c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
  created.delete(name);
}

/**
 * Drops the databases of earlier runs that died without cleaning up (SIGKILL, power loss): those
 * named after a process that no longer runs on this machine.
 */
async function dropStale() {
  const rows = /** @type {Array<{ datname: string }>} */ (await query(ADMIN_URL, `SELECT datname FROM pg_database WHERE datname LIKE 'rg\\_bench\\_%'`));
  for (const { datname } of rows) {
    const pid = Number(/^rg_bench_(\d+)_/.exec(datname)?.[1]);
    if (pid && pid !== process.pid && !existsSync(`/proc/${pid}`)) await dropDatabase(datname).catch(() => undefined);
  }
}

/** Drops every database this run created (best effort: the end of a run must not fail here). */
async function dropAll() {
  for (const name of [...created]) await dropDatabase(name).catch(() => undefined);
}

/**
 * Deterministic, random-looking ids for seeded row `i` (`resp_` + 48 hex, like the app's), so the
 * benchmark can pick ids to retrieve without asking the database.
 * @param {number} i
 */
function seededId(i) {
  const { createHash } = require('node:crypto');
  const a = createHash('md5').update(`bench-${i}`).digest('hex');
  const b = createHash('md5').update(`bench-${i}-b`).digest('hex').slice(0, 16);
  return `resp_${a}${b}`;
}

/**
 * Inserts rows `from`…`to - 1` of `responses` for one owner, in batches of one statement each
 * (`INSERT … SELECT generate_series`), copying a real stored request and usage as the template
 * so every row has a plausible size and shape; its id (in the row and in the document) and times
 * differ per row. `seq` (identity) follows insertion order, as it does in production.
 * @param {string} url @param {{ owner: string, from: number, to: number, template: { request: unknown, usage: unknown }, batch?: number }} o
 */
async function seedResponses(url, { owner, from, to, template, batch = 50_000 }) {
  await withClient(url, async (c) => {
    for (let start = from; start < to; start += batch) {
      const end = Math.min(to, start + batch) - 1;
      await c.query(
        `WITH rows AS (
           SELECT i, 'resp_' || md5('bench-' || i) || substr(md5('bench-' || i || '-b'), 1, 16) AS id,
                  timestamptz '2025-01-01' + i * interval '1 second' AS at
           FROM generate_series($1::int, $2::int) AS i
         )
         INSERT INTO responses (id, owner, status, background, model, attempt, request, usage, created_at, updated_at, completed_at)
         SELECT id, $3, 'completed', false, $4, 1, $5::jsonb, $6::jsonb, at, at, at
         FROM rows ORDER BY i`,
        [start, end, owner, 'bench', JSON.stringify(template.request), JSON.stringify(template.usage ?? null)],
      );
    }
    // As autovacuum would have done by the time a real table is this big: statistics for the
    // planner and a visibility map; without it the first figures measure a freshly loaded table.
    await c.query('VACUUM ANALYZE responses');
  });
}

/**
 * The Postgres backend processes serving database `name` now (for their CPU time: they run on
 * this machine, and /proc shows them).
 * @param {string} name @returns {Promise<number[]>}
 */
async function backendPids(name) {
  const rows = /** @type {Array<{ pid: number }>} */ (await query(ADMIN_URL, 'SELECT pid FROM pg_stat_activity WHERE datname = $1', [name]));
  return rows.map((r) => Number(r.pid));
}

/**
 * One connection held open, for polling the database during a measurement: a connection per poll
 * would fork a Postgres backend each time on the machine being measured. Its backend's pid is
 * known, so its CPU time can be left out of the gateway's share.
 * @param {string} url
 */
async function connect(url) {
  const client = new Client({ connectionString: url, connectionTimeoutMillis: 5000 });
  await client.connect();
  /** @type {unknown[]} */
  const rows = (await client.query('SELECT pg_backend_pid() AS pid')).rows;
  return {
    pid: Number(/** @type {{ pid: number }} */ (rows[0]).pid),
    /** @param {string} sql @param {unknown[]} [params] @returns {Promise<unknown[]>} */
    async query(sql, params = []) {
      /** @type {unknown[]} */
      const rows = (await client.query(sql, params)).rows;
      return rows;
    },
    /** @returns {Promise<void>} */
    async end() {
      await client.end().catch(() => undefined);
    },
  };
}

/** @param {string} url @param {string} sql @param {unknown[]} [params] @returns {Promise<unknown[]>} */
function query(url, sql, params = []) {
  return withClient(url, async (c) => {
    /** @type {unknown[]} */
    const rows = (await c.query(sql, params)).rows;
    return rows;
  });
}

module.exports = {
  ADMIN_URL,
  REDIS_URL,
  backendPids,
  connect,
  postgresReachable,
  redisReachable,
  createDatabase,
  dropDatabase,
  dropAll,
  dropStale,
  seededId,
  seedResponses,
  query,
  withClient,
};

/**
 * Deletes every Redis key under `prefix` — or, with `stale`, under the prefix of earlier runs
 * (`rgbench<pid>`) whose process no longer runs (killed before they could clean up).
 * @param {{ prefix?: string, stale?: boolean }} options
 */
async function cleanRedis(options) {
  const { Redis } = require('ioredis');
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', options.stale ? 'rgbench*' : `${options.prefix}:*`, 'COUNT', 1000);
      const doomed = options.stale
        ? keys.filter((k) => {
            const pid = Number(/^rgbench(\d+):/.exec(k)?.[1]);
            return pid && pid !== process.pid && !existsSync(`/proc/${pid}`);
          })
        : keys;
      if (doomed.length) await redis.unlink(...doomed);
      cursor = next;
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}

module.exports.cleanRedis = cleanRedis;

/**
 * A synthetic vocabulary of `n` distinct lower-case words (two to four consonant–vowel
 * syllables), the same on every call: the text of seeded chunks, and of figure 11's queries.
 * @param {number} n @returns {string[]}
 */
function vocabulary(n) {
  const c = 'bdfgklmnprstvz';
  const v = 'aeiou';
  /** @type {string[]} */
  const words = [];
  const seen = new Set();
  let x = 12345;
  while (words.length < n) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    let y = x;
    let word = '';
    const syllables = 2 + (y % 3);
    for (let s = 0; s < syllables; s++) {
      y = (Math.imul(y, 2654435761) + 1) >>> 0;
      word += c[(y >>> 8) % c.length] + v[(y >>> 20) % v.length];
    }
    if (!seen.has(word)) {
      seen.add(word);
      words.push(word);
    }
  }
  return words;
}

/** Chunks generated per seeded store; the rest copy them (seedChunks). */
const DISTINCT_CHUNKS = 10_000;
const COPY_BATCH = 100_000;

/**
 * Seeds one vector store of `chunks` chunks for `owner` straight in SQL (figure 11: loading a
 * million through the API would take hours): `chunks / perFile` files, their `vector_store_files`
 * rows completed at attempt 1, and the chunks with the columns ingestion writes — text (`words`
 * words drawn uniformly from `vocab`), token count, `to_tsvector('english', text)` and a random
 * `dimensions`-long real[] (unit length is not needed: the cost of exact similarity does not
 * depend on the values). The GIN index is dropped during the load and rebuilt after it (much
 * faster than growing it row by row), then VACUUM ANALYZE, as autovacuum would have done.
 * @param {string} url
 * @param {{ owner: string, storeId: string, chunks: number, perFile: number, words: number, dimensions: number, embeddingModel: string, vocab: string[], batch?: number }} o
 */
async function seedChunks(url, { owner, storeId, chunks, perFile, words, dimensions, embeddingModel, vocab, batch = 20_000 }) {
  const files = Math.ceil(chunks / perFile);
  await withClient(url, async (c) => {
    await c.query(`INSERT INTO vector_stores (id, owner, name, metadata, embedding_model, dimensions) VALUES ($1, $2, 'bench', '{}'::jsonb, $3, $4)`, [
      storeId,
      owner,
      embeddingModel,
      dimensions,
    ]);
    await c.query(
      `INSERT INTO files (id, owner, state, filename, purpose, content_type, bytes)
       SELECT $2 || '_' || i, $1, 'ready', 'doc-' || i || '.txt', 'assistants', 'text/plain', 0 FROM generate_series(0, $3::int - 1) AS i`,
      [owner, `file_${storeId}`, files],
    );
    await c.query(
      `INSERT INTO vector_store_files (vector_store_id, file_id, owner, status, chunking_strategy, attempt)
       SELECT $1, $3 || '_' || i, $2, 'completed', '{"type":"static","static":{"max_chunk_size_tokens":100,"chunk_overlap_tokens":0}}'::jsonb, 1
       FROM generate_series(0, $4::int - 1) AS i`,
      [storeId, owner, `file_${storeId}`, files],
    );
    await c.query('DROP INDEX vector_store_chunks_tsv');
    // The first `distinct` chunks are generated (text, tsvector, vector: the costly part); the rest
    // copy them in order (another file, another position), so a million loads in minutes.
    const distinct = Math.min(chunks, DISTINCT_CHUNKS);
    for (let start = 0; start < distinct; start += batch) {
      const end = Math.min(distinct, start + batch) - 1;
      // The subqueries name i so that they run per row (uncorrelated, they would run once).
      await c.query(
        `WITH rows AS (
           SELECT i, array_to_string(ARRAY(SELECT ($5::text[])[1 + floor(random() * cardinality($5::text[]))::int] FROM generate_series(1, $6::int + 0 * i)), ' ') AS text
           FROM generate_series($1::int, $2::int) AS i
         )
         INSERT INTO vector_store_chunks (vector_store_id, file_id, attempt, position, text, tokens, tsv, embedding)
         SELECT $3, $4 || '_' || (i / $7::int), 1, i % $7::int, text, $6::int * 4 / 3, to_tsvector('english', text),
                ARRAY(SELECT (random() - 0.5)::real FROM generate_series(1, $8::int + 0 * i))
         FROM rows ORDER BY i`,
        [start, end, storeId, `file_${storeId}`, vocab, words, perFile, dimensions],
      );
    }
    for (let start = distinct; start < chunks; start += COPY_BATCH) {
      const end = Math.min(chunks, start + COPY_BATCH) - 1;
      await c.query(
        `INSERT INTO vector_store_chunks (vector_store_id, file_id, attempt, position, text, tokens, tsv, embedding)
         SELECT $3, $4 || '_' || (i / $5::int), 1, i % $5::int, b.text, b.tokens, b.tsv, b.embedding
         FROM generate_series($1::int, $2::int) AS i
         JOIN vector_store_chunks b ON b.id = (i % $6::int) + 1
         ORDER BY i`,
        [start, end, storeId, `file_${storeId}`, perFile, distinct],
      );
    }
    await c.query('CREATE INDEX vector_store_chunks_tsv ON vector_store_chunks USING gin (tsv)');
    await c.query('VACUUM ANALYZE');
  });
}

module.exports.vocabulary = vocabulary;
module.exports.seedChunks = seedChunks;
