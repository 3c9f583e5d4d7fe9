import OpenAI from 'openai';
import type { ChatCompletionChunk } from 'openai/resources/chat/completions';
import type { ResponseOutputItem, ResponseStreamEvent } from 'openai/resources/responses/responses';
import type { ResponseObject, StreamEvent, UnsequencedEvent } from '../common/response-types';
import { OutputBuilder } from './output-builder';

type EventType = UnsequencedEvent['type'];
type EventOf<T extends EventType> = Extract<UnsequencedEvent, { type: T }>;
/** A chat delta as the upstreams we support send it (vLLM/DeepSeek and Ollama reasoning fields). */
type Delta = ChatCompletionChunk.Choice.Delta & { reasoning_content?: string; reasoning?: string };
type ToolCallDelta = NonNullable<Delta['tool_calls']>[number];

function chunk(delta: Delta): ChatCompletionChunk {
  return {
    id: 'chatcmpl-1',
    object: 'chat.completion.chunk',
    created: 0,
    model: 'up',
    choices: [{ index: 0, delta, finish_reason: null, logprobs: null }],
  };
}

const toolDelta = (call: ToolCallDelta): ChatCompletionChunk => chunk({ tool_calls: [call] });

/** A builder whose emitted events are kept as is (not copied), so later mutation would show. */
function setup(): { builder: OutputBuilder; events: UnsequencedEvent[]; doneCalls: ResponseOutputItem[][] } {
  const events: UnsequencedEvent[] = [];
  const doneCalls: ResponseOutputItem[][] = [];
  const builder = new OutputBuilder(
    (event) => events.push(event),
    (output) => doneCalls.push(structuredClone(output)),
  );
  return { builder, events, doneCalls };
}

/** Every item type we build has a `status`; the SDK's union also holds types that have none. */
const statusOf = (item: ResponseOutputItem): string | undefined => (item as { status?: string }).status;

const types = (events: UnsequencedEvent[]): EventType[] => events.map((e) => e.type);

function ofType<T extends EventType>(events: UnsequencedEvent[], type: T): EventOf<T>[] {
  return events.filter((e): e is EventOf<T> => e.type === type);
}

function only<T extends EventType>(events: UnsequencedEvent[], type: T): EventOf<T> {
  const found = ofType(events, type);
  expect(found).toHaveLength(1);
  return found[0];
}

function feedText(builder: OutputBuilder, pieces: string[]): void {
  builder.chunk(chunk({ role: 'assistant', content: '' })); // the usual first chunk: role only
  for (const piece of pieces) builder.chunk(chunk({ content: piece }));
}

function feedTwoToolCalls(builder: OutputBuilder): void {
  builder.chunk(toolDelta({ index: 0, id: 'call_weather', type: 'function', function: { name: 'get_weather', arguments: '' } }));
  builder.chunk(toolDelta({ index: 0, function: { arguments: '{"city":' } }));
  builder.chunk(toolDelta({ index: 0, function: { arguments: '"Paris"}' } }));
  builder.chunk(toolDelta({ index: 1, id: 'call_time', type: 'function', function: { name: 'get_time', arguments: '' } }));
  builder.chunk(toolDelta({ index: 1, function: { arguments: '{"tz":' } }));
  builder.chunk(toolDelta({ index: 1, function: { arguments: '"UTC"}' } }));
}

const TEXT_ITEM_EVENTS: EventType[] = [
  'response.output_item.added',
  'response.content_part.added',
  'response.output_text.delta',
  'response.output_text.delta',
  'response.output_text.delta',
  'response.output_text.done',
  'response.content_part.done',
  'response.output_item.done',
];

