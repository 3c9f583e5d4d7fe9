import { invalidRequest } from '../common/openai-error';
import { CursorNotFoundError, type Page } from './page';
import type { Sql } from './sql';

/** A list cursor and the statement that finds its row's sort key (one row, its columns in `orderBy` order; none: not found). */
export interface Cursor {
  param: 'after' | 'before';
  id: string | undefined;
  find: { text: string; params: unknown[] };
}

export interface KeysetQuery {
  /** `SELECT … FROM …`, without WHERE. */
  select: string;
  /** Conditions on `params` (`$1`…), ANDed. */
  where: string[];
  params: unknown[];
  /** The sort key: one column, or several compared as a row (`(created_at, id)`). */
  orderBy: string[];
  /** Casts for the bound key values, by column (e.g. `timestamptz`: PGlite returns text). */
  keyTypes?: Array<string | undefined>;
  order: 'asc' | 'desc';
  limit: number;
  /** `after` continues in the listing's order; `before` goes the other way. */
  cursors: Cursor[];
}

/**
 * One page of a keyset (cursor) paginated list: each cursor is looked up (CursorNotFoundError when
 * it names nothing), then one query reads `limit + 1` rows past it to tell whether more follow.
 */
export async function keysetPage<R>(sql: Sql, q: KeysetQuery): Promise<Page<R>> {
  const params = [...q.params];
  const where = [...q.where];
  for (const cursor of q.cursors) {
    if (!cursor.id) continue;
    const found: Array<Record<string, unknown>> = await sql.query(cursor.find.text, cursor.find.params);
    if (!found.length) throw new CursorNotFoundError(cursor.param, cursor.id);
    const values = Object.values(found[0]);
    const bound = values.map((value, i) => `$${params.push(value)}${q.keyTypes?.[i] ? `::${q.keyTypes[i]}` : ''}`);
    const forward = (cursor.param === 'after') === (q.order === 'asc');
    const [key, value] = q.orderBy.length === 1 ? [q.orderBy[0], bound[0]] : [`(${q.orderBy.join(', ')})`, `(${bound.join(', ')})`];
    where.push(`${key} ${forward ? '>' : '<'} ${value}`);
  }
  params.push(q.limit + 1);
  const direction = q.order === 'desc' ? 'DESC' : 'ASC';
  const rows: R[] = await sql.query(
    `${q.select} WHERE ${where.join(' AND ')} ORDER BY ${q.orderBy.map((c) => `${c} ${direction}`).join(', ')} LIMIT $${params.length}`,
    params,
  );
  return { data: rows.slice(0, q.limit), hasMore: rows.length > q.limit };
}

/** Reads one page of a list: a cursor that names nothing (`after`/`before`) is the client's mistake, a 400 naming it. */
export async function readPage<T>(read: () => Promise<Page<T>>, what = 'item'): Promise<Page<T>> {
  try {
    return await read();
  } catch (error) {
    throw error instanceof CursorNotFoundError ? invalidRequest(`No ${what} with id '${error.cursor}' for '${error.param}'.`, error.param) : error;
  }
}
