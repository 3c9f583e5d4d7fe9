import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { isTerminal, type ResponseObject, type ResponseStatus, type StoredItem } from '../../common/response-types';
import type { Page } from '../../database/page';
import { keysetPage } from '../../database/pagination';
import { date, json, Sql } from '../../database/sql';
import type { IncompleteReason } from '../../agents/agent-runner';
import { buildResponse } from '../response-object';
import {
  ChainHistory,
  ClaimedResponse,
  ItemListOptions,
  ListOptions,
  NewResponse,
  QueueDepth,
  QueueStanding,
  ResponsePatch,
  ResponsesStore,
  StoredResponse,
  UnfinishedRun,
  UpdateCondition,
} from './responses.store';

/** A `responses` row as the driver returns it (snake_case, raw types). */
interface ResponseRow {
  id: string;
  owner: string;
  status: ResponseStatus;
  background: boolean;
  model: string;
  previous_response_id: string | null;
  attempt: number;
  request: StoredResponse['request'] | string;
  usage: ResponseObject['usage'] | string | null;
  error: RunError | string | null;
  incomplete_details: { reason: IncompleteReason } | string | null;
  created_at: Date | string;
  updated_at: Date | string;
  completed_at: Date | string | null;
  /** The output items (`response_output_items`), as a jsonb array. */
  output: ResponseObject['output'] | string;
}

type RunError = { code: string; message: string };

/** The Response object, built from the request and the run's state (the row keeps no copy of it). */
function toStored(row: ResponseRow): StoredResponse {
  const request = json(row.request);
  const createdAt = date(row.created_at);
  const completedAt = row.completed_at === null ? null : date(row.completed_at);
  const incomplete = row.incomplete_details === null ? null : json(row.incomplete_details);
  const response = buildResponse(row.id, createdAt, request, {
    status: row.status,
    output: json(row.output),
    usage: row.usage === null ? null : json(row.usage),
    error: row.error === null ? null : json(row.error),
    incompleteReason: incomplete?.reason ?? null,
    completedAt,
  });
  return {
    id: row.id,
    owner: row.owner,
    status: row.status,
    background: row.background,
    model: row.model,
    previousResponseId: row.previous_response_id,
    attempt: Number(row.attempt),
    request,
    response,
    createdAt,
    updatedAt: date(row.updated_at),
    completedAt,
  };
}

const ROW_COLUMNS = `id, owner, status, background, model, previous_response_id, attempt, request, usage, error, incomplete_details, created_at, updated_at, completed_at`;
/** A response's output items in order, for the row aliased `r`. */
const OUTPUT_OF_R = `coalesce((SELECT jsonb_agg(o.item ORDER BY o.position) FROM response_output_items o WHERE o.response_id = r.id), '[]'::jsonb) AS output`;
const COLUMNS = `${ROW_COLUMNS}, ${OUTPUT_OF_R}`;

/** A jsonb parameter; an absent or null value is SQL NULL. */
const jsonb = (value: unknown): string | null => (value === undefined || value === null ? null : JSON.stringify(value));

/** What the row keeps of a Response: what only the run produces (output has its own table). */
const runState = (response: ResponseObject) => [jsonb(response.usage), jsonb(response.error), jsonb(response.incomplete_details)];

/** `response_output_items` rows of an output, as `jsonb_to_recordset` reads them. */
const outputRows = (output: ResponseObject['output']) =>
  JSON.stringify(output.map((item, position) => ({ position, item_id: (item as { id?: string }).id ?? '', item })));

/**
 * Replaces the output items of the response that CTE `source` returned (none: nothing happens):
 * upserts every position, drops those past the end. The two touch different rows, so they are safe
 * in one statement.
 */
const REPLACE_OUTPUT = (source: string, rowsParam: string, countParam: string) => `,
  output_put AS (
    INSERT INTO response_output_items (response_id, position, item_id, item)
    SELECT s.id, x.position, x.item_id, x.item FROM ${source} s, jsonb_to_recordset(${rowsParam}::jsonb) AS x(position integer, item_id text, item jsonb)
    ON CONFLICT (response_id, position) DO UPDATE SET item_id = EXCLUDED.item_id, item = EXCLUDED.item
    WHERE response_output_items.item IS DISTINCT FROM EXCLUDED.item
  ),
  output_cut AS (
    DELETE FROM response_output_items WHERE response_id IN (SELECT id FROM ${source}) AND position >= ${countParam}::integer
  )`;

