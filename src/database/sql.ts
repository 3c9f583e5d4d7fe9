import { createHash } from 'node:crypto';
import { Pool } from 'pg';
import type { DataSource } from 'typeorm';

/** A jsonb column as the driver returns it: parsed by pg, text on some paths of PGlite. */
export const json = <T>(value: T | string): T => (typeof value === 'string' ? (JSON.parse(value) as T) : value);
/** A timestamptz column as the driver returns it. */
export const date = (value: Date | string): Date => (value instanceof Date ? value : new Date(value));
export const maybeDate = (value: Date | string | null): Date | null => (value === null ? null : date(value));

/**
 * Runs the stores' SQL. On Postgres a statement is named (prepared): parsed and planned once per
 * connection, about a third less Postgres CPU for these short statements (docs/performance.md).
 * Statements whose text varies with their input (one per id count, say) are sent unnamed, so
 * that they do not pile up on every connection. On PGlite everything goes through TypeORM as it is.
 */
export class Sql {
  private readonly names = new Map<string, string>();
  private pool?: Pool | null;

  constructor(private readonly dataSource: DataSource) {}

  async query<T>(text: string, params: unknown[] = [], options: { prepare?: boolean } = {}): Promise<T[]> {
    if (this.pool === undefined) {
      // Looked up on first use: the driver's pool exists once the DataSource is initialized.
      const master = (this.dataSource.driver as { master?: unknown }).master;
      this.pool = master instanceof Pool ? master : null;
    }
    if (!this.pool) return this.dataSource.query<T[]>(text, params);
    if (options.prepare === false) return (await this.pool.query({ text, values: params })).rows as T[];
    let name = this.names.get(text);
    if (!name) {
      // Named by content, so the same text is one statement whichever method builds it.
      name = `rg_${createHash('sha1').update(text).digest('hex').slice(0, 16)}`;
      this.names.set(text, name);
    }
    return (await this.pool.query({ name, text, values: params })).rows as T[];
  }
}
