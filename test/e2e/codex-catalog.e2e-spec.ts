import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type OpenAI from 'openai';
import { waitFor } from '../support/wait';
import { useE2e } from '../support/e2e';
import { type FakeUpstream, startFakeUpstream } from '../support/fake-upstream';

/** What Codex 0.171 sends with `model_catalog_url` (captured from the real binary). */
const CODEX_CATALOG_HEADERS = {
  authorization: 'Bearer dummy',
  originator: 'codex_exec',
  'user-agent': 'codex_exec/0.171.0 (Debian 12.0.0; x86_64) xterm (codex_exec; 0.171.0)',
  accept: '*/*',
};

/** A Codex turn over HTTP, in the captured shape (tools trimmed to one function; `id`s on every input item). */
function codexTurn(thread: string, prompt: string) {
  const turnMetadata = JSON.stringify({ session_id: thread, thread_id: thread, turn_id: `${thread}-t`, request_kind: 'turn', model: 'coder' });
  return {
    headers: {
      authorization: 'Bearer dummy',
      originator: 'codex_exec',
      'user-agent': 'codex_exec/0.171.0 (Debian 12.0.0; x86_64) xterm (codex_exec; 0.171.0)',
      accept: 'text/event-stream',
      'content-type': 'application/json',
      'session-id': thread,
      'thread-id': thread,
      'x-client-request-id': thread,
      'x-codex-window-id': `${thread}:0`,
      'x-codex-beta-features': 'remote_compaction_v2',
      'x-codex-turn-metadata': turnMetadata,
    },
    body: {
      model: 'coder',
      stream: true,
      input: [
        { type: 'message', id: `msg_${thread}-0`, role: 'developer', content: [{ type: 'input_text', text: 'You are a coding agent.' }] },
        {
          type: 'message',
          id: `msg_${thread}-1`,
          role: 'user',
          content: [{ type: 'input_text', text: '<environment_context>\n  <cwd>/tmp/w</cwd>\n</environment_context>' }],
        },
        { type: 'message', id: `msg_${thread}-2`, role: 'user', content: [{ type: 'input_text', text: prompt }] },
      ],
      tools: [
        {
          type: 'function',
          name: 'exec_command',
          description: 'Runs a command in a PTY, returning output or a session ID for ongoing interaction.',
          strict: false,
          parameters: { type: 'object', properties: { cmd: { type: 'string' } }, required: ['cmd'], additionalProperties: false },
        },
      ],
      tool_choice: 'auto',
      parallel_tool_calls: true,
      reasoning: {},
      store: false,
      prompt_cache_key: thread,
      client_metadata: {
        'x-codex-installation-id': '04de9604-589e-4f3c-afa4-a8270b6b641c',
        session_id: thread,
        thread_id: thread,
        'x-codex-window-id': `${thread}:0`,
        turn_id: `${thread}-t`,
        root_turn_id: `${thread}-t`,
        'x-codex-turn-metadata': turnMetadata,
      },
    },
  };
}

function modelsConfig(content: unknown): string {
  const path = join(mkdtempSync(join(tmpdir(), 'rg-codex-')), 'models.json');
  writeFileSync(path, JSON.stringify(content));
  return path;
}