/**
 * A queued response's fair-queuing tag (per owner and class `$16`, increment `$17` = 1 / weight):
 * the later of the class's head (the lowest tag still queued: the queue's virtual time) and one
 * step past the owner's own last queued tag. An owner with a backlog queues behind its own tail;
 * one that arrives with nothing queued is level with the head, so it waits for no one's backlog.
 * Both reads are the heads of partial indexes. Rows not queued get 0.
 */
const FAIR_TAG = `CASE WHEN $17::float8 IS NULL THEN 0 ELSE greatest(
    coalesce((SELECT min(q.sched_tag) FROM responses q WHERE q.status = 'queued' AND q.background AND q.sched_class = $16), 0),
    coalesce((SELECT max(q.sched_tag) FROM responses q WHERE q.status = 'queued' AND q.background AND q.sched_class = $16 AND q.owner = $2) + $17::float8, 0)
  ) END`;

/**
 * A response's chain (`$1`, owner `$2`, at most `$3` links), in one statement: a recursive walk of
 * `previous_response_id`, then each link's input items and output items, oldest first. The items
 * are LATERAL subqueries that `OFFSET 0` keeps from being
 * flattened into a join: as a join, the planner (which cannot know the chain is short) read the
 * whole `response_input_items` table while it thought it small (below ~20,000 rows on Postgres 15:
 * 0.35 ms at 5,000 rows against 0.02 ms for the index), in every background run and every
 * `previous_response_id` request. This way each link's items are one index lookup at any size.
 */
export const CHAIN_HISTORY_SQL = `WITH RECURSIVE chain AS (
    SELECT id, previous_response_id, status, 0 AS depth
    FROM responses WHERE id = $1 AND owner = $2
    UNION ALL
    SELECT r.id, r.previous_response_id, r.status, c.depth + 1
    FROM responses r JOIN chain c ON r.id = c.previous_response_id
    WHERE r.owner = $2 AND c.depth + 1 < $3
  )
  SELECT depth, status, previous_response_id AS prev, 0 AS kind, 0 AS position, NULL::jsonb AS item FROM chain
  UNION ALL
  SELECT c.depth, c.status, NULL, 1, i.position, i.item
  FROM chain c CROSS JOIN LATERAL (SELECT position, item FROM response_input_items WHERE response_id = c.id OFFSET 0) AS i
  UNION ALL
  SELECT c.depth, c.status, NULL, 2, o.position, o.item
  FROM chain c CROSS JOIN LATERAL (SELECT position, item FROM response_output_items WHERE response_id = c.id OFFSET 0) AS o
  ORDER BY depth DESC, kind, position`;

/**
 * The store on TypeORM (Postgres or embedded PGlite). Every write is one SQL statement, so it is
 * atomic without a multi-statement transaction (PGlite has a single connection that concurrent
 * transactions would share).
 */
@Injectable()
export class TypeOrmResponsesStore extends ResponsesStore {
  private readonly sql: Sql;

  constructor(@InjectDataSource() dataSource: DataSource) {
    super();
    this.sql = new Sql(dataSource);
  }

  async create(r: NewResponse): Promise<void> {
    const items = r.inputItems.map((item, position) => ({ position, item_id: item.id, item }));
    await this.sql.query(
      `WITH inserted AS (
         INSERT INTO responses (id, owner, status, background, model, previous_response_id, attempt, request, usage, error, incomplete_details, created_at, updated_at, completed_at, sched_class, sched_tag, start_by, window_end)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb, $9::jsonb, $14::jsonb, $15::jsonb, $10, now(), $12, $16, ${FAIR_TAG}, $18, $19)
         RETURNING id
       ),
       input_put AS (
         INSERT INTO response_input_items (response_id, position, item_id, item)
         SELECT inserted.id, x.position, x.item_id, x.item
         FROM inserted, jsonb_to_recordset($11::jsonb) AS x(position integer, item_id text, item jsonb)
       )
       INSERT INTO response_output_items (response_id, position, item_id, item)
       SELECT inserted.id, x.position, x.item_id, x.item
       FROM inserted, jsonb_to_recordset($13::jsonb) AS x(position integer, item_id text, item jsonb)`,
      [
        r.id,
        r.owner,
        r.status,
        r.background,
        r.model,
        r.previousResponseId,
        r.attempt,
        JSON.stringify(r.request),
        jsonb(r.response.usage),
        r.createdAt,
        JSON.stringify(items),
        r.completedAt ?? null,
        outputRows(r.response.output ?? []),
        jsonb(r.response.error),
        jsonb(r.response.incomplete_details),
        r.schedule?.class ?? 0,
        r.schedule ? 1 / r.schedule.weight : null,
        r.schedule?.startBy ?? null,
        r.schedule?.windowEnd ?? null,
      ],
    );
  }

