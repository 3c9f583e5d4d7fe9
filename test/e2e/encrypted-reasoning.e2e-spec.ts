import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type OpenAI from 'openai';
import type { ResponseReasoningItem, ResponseStreamEvent } from 'openai/resources/responses/responses';
import { storeBackends } from '../support/backends';
import { startApp } from '../support/app';
import { useE2e } from '../support/e2e';
import { collect } from '../support/streams';

const MODEL = 'm';
const SECRETS_KEY = 'a-test-secret-key-of-enough-length';
type ChatMessage = {
  role: string;
  content: unknown;
  reasoning?: string;
  reasoning_content?: string;
  tool_calls?: Array<{ id: string }>;
  tool_call_id?: string;
};
type InputItem = Record<string, unknown>;

/** What Codex 0.171 sends on every turn (captures 03/04): the fields that matter here. */
const codexBody = (input: InputItem[], extra: Record<string, unknown> = {}) => ({
  model: MODEL,
  input,
  tool_choice: 'auto',
  parallel_tool_calls: true,
  reasoning: { effort: 'medium' },
  store: false,
  include: ['reasoning.encrypted_content'],
  prompt_cache_key: '01a231d9-57ab-77a1-a34f-083515b24474',
  tools: [
    {
      type: 'function',
      name: 'exec_command',
      description: 'Runs a command.',
      strict: false,
      parameters: { type: 'object', properties: { cmd: { type: 'string' } } },
    },
  ],
  ...extra,
});

const firstTurn: InputItem[] = [
  { type: 'message', id: 'msg_dev', role: 'developer', content: [{ type: 'input_text', text: 'You are Codex.' }] },
  { type: 'message', id: 'msg_user', role: 'user', content: [{ type: 'input_text', text: 'read hello.txt' }] },
];

/** A reasoning item as Codex replays it: summary kept, `content: null`, the sealed value as sent. */
const replayed = (item: ResponseReasoningItem): InputItem => ({
  type: 'reasoning',
  id: item.id,
  summary: item.summary,
  content: null,
  encrypted_content: item.encrypted_content,
});

