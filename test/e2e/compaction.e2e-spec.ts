import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type OpenAI from 'openai';
import type { ResponseCompactionItem, ResponseInputItem, ResponseStreamEvent } from 'openai/resources/responses/responses';
import { useE2e } from '../support/e2e';
import { collect } from '../support/streams';
import { waitFor } from '../support/wait';

const MODEL = 'm';
const SECRETS_KEY = 'a-test-secret-key-of-enough-length';
const SUMMARY = 'SUMMARY-1: the user is renaming files; hello.txt was renamed.';
type ChatMessage = { role: string; content: unknown; tool_calls?: unknown[] };

const user = (text: string): ResponseInputItem => ({ type: 'message', role: 'user', content: [{ type: 'input_text', text }] });
const assistant = (text: string): ResponseInputItem =>
  ({ type: 'message', role: 'assistant', content: [{ type: 'output_text', text, annotations: [] }] }) as unknown as ResponseInputItem;

/** A window of a few turns, with a tool call in it. */
const window: ResponseInputItem[] = [
  { type: 'message', role: 'developer', content: [{ type: 'input_text', text: 'You rename files.' }] },
  user('rename hello.txt to hi.txt'),
  { type: 'function_call', call_id: 'call_1', name: 'shell', arguments: '{"cmd":"mv hello.txt hi.txt"}' },
  { type: 'function_call_output', call_id: 'call_1', output: 'OLD-TOOL-OUTPUT' },
  assistant('OLD-ASSISTANT-TURN: renamed.'),
  user('now list the files'),
];

const textOf = (messages: ChatMessage[]): string => JSON.stringify(messages);
const compactionOf = (output: unknown[]): ResponseCompactionItem => output.find((i) => (i as { type: string }).type === 'compaction') as ResponseCompactionItem;

/** Error bodies and outputs, poked into. */
type Json = { error: { param: string; code?: string; type?: string; message?: string } } & Record<string, unknown>;

async function post(url: string, path: string, body: unknown, apiKey = 'sk-a'): Promise<{ status: number; json: Json }> {
  const res = await fetch(`${url}/v1/responses${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${apiKey}` },
    body: JSON.stringify(body),
  });
  return { status: res.status, json: (await res.json()) as Json };
}

