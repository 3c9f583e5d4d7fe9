import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { CursorNotFoundError, type Page } from '../../common/page';
import type { StoredItem } from '../../common/response-types';
import {
  ConversationItemListOptions,
  ConversationsStore,
  DuplicateItemError,
  NewConversation,
  StoredConversation,
} from './conversations.store';
import { date, json } from '../../database/sql';

/** A `conversations` row as the driver returns it (snake_case, raw types). */
interface ConversationRow {
  id: string;
  owner: string;
  metadata: Record<string, string> | string;
  created_at: Date | string;
  updated_at: Date | string;
}

const COLUMNS = 'id, owner, metadata, created_at, updated_at';


function toStored(row: ConversationRow): StoredConversation {
  return { id: row.id, owner: row.owner, metadata: json(row.metadata), createdAt: date(row.created_at), updatedAt: date(row.updated_at) };
}

/** The Postgres error code and detail, wherever the driver (pg or PGlite, through TypeORM) put them. */
function pgError(error: unknown): { code?: string; detail?: string; constraint?: string } {
  if (typeof error !== 'object' || error === null) return {};
  const outer = error as { code?: unknown; detail?: unknown; constraint?: unknown; driverError?: unknown };
  const inner = (typeof outer.driverError === 'object' && outer.driverError !== null ? outer.driverError : {}) as typeof outer;
  const pick = (key: 'code' | 'detail' | 'constraint') => {
    const value = inner[key] ?? outer[key];
    return typeof value === 'string' ? value : undefined;
  };
  return { code: pick('code'), detail: pick('detail'), constraint: pick('constraint') };
}

const UNIQUE_VIOLATION = '23505';
const FOREIGN_KEY_VIOLATION = '23503';
const ITEM_ID_INDEX = 'conversation_items_item_id';

/** A duplicate item id becomes a DuplicateItemError naming it (from `Key (…, item_id)=(…, X) already exists.`). */
function duplicateItem(error: unknown): DuplicateItemError | null {
  const { code, detail, constraint } = pgError(error);
  if (code !== UNIQUE_VIOLATION || (constraint !== undefined && constraint !== ITEM_ID_INDEX)) return null;
  const match = detail ? /=\((?:[^,]*), (.*)\) already exists/.exec(detail) : null;
  return new DuplicateItemError(match ? match[1] : null);
}

/**
 * The conversations store on TypeORM (Postgres or embedded PGlite). Every write is one SQL
 * statement (data-modifying CTEs), never a multi-statement transaction: PGlite has a single
 * connection that concurrent transactions would share.
 */
@Injectable()
export class TypeOrmConversationsStore extends ConversationsStore {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {
    super();
  }

  async create(c: NewConversation): Promise<void> {
    try {
      await this.dataSource.query(
        `WITH inserted AS (
           INSERT INTO conversations (id, owner, metadata, created_at, updated_at)
           VALUES ($1, $2, $3::jsonb, $4, $4)
           RETURNING id
         )
         INSERT INTO conversation_items (conversation_id, item_id, item, created_at)
         SELECT inserted.id, x.item ->> 'id', x.item, $4
         FROM inserted, jsonb_array_elements($5::jsonb) WITH ORDINALITY AS x(item, ord)
         ORDER BY x.ord`,
        [c.id, c.owner, JSON.stringify(c.metadata), c.createdAt, JSON.stringify(c.items)],
      );
    } catch (error) {
      throw duplicateItem(error) ?? error;
    }
  }

  async get(owner: string, id: string): Promise<StoredConversation | null> {
    const rows: ConversationRow[] = await this.dataSource.query(`SELECT ${COLUMNS} FROM conversations WHERE id = $1 AND owner = $2`, [id, owner]);
    return rows.length ? toStored(rows[0]) : null;
  }

  async updateMetadata(owner: string, id: string, metadata: Record<string, string>): Promise<StoredConversation | null> {
    // Wrapped in a SELECT: TypeORM shapes a bare UPDATE/DELETE … RETURNING differently on pg and PGlite.
    const rows: ConversationRow[] = await this.dataSource.query(
      `WITH updated AS (
         UPDATE conversations SET metadata = $3::jsonb, updated_at = now()
         WHERE id = $1 AND owner = $2
         RETURNING ${COLUMNS}
       ) SELECT ${COLUMNS} FROM updated`,
      [id, owner, JSON.stringify(metadata)],
    );
    return rows.length ? toStored(rows[0]) : null;
  }

