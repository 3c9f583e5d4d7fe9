import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import type { Page } from '../../database/page';
import { keysetPage } from '../../database/pagination';
import { date, maybeDate, Sql } from '../../database/sql';
import { FileListOptions, FilePurpose, FilesStore, FinishedUpload, NewUpload, StoredFile } from './files.store';

/** A ready `files` row as the driver returns it (snake_case, raw types; bigint as text). */
interface FileRow {
  id: string;
  owner: string;
  filename: string;
  purpose: FilePurpose;
  content_type: string;
  bytes: string | number;
  created_at: Date | string;
  expires_at: Date | string | null;
}

const COLUMNS = 'id, owner, filename, purpose, content_type, bytes, created_at, expires_at';
/** What the API may show: finished and not expired (an expired file waits for the sweep, unseen). */
const VISIBLE = `state = 'ready' AND (expires_at IS NULL OR expires_at > now())`;

function toStored(row: FileRow): StoredFile {
  return {
    id: row.id,
    owner: row.owner,
    filename: row.filename,
    purpose: row.purpose,
    contentType: row.content_type,
    bytes: Number(row.bytes),
    createdAt: date(row.created_at),
    expiresAt: maybeDate(row.expires_at),
  };
}

/** The files' metadata on TypeORM (Postgres or embedded PGlite), one statement per write. */
@Injectable()
export class TypeOrmFilesStore extends FilesStore {
  private readonly sql: Sql;

  constructor(@InjectDataSource() dataSource: DataSource) {
    super();
    this.sql = new Sql(dataSource);
  }

  async begin(u: NewUpload): Promise<void> {
    await this.sql.query(`INSERT INTO files (id, owner, state, filename, content_type, created_at) VALUES ($1, $2, 'uploading', $3, $4, $5)`, [
      u.id,
      u.owner,
      u.filename,
      u.contentType,
      u.createdAt,
    ]);
  }

  async finish(id: string, f: FinishedUpload): Promise<StoredFile | null> {
    // The usage row is locked by the upsert, so concurrent finishes of one tenant take turns and
    // each sees the bytes the previous one added; the file turns ready only if the usage moved.
    const rows: FileRow[] = await this.sql.query(
      `WITH begun AS (
         SELECT owner FROM files WHERE id = $1 AND state = 'uploading'
       ), counted AS (
         INSERT INTO file_usage (owner, bytes)
         SELECT owner, $2::bigint FROM begun WHERE $5::bigint = 0 OR $2::bigint <= $5::bigint
         ON CONFLICT (owner) DO UPDATE SET bytes = file_usage.bytes + EXCLUDED.bytes
           WHERE $5::bigint = 0 OR file_usage.bytes + EXCLUDED.bytes <= $5::bigint
         RETURNING owner
       ), ready AS (
         UPDATE files SET state = 'ready', purpose = $3, bytes = $2::bigint, expires_at = $4::timestamptz
         WHERE id = $1 AND state = 'uploading' AND EXISTS (SELECT 1 FROM counted)
         RETURNING ${COLUMNS}
       ) SELECT ${COLUMNS} FROM ready`,
      [id, f.bytes, f.purpose, f.expiresAt, f.maxTenantBytes],
    );
    return rows.length ? toStored(rows[0]) : null;
  }

  async discard(id: string): Promise<void> {
    await this.sql.query(`WITH gone AS (DELETE FROM files WHERE id = $1 AND state = 'uploading' RETURNING id) SELECT id FROM gone`, [id]);
  }

  async get(owner: string, id: string): Promise<StoredFile | null> {
    const rows: FileRow[] = await this.sql.query(`SELECT ${COLUMNS} FROM files WHERE id = $1 AND owner = $2 AND ${VISIBLE}`, [id, owner]);
    return rows.length ? toStored(rows[0]) : null;
  }

  async list(owner: string, options: FileListOptions): Promise<Page<StoredFile>> {
    const where = ['owner = $1', VISIBLE];
    const params: unknown[] = [owner];
    if (options.purpose !== undefined) where.push(`purpose = $${params.push(options.purpose)}`);
    const page = await keysetPage<FileRow>(this.sql, {
      select: `SELECT ${COLUMNS} FROM files`,
      where,
      params,
      orderBy: ['seq'],
      order: options.order,
      limit: options.limit,
      cursors: [
        {
          param: 'after',
          id: options.after,
          find: { text: `SELECT seq FROM files WHERE id = $1 AND owner = $2 AND state = 'ready'`, params: [options.after, owner] },
        },
      ],
    });
    return { data: page.data.map(toStored), hasMore: page.hasMore };
  }

  async delete(owner: string, id: string): Promise<boolean> {
    const rows: unknown[] = await this.sql.query(
      `WITH deleted AS (
         DELETE FROM files WHERE id = $1 AND owner = $2 AND ${VISIBLE} RETURNING owner, bytes
       ), given_back AS (
         UPDATE file_usage SET bytes = file_usage.bytes - deleted.bytes FROM deleted WHERE file_usage.owner = deleted.owner
       ) SELECT owner FROM deleted`,
      [id, owner],
    );
    return rows.length > 0;
  }

  async usage(owner: string): Promise<number> {
    const rows: Array<{ bytes: string | number }> = await this.sql.query(`SELECT bytes FROM file_usage WHERE owner = $1`, [owner]);
    return rows.length ? Number(rows[0].bytes) : 0;
  }

  async sweep(staleBefore: Date, limit: number): Promise<string[]> {
    // SKIP LOCKED: sweepers on several processes (and a user's delete) never take the same row twice.
    const rows: Array<{ id: string }> = await this.sql.query(
      `WITH doomed AS (
         SELECT id FROM files
         WHERE (expires_at IS NOT NULL AND expires_at <= now() AND state = 'ready') OR (state = 'uploading' AND created_at < $1)
         LIMIT $2 FOR UPDATE SKIP LOCKED
       ), deleted AS (
         DELETE FROM files USING doomed WHERE files.id = doomed.id RETURNING files.id, files.owner, files.state, files.bytes
       ), per_owner AS (
         SELECT owner, sum(bytes) AS bytes FROM deleted WHERE state = 'ready' GROUP BY owner
       ), given_back AS (
         UPDATE file_usage SET bytes = file_usage.bytes - per_owner.bytes FROM per_owner WHERE file_usage.owner = per_owner.owner
       ) SELECT id FROM deleted`,
      [staleBefore, limit],
    );
    return rows.map((r) => r.id);
  }
}
