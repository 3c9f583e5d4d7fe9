import { readFileSync } from 'node:fs';
import { Logger } from '@nestjs/common';
import { countTokens } from 'gpt-tokenizer/encoding/o200k_base';
import type { ChatCompletionMessageParam, ChatCompletionTool } from 'openai/resources/chat/completions';
import { llama3PromptTokens, startFakeUpstream, type FakeUpstream } from '../../test/support/fake-upstream';
import { EchoBackend } from './echo-backend';
import type { ResolvedModel } from './model-registry';
import { OpenAIChatBackend } from './openai-chat-backend';
import { EXACT_CHARS, estimateTokens, IMAGE_TOKENS, IMAGE_TOKENS_LOW, REPLY_PRIMING_TOKENS, TokenCounter, TOKENS_PER_MESSAGE } from './token-counter';
import { UpstreamHttp } from './upstream-http';

const user = (content: ChatCompletionMessageParam['content']): ChatCompletionMessageParam => ({ role: 'user', content }) as ChatCompletionMessageParam;
const framing = (messages: number) => REPLY_PRIMING_TOKENS + messages * TOKENS_PER_MESSAGE;
const tool: ChatCompletionTool = {
  type: 'function',
  function: { name: 'weather', description: 'The weather in a city.', parameters: { type: 'object', properties: { city: { type: 'string' } } } },
};

describe('estimateTokens (o200k_base with OpenAI’s message framing)', () => {
  it("counts each message's role and text, 3 tokens a message and 3 for the reply's priming", () => {
    // "user" is 1 token, "Hello world!" 3.
    expect(estimateTokens({ messages: [user('Hello world!')] })).toBe(framing(1) + 1 + 3);
    expect(estimateTokens({ messages: [user([{ type: 'text', text: 'Hello world!' }])] })).toBe(framing(1) + 1 + 3);
    expect(estimateTokens({ messages: [] })).toBe(REPLY_PRIMING_TOKENS);
  });

  it("counts the assistant's tool calls and reasoning sent back, and the tools as their JSON", () => {
    const call: ChatCompletionMessageParam = {
      role: 'assistant',
      content: null,
      tool_calls: [{ id: 'c1', type: 'function', function: { name: 'weather', arguments: '{"city":"Oslo"}' } }],
    };
    const plain = estimateTokens({ messages: [user('Weather?')] });
    const withCall = estimateTokens({ messages: [user('Weather?'), call] });
    expect(withCall - plain).toBe(TOKENS_PER_MESSAGE + countTokens('assistant') + TOKENS_PER_MESSAGE + countTokens('weather') + countTokens('{"city":"Oslo"}'));
    const reasoning = { ...call, reasoning: 'The user wants the weather.' } as ChatCompletionMessageParam;
    expect(estimateTokens({ messages: [user('Weather?'), reasoning] }) - withCall).toBe(countTokens('The user wants the weather.'));
    expect(estimateTokens({ messages: [user('Weather?')], tools: [tool] }) - plain).toBe(countTokens(JSON.stringify([tool])));
  });

  it('counts images at a fixed estimate (85 at low detail) and files from their size', () => {
    const image = (detail?: 'low' | 'high') => user([{ type: 'image_url', image_url: { url: 'data:image/png;base64,AAAA', ...(detail ? { detail } : {}) } }]);
    const base = framing(1) + 1;
    expect(estimateTokens({ messages: [image('low')] })).toBe(base + IMAGE_TOKENS_LOW);
    expect(estimateTokens({ messages: [image()] })).toBe(base + IMAGE_TOKENS);
    const file = user([{ type: 'file', file: { file_data: 'A'.repeat(4000), filename: 'a.pdf' } }]);
    expect(estimateTokens({ messages: [file] })).toBe(base + 750); // 3000 bytes, a quarter of them
  });

  it('counts special-token look-alikes in text as text instead of throwing', () => {
    expect(estimateTokens({ messages: [user('quote <|endoftext|> and <|im_start|>')] })).toBeGreaterThan(framing(1));
  });

  it('counts text past EXACT_CHARS at the ratio measured on the rest, close to the exact count', () => {
    const code = readFileSync(__filename, 'utf8');
    const long = code.repeat(Math.ceil((3 * EXACT_CHARS) / code.length));
    const exact = countTokens(long, { disallowedSpecial: new Set() }) + framing(1) + 1;
    const estimate = estimateTokens({ messages: [user(long)] });
    expect(Math.abs(estimate - exact) / exact).toBeLessThan(0.02);
  });

  it('counts a run longer than BPE can take in slices, close to its exact count, and bounds adversarial input', () => {
    const run = 'a'.repeat(10_000);
    const exact = countTokens(run);
    const estimate = estimateTokens({ messages: [user(run)] }) - framing(1) - 1;
    expect(Math.abs(estimate - exact) / exact).toBeLessThan(0.05);
    // 2 million characters of random letters (one piece to BPE) is counted, not hung on.
    const letters = Array.from({ length: 997 }, (_, i) => String.fromCharCode(97 + ((i * 7919) % 26)))
      .join('')
      .repeat(2006);
    expect(estimateTokens({ messages: [user(letters)] })).toBeGreaterThan(100_000);
  });
});

