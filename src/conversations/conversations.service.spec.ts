import { AppConfig } from '../config/app-config';
import { parseEnvironment } from '../config/environment';
import { OpenAIError } from '../common/openai-error';
import { normalizeInput } from '../common/items/input-items';
import { ConversationsStore, DuplicateItemError, type StoredConversation } from './persistence/conversations.store';
import { asItemsError, ConversationsService } from './conversations.service';

const principal = { owner: 'team-a', name: 'test' };
const conversation: StoredConversation = { id: 'conv_1', owner: 'team-a', metadata: {}, createdAt: new Date(), updatedAt: new Date() };

/** A store whose every method fails the test unless the test gives it a behaviour. */
function fakeStore(overrides: Partial<ConversationsStore>): ConversationsStore {
  const unexpected = (name: string) => () => Promise.reject(new Error(`unexpected call: ${name}`));
  const methods = ['create', 'get', 'updateMetadata', 'delete', 'appendItems', 'listItems', 'getItem', 'deleteItem', 'allItems'] as const;
  return Object.assign(Object.fromEntries(methods.map((m) => [m, unexpected(m)])), overrides) as unknown as ConversationsStore;
}

const service = (store: ConversationsStore, env: Record<string, string> = {}) =>
  new ConversationsService(store, new AppConfig(parseEnvironment({ DATA_DIR: 'memory://', ...env })));

const errorOf = (run: () => unknown): OpenAIError => {
  try {
    run();
  } catch (error) {
    return asItemsError(error) as OpenAIError;
  }
  throw new Error('nothing thrown');
};

describe('asItemsError', () => {
  it("speaks of 'items' where normalizeInput speaks of 'input', in the param and the message", () => {
    const error = errorOf(() => normalizeInput([{ role: 'user', content: [{ type: 'input_text', text: 'a' }, { type: 'bogus' }] }]));
    expect(error).toBeInstanceOf(OpenAIError);
    expect(error.param).toBe('items[0].content[1].type');
    expect(error.message).toBe("Invalid value for 'items[0].content[1].type': unknown content part type 'bogus'.");
    expect(error.getStatus()).toBe(400);
  });

  it('rewrites the size bounds, and leaves part types such as input_audio alone', () => {
    const chars = errorOf(() => normalizeInput([{ role: 'user', content: 'x'.repeat(20) }], { maxItems: 20, maxChars: 10 }));
    expect(chars).toMatchObject({ param: 'items', code: 'string_above_max_length', message: "'items' holds 20 characters; at most 10 are allowed." });
    const audio = errorOf(() => normalizeInput([{ role: 'user', content: [{ type: 'input_audio' }] }]));
    expect(audio).toMatchObject({ param: 'items[0].content[0].type', code: 'unsupported_parameter' });
    expect(audio.message).toContain("'input_audio'");
  });

  it('passes anything else through', () => {
    const other = new Error('boom');
    expect(asItemsError(other)).toBe(other);
  });
});

describe('ConversationsService', () => {
  it('answers a conversation deleted between the lookup and the append with a 404', async () => {
    const store = fakeStore({ get: () => Promise.resolve(conversation), appendItems: () => Promise.resolve(false) });
    await expect(service(store).createItems(principal, 'conv_1', { items: [{ role: 'user', content: 'hi' }] })).rejects.toMatchObject({
      status: 404,
      message: "Conversation with id 'conv_1' not found.",
    });
  });

  it('turns a duplicate item id into a 400 naming the items', async () => {
    const store = fakeStore({ create: () => Promise.reject(new DuplicateItemError('msg_1')) });
    await expect(service(store).create(principal, { items: [{ id: 'msg_1', role: 'user', content: 'hi' }] })).rejects.toMatchObject({
      status: 400,
      param: 'items',
      code: 'duplicate_item',
      message: "Duplicate item found with id 'msg_1'. Remove duplicate items from your input and try again.",
    });
  });

  it('asks the store for one item more than MAX_INPUT_ITEMS, to refuse rather than truncate the context', async () => {
    const limits: number[] = [];
    const items = (n: number) => Array.from({ length: n }, (_, i) => ({ id: `msg_${i}` }));
    let held = 5;
    const store = fakeStore({
      get: () => Promise.resolve(conversation),
      allItems: (_id, limit) => {
        limits.push(limit);
        return Promise.resolve(items(Math.min(held, limit)));
      },
    });
    const conversations = service(store, { MAX_INPUT_ITEMS: '5' });
    expect(await conversations.contextItems('team-a', 'conv_1')).toHaveLength(5);
    held = 6;
    await expect(conversations.contextItems('team-a', 'conv_1')).rejects.toMatchObject({ status: 400, code: 'conversation_too_long' });
    expect(limits).toEqual([6, 6]);
  });
});