  async delete(owner: string, id: string): Promise<boolean> {
    const rows: unknown[] = await this.dataSource.query(
      `WITH deleted AS (DELETE FROM conversations WHERE id = $1 AND owner = $2 RETURNING id) SELECT id FROM deleted`,
      [id, owner],
    );
    return rows.length > 0;
  }

  async appendItems(conversationId: string, items: StoredItem[]): Promise<boolean> {
    // The UPDATE locks the conversation's row before any item is numbered, so concurrent appends to
    // one conversation queue up (each batch stays contiguous) and an append after a delete adds nothing.
    try {
      const rows: Array<{ found: boolean }> = await this.dataSource.query(
        `WITH touched AS (
           UPDATE conversations SET updated_at = now() WHERE id = $1 RETURNING id
         ), appended AS (
           INSERT INTO conversation_items (conversation_id, item_id, item)
           SELECT touched.id, x.item ->> 'id', x.item
           FROM touched, jsonb_array_elements($2::jsonb) WITH ORDINALITY AS x(item, ord)
           ORDER BY x.ord
         )
         SELECT EXISTS (SELECT 1 FROM touched) AS found`,
        [conversationId, JSON.stringify(items)],
      );
      return rows[0].found;
    } catch (error) {
      if (pgError(error).code === FOREIGN_KEY_VIOLATION) return false; // deleted meanwhile
      throw duplicateItem(error) ?? error;
    }
  }

  async listItems(conversationId: string, options: ConversationItemListOptions): Promise<Page<StoredItem>> {
    const params: unknown[] = [conversationId];
    const where = ['conversation_id = $1'];
    if (options.after) {
      const found: Array<{ seq: string }> = await this.dataSource.query(
        `SELECT seq FROM conversation_items WHERE conversation_id = $1 AND item_id = $2`,
        [conversationId, options.after],
      );
      if (!found.length) throw new CursorNotFoundError('after', options.after);
      params.push(found[0].seq);
      where.push(`seq ${options.order === 'desc' ? '<' : '>'} $${params.length}`);
    }
    params.push(options.limit + 1);
    const rows: Array<{ item: StoredItem | string }> = await this.dataSource.query(
      `SELECT item FROM conversation_items WHERE ${where.join(' AND ')}
       ORDER BY seq ${options.order === 'desc' ? 'DESC' : 'ASC'} LIMIT $${params.length}`,
      params,
    );
    return { data: rows.slice(0, options.limit).map((r) => json(r.item)), hasMore: rows.length > options.limit };
  }

  async getItem(conversationId: string, itemId: string): Promise<StoredItem | null> {
    const rows: Array<{ item: StoredItem | string }> = await this.dataSource.query(
      `SELECT item FROM conversation_items WHERE conversation_id = $1 AND item_id = $2`,
      [conversationId, itemId],
    );
    return rows.length ? json(rows[0].item) : null;
  }

  async deleteItem(conversationId: string, itemId: string): Promise<boolean> {
    const rows: unknown[] = await this.dataSource.query(
      `WITH deleted AS (
         DELETE FROM conversation_items WHERE conversation_id = $1 AND item_id = $2 RETURNING conversation_id
       ), touched AS (
         UPDATE conversations SET updated_at = now() WHERE id = $1 AND EXISTS (SELECT 1 FROM deleted) RETURNING id
       ) SELECT conversation_id FROM deleted`,
      [conversationId, itemId],
    );
    return rows.length > 0;
  }

  async allItems(conversationId: string, limit: number): Promise<StoredItem[]> {
    const rows: Array<{ item: StoredItem | string }> = await this.dataSource.query(
      `SELECT item FROM (
         SELECT seq, item FROM conversation_items WHERE conversation_id = $1 ORDER BY seq DESC LIMIT $2
       ) newest ORDER BY seq`,
      [conversationId, limit],
    );
    return rows.map((r) => json(r.item));
  }
}
