import OpenAI from 'openai';
import type { ConversationItem } from 'openai/resources/conversations/items';
import type { ResponseInputItem } from 'openai/resources/responses/responses';
import type { StoredItem } from '../../src/common/response-types';
import { ConversationsService } from '../../src/conversations/conversations.service';
import { ConversationsStore } from '../../src/conversations/persistence/conversations.store';
import { storeBackends } from '../support/backends';
import { useE2e } from '../support/e2e';
import { collect } from '../support/streams';

const user = (text: string): ResponseInputItem => ({ type: 'message', role: 'user', content: text });
const texts = (items: ConversationItem[]) =>
  items.map((item) => (item.type === 'message' ? item.content.map((part) => ('text' in part ? part.text : '')).join('') : item.type));
/** Items this server stores always have an id (the SDK's union has a few types where it is optional). */
const idOf = (item: ConversationItem): string => {
  if (!item.id) throw new Error(`item without an id: ${JSON.stringify(item)}`);
  return item.id;
};
const caught = (promise: Promise<unknown>) =>
  promise.then(
    () => null,
    (error: unknown) => error,
  );

describe.each(storeBackends('conversations'))('Conversations API on $name (openai SDK → gateway)', (backend) => {
  const e2e = useE2e({ backend, upstream: false, env: { API_KEYS: 'sk-a:team-a,sk-b:team-b', MAX_INPUT_ITEMS: '30' } });
  let alice: OpenAI; // team-a
  let bob: OpenAI; // team-b
  beforeAll(() => {
    alice = e2e.as('sk-a');
    bob = e2e.as('sk-b');
  });

  /** A conversation of team-a holding `n` user messages "m0" … "m(n-1)". */
  async function conversationWith(n: number): Promise<string> {
    const conversation = await alice.conversations.create({ items: Array.from({ length: Math.min(n, 20) }, (_, i) => user(`m${i}`)) });
    for (let next = 20; next < n; next += 20) {
      const batch = Array.from({ length: Math.min(20, n - next) }, (_, i) => user(`m${next + i}`));
      await alice.conversations.items.create(conversation.id, { items: batch });
    }
    return conversation.id;
  }

  it('creates a conversation with items and metadata, and retrieves it', async () => {
    const before = Math.floor(Date.now() / 1000);
    const created = await alice.conversations.create({
      items: [user('Hello'), { type: 'message', role: 'assistant', content: 'Hi! How can I help?' }],
      metadata: { topic: 'demo', owner: 'alice' },
    });
    expect(created).toEqual({
      id: expect.stringMatching(/^conv_[0-9a-f]{48}$/),
      object: 'conversation',
      created_at: expect.any(Number),
      metadata: { topic: 'demo', owner: 'alice' },
    });
    expect(created.created_at).toBeGreaterThanOrEqual(before);
    expect(created.created_at).toBeLessThanOrEqual(Math.ceil(Date.now() / 1000));
    expect(await alice.conversations.retrieve(created.id)).toEqual(created);

    const items = await alice.conversations.items.list(created.id, { order: 'asc' });
    expect(items.data).toEqual([
      { id: expect.stringMatching(/^msg_/), type: 'message', role: 'user', status: 'completed', content: [{ type: 'input_text', text: 'Hello' }] },
      {
        id: expect.stringMatching(/^msg_/),
        type: 'message',
        role: 'assistant',
        status: 'completed',
        content: [{ type: 'output_text', text: 'Hi! How can I help?', annotations: [] }],
      },
    ]);
    expect(items.has_more).toBe(false);
  });

  it('creates an empty conversation without a body', async () => {
    const created = await alice.conversations.create();
    expect(created).toMatchObject({ object: 'conversation', metadata: {} });
    const items = await alice.conversations.items.list(created.id);
    expect(items.data).toEqual([]);
    expect(items).toMatchObject({ has_more: false });
  });

  it('updates the metadata (replacing it; null clears it)', async () => {
    const created = await alice.conversations.create({ metadata: { a: '1', b: '2' } });
    const updated = await alice.conversations.update(created.id, { metadata: { c: '3' } });
    expect(updated).toEqual({ ...created, metadata: { c: '3' } });
    expect(await alice.conversations.retrieve(created.id)).toEqual(updated);
    expect(await alice.conversations.update(created.id, { metadata: null })).toEqual({ ...created, metadata: {} });
  });

  it('deletes a conversation and its items, then answers 404 NotFoundError', async () => {
    const id = await conversationWith(3);
    const itemId = idOf((await alice.conversations.items.list(id)).data[0]);
    expect(await alice.conversations.delete(id)).toEqual({ id, object: 'conversation.deleted', deleted: true });
    const missing = await caught(alice.conversations.retrieve(id));
    expect(missing).toBeInstanceOf(OpenAI.NotFoundError);
    expect(missing).toMatchObject({ status: 404, message: `404 Conversation with id '${id}' not found.`, type: 'invalid_request_error' });
    await expect(alice.conversations.delete(id)).rejects.toBeInstanceOf(OpenAI.NotFoundError);
    await expect(alice.conversations.update(id, { metadata: {} })).rejects.toBeInstanceOf(OpenAI.NotFoundError);
    await expect(alice.conversations.items.list(id)).rejects.toBeInstanceOf(OpenAI.NotFoundError);
    await expect(alice.conversations.items.create(id, { items: [user('x')] })).rejects.toBeInstanceOf(OpenAI.NotFoundError);
    await expect(alice.conversations.items.retrieve(itemId, { conversation_id: id })).rejects.toBeInstanceOf(OpenAI.NotFoundError);
    await expect(alice.conversations.items.delete(itemId, { conversation_id: id })).rejects.toBeInstanceOf(OpenAI.NotFoundError);
    await expect(alice.conversations.retrieve('conv_unknown')).rejects.toMatchObject({
      status: 404,
      message: "404 Conversation with id 'conv_unknown' not found.",
    });
  });

  it('appends items after the existing ones and answers with them as a list', async () => {
    const id = await conversationWith(2);
    const added = await alice.conversations.items.create(id, {
      items: [
        { type: 'function_call', call_id: 'call_1', name: 'get_weather', arguments: '{"city":"Paris"}' },
        { type: 'function_call_output', call_id: 'call_1', output: '{"temp":21}' },
        { type: 'message', role: 'assistant', content: 'It is 21°C.' },
      ],
    });
    expect(added).toEqual({
      object: 'list',
      data: [
        {
          id: expect.stringMatching(/^fc_/),
          type: 'function_call',
          call_id: 'call_1',
          name: 'get_weather',
          arguments: '{"city":"Paris"}',
          status: 'completed',
        },
        { id: expect.stringMatching(/^fco_/), type: 'function_call_output', call_id: 'call_1', output: '{"temp":21}', status: 'completed' },
        expect.objectContaining({ id: expect.stringMatching(/^msg_/), type: 'message', role: 'assistant' }),
      ],
      first_id: added.data[0].id,
      last_id: added.data[2].id,
      has_more: false,
    });
    const all = await alice.conversations.items.list(id, { order: 'asc' });
    expect(all.data.map((item) => item.id).slice(2)).toEqual(added.data.map((item) => item.id));
    expect(texts(all.data)).toEqual(['m0', 'm1', 'function_call', 'function_call_output', 'It is 21°C.']);
    // Newest first by default.
    expect(texts((await alice.conversations.items.list(id)).data)).toEqual(['It is 21°C.', 'function_call_output', 'function_call', 'm1', 'm0']);
  });

  it('paginates items in both orders with the auto-paginator', async () => {
    const id = await conversationWith(45);
    const expected = Array.from({ length: 45 }, (_, i) => `m${i}`);

    const first = await alice.conversations.items.list(id, { limit: 7, order: 'asc' });
    expect(first.data).toHaveLength(7);
    expect(first.has_more).toBe(true);
    expect(first.last_id).toBe(first.data[6].id);

    const ascending = await collect(alice.conversations.items.list(id, { limit: 7, order: 'asc' }));
    expect(texts(ascending)).toEqual(expected);
    expect(new Set(ascending.map((item) => item.id)).size).toBe(45);

    const descending = await collect(alice.conversations.items.list(id, { limit: 10 }));
    expect(texts(descending)).toEqual([...expected].reverse());

    // Page by page: `after` is the previous page's last_id; the last page says has_more: false.
    const pages: number[] = [];
    let page = await alice.conversations.items.list(id, { limit: 20, order: 'desc' });
    pages.push(page.data.length);
    while (page.hasNextPage()) {
      page = await page.getNextPage();
      pages.push(page.data.length);
    }
    expect(pages).toEqual([20, 20, 5]);
    expect(page.has_more).toBe(false);

    // limit defaults to 20; include is accepted.
    const defaults = await alice.conversations.items.list(id, { include: ['message.input_image.image_url'] });
    expect(defaults.data).toHaveLength(20);
    expect(texts(defaults.data)[0]).toBe('m44');
  });

  it('retrieves and deletes single items', async () => {
    const id = await conversationWith(3);
    const [m0, m1, m2] = (await alice.conversations.items.list(id, { order: 'asc' })).data;
    expect(await alice.conversations.items.retrieve(idOf(m1), { conversation_id: id, include: ['message.input_image.image_url'] })).toEqual(m1);

    const conversation = await alice.conversations.retrieve(id);
    expect(await alice.conversations.items.delete(idOf(m1), { conversation_id: id })).toEqual(conversation);
    const gone = await caught(alice.conversations.items.retrieve(idOf(m1), { conversation_id: id }));
    expect(gone).toBeInstanceOf(OpenAI.NotFoundError);
    expect(gone).toMatchObject({ message: `404 Item with id '${idOf(m1)}' not found.` });
    await expect(alice.conversations.items.delete(idOf(m1), { conversation_id: id })).rejects.toMatchObject({
      status: 404,
      message: `404 Item with id '${idOf(m1)}' not found.`,
    });
    expect((await alice.conversations.items.list(id, { order: 'asc' })).data).toEqual([m0, m2]);
    // An item of another conversation is not found through this one.
    const other = await conversationWith(1);
    await expect(alice.conversations.items.retrieve(idOf(m0), { conversation_id: other })).rejects.toBeInstanceOf(OpenAI.NotFoundError);
    await expect(alice.conversations.items.delete(idOf(m0), { conversation_id: other })).rejects.toBeInstanceOf(OpenAI.NotFoundError);
  });

  it('keeps every item of concurrent appends, each batch in one piece', async () => {
    const id = await conversationWith(1);
    const batches = Array.from({ length: 12 }, (_, b) => Array.from({ length: 3 }, (_, i) => user(`b${b}-${i}`)));
    const results = await Promise.all(batches.map((items) => alice.conversations.items.create(id, { items })));
    expect(results.every((r) => r.data.length === 3)).toBe(true);

    const all = await collect(alice.conversations.items.list(id, { order: 'asc', limit: 100 }));
    const seen = texts(all);
    expect(seen).toHaveLength(1 + 36);
    expect(seen[0]).toBe('m0');
    for (let at = 1; at < seen.length; at += 3) {
      const batch = seen[at].split('-')[0];
      expect(seen.slice(at, at + 3)).toEqual([`${batch}-0`, `${batch}-1`, `${batch}-2`]);
    }
    expect(new Set(seen).size).toBe(37);
  });

  describe('client errors', () => {
    it('names the param of bad metadata and bad items', async () => {
      const cases: Array<[Record<string, unknown>, string]> = [
        [{ metadata: Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`k${i}`, 'v'])) }, 'metadata'],
        [{ metadata: { k: 'x'.repeat(513) } }, 'metadata'],
        [{ metadata: { ['k'.repeat(65)]: 'v' } }, 'metadata'],
        [{ metadata: { k: 1 } }, 'metadata'],
        [{ metadata: 'tag' }, 'metadata'],
        [{ items: 'hello' }, 'items'],
        [{ items: Array.from({ length: 21 }, () => user('x')) }, 'items'],
        [{ items: [user('ok'), { role: 'wizard', content: 'x' }] }, 'items[1].role'],
        [{ items: [{ role: 'user', content: [{ type: 'input_text' }] }] }, 'items[0].content[0].text'],
        [{ items: [{ type: 'function_call', name: 'f', arguments: '{}' }] }, 'items[0].call_id'],
        [{ items: [{ type: 'nonsense' }] }, 'items[0].type'],
      ];
      for (const [body, param] of cases) {
        const error = await caught(alice.conversations.create(body));
        expect(error).toBeInstanceOf(OpenAI.BadRequestError);
        expect({ body, param: (error as { param: string }).param }).toEqual({ body, param });
        expect(error).toMatchObject({ type: 'invalid_request_error' });
        expect((error as Error).message).not.toContain("'input");
      }
      const missing = await caught(alice.conversations.create({ items: [{ type: 'function_call', name: 'f', arguments: '{}' }] } as never));
      expect(missing).toMatchObject({
        param: 'items[0].call_id',
        code: 'missing_required_parameter',
        message: "400 Missing required parameter: 'items[0].call_id'.",
      });
      const unsupported = await caught(alice.conversations.create({ items: [{ type: 'computer_call' }] } as never));
      expect(unsupported).toMatchObject({ status: 400, param: 'items[0].type', code: 'unsupported_parameter' });
      // Sealed reasoning opens on /v1/responses only: stored here it would replay as no reasoning.
      const reasoning = { type: 'reasoning', id: 'rs_1', summary: [], encrypted_content: 'v2.a.b.c.d' };
      const refusal = { status: 400, code: 'unsupported_parameter', message: expect.stringContaining('/v1/responses') };
      expect(await caught(alice.conversations.create({ items: [user('ok'), reasoning] } as never))).toMatchObject({
        ...refusal,
        param: 'items[1].encrypted_content',
      });
      const id = await conversationWith(1);
      expect(await caught(alice.conversations.items.create(id, { items: [reasoning] } as never))).toMatchObject({
        ...refusal,
        param: 'items[0].encrypted_content',
      });
    });

    it('validates item appends, updates and listing parameters', async () => {
      const id = await conversationWith(2);
      const cases: Array<[() => Promise<unknown>, string, string?]> = [
        [() => alice.conversations.items.create(id, { items: [] }), 'items'],
        [() => alice.conversations.items.create(id, {} as never), 'items', 'missing_required_parameter'],
        [() => alice.conversations.items.create(id, { items: [{ role: 'user' }] } as never), 'items[0].content', 'missing_required_parameter'],
        [() => alice.conversations.items.create(id, { items: Array.from({ length: 21 }, () => user('x')) }), 'items'],
        [() => alice.conversations.update(id, {} as never), 'metadata', 'missing_required_parameter'],
        [() => alice.conversations.update(id, { metadata: { k: 'x'.repeat(513) } }), 'metadata'],
        [() => alice.conversations.items.list(id, { limit: 0 }), 'limit'],
        [() => alice.conversations.items.list(id, { limit: 101 }), 'limit'],
        [() => alice.conversations.items.list(id, { order: 'sideways' } as never), 'order'],
        [() => alice.conversations.items.list(id, { after: 'msg_unknown' }), 'after'],
        [() => alice.conversations.items.list(id, { include: ['nonsense'] } as never), 'include[]'],
      ];
      for (const [call, param, code] of cases) {
        const error = await caught(call());
        expect(error).toBeInstanceOf(OpenAI.BadRequestError);
        expect({ param: (error as { param: string }).param }).toEqual({ param });
        if (code) expect(error).toMatchObject({ code });
      }
      // Nothing was appended by the refused requests.
      expect((await alice.conversations.items.list(id)).data).toHaveLength(2);
    });

    it('refuses an item id the conversation already holds, atomically', async () => {
      const id = await conversationWith(1);
      const [existing] = (await alice.conversations.items.list(id)).data;
      const replayed = { ...(existing as object), status: undefined } as unknown as ResponseInputItem;
      const error = await caught(alice.conversations.items.create(id, { items: [user('new'), replayed] }));
      expect(error).toMatchObject({ status: 400, param: 'items', code: 'duplicate_item', message: expect.stringContaining(idOf(existing)) });
      expect((await alice.conversations.items.list(id)).data).toHaveLength(1);

      const twice = { type: 'message', id: 'msg_twice', role: 'user', content: 'x' } as ResponseInputItem;
      await expect(alice.conversations.create({ items: [twice, twice] })).rejects.toMatchObject({ status: 400, param: 'items', code: 'duplicate_item' });
      // The same id in another conversation is fine.
      const other = await alice.conversations.create({ items: [twice] });
      expect((await alice.conversations.items.retrieve('msg_twice', { conversation_id: other.id })).id).toBe('msg_twice');
    });
  });

  it("answers another tenant's conversation and items exactly like missing ones, on every path", async () => {
    const created = await alice.conversations.create({ items: [user('secret')], metadata: { team: 'a' } });
    const id = created.id;
    const [item] = (await alice.conversations.items.list(id)).data;
    const notFound = { status: 404, message: `404 Conversation with id '${id}' not found.` };
    await expect(bob.conversations.retrieve(id)).rejects.toMatchObject(notFound);
    await expect(bob.conversations.update(id, { metadata: { team: 'b' } })).rejects.toMatchObject(notFound);
    await expect(bob.conversations.delete(id)).rejects.toMatchObject(notFound);
    await expect(bob.conversations.items.create(id, { items: [user('injected')] })).rejects.toMatchObject(notFound);
    await expect(bob.conversations.items.list(id)).rejects.toMatchObject(notFound);
    await expect(bob.conversations.items.retrieve(idOf(item), { conversation_id: id })).rejects.toMatchObject(notFound);
    await expect(bob.conversations.items.delete(idOf(item), { conversation_id: id })).rejects.toMatchObject(notFound);
    // …the same answers as for an id that does not exist at all.
    const unknown = await caught(bob.conversations.retrieve('conv_nope'));
    expect(unknown).toMatchObject({ status: 404, type: 'invalid_request_error', param: null, code: null });

    // Nothing of team-a's changed, and team-b cannot see it through its own conversations either.
    expect(await alice.conversations.retrieve(id)).toEqual(created);
    expect((await alice.conversations.items.list(id)).data).toEqual([item]);
    const own = await bob.conversations.create();
    await expect(bob.conversations.items.retrieve(idOf(item), { conversation_id: own.id })).rejects.toBeInstanceOf(OpenAI.NotFoundError);
    const anonymous = await fetch(`${e2e.url}/v1/conversations/${id}`);
    expect(anonymous.status).toBe(401);
  });

  describe('for responses on a conversation (ConversationsService)', () => {
    const asStored = (item: ConversationItem) => item as unknown as StoredItem;

    it('gives the context oldest first, and appends input and output in order', async () => {
      const service = e2e.app.app.get(ConversationsService);
      const id = await conversationWith(3);
      expect((await service.contextItems('team-a', id)).map((item) => texts([item as ConversationItem])[0])).toEqual(['m0', 'm1', 'm2']);

      const input = { id: 'msg_in_1', type: 'message', role: 'user', status: 'completed', content: [{ type: 'input_text', text: 'q' }] };
      const output = {
        id: 'msg_out_1',
        type: 'message',
        role: 'assistant',
        status: 'completed',
        content: [{ type: 'output_text', text: 'a', annotations: [] }],
      };
      expect(
        await service.append(
          id,
          [input, output].map((i) => asStored(i as ConversationItem)),
        ),
      ).toBe(true);
      expect(texts((await alice.conversations.items.list(id, { order: 'asc' })).data)).toEqual(['m0', 'm1', 'm2', 'q', 'a']);
      expect((await service.contextItems('team-a', id)).map((item) => item.id).slice(3)).toEqual(['msg_in_1', 'msg_out_1']);

      await expect(service.append(id, [asStored(input as ConversationItem)])).rejects.toMatchObject({ status: 400, param: 'input', code: 'duplicate_item' });
      await alice.conversations.delete(id);
      expect(await service.append(id, [asStored({ ...input, id: 'msg_in_2' } as ConversationItem)])).toBe(false);
    });

    it('refuses another owner and a conversation longer than MAX_INPUT_ITEMS', async () => {
      const service = e2e.app.app.get(ConversationsService);
      const id = await conversationWith(31);
      await expect(service.contextItems('team-b', id)).rejects.toMatchObject({
        status: 404,
        param: 'conversation',
        message: `Conversation with id '${id}' not found.`,
      });
      await expect(service.contextItems('team-a', id)).rejects.toMatchObject({ status: 400, param: 'conversation', code: 'conversation_too_long' });
      // The store gives the newest items when bounded, still oldest first.
      const newest = await e2e.app.app.get(ConversationsStore).allItems(id, 3);
      expect(newest.map((item) => texts([item as ConversationItem])[0])).toEqual(['m28', 'm29', 'm30']);
    });
  });
});
