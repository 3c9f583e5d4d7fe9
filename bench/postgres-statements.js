'use strict';
/* eslint-disable @typescript-eslint/no-require-imports -- CommonJS on purpose: `node bench/…` runs as is, with no build step */
/**
 * `node bench/postgres-statements.js` — the Postgres CPU time of a stored synchronous response's
 * one statement (the INSERT of the finished response with its input and output items, through the
 * built store: `TypeOrmResponsesStore.create` from dist/), on the schema as migrated and on the
 * schema before migration 1764001100000 (the item tables' foreign keys to `responses`, added back),
 * interleaved round by round. The CPU time is read from /proc for the backends of the 8 pooled
 * connections used. docs/performance.md uses it to size what dropping the keys bought.
 */
const path = require('node:path');
const db = require('./db');
const procs = require('./procs');
const { median } = require('./client');

const DIST = path.join(__dirname, '..', 'dist');
const FOREIGN_KEYS = {
  add: [
    `ALTER TABLE response_input_items ADD CONSTRAINT response_input_items_response_id_fkey FOREIGN KEY (response_id) REFERENCES responses(id) ON DELETE CASCADE`,
    `ALTER TABLE response_output_items ADD CONSTRAINT response_output_items_response_id_fkey FOREIGN KEY (response_id) REFERENCES responses(id) ON DELETE CASCADE`,
  ],
  drop: [
    `ALTER TABLE response_input_items DROP CONSTRAINT response_input_items_response_id_fkey`,
    `ALTER TABLE response_output_items DROP CONSTRAINT response_output_items_response_id_fkey`,
  ],
};

async function main() {
  const { DataSource } = require('typeorm');
  // The built modules, with the shapes used here.
  /** @type {unknown} */
  const dataSourceModule = require(path.join(DIST, 'data-source'));
  const { dataSourceOptions } = /** @type {{ dataSourceOptions: (s: { databaseUrl: string, dataDir: string }) => import('typeorm').DataSourceOptions }} */ (
    dataSourceModule
  );
  /** @type {unknown} */
  const storeModule = require(path.join(DIST, 'responses/persistence/typeorm-responses.store'));
  const { TypeOrmResponsesStore } = /** @type {{ TypeOrmResponsesStore: new (d: import('typeorm').DataSource) => { create(r: unknown): Promise<void> } }} */ (
    storeModule
  );
  /** @type {unknown} */
  const objectModule = require(path.join(DIST, 'responses/response-object'));
  const { buildResponse } = /** @type {{ buildResponse: (id: string, at: Date, request: unknown, state: Record<string, unknown>) => unknown }} */ (
    objectModule
  );
  /** @type {unknown} */
  const idsModule = require(path.join(DIST, 'common/ids'));
  const { newId } = /** @type {{ newId: (prefix: string) => string }} */ (idsModule);
  const database = await db.createDatabase('statements');
  const dataSource = new DataSource({ ...dataSourceOptions({ databaseUrl: database.url, dataDir: '' }), poolSize: 8 });
  await dataSource.initialize();
  try {
    const store = new TypeOrmResponsesStore(dataSource);
    // Shapes and sizes like the gateway's for `{"model": "bench", "input": "Say hello.", "store": true}`.
    const request = { model: 'bench', input: 'Say hello.', store: true, background: false, stream: false, tools: [], metadata: {} };
    const answer = 'tok '.repeat(50).trim();
    const row = () => {
      const id = newId('resp');
      const createdAt = new Date();
      const output = [
        {
          id: newId('msg'),
          type: 'message',
          role: 'assistant',
          status: 'completed',
          content: [{ type: 'output_text', text: answer, annotations: [], logprobs: [] }],
        },
      ];
      const usage = {
        input_tokens: 10,
        output_tokens: 50,
        total_tokens: 60,
        input_tokens_details: { cached_tokens: 0 },
        output_tokens_details: { reasoning_tokens: 0 },
      };
      return {
        id,
        owner: 'default',
        status: 'completed',
        background: false,
        model: 'bench',
        previousResponseId: null,
        attempt: 1,
        request: { ...request, request_id: newId('req') },
        response: buildResponse(id, createdAt, request, { status: 'completed', output, usage, completedAt: createdAt }),
        createdAt,
        completedAt: createdAt,
        inputItems: [{ id: newId('msg'), type: 'message', role: 'user', content: [{ type: 'input_text', text: 'Say hello.' }] }],
      };
    };
    /** @param {number} count @returns {Promise<number>} µs of backend CPU per INSERT */
    const run = async (count) => {
      const pids = await db.backendPids(database.name);
      const before = pids.map((pid) => procs.cpuMs(pid));
      let started = 0;
      await Promise.all(
        Array.from({ length: 8 }, async () => {
          while (started++ < count) await store.create(row());
        }),
      );
      const after = pids.map((pid) => procs.cpuMs(pid));
      return (after.reduce((sum, ms, i) => sum + ms - before[i], 0) * 1000) / count;
    };
    await run(1000); // warm-up: the pool's 8 connections open, the statements are prepared
    const migrated = [];
    const withKeys = [];
    for (let round = 0; round < 3; round++) {
      migrated.push(await run(4000));
      for (const statement of FOREIGN_KEYS.add) await dataSource.query(statement);
      withKeys.push(await run(4000));
      for (const statement of FOREIGN_KEYS.drop) await dataSource.query(statement);
    }
    const us = (/** @type {number[]} */ xs) => String(Math.round(median(xs))).padStart(5);
    process.stdout.write(
      'Postgres backend CPU per stored synchronous response (its one INSERT), median of 3 interleaved rounds of 4,000:\n' +
        `  ${us(withKeys)} µs  with the item tables' foreign keys (the schema before migration 1764001100000)\n` +
        `  ${us(migrated)} µs  as migrated (no foreign keys; a delete trigger)\n`,
    );
  } finally {
    await dataSource.destroy().catch(() => undefined);
    await db.dropAll();
  }
}

main().catch((error) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  void db.dropAll().finally(() => process.exit(1));
});
