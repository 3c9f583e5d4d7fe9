import { createHash } from 'node:crypto';
import { Client } from 'pg';
import type { DataSource } from 'typeorm';
import type { PostgresDriver } from 'typeorm/driver/postgres/PostgresDriver';

/** A jsonb column as the driver returns it: parsed by pg, text on some paths of PGlite. */
export const json = <T>(value: T | string): T => (typeof value === 'string' ? (JSON.parse(value) as T) : value);
/** A timestamptz column as the driver returns it. */
export const date = (value: Date | string): Date => (value instanceof Date ? value : new Date(value));
export const maybeDate = (value: Date | string | null): Date | null => (value === null ? null : date(value));

/**
 * Runs the persistence adapters' SQL: the one way they reach the database. On Postgres a statement
 * is named (prepared): parsed and planned once per connection, about a third less Postgres CPU for
 * these short statements (docs/performance.md). Statements whose text varies with their input (one
 * per id count, say) are sent unnamed (`prepare: false`), so that they do not pile up on every
 * connection. On PGlite (no named statements) everything goes through TypeORM's `query` as it is.
 *
 * The connection comes from `PostgresDriver.obtainMasterConnection()`, the driver's public way to
 * borrow a pooled client (its QueryRunner uses it): one pool, no extra round trip, and no more
 * client-side CPU than `pool.query` (a QueryRunner per query cost 2-3 µs more; docs/performance.md).
 */
export class Sql {
  private readonly names = new Map<string, string>();
  /** Whether the driver's connections are pg clients (Postgres): found on first use. */
  private named?: boolean;

  constructor(private readonly dataSource: DataSource) {}

  async query<T>(text: string, params: unknown[] = [], options: { prepare?: boolean } = {}): Promise<T[]> {
    if (this.named === false) return this.dataSource.query<T[]>(text, params);
    const [connection, release] = (await (this.dataSource.driver as PostgresDriver).obtainMasterConnection()) as [unknown, (error?: unknown) => void];
    // A pg client (Postgres) takes a query config with a name; PGlite's connection does not.
    this.named = connection instanceof Client;
    if (!(connection instanceof Client)) {
      release();
      return this.dataSource.query<T[]>(text, params);
    }
    // While the client is out of the pool nobody else listens to it: a connection lost mid-query
    // (Postgres restarting) would be an unhandled 'error' event, which ends the process.
    let failure: unknown;
    const onError = (error: unknown) => (failure ??= error);
    connection.once('error', onError);
    try {
      const name = options.prepare === false ? undefined : this.nameOf(text);
      return (await connection.query({ name, text, values: params })).rows as T[];
    } catch (error) {
      failure ??= error;
      throw error;
    } finally {
      connection.removeListener('error', onError);
      // With the error the pool drops the client (as `pool.query` does), never reusing a broken one.
      release(failure);
    }
  }

  /** Named by content, so the same text is one statement whichever method builds it. */
  private nameOf(text: string): string {
    let name = this.names.get(text);
    if (!name) {
      name = `rg_${createHash('sha1').update(text).digest('hex').slice(0, 16)}`;
      this.names.set(text, name);
    }
    return name;
  }
}
