import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import type { Page } from '../../database/page';
import type { StoredItem } from '../../common/response-types';
import { ConversationItemListOptions, ConversationsStore, DuplicateItemError, NewConversation, StoredConversation } from './conversations.store';
import { databaseError, PgErrorCode } from '../../database/database-errors';
import { keysetPage } from '../../database/pagination';
import { date, json, Sql } from '../../database/sql';

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

const ITEM_ID_INDEX = 'conversation_items_item_id';

/** A duplicate item id becomes a DuplicateItemError naming it (from `Key (…, item_id)=(…, X) already exists.`). */
function duplicateItem(error: unknown): DuplicateItemError | null {
  const { code, detail, constraint } = databaseError(error);
  if (code !== PgErrorCode.uniqueViolation || (constraint !== undefined && constraint !== ITEM_ID_INDEX)) return null;
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
  private readonly sql: Sql;

  constructor(@InjectDataSource() dataSource: DataSource) {
    super();
    this.sql = new Sql(dataSource);
  }

  async create(c: NewConversation): Promise<void> {
    try {
      await this.sql.query(
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
    const rows: ConversationRow[] = await this.sql.query(`SELECT ${COLUMNS} FROM conversations WHERE id = $1 AND owner = $2`, [id, owner]);
    return rows.length ? toStored(rows[0]) : null;
  }

  async updateMetadata(owner: string, id: string, metadata: Record<string, string>): Promise<StoredConversation | null> {
    // Wrapped in a SELECT: TypeORM shapes a bare UPDATE/DELETE … RETURNING differently on pg and PGlite.
    const rows: ConversationRow[] = await this.sql.query(
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
    const rows: unknown[] = await this.sql.query(
      `WITH deleted AS (DELETE FROM conversations WHERE id = $1 AND owner = $2 RETURNING id) SELECT id FROM deleted`,
      [id, owner],
    );
    return rows.length > 0;
  }

  async appendItems(conversationId: string, items: StoredItem[]): Promise<boolean> {
    // The UPDATE locks the conversation's row before any item is numbered, so concurrent appends to
    // one conversation queue up (each batch stays contiguous) and an append after a delete adds nothing.
    try {
      const rows: Array<{ found: boolean }> = await this.sql.query(
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
      if (databaseError(error).code === PgErrorCode.foreignKeyViolation) return false; // deleted meanwhile
      throw duplicateItem(error) ?? error;
    }
  }

  async listItems(conversationId: string, options: ConversationItemListOptions): Promise<Page<StoredItem>> {
    const page = await keysetPage<{ item: StoredItem | string }>(this.sql, {
      select: `SELECT item FROM conversation_items`,
      where: ['conversation_id = $1'],
      params: [conversationId],
      orderBy: ['seq'],
      order: options.order,
      limit: options.limit,
      cursors: [
        {
          param: 'after',
          id: options.after,
          find: { text: `SELECT seq FROM conversation_items WHERE conversation_id = $1 AND item_id = $2`, params: [conversationId, options.after] },
        },
      ],
    });
    return { data: page.data.map((r) => json(r.item)), hasMore: page.hasMore };
  }

  async getItem(conversationId: string, itemId: string): Promise<StoredItem | null> {
    const rows: Array<{ item: StoredItem | string }> = await this.sql.query(`SELECT item FROM conversation_items WHERE conversation_id = $1 AND item_id = $2`, [
      conversationId,
      itemId,
    ]);
    return rows.length ? json(rows[0].item) : null;
  }

  async deleteItem(conversationId: string, itemId: string): Promise<boolean> {
    const rows: unknown[] = await this.sql.query(
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
    const rows: Array<{ item: StoredItem | string }> = await this.sql.query(
      `SELECT item FROM (
         SELECT seq, item FROM conversation_items WHERE conversation_id = $1 ORDER BY seq DESC LIMIT $2
       ) newest ORDER BY seq`,
      [conversationId, limit],
    );
    return rows.map((r) => json(r.item));
  }
}
