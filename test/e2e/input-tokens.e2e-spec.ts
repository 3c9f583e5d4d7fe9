import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { InputTokenCountParams } from 'openai/resources/responses/input-tokens';
import { useE2e } from '../support/e2e';
import { llama3PromptTokens } from '../support/fake-upstream';

function modelsConfig(content: unknown): string {
  const path = join(mkdtempSync(join(tmpdir(), 'rg-tokens-')), 'models.json');
  writeFileSync(path, JSON.stringify(content));
  return path;
}

const weather = {
  type: 'function' as const,
  name: 'weather',
  description: 'The weather in a city.',
  parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
  strict: false,
};

describe('POST /v1/responses/input_tokens (openai 7 responses.inputTokens.count)', () => {
  const e2e = useE2e({
    resetUpstream: true,
    env: (upstream) => ({
      MODELS_CONFIG: modelsConfig({
        providers: [
          { name: 'plain', baseUrl: upstream.url },
          { name: 'vllm', baseUrl: upstream.url, tokenizer: 'vllm' },
        ],
        models: [
          { id: 'est', provider: 'plain', upstreamModel: 'upstream-model' },
          { id: 'tok', provider: 'vllm', upstreamModel: 'upstream-model', contextWindow: 16384 },
        ],
      }),
    }),
  });

  beforeAll(() => llama3PromptTokens({})); // the fake's tokenizer loads once, before the first count waits on it

  const count = async (params: InputTokenCountParams) => {
    const { data, response } = await e2e.client.responses.inputTokens.count(params).withResponse();
    return { ...data, source: response.headers.get('x-token-count-source') };
  };

  it('estimates for a provider without a tokenizer, without asking the upstream anything', async () => {
    const counted = await count({ model: 'est', input: 'Hello world!' });
    // o200k_base: 3 (reply priming) + 3 (the message) + "user" 1 + "Hello world!" 3.
    expect(counted).toEqual({ object: 'response.input_tokens', input_tokens: 10, source: 'estimate' });
    expect(e2e.upstream.tokenizeRequests).toHaveLength(0);
    expect(e2e.upstream.requests).toHaveLength(0);
  });

  it("takes the upstream tokenizer's count for a `tokenizer: vllm` provider: the chat request a create would send", async () => {
    const params = { model: 'tok', instructions: 'Be brief.', input: 'What is the weather in Oslo?', tools: [weather] };
    const counted = await count(params);
    expect(counted.source).toBe('upstream');
    const [tokenize] = e2e.upstream.tokenizeRequests;
    expect(tokenize.body).toMatchObject({
      model: 'upstream-model',
      add_generation_prompt: true,
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: [{ type: 'text', text: 'What is the weather in Oslo?' }] },
      ],
      tools: [{ type: 'function', function: { name: 'weather' } }],
    });
    expect(counted.input_tokens).toBe(await llama3PromptTokens(tokenize.body as Record<string, unknown>));
    // The create itself sends the same prompt: the upstream counts the same number of input tokens.
    e2e.upstream.setDefault({ countPromptTokens: true });
    const created = await e2e.client.responses.create({ ...params, store: false });
    expect(created.usage?.input_tokens).toBe(counted.input_tokens);
    // Nothing but the create reached the chat endpoint.
    expect(e2e.upstream.requests).toHaveLength(1);
  });

  it('counts the previous_response_id chain, as the next create will send it', async () => {
    e2e.upstream.setDefault({ text: 'It rains in Oslo today, with a light wind from the west.' });
    const first = await e2e.client.responses.create({ model: 'tok', input: 'What is the weather in Oslo?' });
    const alone = await count({ model: 'tok', input: 'And tomorrow?' });
    const chained = await count({ model: 'tok', input: 'And tomorrow?', previous_response_id: first.id });
    expect(chained.source).toBe('upstream');
    expect(chained.input_tokens).toBeGreaterThan(alone.input_tokens);
    const estimated = await count({ model: 'est', input: 'And tomorrow?', previous_response_id: first.id });
    expect(estimated.input_tokens).toBeGreaterThan((await count({ model: 'est', input: 'And tomorrow?' })).input_tokens);
    e2e.upstream.setDefault({ countPromptTokens: true });
    const next = await e2e.client.responses.create({ model: 'tok', input: 'And tomorrow?', previous_response_id: first.id });
    expect(next.usage?.input_tokens).toBe(chained.input_tokens);
    // A chain alone (no input) is counted too.
    expect((await count({ model: 'tok', previous_response_id: next.id })).input_tokens).toBeGreaterThan(chained.input_tokens);
  });

  it('falls back to the estimate when the upstream tokenizer fails', async () => {
    e2e.upstream.setTokenizer({ status: 503 });
    const counted = await count({ model: 'tok', input: 'Hello world!' });
    expect(counted).toEqual({ object: 'response.input_tokens', input_tokens: 10, source: 'estimate' });
    expect(e2e.upstream.tokenizeRequests).toHaveLength(1);
  });

  it('estimates without a model, as OpenAI counts without one', async () => {
    expect(await count({ input: 'Hello world!' })).toEqual({ object: 'response.input_tokens', input_tokens: 10, source: 'estimate' });
    expect(e2e.upstream.tokenizeRequests).toHaveLength(0);
  });

  it("answers a create's errors: unknown model, bad input (with its param), unknown previous response", async () => {
    await expect(count({ model: 'nope', input: 'x' })).rejects.toMatchObject({ status: 400, code: 'model_not_found', param: 'model' });
    await expect(count({ model: 'est', input: [{ type: 'message', role: 'user', content: 42 }] as never })).rejects.toMatchObject({
      status: 400,
      param: expect.stringMatching(/^input\[0\]/),
    });
    await expect(count({ model: 'est', input: 7 as never })).rejects.toMatchObject({ status: 400, param: 'input' });
    await expect(count({ model: 'est', input: 'x', previous_response_id: 'resp_nope' })).rejects.toMatchObject({
      status: 400,
      code: 'previous_response_not_found',
      param: 'previous_response_id',
    });
    await expect(count({ model: 'est', input: 'x', tool_choice: { type: 'function', name: 'absent' } })).rejects.toMatchObject({
      status: 400,
      param: 'tool_choice.name',
    });
  });

  it('stores nothing and calls no model, even when sent create-only fields', async () => {
    // GET /v1/responses is this server's (the SDK has no list).
    const list = async () => ((await (await fetch(`${e2e.url}/v1/responses?limit=100`)).json()) as { data: { id: string }[] }).data.map((r) => r.id);
    const before = await list();
    expect(before.length).toBeGreaterThan(0); // the chain test's
    const body = { model: 'tok', input: 'Do not run me.', background: true, stream: true, store: true };
    const reply = await fetch(`${e2e.url}/v1/responses/input_tokens`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    expect(reply.status).toBe(200);
    expect(reply.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await reply.json()).toMatchObject({ object: 'response.input_tokens', input_tokens: expect.any(Number) });
    expect(await list()).toEqual(before);
    expect(e2e.upstream.requests).toHaveLength(0);
  });
});