describe('Codex model catalog and replica affinity (MODELS_CONFIG with two replicas)', () => {
  let replica2: FakeUpstream;
  beforeAll(async () => (replica2 = await startFakeUpstream()));
  afterAll(() => replica2.close());
  beforeEach(() => replica2.reset());

  const e2e = useE2e({
    resetUpstream: true,
    env: (upstream) => ({
      MODELS_CONFIG: modelsConfig({
        providers: [{ name: 'vllm', baseUrls: [upstream.url, replica2.url] }],
        models: [
          { id: 'coder', provider: 'vllm', codex: { contextWindow: 65536, reasoningLevels: ['low', 'medium'], defaultReasoningLevel: 'medium' } },
          { id: 'plain', provider: 'vllm', upstreamModel: 'upstream-model' },
        ],
      }),
    }),
  });
  const get = (query = '') => fetch(`${e2e.url}/v1/models${query}`, { headers: CODEX_CATALOG_HEADERS });

  it('keeps the plain OpenAI list for clients that do not send client_version', async () => {
    const body = (await (await get()).json()) as Record<string, unknown>;
    expect(Object.keys(body).sort()).toEqual(['data', 'object']);
    const listed = await e2e.client.models.list();
    expect(listed.data.map((m) => m.id).sort()).toEqual(['coder', 'echo', 'plain']);
  });

  it("serves Codex's catalog next to the OpenAI list for GET /v1/models?client_version=", async () => {
    const reply = await get('?client_version=0.171.0');
    expect(reply.status).toBe(200);
    const body = (await reply.json()) as { object: string; data: { id: string; object: string }[]; models: Record<string, unknown>[] };
    expect(body.object).toBe('list');
    expect(body.data.map((m) => m.id)).toEqual(body.models.map((m) => m.slug));
    const [coder, plain, echo] = body.models;
    expect(coder).toMatchObject({
      slug: 'coder',
      context_window: 65536,
      default_reasoning_level: 'medium',
      supported_reasoning_levels: [expect.objectContaining({ effort: 'low' }), expect.objectContaining({ effort: 'medium' })],
      apply_patch_tool_type: 'freeform',
      supports_search_tool: false,
    });
    expect(plain).toMatchObject({ slug: 'plain', apply_patch_tool_type: 'freeform', supports_search_tool: false, supported_reasoning_levels: [] });
    expect(plain).not.toHaveProperty('web_search_tool_type');
    expect(echo).toMatchObject({ slug: 'echo', visibility: 'hide' });
    // The openai SDK reads the combined body as a plain page (it ignores `models`).
    const page = await e2e.client.models.list({ query: { client_version: '0.171.0' } });
    expect(page.data.map((m) => m.id)).toEqual(['coder', 'plain', 'echo']);
  });

  it('refuses a malformed client_version with an OpenAI-format 400 naming it', async () => {
    const reply = await get('?client_version=a&client_version=b');
    expect(reply.status).toBe(400);
    expect(await reply.json()).toMatchObject({ error: { type: 'invalid_request_error', param: 'client_version' } });
  });

  it('keeps the background responses of one continuation_id on one replica (their shared prefix cache)', async () => {
    const replica1 = e2e.upstream;
    const before = [replica1.requests.length, replica2.requests.length];
    for (let i = 0; i < 4; i++) {
      const created = await e2e.client.responses.create({
        model: 'plain',
        input: `step ${i}`,
        background: true,
        background_options: { continuation_id: 'nightly-7' },
      } as OpenAI.Responses.ResponseCreateParamsNonStreaming);
      await waitFor(
        () => e2e.client.responses.retrieve(created.id),
        (r) => r.status === 'completed',
        20_000,
      );
    }
    expect([replica1.requests.length - before[0], replica2.requests.length - before[1]].sort()).toEqual([0, 4]);
  });

  it("accepts Codex's turn (its headers, client_metadata, item ids) and keeps one prompt_cache_key on one replica", async () => {
    const replica1 = e2e.upstream;
    const send = async (thread: string, prompt: string) => {
      const turn = codexTurn(thread, prompt);
      const reply = await fetch(`${e2e.url}/v1/responses`, { method: 'POST', headers: turn.headers, body: JSON.stringify(turn.body) });
      const text = await reply.text();
      expect({ status: reply.status, text: reply.status === 200 ? '' : text }).toEqual({ status: 200, text: '' });
      expect(text).toContain('event: response.completed');
    };
    for (let i = 0; i < 3; i++) await send('01a231e1-95be-73e1-9b34-e4bdc2b3f2bf', `turn ${i}`);
    const counts = [replica1.requests.length, replica2.requests.length];
    expect(counts.sort()).toEqual([0, 3]);
    // Other threads spread over both replicas.
    for (let i = 0; i < 12; i++) await send(`thread-${i}`, 'hi');
    expect(replica1.requests.length).toBeGreaterThan(0);
    expect(replica2.requests.length).toBeGreaterThan(0);
    expect(replica1.requests.length + replica2.requests.length).toBe(15);
  });

  it('accepts the internal_chat_message_metadata_passthrough the openai_base_url form puts on every input item', async () => {
    const turn = codexTurn('thread-oai', 'hi');
    const input = turn.body.input.map((item) => ({
      ...item,
      internal_chat_message_metadata_passthrough: { turn_id: 'thread-oai-t', create_time: 1796133197, content_item_kinds: ['user.text'] },
    }));
    const reply = await fetch(`${e2e.url}/v1/responses`, { method: 'POST', headers: turn.headers, body: JSON.stringify({ ...turn.body, input }) });
    expect(reply.status).toBe(200);
    expect(await reply.text()).toContain('event: response.completed');
    const [sent] = [...e2e.upstream.requests, ...replica2.requests].map((r) => JSON.stringify(r.body));
    expect(sent).not.toContain('internal_chat_message_metadata_passthrough');
  });
});

describe('Codex model catalog behind INFERENCE_BASE_URL (passthrough)', () => {
  const e2e = useE2e({ env: (upstream) => ({ INFERENCE_BASE_URL: upstream.url }) });

  it('gives each model the upstream lists a default entry, in data and in models', async () => {
    const body = (await (await fetch(`${e2e.url}/v1/models?client_version=0.171.0`, { headers: CODEX_CATALOG_HEADERS })).json()) as {
      data: { id: string; owned_by: string }[];
      models: Record<string, unknown>[];
    };
    expect(body.data).toEqual([expect.objectContaining({ id: 'upstream-model', owned_by: 'default' }), expect.objectContaining({ id: 'echo' })]);
    expect(body.models[0]).toMatchObject({ slug: 'upstream-model', apply_patch_tool_type: 'freeform', supports_search_tool: false, visibility: 'list' });
    // The plain list is unchanged: it names the built-in model only and asks the upstream nothing.
    expect((await e2e.client.models.list()).data.map((m) => m.id)).toEqual(['echo']);
  });
});
