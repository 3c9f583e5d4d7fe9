import { listObject, type ListObject } from '../common/list-object';
import { readPage } from '../database/pagination';
import { HttpStatus, Injectable } from '@nestjs/common';
import type { Conversation, ConversationDeletedResource } from 'openai/resources/conversations/conversations';
import { newId, unixSeconds } from '../common/ids';
import { invalidRequest, OpenAIError, unsupportedParameter } from '../common/openai-error';
import type { Principal } from '../common/principal';
import type { StoredItem } from '../common/response-types';
import { AppConfig } from '../config/app-config';
import { normalizeInput } from '../common/items/input-items';
import { ConversationsStore, DuplicateItemError, type StoredConversation } from './persistence/conversations.store';
import type { CreateConversationDto, UpdateConversationDto } from './dto/create-conversation.dto';
import { MAX_ITEMS_PER_REQUEST } from './dto/create-conversation.dto';
import type { CreateConversationItemsDto, ListConversationItemsQueryDto } from './dto/conversation-items.dto';

/** The Conversation object, with the metadata as this server stores it. */
export type ConversationObject = Conversation & { metadata: Record<string, string> };

export type ItemList = ListObject<StoredItem>;

export const conversationNotFound = (id: string, param: string | null = null) =>
  new OpenAIError(HttpStatus.NOT_FOUND, `Conversation with id '${id}' not found.`, 'invalid_request_error', param);

export const itemNotFound = (id: string) => new OpenAIError(HttpStatus.NOT_FOUND, `Item with id '${id}' not found.`, 'invalid_request_error');

function toConversation(c: StoredConversation): ConversationObject {
  return { id: c.id, object: 'conversation', created_at: unixSeconds(c.createdAt), metadata: c.metadata };
}

const list = (data: StoredItem[], hasMore: boolean): ItemList => listObject(data, hasMore);

/**
 * `normalizeInput` names what it checks `input…`; here the same items arrive as `items`. The error
 * is the same one, about `items[2].content[0].type` instead of `input[2].content[0].type`.
 */
export function asItemsError(error: unknown): unknown {
  if (!(error instanceof OpenAIError)) return error;
  const message = error.message.replace(`'input' (with 'instructions')`, `'items'`).replace(/'input(?=[[.'])/g, `'items`);
  const param = error.param === null ? null : error.param.replace(/^input(?=$|[[.])/, 'items');
  return new OpenAIError(error.getStatus(), message, error.type, param, error.code, error.headers);
}

const duplicate = (error: DuplicateItemError, param: string) =>
  invalidRequest(
    error.itemId
      ? `Duplicate item found with id '${error.itemId}'. Remove duplicate items from your input and try again.`
      : 'Duplicate item ids: an item id may appear only once in a conversation.',
    param,
    'duplicate_item',
  );

/**
 * The Conversations use cases: create, retrieve, update and delete conversations; add, list,
 * retrieve and delete their items. For the responses feature: `contextItems` (what a response on
 * a conversation prepends to its input) and `append` (what it adds when it is done).
 */
@Injectable()
export class ConversationsService {
  constructor(
    private readonly store: ConversationsStore,
    private readonly config: AppConfig,
  ) {}

  async create(principal: Principal, dto: CreateConversationDto): Promise<ConversationObject> {
    const items = this.normalize(dto.items ?? []);
    const conversation = { id: newId('conv'), owner: principal.owner, metadata: dto.metadata ?? {}, createdAt: new Date() };
    try {
      await this.store.create({ ...conversation, items });
    } catch (error) {
      throw error instanceof DuplicateItemError ? duplicate(error, 'items') : error;
    }
    return toConversation({ ...conversation, updatedAt: conversation.createdAt });
  }

  async retrieve(principal: Principal, id: string): Promise<ConversationObject> {
    return toConversation(await this.find(principal.owner, id));
  }

  async update(principal: Principal, id: string, dto: UpdateConversationDto): Promise<ConversationObject> {
    const updated = await this.store.updateMetadata(principal.owner, id, dto.metadata ?? {});
    if (!updated) throw conversationNotFound(id);
    return toConversation(updated);
  }

  async delete(principal: Principal, id: string): Promise<ConversationDeletedResource & { deleted: true }> {
    if (!(await this.store.delete(principal.owner, id))) throw conversationNotFound(id);
    return { id, object: 'conversation.deleted', deleted: true };
  }

