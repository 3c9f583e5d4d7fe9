'use strict';
/* eslint-disable @typescript-eslint/no-require-imports -- CommonJS on purpose: `node bench/…` runs as is, with no build step */
/**
 * `node bench/postgres-statements.js` — the Postgres CPU time of the two statements a stored
 * synchronous response costs (the gateway's INSERT of the response with its input items, and the
 * terminal UPDATE … RETURNING the row), sent as the gateway first sent them (unnamed: parsed and planned
 * every time) and as named prepared statements. The CPU time is read from /proc for the backends
 * of the 8 connections used. docs/performance.md uses it to size the gain of prepared statements.
 */
const { randomBytes } = require('node:crypto');
const { Client } = require('pg');
const db = require('./db');
const procs = require('./procs');
const { median } = require('./client');

// The gateway's statements (src/responses/persistence/typeorm-responses.store.ts: `create`, and the UPDATE that
// TypeORM's query builder makes of a terminal `updateResponseObject`).
const INSERT = `WITH inserted AS (
    INSERT INTO responses (id, owner, status, background, model, previous_response_id, attempt, request, usage, created_at, updated_at)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb, $9::jsonb, $10, $10)
    RETURNING id
  )
  INSERT INTO response_input_items (response_id, position, item_id, item)
  SELECT inserted.id, x.position, x.item_id, x.item
  FROM inserted, jsonb_to_recordset($11::jsonb) AS x(position integer, item_id text, item jsonb)`;
const UPDATE = `UPDATE "responses" SET "updated_at" = now(), "status" = $1, "completed_at" = $2, "usage" = $3::jsonb
  WHERE id = $4 AND status IN ($5) AND attempt = $6
  RETURNING id, owner, status, background, model, previous_response_id, attempt, request, usage, created_at, updated_at, completed_at`;

const hex = (/** @type {number} */ bytes) => randomBytes(bytes).toString('hex');

async function main() {
  const database = await db.createDatabase('statements');
  /** @type {import('pg').Client[]} */
  const clients = [];
  try {
    for (let i = 0; i < 8; i++) {
      const client = new Client({ connectionString: database.url });
      await client.connect();
      clients.push(client);
    }
    const pids = await Promise.all(
      clients.map(async (c) => {
        /** @type {unknown[]} */
        const rows = (await c.query('SELECT pg_backend_pid() AS pid')).rows;
        return Number(/** @type {{ pid: number }} */ (rows[0]).pid);
      }),
    );
    // Shapes and sizes like the gateway's for `{"model": "bench", "input": "Say hello."}`.
    const input = { id: `msg_${hex(24)}`, type: 'message', role: 'user', content: [{ type: 'input_text', text: 'Say hello.' }] };
    const request = { model: 'bench', input: [input], store: true, background: false, stream: false, request_id: `req_${hex(12)}` };
    const message = {
      id: `msg_${hex(24)}`,
      type: 'message',
      role: 'assistant',
      status: 'completed',
      content: [{ type: 'output_text', text: 'tok '.repeat(50).trim(), annotations: [], logprobs: [] }],
    };
    const document = {
      object: 'response',
      model: 'bench',
      output: [message],
      usage: { input_tokens: 10, output_tokens: 50, total_tokens: 60 },
      tools: [],
      metadata: {},
      text: { format: { type: 'text' } },
    };

    /** @param {boolean} named @param {number} count @returns {Promise<number>} µs of backend CPU per insert + update */
    const run = async (named, count) => {
      const before = pids.map((pid) => procs.cpuMs(pid));
      await Promise.all(
        clients.map(async (client) => {
          for (let i = 0; i < count / clients.length; i++) {
            const id = `resp_${hex(24)}`;
            const items = [{ position: 0, item_id: input.id, item: input }];
            await client.query({
              ...(named ? { name: 'create-response' } : {}),
              text: INSERT,
              values: [
                id,
                'default',
                'in_progress',
                false,
                'bench',
                null,
                1,
                JSON.stringify(request),
                JSON.stringify({ ...document, id, status: 'in_progress', output: [] }),
                new Date(),
                JSON.stringify(items),
              ],
            });
            await client.query({
              ...(named ? { name: 'finish-response' } : {}),
              text: UPDATE,
              values: ['completed', new Date(), JSON.stringify({ ...document, id, status: 'completed' }), id, 'in_progress', 1],
            });
          }
        }),
      );
      const after = pids.map((pid) => procs.cpuMs(pid));
      return (after.reduce((sum, ms, i) => sum + ms - before[i], 0) * 1000) / count;
    };
    await run(false, 800); // warm-up, both ways
    await run(true, 800);
    const unnamed = [];
    const prepared = [];
    for (let round = 0; round < 3; round++) {
      unnamed.push(await run(false, 4000));
      prepared.push(await run(true, 4000));
    }
    process.stdout.write(
      'Postgres backend CPU per stored response (INSERT + terminal UPDATE), median of 3 rounds of 4,000:\n' +
        `  ${String(Math.round(median(unnamed))).padStart(5)} µs  unnamed statements (as the gateway first sent them)\n` +
        `  ${String(Math.round(median(prepared))).padStart(5)} µs  named prepared statements\n`,
    );
  } finally {
    await Promise.all(clients.map((c) => c.end().catch(() => undefined)));
    await db.dropAll();
  }
}

main().catch((error) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  void db.dropAll().finally(() => process.exit(1));
});