describe('compaction: POST /v1/responses/compact, compaction items, context_management, compaction_trigger', () => {
  const e2e = useE2e({
    env: (upstream) => ({ INFERENCE_BASE_URL: upstream.url, SECRETS_KEY, API_KEYS: 'sk-a:team-a,sk-b:team-b' }),
    resetUpstream: true,
  });
  const sent = (i: number) => e2e.upstream.requests[i].body as { messages: ChatMessage[]; stream?: boolean };
  const client = (): OpenAI => e2e.as('sk-a');

  it('compacts a window: the user messages, then one sealed compaction item; the next create sends the summary instead of the old turns', async () => {
    e2e.upstream.enqueue({ text: SUMMARY });
    const compacted = await client().responses.compact({ model: MODEL, input: window });
    expect(compacted).toMatchObject({ object: 'response.compaction', id: expect.stringMatching(/^resp_/), created_at: expect.any(Number) });
    expect(compacted.usage).toMatchObject({ input_tokens: 10, output_tokens: 5 });
    const types = compacted.output.map((i) => `${i.type}:${(i as { role?: string }).role ?? ''}`);
    expect(types).toEqual(['message:user', 'message:user', 'compaction:']);
    const item = compactionOf(compacted.output);
    expect(item.id).toMatch(/^cmp_/);
    expect(item.encrypted_content).toMatch(/^v2\./);
    expect(item.encrypted_content).not.toContain('SUMMARY');

    // The summarizing call: the window, then the summary prompt; no stream, no tools.
    const summarizing = sent(0);
    expect(summarizing.stream).toBeFalsy();
    expect(String(summarizing.messages.at(-1)!.content)).toMatch(/^Summarize the conversation above/);
    expect(textOf(summarizing.messages)).toContain('OLD-TOOL-OUTPUT');

    e2e.upstream.enqueue({ text: 'hi.txt' });
    const next = await client().responses.create({ model: MODEL, store: false, input: [...compacted.output, user('thanks')] as ResponseInputItem[] });
    expect(next.status).toBe('completed');
    const upstream = sent(1).messages;
    expect(textOf(upstream)).toContain(SUMMARY);
    expect(textOf(upstream)).not.toContain('OLD-TOOL-OUTPUT');
    expect(textOf(upstream)).not.toContain('OLD-ASSISTANT-TURN');
    // The retained user messages once each, then the summary, then the new turn.
    expect(upstream.map((m) => m.role)).toEqual(['user', 'user', 'user', 'user']);
    expect(String((upstream[2].content as Array<{ text: string }>)[0].text)).toMatch(/^Summary of the earlier conversation/);
  });

  it('compacts the chain of a previous_response_id, and a window already compacted once again (the old summary is folded in)', async () => {
    e2e.upstream.enqueue({ text: 'first answer' });
    const first = await client().responses.create({ model: MODEL, input: window });
    e2e.upstream.enqueue({ text: SUMMARY });
    const compacted = await client().responses.compact({ model: MODEL, previous_response_id: first.id, input: [user('and then?')] });
    expect(textOf(sent(1).messages)).toContain('first answer');
    expect(compacted.output.at(-1)!.type).toBe('compaction');

    e2e.upstream.enqueue({ text: 'SUMMARY-2' });
    const again = await client().responses.compact({
      model: MODEL,
      input: [...compacted.output, assistant('more work'), user('go on')] as ResponseInputItem[],
    });
    const second = textOf(sent(2).messages);
    expect(second).toContain(SUMMARY);
    expect(second).toContain('more work');
    // An old summary is not a user message to keep.
    const kept = again.output.filter((i) => i.type === 'message');
    expect(JSON.stringify(kept)).not.toContain('Summary of the earlier conversation');
  });

  it('refuses what it cannot compact or open: no model (400 model), a tampered or another tenant’s compaction item (400 naming it)', async () => {
    const noModel = await post(e2e.url, '/compact', { input: window });
    expect(noModel.status).toBe(400);
    expect(noModel.json.error).toMatchObject({ param: 'model', type: 'invalid_request_error' });

    e2e.upstream.enqueue({ text: SUMMARY });
    const compacted = await client().responses.compact({ model: MODEL, input: window });
    const item = compactionOf(compacted.output);
    const tampered = { ...item, encrypted_content: `${item.encrypted_content.slice(0, -4)}AAAA` };
    for (const [apiKey, input] of [
      ['sk-a', [user('x'), tampered, user('y')]],
      ['sk-b', [user('x'), item, user('y')]],
    ] as const) {
      const res = await post(e2e.url, '', { model: MODEL, input }, apiKey);
      expect(res.status).toBe(400);
      expect(res.json.error).toMatchObject({ param: 'input[1].encrypted_content', code: 'invalid_encrypted_content' });
    }
    const notLast = await post(e2e.url, '', { model: MODEL, input: [{ type: 'compaction_trigger' }, user('x')] });
    expect(notLast.status).toBe(400);
    expect(notLast.json.error).toMatchObject({ param: 'input[0]' });
    const noThreshold = await post(e2e.url, '', { model: MODEL, input: 'x', context_management: [{ type: 'compaction' }] });
    expect(noThreshold.status).toBe(400);
    expect(noThreshold.json.error).toMatchObject({ param: 'context_management[0].compact_threshold' });
    const badType = await post(e2e.url, '', { model: MODEL, input: 'x', context_management: [{ type: 'other' }] });
    expect(badType.status).toBe(400);
    expect(badType.json.error.param).toMatch(/^context_management\[0\]\.type$/);
    const conversation = await client().conversations.create({});
    const direct = await fetch(`${e2e.url}/v1/conversations/${conversation.id}/items`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer sk-a' },
      body: JSON.stringify({ items: [item] }),
    });
    expect(direct.status).toBe(400);
    expect(((await direct.json()) as Json).error).toMatchObject({ param: 'items[0].type', code: 'unsupported_parameter' });
    // One upstream call (the compaction): nothing refused reached the model.
    expect(e2e.upstream.requests).toHaveLength(1);
  });

  it('context_management compacts before the model call when the input passes the threshold; a chain continues from the compacted window', async () => {
    e2e.upstream.enqueue({ text: SUMMARY }, { text: 'answer after compaction' });
    const first = await client().responses.create({ model: MODEL, input: window, context_management: [{ type: 'compaction', compact_threshold: 20 }] });
    expect(first.output.map((i) => i.type)).toEqual(['compaction', 'message']);
    expect(first.usage).toMatchObject({ input_tokens: 20, output_tokens: 10 });
    const answering = textOf(sent(1).messages);
    expect(answering).toContain(SUMMARY);
    expect(answering).not.toContain('OLD-TOOL-OUTPUT');
    expect(answering).toContain('now list the files');

    // Under the threshold: no compaction.
    e2e.upstream.enqueue({ text: 'plain' });
    const small = await client().responses.create({ model: MODEL, input: 'hi', context_management: [{ type: 'compaction', compact_threshold: 100_000 }] });
    expect(small.output.map((i) => i.type)).toEqual(['message']);

    e2e.upstream.enqueue({ text: 'chained' });
    await client().responses.create({ model: MODEL, previous_response_id: first.id, input: 'what next?' });
    const chained = textOf(sent(3).messages);
    expect(chained).toContain(SUMMARY);
    expect(chained).toContain('answer after compaction');
    expect(chained).not.toContain('OLD-ASSISTANT-TURN');
  });

  it('streams the compaction item first (output_index 0), then the answer', async () => {
    e2e.upstream.enqueue({ text: SUMMARY }, { text: 'streamed answer' });
    const stream = await client().responses.create({
      model: MODEL,
      input: window,
      stream: true,
      context_management: [{ type: 'compaction', compact_threshold: 20 }],
    });
    const events = await collect(stream as unknown as AsyncIterable<ResponseStreamEvent>);
    const items = events.filter((e) => e.type === 'response.output_item.added' || e.type === 'response.output_item.done');
    const compacting = events.findIndex((e) => e.type === 'response.compaction.compacting');
    expect(compacting).toBeGreaterThan(events.indexOf(items[0]));
    expect(compacting).toBeLessThan(events.indexOf(items[1]));
    expect(items.map((e) => `${e.type.slice(21)}:${(e as { item: { type: string } }).item.type}:${(e as { output_index: number }).output_index}`)).toEqual([
      'added:compaction:0',
      'done:compaction:0',
      'added:message:1',
      'done:message:1',
    ]);
    const completed = events.at(-1) as Extract<ResponseStreamEvent, { type: 'response.completed' }>;
    expect(completed.type).toBe('response.completed');
    expect(compactionOf(completed.response.output).encrypted_content).toMatch(/^v2\./);
  });

  it('a final compaction_trigger item (Codex) answers exactly one compaction item, with the compacting event, and no model answer', async () => {
    e2e.upstream.enqueue({ text: SUMMARY });
    const stream = await client().responses.create({
      model: MODEL,
      store: false,
      stream: true,
      input: [...window, { type: 'compaction_trigger' }] as ResponseInputItem[],
    });
    const events = await collect(stream as unknown as AsyncIterable<ResponseStreamEvent>);
    expect(events.map((e) => e.type)).toEqual([
      'response.created',
      'response.in_progress',
      'response.output_item.added',
      'response.compaction.compacting',
      'response.output_item.done',
      'response.completed',
    ]);
    const completed = events.at(-1) as Extract<ResponseStreamEvent, { type: 'response.completed' }>;
    expect(completed.response.output.map((i) => i.type)).toEqual(['compaction']);
    const compacting = events[3] as Extract<ResponseStreamEvent, { type: 'response.compaction.compacting' }>;
    expect(compacting).toMatchObject({ item_id: completed.response.output[0].id, output_index: 0 });
    expect(e2e.upstream.requests).toHaveLength(1);

    // Codex's next turn: its user messages, the compaction item (without its id), the new input.
    e2e.upstream.enqueue({ text: 'continued' });
    const item = compactionOf(completed.response.output);
    const next = await client().responses.create({
      model: MODEL,
      store: false,
      input: [user('rename hello.txt to hi.txt'), { type: 'compaction', encrypted_content: item.encrypted_content }, user('go on')] as ResponseInputItem[],
    });
    expect(next.status).toBe('completed');
    expect(textOf(sent(1).messages)).toContain(SUMMARY);
  });

  it('compacts in background mode too', async () => {
    e2e.upstream.enqueue({ text: SUMMARY }, { text: 'background answer' });
    const queued = await client().responses.create({
      model: MODEL,
      background: true,
      input: window,
      context_management: [{ type: 'compaction', compact_threshold: 20 }],
    });
    const done = await waitFor(
      () => client().responses.retrieve(queued.id),
      (r) => r.status === 'completed',
    );
    expect(done.output.map((i) => i.type)).toEqual(['compaction', 'message']);
  });
});