  async get(owner: string, id: string): Promise<StoredResponse | null> {
    const rows: ResponseRow[] = await this.sql.query(`SELECT ${COLUMNS} FROM responses r WHERE id = $1 AND owner = $2`, [id, owner]);
    return rows.length ? toStored(rows[0]) : null;
  }

  async getById(id: string): Promise<StoredResponse | null> {
    const rows: ResponseRow[] = await this.sql.query(`SELECT ${COLUMNS} FROM responses r WHERE id = $1`, [id]);
    return rows.length ? toStored(rows[0]) : null;
  }

  async updateResponseObject(id: string, patch: ResponsePatch, condition: UpdateCondition): Promise<StoredResponse | null> {
    // Plain SQL, built from a handful of fixed shapes: this is every response's hot path.
    const params: unknown[] = [id, condition.allowedStatuses];
    const param = (value: unknown) => `$${params.push(value)}`;
    const set = ['updated_at = now()'];
    const status = patch.status !== undefined ? param(patch.status) : undefined;
    if (status) set.push(`status = ${status}`);
    // Secrets sealed for the run (MCP headers) do not outlive it.
    if (patch.status !== undefined && isTerminal(patch.status)) set.push(`request = request - 'mcp_headers_sealed'`);
    if (patch.attempt === 'next') set.push('attempt = attempt + 1');
    else if (patch.attempt !== undefined) set.push(`attempt = ${param(patch.attempt)}`);
    if (patch.completedAt !== undefined) set.push(`completed_at = ${param(patch.completedAt)}`);
    let output = '';
    if (patch.response !== undefined) {
      const [usage, error, incomplete] = runState(patch.response);
      set.push(`usage = ${param(usage)}::jsonb`, `error = ${param(error)}::jsonb`, `incomplete_details = ${param(incomplete)}::jsonb`);
      const items = patch.response.output ?? [];
      output = REPLACE_OUTPUT('updated', param(outputRows(items)), param(items.length));
    } else if (patch.clearOutput) {
      output = REPLACE_OUTPUT('updated', `'[]'`, '0');
    }
    const where = ['id = $1', 'status = ANY($2::text[])'];
    if (condition.attempt !== undefined) where.push(`attempt = ${param(condition.attempt)}`);
    if (condition.attemptBelow !== undefined) where.push(`attempt < ${param(condition.attemptBelow)}`);
    // The statement's snapshot does not see its own writes to the output items: when it writes
    // them, the new output is the patch's (or none); otherwise the rows as they are.
    const returned =
      patch.response !== undefined
        ? `, ${param(JSON.stringify(patch.response.output ?? []))}::jsonb AS output`
        : patch.clearOutput
          ? `, '[]'::jsonb AS output`
          : `, ${OUTPUT_OF_R}`;
    const rows: ResponseRow[] = await this.sql.query(
      `WITH updated AS (UPDATE responses SET ${set.join(', ')} WHERE ${where.join(' AND ')} RETURNING ${ROW_COLUMNS})${output}
       SELECT r.*${returned} FROM updated r`,
      params,
    );
    return rows.length ? toStored(rows[0]) : null;
  }

  async findItems(owner: string, ids: string[]): Promise<Map<string, StoredItem>> {
    const found = new Map<string, StoredItem>();
    if (!ids.length) return found;
    // Index lookups by item id on both item tables; only the named items are read.
    const rows: Array<{ item: StoredItem | string }> = await this.sql.query(
      `SELECT i.item FROM response_input_items i JOIN responses r ON r.id = i.response_id
       WHERE r.owner = $1 AND i.item_id = ANY($2::text[])
       UNION ALL
       SELECT o.item FROM response_output_items o JOIN responses r ON r.id = o.response_id
       WHERE r.owner = $1 AND o.item_id = ANY($2::text[])`,
      [owner, ids],
    );
    for (const row of rows) {
      const item = json(row.item);
      if (item.id && !found.has(item.id)) found.set(item.id, item);
    }
    return found;
  }

  async findUnfinishedBackground(olderThan: Date, limit: number): Promise<UnfinishedRun[]> {
    const rows: Array<{ id: string; status: ResponseStatus; run_token: string | null }> = await this.sql.query(
      `SELECT id, status, run_token FROM responses
       WHERE status IN ('queued', 'in_progress') AND background AND updated_at < $1
       ORDER BY updated_at LIMIT $2`,
      [olderThan, limit],
    );
    return rows.map((r) => ({ id: r.id, status: r.status, runToken: r.run_token }));
  }