describe('OutputBuilder', () => {
  describe('a text reply', () => {
    it('emits added → part added → deltas → text done → part done → item done, in that order', () => {
      const { builder, events } = setup();
      feedText(builder, ['Hel', 'lo ', 'world']);
      builder.finish('completed');

      expect(types(events)).toEqual(TEXT_ITEM_EVENTS);
      expect(ofType(events, 'response.output_text.delta').map((e) => e.delta)).toEqual(['Hel', 'lo ', 'world']);
    });

    it('announces the item empty and in_progress although the builder keeps filling it', () => {
      const { builder, events } = setup();
      feedText(builder, ['Hello', ' world']);
      builder.finish('completed');

      const added = only(events, 'response.output_item.added');
      expect(added.output_index).toBe(0);
      expect(added.item).toEqual({ id: expect.stringMatching(/^msg_[0-9a-f]{48}$/), type: 'message', role: 'assistant', status: 'in_progress', content: [] });
      const partAdded = only(events, 'response.content_part.added');
      expect(partAdded.part).toEqual({ type: 'output_text', text: '', annotations: [], logprobs: [] });
    });

    it('ties every event to the same item and index, and closes it with the full text', () => {
      const { builder, events } = setup();
      feedText(builder, ['Hello', ' world']);
      builder.finish('completed');

      const id = only(events, 'response.output_item.added').item.id;
      for (const e of ofType(events, 'response.output_text.delta')) {
        expect(e).toEqual({ type: 'response.output_text.delta', item_id: id, output_index: 0, content_index: 0, delta: e.delta, logprobs: [] });
      }
      expect(only(events, 'response.output_text.done')).toEqual({
        type: 'response.output_text.done',
        item_id: id,
        output_index: 0,
        content_index: 0,
        text: 'Hello world',
        logprobs: [],
      });
      const finalPart = { type: 'output_text', text: 'Hello world', annotations: [], logprobs: [] };
      expect(only(events, 'response.content_part.done')).toMatchObject({ item_id: id, output_index: 0, content_index: 0, part: finalPart });
      const done = only(events, 'response.output_item.done');
      expect(done.output_index).toBe(0);
      expect(done.item).toEqual({ id, type: 'message', role: 'assistant', status: 'completed', content: [finalPart] });
      expect(builder.output).toEqual([done.item]);
    });

    it('emits nothing for chunks without text (role-only, usage-only, no choices)', () => {
      const { builder, events } = setup();
      builder.chunk(chunk({ role: 'assistant', content: '' }));
      builder.chunk(chunk({ content: null }));
      builder.chunk({ id: 'chatcmpl-1', object: 'chat.completion.chunk', created: 0, model: 'up', choices: [] });
      expect(events).toEqual([]);
      expect(builder.output).toEqual([]);
    });

    it('tells onItemDone once per finished item, with the output so far', () => {
      const { builder, doneCalls } = setup();
      feedText(builder, ['Hi']);
      expect(doneCalls).toHaveLength(0);
      builder.finish('completed');
      expect(doneCalls).toHaveLength(1);
      expect(doneCalls[0]).toEqual(builder.output);
    });
  });

  describe('a refusal', () => {
    it('uses a refusal content part and refusal delta/done events', () => {
      const { builder, events } = setup();
      builder.chunk(chunk({ refusal: "I can't" }));
      builder.chunk(chunk({ refusal: ' help.' }));
      builder.finish('completed');

      expect(types(events)).toEqual([
        'response.output_item.added',
        'response.content_part.added',
        'response.refusal.delta',
        'response.refusal.delta',
        'response.refusal.done',
        'response.content_part.done',
        'response.output_item.done',
      ]);
      expect(only(events, 'response.content_part.added').part).toEqual({ type: 'refusal', refusal: '' });
      expect(only(events, 'response.refusal.done').refusal).toBe("I can't help.");
      expect(only(events, 'response.output_item.done').item).toMatchObject({
        type: 'message',
        status: 'completed',
        content: [{ type: 'refusal', refusal: "I can't help." }],
      });
    });
  });

  describe('two streamed tool calls', () => {
    it('emits one function_call item per call, with argument deltas, and closes them on finish', () => {
      const { builder, events } = setup();
      feedTwoToolCalls(builder);

      expect(types(events)).toEqual([
        'response.output_item.added',
        'response.function_call_arguments.delta',
        'response.function_call_arguments.delta',
        'response.output_item.added',
        'response.function_call_arguments.delta',
        'response.function_call_arguments.delta',
      ]);

      builder.finish('completed');
      expect(types(events).slice(6)).toEqual([
        'response.function_call_arguments.done',
        'response.output_item.done',
        'response.function_call_arguments.done',
        'response.output_item.done',
      ]);
    });

    it('gives the items fc_ ids, the upstream call_id and name, and accumulates the arguments', () => {
      const { builder, events } = setup();
      feedTwoToolCalls(builder);
      builder.finish('completed');

      const added = ofType(events, 'response.output_item.added');
      expect(added.map((e) => e.output_index)).toEqual([0, 1]);
      expect(added[0].item).toEqual({
        id: expect.stringMatching(/^fc_[0-9a-f]{48}$/),
        type: 'function_call',
        status: 'in_progress',
        arguments: '',
        call_id: 'call_weather',
        name: 'get_weather',
      });
      expect(added[1].item).toMatchObject({ type: 'function_call', status: 'in_progress', arguments: '', call_id: 'call_time', name: 'get_time' });
      const [first, second] = added.map((e) => e.item.id!);
      expect(first).not.toBe(second);

      const deltas = ofType(events, 'response.function_call_arguments.delta');
      expect(deltas.map((e) => [e.item_id, e.output_index, e.delta])).toEqual([
        [first, 0, '{"city":'],
        [first, 0, '"Paris"}'],
        [second, 1, '{"tz":'],
        [second, 1, '"UTC"}'],
      ]);

      expect(ofType(events, 'response.function_call_arguments.done')).toEqual([
        { type: 'response.function_call_arguments.done', item_id: first, output_index: 0, arguments: '{"city":"Paris"}', name: 'get_weather' },
        { type: 'response.function_call_arguments.done', item_id: second, output_index: 1, arguments: '{"tz":"UTC"}', name: 'get_time' },
      ]);

      const done = ofType(events, 'response.output_item.done');
      expect(done.map((e) => e.output_index)).toEqual([0, 1]);
      expect(done[0].item).toEqual({
        id: first,
        type: 'function_call',
        status: 'completed',
        arguments: '{"city":"Paris"}',
        call_id: 'call_weather',
        name: 'get_weather',
      });
      expect(done[1].item).toEqual({
        id: second,
        type: 'function_call',
        status: 'completed',
        arguments: '{"tz":"UTC"}',
        call_id: 'call_time',
        name: 'get_time',
      });
      expect(builder.output).toEqual([done[0].item, done[1].item]);
    });

    it('keeps interleaved argument fragments with their own call', () => {
      const { builder, events } = setup();
      builder.chunk(
        chunk({
          tool_calls: [
            { index: 0, id: 'call_a', type: 'function', function: { name: 'a', arguments: '{"x"' } },
            { index: 1, id: 'call_b', type: 'function', function: { name: 'b', arguments: '{"y"' } },
          ],
        }),
      );
      builder.chunk(
        chunk({
          tool_calls: [
            { index: 1, function: { arguments: ':2}' } },
            { index: 0, function: { arguments: ':1}' } },
          ],
        }),
      );
      builder.finish('completed');

      expect(ofType(events, 'response.function_call_arguments.done').map((e) => [e.output_index, (e as { name?: string }).name, e.arguments])).toEqual([
        [0, 'a', '{"x":1}'],
        [1, 'b', '{"y":2}'],
      ]);
    });

    it('makes up a call_ id when the upstream sends none', () => {
      const { builder } = setup();
      builder.chunk(toolDelta({ index: 0, function: { name: 'f', arguments: '{}' } }));
      builder.finish('completed');
      expect(builder.output[0]).toMatchObject({ type: 'function_call', call_id: expect.stringMatching(/^call_[0-9a-f]{48}$/), name: 'f', arguments: '{}' });
    });

    it('takes the name from a later delta when the first one has none', () => {
      const { builder, events } = setup();
      builder.chunk(toolDelta({ index: 0, id: 'call_1', type: 'function' }));
      builder.chunk(toolDelta({ index: 0, function: { name: 'late', arguments: '{}' } }));
      builder.finish('completed');
      expect((only(events, 'response.function_call_arguments.done') as { name?: string }).name).toBe('late');
      expect(builder.output[0]).toMatchObject({ type: 'function_call', call_id: 'call_1', name: 'late', arguments: '{}' });
    });

    it('adds no item for a call until its name is known: a late-named server tool stays a server call', () => {
      const events: UnsequencedEvent[] = [];
      const builder = new OutputBuilder(
        (event) => events.push(event),
        () => undefined,
        (name) => name === 'mcp_tool',
      );
      builder.chunk(toolDelta({ index: 0, id: 'call_1', type: 'function' }));
      expect(events).toEqual([]);
      builder.chunk(toolDelta({ index: 0, function: { name: 'mcp_tool', arguments: '{"a":' } }));
      builder.chunk(toolDelta({ index: 0, function: { arguments: '1}' } }));
      builder.finish('completed');
      expect(builder.output).toEqual([]);
      expect(builder.clientCalled).toBe(false);
      expect(builder.takeServerCalls()).toEqual([{ callId: 'call_1', name: 'mcp_tool', arguments: '{"a":1}' }]);
    });

    it('still hands the client a call that was never named, with its arguments', () => {
      const { builder, events } = setup();
      builder.chunk(toolDelta({ index: 0, id: 'call_1', type: 'function', function: { arguments: '{}' } }));
      builder.finish('completed');
      expect(builder.output).toEqual([expect.objectContaining({ type: 'function_call', call_id: 'call_1', name: '', arguments: '{}', status: 'completed' })]);
      expect(types(events)).toEqual([
        'response.output_item.added',
        'response.function_call_arguments.delta',
        'response.function_call_arguments.done',
        'response.output_item.done',
      ]);
      expect(builder.clientCalled).toBe(true);
    });

    it('keeps the calls open until finish()', () => {
      const { builder, events, doneCalls } = setup();
      feedTwoToolCalls(builder);
      expect(ofType(events, 'response.output_item.done')).toHaveLength(0);
      expect(ofType(events, 'response.function_call_arguments.done')).toHaveLength(0);
      expect(doneCalls).toHaveLength(0);
    });
  });

  describe('text followed by a tool call', () => {
    it('closes the message before the function_call item is added', () => {
      const { builder, events } = setup();
      feedText(builder, ['Let me ', 'check.']);
      builder.chunk(toolDelta({ index: 0, id: 'call_1', type: 'function', function: { name: 'lookup', arguments: '{}' } }));
      builder.finish('completed');

      expect(types(events)).toEqual([
        'response.output_item.added',
        'response.content_part.added',
        'response.output_text.delta',
        'response.output_text.delta',
        'response.output_text.done',
        'response.content_part.done',
        'response.output_item.done',
        'response.output_item.added',
        'response.function_call_arguments.delta',
        'response.function_call_arguments.done',
        'response.output_item.done',
      ]);
      const added = ofType(events, 'response.output_item.added');
      expect(added.map((e) => [e.output_index, e.item.type])).toEqual([
        [0, 'message'],
        [1, 'function_call'],
      ]);
      expect(builder.output.map((i) => [i.type, statusOf(i)])).toEqual([
        ['message', 'completed'],
        ['function_call', 'completed'],
      ]);
      expect(builder.output[0]).toMatchObject({ content: [{ type: 'output_text', text: 'Let me check.' }] });
    });
  });

  describe('reasoning then text', () => {
    it('emits a reasoning item with reasoning_text part events, then a message', () => {
      const { builder, events } = setup();
      builder.chunk(chunk({ reasoning_content: 'Think' }));
      builder.chunk(chunk({ reasoning_content: 'ing...' }));
      builder.chunk(chunk({ content: 'Answer' }));
      builder.finish('completed');

      expect(types(events)).toEqual([
        'response.output_item.added',
        'response.content_part.added',
        'response.reasoning_text.delta',
        'response.reasoning_text.delta',
        'response.reasoning_text.done',
        'response.content_part.done',
        'response.output_item.done',
        'response.output_item.added',
        'response.content_part.added',
        'response.output_text.delta',
        'response.output_text.done',
        'response.content_part.done',
        'response.output_item.done',
      ]);

      const [reasoningAdded, messageAdded] = ofType(events, 'response.output_item.added');
      const rsId = reasoningAdded.item.id;
      expect(reasoningAdded.output_index).toBe(0);
      expect(reasoningAdded.item).toEqual({
        id: expect.stringMatching(/^rs_[0-9a-f]{48}$/),
        type: 'reasoning',
        summary: [],
        content: [],
        status: 'in_progress',
      });
      expect(ofType(events, 'response.content_part.added')[0]).toEqual({
        type: 'response.content_part.added',
        item_id: rsId,
        output_index: 0,
        content_index: 0,
        part: { type: 'reasoning_text', text: '' },
      });
      expect(ofType(events, 'response.reasoning_text.delta').map((e) => [e.item_id, e.output_index, e.content_index, e.delta])).toEqual([
        [rsId, 0, 0, 'Think'],
        [rsId, 0, 0, 'ing...'],
      ]);
      expect(only(events, 'response.reasoning_text.done')).toMatchObject({ item_id: rsId, output_index: 0, content_index: 0, text: 'Thinking...' });
      expect(ofType(events, 'response.content_part.done')[0]).toMatchObject({ item_id: rsId, part: { type: 'reasoning_text', text: 'Thinking...' } });
      expect(ofType(events, 'response.output_item.done')[0].item).toEqual({
        id: rsId,
        type: 'reasoning',
        summary: [],
        content: [{ type: 'reasoning_text', text: 'Thinking...' }],
        status: 'completed',
      });

      expect(messageAdded.output_index).toBe(1);
      expect(messageAdded.item.type).toBe('message');
      expect(builder.output.map((i) => i.type)).toEqual(['reasoning', 'message']);
    });

    it('puts the sealed reasoning in encrypted_content on output_item.done and in the output, when asked to', () => {
      const { builder, events } = setup();
      builder.sealReasoning = (item) => `sealed(${item.id}:${(item.content ?? []).map((p) => p.text).join('')})`;
      builder.chunk(chunk({ reasoning_content: 'Think' }));
      builder.chunk(chunk({ content: 'Answer' }));
      builder.finish('completed');
      const id = builder.output[0].id;
      expect(ofType(events, 'response.output_item.added')[0].item).not.toHaveProperty('encrypted_content');
      expect(ofType(events, 'response.output_item.done')[0].item).toMatchObject({ encrypted_content: `sealed(${id}:Think)` });
      expect(builder.output[0]).toMatchObject({ content: [{ type: 'reasoning_text', text: 'Think' }], encrypted_content: `sealed(${id}:Think)` });
    });

    it('also reads the `reasoning` delta field some servers use', () => {
      const { builder } = setup();
      builder.chunk(chunk({ reasoning: 'Hmm' }));
      builder.finish('completed');
      expect(builder.output).toEqual([expect.objectContaining({ type: 'reasoning', content: [{ type: 'reasoning_text', text: 'Hmm' }] })]);
    });
  });

  describe("finish('incomplete')", () => {
    it('marks the open message and open calls incomplete, in events and output', () => {
      const { builder, events } = setup();
      builder.chunk(toolDelta({ index: 0, id: 'call_1', type: 'function', function: { name: 'f', arguments: '{"a":' } }));
      feedText(builder, ['cut sh']);
      builder.finish('incomplete');

      const done = ofType(events, 'response.output_item.done');
      expect(done).toHaveLength(2);
      for (const e of done) expect(statusOf(e.item)).toBe('incomplete');
      expect(builder.output.map(statusOf)).toEqual(['incomplete', 'incomplete']);
      expect(builder.output[1]).toMatchObject({ type: 'message', content: [{ type: 'output_text', text: 'cut sh' }] });
      expect(builder.output[0]).toMatchObject({ type: 'function_call', arguments: '{"a":' });
    });

    it('marks an open reasoning item incomplete', () => {
      const { builder } = setup();
      builder.chunk(chunk({ reasoning_content: 'half a thou' }));
      builder.finish('incomplete');
      expect(builder.output).toEqual([expect.objectContaining({ type: 'reasoning', status: 'incomplete' })]);
    });

    it('leaves items already closed as completed', () => {
      const { builder } = setup();
      builder.chunk(chunk({ reasoning_content: 'done thinking' }));
      builder.chunk(chunk({ content: 'partial' }));
      builder.finish('incomplete');
      expect(builder.output.map((i) => [i.type, statusOf(i)])).toEqual([
        ['reasoning', 'completed'],
        ['message', 'incomplete'],
      ]);
    });
  });

  describe('snapshot()', () => {
    it('returns the partial text mid-stream, with the item still in_progress', () => {
      const { builder } = setup();
      feedText(builder, ['Hel', 'lo']);

      const snapshot = builder.snapshot();
      expect(snapshot).toEqual([
        {
          id: expect.stringMatching(/^msg_/),
          type: 'message',
          role: 'assistant',
          status: 'in_progress',
          content: [{ type: 'output_text', text: 'Hello', annotations: [], logprobs: [] }],
        },
      ]);
    });

    it('is a copy that later deltas do not change', () => {
      const { builder } = setup();
      feedText(builder, ['Hel']);
      const snapshot = builder.snapshot();
      feedText(builder, ['lo']);
      builder.finish('completed');
      expect(snapshot[0]).toMatchObject({ status: 'in_progress', content: [{ text: 'Hel' }] });
      expect(builder.snapshot()[0]).toMatchObject({ status: 'completed', content: [{ text: 'Hello' }] });
    });

    it('includes partial reasoning and open function calls', () => {
      const { builder } = setup();
      builder.chunk(chunk({ reasoning_content: 'Hmm' }));
      expect(builder.snapshot()).toEqual([
        expect.objectContaining({ type: 'reasoning', status: 'in_progress', content: [{ type: 'reasoning_text', text: 'Hmm' }] }),
      ]);

      builder.chunk(toolDelta({ index: 0, id: 'call_1', type: 'function', function: { name: 'f', arguments: '{"q":' } }));
      expect(builder.snapshot()[1]).toMatchObject({ type: 'function_call', status: 'in_progress', arguments: '{"q":', call_id: 'call_1' });
    });
  });

  describe('what the SDK stream accumulator needs', () => {
    /** A mixed run: reasoning, text, two tool calls. */
    function mixedRun(): { builder: OutputBuilder; events: UnsequencedEvent[] } {
      const { builder, events } = setup();
      builder.chunk(chunk({ reasoning_content: 'Plan: ' }));
      builder.chunk(chunk({ reasoning_content: 'look it up.' }));
      feedText(builder, ['Checking ', 'now.']);
      feedTwoToolCalls(builder);
      builder.finish('completed');
      return { builder, events };
    }

    it('adds every item before any event that refers to its output_index, and only once', () => {
      const { events } = mixedRun();
      const added = new Set<number>();
      const closed = new Set<number>();
      for (const event of events) {
        const index = (event as { output_index: number }).output_index;
        if (event.type === 'response.output_item.added') {
          expect(added.has(index)).toBe(false);
          expect(index).toBe(added.size); // indexes are handed out in order, without gaps
          added.add(index);
          continue;
        }
        expect(added.has(index)).toBe(true);
        expect(closed.has(index)).toBe(false); // nothing refers to an item after its done event
        if (event.type === 'response.output_item.done') closed.add(index);
      }
      expect([...closed].sort()).toEqual([...added].sort());
    });

    it('adds a content part before any delta or done event for it', () => {
      const { events } = mixedRun();
      const parts = new Set<string>();
      for (const event of events) {
        if (!('content_index' in event)) continue;
        const key = `${event.output_index}/${event.content_index}`;
        if (event.type === 'response.content_part.added') parts.add(key);
        else expect(parts.has(key)).toBe(true);
      }
      expect(parts.size).toBe(2); // the reasoning part and the text part
    });

    it('is accumulated by the openai SDK (responses.stream) into the same output', async () => {
      const { builder, events } = mixedRun();
      const created: ResponseObject = {
        id: 'resp_1',
        object: 'response',
        access_programs: null,
        created_at: 0,
        status: 'in_progress',
        error: null,
        incomplete_details: null,
        instructions: null,
        metadata: {},
        model: 'm',
        output: [],
        parallel_tool_calls: true,
        temperature: 1,
        tool_choice: 'auto',
        tools: [],
        top_p: 1,
      };
      // No terminal event on purpose: the SDK's final response is then its own accumulation.
      const wire: StreamEvent[] = [{ type: 'response.created', response: created } as UnsequencedEvent, ...events].map((e, i) => ({
        ...e,
        sequence_number: i,
      }));
      const sse = wire.map((e) => `event: ${e.type}\ndata: ${JSON.stringify(e)}\n\n`).join('');
      const client = new OpenAI({
        apiKey: 'k',
        baseURL: 'http://gateway.invalid/v1',
        maxRetries: 0,
        fetch: () => Promise.resolve(new Response(sse, { status: 200, headers: { 'content-type': 'text/event-stream' } })),
      });

      const stream = client.responses.stream({ model: 'm', input: 'hi' });
      const seen: ResponseStreamEvent[] = [];
      stream.on('event', (e) => seen.push(e));
      const final = await stream.finalResponse();

      expect(seen).toHaveLength(wire.length);
      // The accumulator does not apply `*.done` events, so statuses stay as announced (in_progress),
      // and the SDK adds its own `parsed`/`parsed_arguments` fields: leave all of those out.
      const comparable = (items: ResponseOutputItem[]): unknown =>
        JSON.parse(JSON.stringify(items, (key, value: unknown) => (['status', 'parsed', 'parsed_arguments'].includes(key) ? undefined : value)));
      expect(comparable(final.output)).toEqual(comparable(builder.output));
      expect(final.output.map((i) => i.type)).toEqual(['reasoning', 'message', 'function_call', 'function_call']);
    });
  });
});