describe('context windows: truncation "auto", a threshold from the window, the upstream tokenizer', () => {
  const e2e = useE2e({
    env: (upstream) => {
      const path = join(mkdtempSync(join(tmpdir(), 'rg-compaction-')), 'models.json');
      writeFileSync(
        path,
        JSON.stringify({
          providers: [
            { name: 'vllm', baseUrl: upstream.url, tokenizer: 'vllm' },
            { name: 'plain', baseUrl: upstream.url },
          ],
          models: [
            { id: 'small', provider: 'vllm', contextWindow: 400 },
            { id: 'unknown-window', provider: 'plain' },
          ],
        }),
      );
      return { MODELS_CONFIG: path, SECRETS_KEY };
    },
    resetUpstream: true,
  });
  const sent = (i: number) => e2e.upstream.requests[i].body as { messages: ChatMessage[] };
  /** A long agent history: 30 tool rounds of ~20 tokens each, then the question. */
  const long: ResponseInputItem[] = [
    user('start the job'),
    ...(Array.from({ length: 30 }, (_, i) => [
      { type: 'function_call', call_id: `call_${i}`, name: 'shell', arguments: `{"cmd":"step ${i} of the long job, with some words"}` },
      { type: 'function_call_output', call_id: `call_${i}`, output: `output of step ${i}: fine, nothing to report at all` },
    ]).flat() as ResponseInputItem[]),
    user('LAST-QUESTION: are we done?'),
  ];

  it('truncation "auto" drops the oldest items, never the instructions nor half of a tool pair, until the prompt fits the window', async () => {
    e2e.upstream.enqueue({ text: 'yes' });
    const res = await e2e.client.responses.create({ model: 'small', instructions: 'INSTRUCTIONS', input: long, truncation: 'auto', max_output_tokens: 50 });
    expect(res.status).toBe('completed');
    expect(res.truncation).toBe('auto');
    const messages = sent(0).messages;
    expect(messages[0]).toEqual({ role: 'system', content: 'INSTRUCTIONS' });
    expect(JSON.stringify(messages.at(-1))).toContain('LAST-QUESTION');
    expect(messages.length).toBeLessThan(62);
    const calls = new Set(messages.flatMap((m) => (m.tool_calls ?? []) as Array<{ id: string }>).map((c) => c.id));
    for (const m of messages as Array<ChatMessage & { tool_call_id?: string }>) if (m.role === 'tool') expect(calls.has(m.tool_call_id!)).toBe(true);
    // Counted by the upstream's own tokenizer, and within the window less the reply's reserve.
    expect(e2e.upstream.tokenizeRequests.length).toBeGreaterThan(0);
    const counted = await fetch(new URL('/tokenize', e2e.upstream.url), { method: 'POST', body: JSON.stringify({ model: 'small', messages }) });
    expect(((await counted.json()) as { count: number }).count).toBeLessThanOrEqual(400 - 50);
  });

  it("refuses truncation 'auto' for a model whose window it does not know; with 'disabled' an upstream context error is a clear 400", async () => {
    const refused = await post(e2e.url, '', { model: 'unknown-window', input: 'x', truncation: 'auto' }, 'k');
    expect(refused.status).toBe(400);
    expect(refused.json.error).toMatchObject({ param: 'truncation', code: 'unsupported_parameter' });

    e2e.upstream.enqueue({ status: 400, errorMessage: "This model's maximum context length is 400 tokens. However, you requested 900 tokens." });
    const tooLong = await post(e2e.url, '', { model: 'small', input: long }, 'k');
    expect(tooLong.status).toBe(400);
    expect(tooLong.json.error).toMatchObject({ param: 'input', type: 'invalid_request_error' });
    expect(String(tooLong.json.error.message)).toMatch(/context window.*truncation 'auto'/);
  });

  it('context_management without a threshold compacts past 80 % of the window, counted by the upstream tokenizer', async () => {
    e2e.upstream.enqueue({ text: SUMMARY }, { text: 'done' });
    const res = await e2e.client.responses.create({ model: 'small', input: long, context_management: [{ type: 'compaction' }] });
    expect(res.output.map((i) => i.type)).toEqual(['compaction', 'message']);
    expect(textOf(sent(1).messages)).toContain(SUMMARY);
    expect(textOf(sent(1).messages)).not.toContain('output of step 3:');
    expect(e2e.upstream.tokenizeRequests.length).toBeGreaterThan(0);

    e2e.upstream.enqueue({ text: 'short' });
    const short = await e2e.client.responses.create({ model: 'small', input: 'hi', context_management: [{ type: 'compaction' }] });
    expect(short.output.map((i) => i.type)).toEqual(['message']);
  });
});