async function post(url: string, body: unknown, apiKey = 'sk-a'): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(`${url}/v1/responses`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${apiKey}` },
    body: JSON.stringify(body),
  });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

const reasoningOf = (output: unknown): ResponseReasoningItem => (output as ResponseReasoningItem[]).find((i) => i.type === 'reasoning')!;

describe('encrypted reasoning (include: reasoning.encrypted_content)', () => {
  const e2e = useE2e({
    env: (upstream) => ({ INFERENCE_BASE_URL: upstream.url, SECRETS_KEY, API_KEYS: 'sk-a:team-a,sk-b:team-b' }),
    resetUpstream: true,
  });
  const sent = (i: number) => e2e.upstream.requests[i].body as { messages: ChatMessage[] };
  const client = (): OpenAI => e2e.as('sk-a');

  it('seals streamed reasoning on output_item.done and response.completed (not on added), and replays it opened on the next stateless turn', async () => {
    e2e.upstream.enqueue({
      reasoning: 'I should read the file.',
      text: 'Reading the file first.',
      toolCalls: [{ id: 'call_1', name: 'exec_command', arguments: '{"cmd":"cat hello.txt"}' }],
    });
    const stream = (await client().responses.create({ ...codexBody(firstTurn), stream: true } as never)) as unknown as AsyncIterable<ResponseStreamEvent>;
    const events = await collect(stream);
    const added = events.find((e) => e.type === 'response.output_item.added' && e.item.type === 'reasoning') as Extract<
      ResponseStreamEvent,
      { type: 'response.output_item.added' }
    >;
    const done = events.find((e) => e.type === 'response.output_item.done' && e.item.type === 'reasoning') as Extract<
      ResponseStreamEvent,
      { type: 'response.output_item.done' }
    >;
    const completed = events.at(-1) as Extract<ResponseStreamEvent, { type: 'response.completed' }>;
    expect(added.item).not.toHaveProperty('encrypted_content');
    const reasoning = done.item as ResponseReasoningItem;
    expect(reasoning.encrypted_content).toMatch(/^v2\./);
    expect(reasoning.encrypted_content).not.toContain('read the file');
    expect(reasoningOf(completed.response.output)).toEqual(reasoning);

    // Codex's next request: the whole history again, the reasoning item with content null.
    const [message, call] = completed.response.output.slice(1) as unknown as InputItem[];
    e2e.upstream.enqueue({ reasoning: 'It says hello.', text: 'The file says hello.' });
    const second = await post(
      e2e.url,
      codexBody([
        ...firstTurn,
        replayed(reasoning),
        { ...message, phase: 'commentary' },
        call,
        { type: 'function_call_output', id: 'fco_1', call_id: 'call_1', output: 'hello\n' },
      ]),
    );
    expect(second.status).toBe(200);
    expect(sent(1).messages.slice(2)).toEqual([
      {
        role: 'assistant',
        content: 'Reading the file first.',
        reasoning: 'I should read the file.',
        tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'exec_command', arguments: '{"cmd":"cat hello.txt"}' } }],
      },
      { role: 'tool', tool_call_id: 'call_1', content: 'hello\n' },
    ]);
    expect(reasoningOf(second.json.output).encrypted_content).toMatch(/^v2\./);
  });

  it('seals non-streamed reasoning too, and leaves encrypted_content out without the include', async () => {
    e2e.upstream.enqueue({ reasoning: 'Thinking.', text: 'Hi.' }, { reasoning: 'Thinking.', text: 'Hi.' });
    const sealed = await post(e2e.url, codexBody(firstTurn));
    expect(sealed.status).toBe(200);
    expect(reasoningOf(sealed.json.output)).toMatchObject({
      content: [{ type: 'reasoning_text', text: 'Thinking.' }],
      encrypted_content: expect.stringMatching(/^v2\./),
    });
    const plain = await post(e2e.url, codexBody(firstTurn, { include: [] }));
    expect(reasoningOf(plain.json.output)).not.toHaveProperty('encrypted_content');
  });

  it('refuses a value it cannot open with a 400 naming the item — tampered, other item, other tenant — and calls no model', async () => {
    e2e.upstream.enqueue({ reasoning: 'Secret thought.', text: 'Hi.' });
    const reasoning = reasoningOf((await post(e2e.url, codexBody(firstTurn))).json.output);
    const sealed = reasoning.encrypted_content!;
    // The first character of the ciphertext: every bit of it counts (a last one may carry padding bits only).
    const tampered = sealed.replace(/\.([^.])([^.]*)$/, (_m, c: string, rest: string) => `.${c === 'A' ? 'B' : 'A'}${rest}`);
    expect(tampered).not.toBe(sealed);
    const cases: Array<[InputItem, string]> = [
      [{ ...replayed(reasoning), encrypted_content: tampered }, 'sk-a'],
      [{ ...replayed(reasoning), id: 'rs_another' }, 'sk-a'],
      [replayed(reasoning), 'sk-b'],
    ];
    for (const [item, key] of cases) {
      const answer = await post(e2e.url, codexBody([...firstTurn, item, { type: 'message', role: 'user', content: 'go on' }], { store: true }), key);
      expect(answer.status).toBe(400);
      expect(answer.json.error).toMatchObject({ type: 'invalid_request_error', param: 'input[2].encrypted_content', code: 'invalid_encrypted_content' });
      expect((answer.json.error as { message: string }).message).toContain(String(item.id));
    }
    expect(e2e.upstream.requests).toHaveLength(1);
  });

  it('stores the plaintext with store: true and replays it through previous_response_id', async () => {
    e2e.upstream.enqueue({ reasoning: 'Stored thought.', text: 'First.' }, { text: 'Second.' });
    const first = await post(e2e.url, codexBody(firstTurn, { store: true }));
    const stored = await client().responses.retrieve(String(first.json.id));
    expect(reasoningOf(stored.output).content).toEqual([{ type: 'reasoning_text', text: 'Stored thought.' }]);
    await post(e2e.url, { model: MODEL, input: 'and then?', previous_response_id: first.json.id });
    expect(sent(1).messages.find((m) => m.role === 'assistant')).toEqual({ role: 'assistant', content: 'First.', reasoning: 'Stored thought.' });
  });

  it('opens on another API process with the same SECRETS_KEY, and after a rotation with the old key in SECRETS_KEY_PREVIOUS', async () => {
    e2e.upstream.enqueue({ reasoning: 'Portable thought.', text: 'Hi.' });
    const reasoning = reasoningOf((await post(e2e.url, codexBody(firstTurn))).json.output);
    const env = { DATA_DIR: 'memory://', INFERENCE_BASE_URL: e2e.upstream.url, API_KEYS: 'sk-a:team-a' };
    for (const keys of [
      { SECRETS_KEY } as Record<string, string>,
      { SECRETS_KEY: 'the-next-secret-key-of-enough-length', SECRETS_KEY_PREVIOUS: SECRETS_KEY },
    ]) {
      const other = await startApp({ ...env, ...keys });
      try {
        e2e.upstream.enqueue({ text: 'Still here.' });
        const answer = await post(other.url, codexBody([...firstTurn, replayed(reasoning), { type: 'message', role: 'assistant', content: 'Hi.' }]));
        expect(answer.status).toBe(200);
        expect(sent(e2e.upstream.requests.length - 1).messages[2]).toEqual({ role: 'assistant', content: 'Hi.', reasoning: 'Portable thought.' });
      } finally {
        await other.close();
      }
    }
  }, 120_000); // two more first starts on empty databases
});

describe.each(storeBackends('encrypted reasoning without SECRETS_KEY'))('encrypted reasoning without SECRETS_KEY ($name)', (backend) => {
  const e2e = useE2e({ backend, env: (upstream) => ({ INFERENCE_BASE_URL: upstream.url }), resetUpstream: true });

  it(
    backend.name === 'pglite'
      ? 'seals with the key the embedded server keeps in DATA_DIR'
      : 'refuses the include with Postgres, naming SECRETS_KEY (its processes would not share a generated key)',
    async () => {
      e2e.upstream.setDefault({ reasoning: 'Thought.', text: 'Hi.' });
      const answer = await post(e2e.url, codexBody(firstTurn));
      if (backend.name === 'pglite') {
        expect(answer.status).toBe(200);
        expect(reasoningOf(answer.json.output).encrypted_content).toMatch(/^v2\./);
      } else {
        expect(answer.status).toBe(400);
        expect(answer.json.error).toMatchObject({ param: 'include', code: 'unsupported_parameter', message: expect.stringContaining('SECRETS_KEY') });
      }
    },
  );
});

describe('encrypted reasoning on an embedded server whose key file is unusable', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'gw-badkey-'));
  writeFileSync(join(dataDir, 'secrets.key'), '\n'); // no key in it: what a crash mid-write could leave
  const e2e = useE2e({ env: (upstream) => ({ INFERENCE_BASE_URL: upstream.url, DATA_DIR: dataDir }), resetUpstream: true });
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it('answers requests that do not seal or open reasoning, and refuses those that do with a 400 naming the field', async () => {
    e2e.upstream.setDefault({ reasoning: 'Thought.', text: 'Hi.' });
    expect((await post(e2e.url, { model: MODEL, input: 'hi' })).status).toBe(200);
    const include = await post(e2e.url, codexBody(firstTurn));
    expect(include.status).toBe(400);
    expect(include.json.error).toMatchObject({ param: 'include', code: 'unsupported_parameter', message: expect.stringContaining('SECRETS_KEY') });
    const replay = await post(e2e.url, {
      ...codexBody([{ type: 'reasoning', id: 'rs_1', summary: [], encrypted_content: 'v2.x.y.z.w' }, ...firstTurn]),
      include: [],
    });
    expect(replay.status).toBe(400);
    expect(replay.json.error).toMatchObject({ param: 'input[0].encrypted_content', code: 'unsupported_parameter' });
  });
});
