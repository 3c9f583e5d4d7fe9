import type { Page } from '../../database/page';
import type { StoredItem } from '../../common/response-types';

export interface StoredConversation {
  id: string;
  owner: string;
  metadata: Record<string, string>;
  createdAt: Date;
  updatedAt: Date;
}

/** What `create` inserts: a conversation with its first items, in order. */
export interface NewConversation {
  id: string;
  owner: string;
  metadata: Record<string, string>;
  createdAt: Date;
  items: StoredItem[];
}

export interface ConversationItemListOptions {
  /** An item id: list the items after it in this order. */
  after?: string;
  limit: number;
  order: 'asc' | 'desc';
}

/** An item id that the conversation already holds (or that a batch holds twice). Nothing was written. */
export class DuplicateItemError extends Error {
  constructor(readonly itemId: string | null) {
    super(itemId ? `Duplicate item found with id '${itemId}'.` : 'Duplicate item ids in the conversation.');
  }
}

/**
 * The conversations store (port). Conversations are looked up by owner (another owner's id is the
 * same as a missing one); item methods take a conversation id the caller has already resolved
 * for its owner. Every write is one statement: atomic on Postgres and on the single-connection
 * PGlite alike. Items keep one total order (oldest first), whatever appends run at once.
 */
export abstract class ConversationsStore {
  /** Inserts the conversation and its items atomically. @throws DuplicateItemError */
  abstract create(conversation: NewConversation): Promise<void>;

  abstract get(owner: string, id: string): Promise<StoredConversation | null>;

  /** Replaces the metadata; null when there is no such conversation. */
  abstract updateMetadata(owner: string, id: string, metadata: Record<string, string>): Promise<StoredConversation | null>;

  /** Deletes the conversation and its items; false when there was none. */
  abstract delete(owner: string, id: string): Promise<boolean>;

  /**
   * Appends `items` at the end of the conversation, in order, in one statement (for a finished
   * response: its input, then its output). False when the conversation no longer exists.
   * @throws DuplicateItemError when an item id is already in the conversation (nothing appended)
   */
  abstract appendItems(conversationId: string, items: StoredItem[]): Promise<boolean>;

  /** @throws CursorNotFoundError for an `after` that is not an item of this conversation. */
  abstract listItems(conversationId: string, options: ConversationItemListOptions): Promise<Page<StoredItem>>;

  abstract getItem(conversationId: string, itemId: string): Promise<StoredItem | null>;

  /** False when the conversation has no such item. */
  abstract deleteItem(conversationId: string, itemId: string): Promise<boolean>;

  /**
   * The conversation's items, oldest first: the context a response prepends to its input. When
   * it holds more than `limit`, only the newest `limit` (still oldest first); ask for one more
   * than you accept to tell.
   */
  abstract allItems(conversationId: string, limit: number): Promise<StoredItem[]>;
}
