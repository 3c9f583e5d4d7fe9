import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { date, maybeDate, Sql } from '../../database/sql';
import { ApiKeyRecord, ApiKeysStore } from './api-keys.store';

/** An `api_keys` row as the driver returns it (snake_case, raw types). */
interface ApiKeyRow {
  id: string;
  owner: string;
  name: string;
  prefix: string;
  created_at: Date | string;
  revoked_at: Date | string | null;
}

const COLUMNS = 'id, owner, name, prefix, created_at, revoked_at';

const toRecord = (r: ApiKeyRow): ApiKeyRecord => ({
  id: r.id,
  owner: r.owner,
  name: r.name,
  prefix: r.prefix,
  createdAt: date(r.created_at),
  revokedAt: maybeDate(r.revoked_at),
});

/** API keys on SQL, like every other store (see database/sql.ts). */
@Injectable()
export class TypeOrmApiKeysStore extends ApiKeysStore {
  private readonly sql: Sql;

  constructor(@InjectDataSource() dataSource: DataSource) {
    super();
    this.sql = new Sql(dataSource);
  }

  async create(key: ApiKeyRecord & { digest: string }): Promise<void> {
    await this.sql.query(`INSERT INTO api_keys (id, owner, name, digest, prefix, created_at, revoked_at) VALUES ($1, $2, $3, $4, $5, $6, $7)`, [
      key.id,
      key.owner,
      key.name,
      key.digest,
      key.prefix,
      key.createdAt,
      key.revokedAt ?? null,
    ]);
  }

  async findActiveByDigest(digest: string): Promise<ApiKeyRecord | null> {
    const rows: ApiKeyRow[] = await this.sql.query(`SELECT ${COLUMNS} FROM api_keys WHERE digest = $1 AND revoked_at IS NULL`, [digest]);
    return rows.length ? toRecord(rows[0]) : null;
  }

  async list(owner?: string): Promise<ApiKeyRecord[]> {
    const rows: ApiKeyRow[] = owner
      ? await this.sql.query(`SELECT ${COLUMNS} FROM api_keys WHERE owner = $1 ORDER BY created_at`, [owner])
      : await this.sql.query(`SELECT ${COLUMNS} FROM api_keys ORDER BY created_at`);
    return rows.map(toRecord);
  }

  async revoke(id: string): Promise<boolean> {
    const rows: unknown[] = await this.sql.query(
      `WITH revoked AS (UPDATE api_keys SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL RETURNING id) SELECT id FROM revoked`,
      [id],
    );
    return rows.length > 0;
  }
}
