import { Readable } from 'node:stream';
import type { DataSource } from 'typeorm';
import { Sql } from '../../database/sql';
import { FileContentStore } from './file-content.store';
import { parts } from './content-parts';

/**
 * File content in Postgres (or the embedded PGlite): `file_contents` rows of at most 1 MiB each,
 * written and read one at a time, so neither an upload nor a download holds a whole file in
 * memory. The rows reference their file's row and go with it (ON DELETE CASCADE).
 */
export class PostgresFileContentStore extends FileContentStore {
  readonly description = 'postgres (file_contents)';
  private readonly sql: Sql;

  constructor(dataSource: DataSource) {
    super();
    this.sql = new Sql(dataSource);
  }

  async write(id: string, source: AsyncIterable<Uint8Array>): Promise<void> {
    let part = 0;
    for await (const data of parts(source)) {
      await this.sql.query(`INSERT INTO file_contents (file_id, part, data) VALUES ($1, $2, $3)`, [id, part++, data]);
    }
  }

  async open(id: string): Promise<Readable | null> {
    const first = await this.part(id, 0);
    if (!first) return null;
    const next = (n: number) => this.part(id, n);
    return Readable.from(
      (async function* () {
        yield first;
        for (let n = 1; ; n++) {
          const data = await next(n);
          if (!data) return;
          yield data;
        }
      })(),
      { objectMode: false },
    );
  }

  async delete(ids: string[]): Promise<void> {
    if (ids.length) await this.sql.query(`WITH gone AS (DELETE FROM file_contents WHERE file_id = ANY($1) RETURNING file_id) SELECT count(*) FROM gone`, [ids]);
  }

  private async part(id: string, part: number): Promise<Buffer | null> {
    const rows: Array<{ data: Uint8Array }> = await this.sql.query(`SELECT data FROM file_contents WHERE file_id = $1 AND part = $2`, [id, part]);
    return rows.length ? Buffer.from(rows[0].data.buffer, rows[0].data.byteOffset, rows[0].data.byteLength) : null;
  }
}