  async createItems(principal: Principal, id: string, dto: CreateConversationItemsDto): Promise<ItemList> {
    const items = this.normalize(dto.items);
    await this.find(principal.owner, id);
    let appended: boolean;
    try {
      appended = await this.store.appendItems(id, items);
    } catch (error) {
      throw error instanceof DuplicateItemError ? duplicate(error, 'items') : error;
    }
    if (!appended) throw conversationNotFound(id); // deleted in between
    return list(items, false);
  }

  async listItems(principal: Principal, id: string, query: ListConversationItemsQueryDto): Promise<ItemList> {
    await this.find(principal.owner, id);
    const page = await readPage(() => this.store.listItems(id, { after: query.after, limit: query.limit ?? 20, order: query.order ?? 'desc' }));
    return list(page.data, page.hasMore);
  }

  async retrieveItem(principal: Principal, id: string, itemId: string): Promise<StoredItem> {
    await this.find(principal.owner, id);
    const item = await this.store.getItem(id, itemId);
    if (!item) throw itemNotFound(itemId);
    return item;
  }

  /** Deletes one item; answers with the conversation, as OpenAI does. */
  async deleteItem(principal: Principal, id: string, itemId: string): Promise<ConversationObject> {
    const conversation = await this.find(principal.owner, id);
    if (!(await this.store.deleteItem(id, itemId))) throw itemNotFound(itemId);
    return toConversation(conversation);
  }

  /**
   * The items a response on this conversation prepends to its input, oldest first.
   * @throws 404 (param `conversation`) when the owner has no such conversation; 400 when it holds
   * more items than one request may carry (`MAX_INPUT_ITEMS`): never silently truncated.
   */
  async contextItems(owner: string, conversationId: string): Promise<StoredItem[]> {
    if (!(await this.store.get(owner, conversationId))) throw conversationNotFound(conversationId, 'conversation');
    const max = this.config.maxInputItems;
    const items = await this.store.allItems(conversationId, max + 1);
    if (items.length > max) {
      throw invalidRequest(
        `Conversation '${conversationId}' holds more than ${max} items, more than one request may carry; delete some of its items or start a new conversation.`,
        'conversation',
        'conversation_too_long',
      );
    }
    return items;
  }

  /**
   * Appends a finished response's items (its input, then its output) in one statement. False when
   * the conversation was deleted meanwhile.
   * @throws 400 `duplicate_item` (param `input`) when an item id is already in the conversation;
   * nothing is appended then.
   */
  async append(conversationId: string, items: StoredItem[]): Promise<boolean> {
    try {
      return await this.store.appendItems(conversationId, items);
    } catch (error) {
      throw error instanceof DuplicateItemError ? duplicate(error, 'input') : error;
    }
  }

  private normalize(items: unknown[]): StoredItem[] {
    let normalized: StoredItem[];
    try {
      normalized = normalizeInput(items, {
        maxItems: MAX_ITEMS_PER_REQUEST,
        maxChars: this.config.maxInputChars,
        allowHttpImages: this.config.inputImageAllowHttp,
      });
    } catch (error) {
      throw asItemsError(error);
    }
    // Sealed reasoning is opened on /v1/responses only: stored here still sealed, it would replay as no reasoning.
    const sealed = normalized.findIndex((item) => item.type === 'reasoning' && (item as { encrypted_content?: unknown }).encrypted_content != null);
    if (sealed >= 0) {
      throw unsupportedParameter(
        `items[${sealed}].encrypted_content`,
        `Reasoning items with encrypted_content cannot be added to a conversation: send them as input to /v1/responses (with 'conversation'), which opens them.`,
      );
    }
    // Compaction items are opened (and refused when they do not open) on /v1/responses only; a trigger is no item.
    const compaction = normalized.findIndex((item) => item.type === 'compaction' || (item as { type?: string }).type === 'compaction_trigger');
    if (compaction >= 0) {
      throw unsupportedParameter(
        `items[${compaction}].type`,
        `Items of type '${normalized[compaction].type}' cannot be added to a conversation directly: send them as input to /v1/responses (with 'conversation'), which checks and keeps them.`,
      );
    }
    return normalized;
  }

  private async find(owner: string, id: string): Promise<StoredConversation> {
    const found = await this.store.get(owner, id);
    if (!found) throw conversationNotFound(id);
    return found;
  }
}