describe('TokenCounter', () => {
  let upstream: FakeUpstream;
  const counter = new TokenCounter();
  const messages: ChatCompletionMessageParam[] = [
    { role: 'system', content: 'You are terse.' },
    user('How many tokens is this sentence, counted by the upstream itself?'),
  ];
  const model = (tokenizer: 'vllm' | 'estimate' | undefined, extra: Partial<ResolvedModel> = {}, baseUrl?: string): ResolvedModel => ({
    id: 'm',
    upstreamModel: 'upstream-m',
    maxTokensParam: 'max_tokens',
    backend: new OpenAIChatBackend({ name: 'fake', baseUrl: baseUrl ?? upstream.url, timeoutMs: 2000, maxRetries: 0, tokenizer }),
    ...extra,
  });

  beforeAll(async () => {
    upstream = await startFakeUpstream();
    await llama3PromptTokens({}); // loads the fake's tokenizer: its first load can outlast the gateway's 5 s for a count
  });
  afterAll(() => upstream.close());
  afterEach(() => {
    upstream.reset();
    jest.restoreAllMocks();
  });

  it("takes the upstream tokenizer's count (vLLM /tokenize, chat form) and its max_model_len", async () => {
    upstream.setTokenizer({ maxModelLen: 32768 });
    const count = await counter.count(model('vllm'), { messages, tools: [tool] });
    expect(count).toEqual({ tokens: await llama3PromptTokens({ messages, tools: [tool] }), source: 'upstream', contextWindow: 32768 });
    expect(upstream.tokenizeRequests).toHaveLength(1);
    expect(upstream.tokenizeRequests[0].body).toEqual({ model: 'upstream-m', messages, tools: [tool], add_generation_prompt: true });
    expect(upstream.requests).toHaveLength(0);
  });

  it('prefers the configured context window to the one the upstream reports', async () => {
    expect(await counter.count(model('vllm', { contextWindow: 4096 }), { messages })).toMatchObject({ source: 'upstream', contextWindow: 4096 });
  });

  it('estimates when the provider has no tokenizer, without asking the upstream', async () => {
    expect(await counter.count(model(undefined), { messages })).toEqual({ tokens: estimateTokens({ messages }), source: 'estimate' });
    expect(await counter.count(model('estimate', { contextWindow: 4096 }), { messages })).toEqual({
      tokens: estimateTokens({ messages }),
      source: 'estimate',
      contextWindow: 4096,
    });
    expect(await counter.count(null, { messages })).toEqual({ tokens: estimateTokens({ messages }), source: 'estimate' });
    const echo: ResolvedModel = { id: 'echo', upstreamModel: 'echo', maxTokensParam: 'max_tokens', backend: new EchoBackend() };
    expect(await counter.count(echo, { messages })).toMatchObject({ source: 'estimate' });
    expect(upstream.tokenizeRequests).toHaveLength(0);
  });

  it('falls back to the estimate when /tokenize fails, logging that once until it answers again', async () => {
    const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    const failing = model('vllm');
    upstream.setTokenizer({ status: 500 });
    expect(await counter.count(failing, { messages })).toEqual({ tokens: estimateTokens({ messages }), source: 'estimate' });
    expect(await counter.count(failing, { messages })).toMatchObject({ source: 'estimate' });
    expect(warn).toHaveBeenCalledTimes(1);
    upstream.setTokenizer({});
    expect(await counter.count(failing, { messages })).toMatchObject({ source: 'upstream' });
    upstream.setTokenizer({ status: 404 });
    expect(await counter.count(failing, { messages })).toMatchObject({ source: 'estimate' });
    expect(warn).toHaveBeenCalledTimes(2);
  });

  it('tries the next replica when one does not answer', async () => {
    const down = new OpenAIChatBackend({ name: 'pair', baseUrl: ['http://127.0.0.1:9/v1', upstream.url], timeoutMs: 2000, maxRetries: 0, tokenizer: 'vllm' });
    const pair: ResolvedModel = { id: 'm', upstreamModel: 'm', maxTokensParam: 'max_tokens', backend: down };
    for (let i = 0; i < 2; i++) expect(await counter.count(pair, { messages })).toMatchObject({ source: 'upstream' });
  });
});

describe('UpstreamHttp.rootPath (where /tokenize is)', () => {
  const at = (baseUrl: string) =>
    new URL(new UpstreamHttp({ provider: 'p', baseUrl, timeoutMs: 1 }).rootPath('tokenize'), `${baseUrl.replace(/\/?$/, '/')}`).href;
  it('is beside /v1, or under a base without it', () => {
    expect(at('http://h:8000/v1')).toBe('http://h:8000/tokenize');
    expect(at('http://h:8000/vllm/v1/')).toBe('http://h:8000/vllm/tokenize');
    expect(at('http://h:8000/api')).toBe('http://h:8000/api/tokenize');
  });
});