  async countQueuedBackground(filter?: { class: 0 | 1; owner?: string }): Promise<number> {
    const rows: Array<{ n: string | number }> = await this.sql.query(
      `SELECT count(*) AS n FROM responses WHERE status = 'queued' AND background
       AND ($1::smallint IS NULL OR sched_class = $1) AND ($2::text IS NULL OR owner = $2)`,
      [filter?.class ?? null, filter?.owner ?? null],
    );
    return Number(rows[0].n);
  }

  async queueDepths(): Promise<QueueDepth[]> {
    const rows: Array<{ class: number; owner: string; queued: string | number; oldest: string | number }> = await this.sql.query(
      `SELECT sched_class AS class, owner, count(*) AS queued, extract(epoch FROM now() - min(created_at)) AS oldest
       FROM responses WHERE status = 'queued' AND background GROUP BY sched_class, owner`,
    );
    return rows.map((r) => ({ class: Number(r.class) === 1 ? 1 : 0, owner: r.owner, queued: Number(r.queued), oldestSeconds: Number(r.oldest) }));
  }

  async promoteDueWindows(): Promise<number> {
    const rows: unknown[] = await this.sql.query(
      `WITH promoted AS (
         UPDATE responses SET sched_class = 0,
           sched_tag = coalesce((SELECT min(q.sched_tag) FROM responses q WHERE q.status = 'queued' AND q.background AND q.sched_class = 0), 0)
         WHERE status = 'queued' AND background AND sched_class = 1 AND window_end IS NOT NULL AND start_by <= now()
         RETURNING id
       ) SELECT id FROM promoted`,
    );
    return rows.length;
  }

  async queueStanding(id: string, paceSeconds: number): Promise<QueueStanding | null> {
    // `ahead` reads the claim order's index up to the row; the pace, the completions index.
    const rows: Array<{ ahead: string | number; start_by: Date | string | null; recent: string | number }> = await this.sql.query(
      `SELECT
         (SELECT count(*) FROM responses q WHERE q.status = 'queued' AND q.background
            AND (q.sched_class, q.sched_tag, q.created_at, q.seq) < (r.sched_class, r.sched_tag, r.created_at, r.seq)) AS ahead,
         r.start_by,
         (SELECT count(*) FROM responses d WHERE d.background AND d.completed_at IS NOT NULL
            AND d.completed_at > now() - make_interval(secs => $2)) AS recent
       FROM responses r WHERE r.id = $1 AND r.status = 'queued' AND r.background`,
      [id, paceSeconds],
    );
    if (!rows.length) return null;
    const [row] = rows;
    return { ahead: Number(row.ahead), startBy: row.start_by === null ? null : date(row.start_by), completedRecently: Number(row.recent) };
  }

  async findExpiredWindows(limit: number): Promise<string[]> {
    const rows: Array<{ id: string }> = await this.sql.query(
      `SELECT id FROM responses
       WHERE status = 'queued' AND background AND window_end IS NOT NULL AND start_by <= now() AND window_end <= now()
       ORDER BY window_end LIMIT $1`,
      [limit],
    );
    return rows.map((r) => r.id);
  }

  async claimNext(token: string, attemptBelow: number, skipModels: readonly string[] = []): Promise<ClaimedResponse | null> {
    // The row lock of the subquery lasts the statement: a concurrent claim skips the row and
    // takes the next one instead of waiting for it and then finding it taken.
    const rows: Array<ResponseRow & { input: StoredItem[] | string }> = await this.sql.query(
      `WITH updated AS (
         UPDATE responses SET status = 'in_progress', attempt = attempt + 1, run_token = $1, updated_at = now()
         WHERE id = (
           SELECT id FROM responses WHERE status = 'queued' AND background AND attempt < $2 AND (window_end IS NULL OR window_end > now())
             AND NOT (model = ANY($3::text[]))
           ORDER BY sched_class, sched_tag, created_at, seq LIMIT 1 FOR UPDATE SKIP LOCKED
         ) AND status = 'queued'
         RETURNING ${ROW_COLUMNS}
       )${REPLACE_OUTPUT('updated', `'[]'`, '0')}
       SELECT r.*, '[]'::jsonb AS output,
         coalesce((SELECT jsonb_agg(i.item ORDER BY i.position) FROM response_input_items i WHERE i.response_id = r.id), '[]'::jsonb) AS input
       FROM updated r`,
      [token, attemptBelow, skipModels],
    );
    return rows.length ? { ...toStored(rows[0]), input: json(rows[0].input) } : null;
  }

  async runningByModel(models: readonly string[]): Promise<Map<string, number>> {
    const rows: Array<{ model: string; n: string | number }> = await this.sql.query(
      `SELECT model, count(*) AS n FROM responses WHERE status = 'in_progress' AND model = ANY($1::text[]) GROUP BY model`,
      [models],
    );
    return new Map(rows.map((r) => [r.model, Number(r.n)]));
  }

  async findRunOf(token: string): Promise<string | null> {
    const rows: Array<{ id: string }> = await this.sql.query(
      // A row claimed before run tokens existed is its own job's.
      `SELECT id FROM responses WHERE (run_token = $1 OR (run_token IS NULL AND id = $1)) AND status = 'in_progress' AND background LIMIT 1`,
      [token],
    );
    return rows[0]?.id ?? null;
  }

  async failAbandonedSynchronous(olderThan: Date, error: { code: string; message: string }): Promise<number> {
    const rows: unknown[] = await this.sql.query(
      `WITH failed AS (
         UPDATE responses
         SET status = 'failed', updated_at = now(), error = $2::jsonb
         WHERE status = 'in_progress' AND NOT background AND created_at < $1
         RETURNING id
       ) SELECT id FROM failed`,
      [olderThan, JSON.stringify(error)],
    );
    return rows.length;
  }

  async countUnfinishedBackground(owner: string): Promise<number> {
    const rows: Array<{ n: string | number }> = await this.sql.query(
      `SELECT count(*) AS n FROM responses WHERE status IN ('queued', 'in_progress') AND background AND owner = $1`,
      [owner],
    );
    return Number(rows[0].n);
  }

  async delete(owner: string, id: string): Promise<boolean> {
    // Wrapped in a SELECT: TypeORM shapes a bare DELETE's result differently on pg and PGlite.
    const rows: unknown[] = await this.sql.query(`WITH deleted AS (DELETE FROM responses WHERE id = $1 AND owner = $2 RETURNING id) SELECT id FROM deleted`, [
      id,
      owner,
    ]);
    return rows.length > 0;
  }

  async list(owner: string, options: ListOptions): Promise<Page<StoredResponse>> {
    const params: unknown[] = [owner];
    const where = ['owner = $1'];
    if (options.model) where.push(`model = $${params.push(options.model)}`);
    const page = await keysetPage<ResponseRow>(this.sql, {
      select: `SELECT ${COLUMNS} FROM responses r`,
      where,
      params,
      orderBy: ['seq'],
      order: options.order,
      limit: options.limit,
      cursors: [
        { param: 'after', id: options.after, find: { text: `SELECT seq FROM responses WHERE id = $1 AND owner = $2`, params: [options.after, owner] } },
      ],
    });
    return { data: page.data.map(toStored), hasMore: page.hasMore };
  }

  async listInputItems(responseId: string, options: ItemListOptions): Promise<Page<StoredItem>> {
    const find = (cursor: string | undefined) => ({
      text: `SELECT position FROM response_input_items WHERE response_id = $1 AND item_id = $2 ORDER BY position LIMIT 1`,
      params: [responseId, cursor],
    });
    const page = await keysetPage<{ item: StoredItem | string }>(this.sql, {
      select: `SELECT item FROM response_input_items`,
      where: ['response_id = $1'],
      params: [responseId],
      orderBy: ['position'],
      order: options.order,
      limit: options.limit,
      cursors: [
        { param: 'after', id: options.after, find: find(options.after) },
        { param: 'before', id: options.before, find: find(options.before) },
      ],
    });
    return { data: page.data.map((r) => json(r.item)), hasMore: page.hasMore };
  }

  async chainHistory(owner: string, id: string, maxDepth: number): Promise<ChainHistory | null> {
    const rows: Array<{ depth: number; status: ResponseStatus; prev: string | null; kind: number; item: StoredItem | string | null }> = await this.sql.query(
      CHAIN_HISTORY_SQL,
      [id, owner, maxDepth],
    );
    if (!rows.length) return null;
    const links = rows.filter((r) => Number(r.kind) === 0);
    const head = links.find((r) => Number(r.depth) === 0);
    if (!head) return null;
    const oldest = links[0];
    return {
      headStatus: head.status,
      items: rows.filter((r) => Number(r.kind) !== 0).map((r) => json(r.item as StoredItem | string)),
      truncated: oldest.prev !== null,
    };
  }
}
