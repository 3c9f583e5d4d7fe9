import 'reflect-metadata';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startFakeUpstream, type FakeUpstream } from '../../test/support/fake-upstream';
import { AppConfig } from '../config/app-config';
import { parseEnvironment } from '../config/environment';
import { ModelRegistry } from './model-registry';

function registry(content: unknown): ModelRegistry {
  const path = join(mkdtempSync(join(tmpdir(), 'rg-reg-')), 'models.json');
  writeFileSync(path, JSON.stringify(content));
  return new ModelRegistry(new AppConfig(parseEnvironment({ DATA_DIR: 'memory://', MODELS_CONFIG: path })));
}

describe('ModelRegistry: context windows', () => {
  const models = registry({
    providers: [{ name: 'p', baseUrl: 'http://127.0.0.1:9/v1', tokenizer: 'vllm' }],
    models: [
      { id: 'sized', provider: 'p', contextWindow: 32768 },
      { id: 'codex-own', provider: 'p', contextWindow: 32768, codex: { contextWindow: 16384 } },
      { id: 'unsized', provider: 'p' },
    ],
    passthrough: 'p',
  });

  it("gives each model's contextWindow to its route (unset: none, also behind passthrough)", () => {
    expect(models.resolve('sized')?.contextWindow).toBe(32768);
    expect(models.resolve('unsized')?.contextWindow).toBeUndefined();
    expect(models.resolve('other')?.contextWindow).toBeUndefined();
  });

  it("tells Codex the model's contextWindow unless codex.contextWindow overrides it", async () => {
    const catalog = (await models.codexCatalog()).models;
    const entry = (slug: string) => catalog.find((m) => m.slug === slug);
    expect(entry('sized')?.context_window).toBe(32768);
    expect(entry('codex-own')?.context_window).toBe(16384);
    expect(entry('unsized')).not.toHaveProperty('context_window');
  });
});

describe('ModelRegistry: embeddings', () => {
  let upstream: FakeUpstream;
  beforeAll(async () => (upstream = await startFakeUpstream()));
  afterAll(() => upstream.close());
  beforeEach(() => upstream.reset());
  const texts = Array.from({ length: 10 }, (_, i) => `text ${i}`);
  const inputs = () => upstream.embeddingRequests.map((r) => (r.body as { input: string[] }).input.length).sort();
  const file = () => ({
    providers: [{ name: 'tei', baseUrl: upstream.url, apiKeyEnv: 'TEI_KEY' }],
    models: [
      { id: 'chat', provider: 'tei' },
      { id: 'bge', provider: 'tei', type: 'embedding', dimensions: 64, upstreamModel: 'BAAI/bge-m3', contextWindow: 8192 },
    ],
    passthrough: 'tei',
    embeddings: { model: 'bge', batchSize: 4 },
  });
  const fromFile = (content: unknown) => {
    const path = join(mkdtempSync(join(tmpdir(), 'rg-reg-')), 'models.json');
    writeFileSync(path, JSON.stringify(content));
    const env = { DATA_DIR: 'memory://', MODELS_CONFIG: path, TEI_KEY: 'sk-tei' };
    return new ModelRegistry(new AppConfig(parseEnvironment(env), env));
  };
  const fromEnv = (extra: Record<string, string>) =>
    new ModelRegistry(
      new AppConfig(
        parseEnvironment({
          DATA_DIR: 'memory://',
          INFERENCE_BASE_URL: upstream.url,
          INFERENCE_API_KEY: 'sk-inf',
          EMBEDDING_MODEL: 'nomic-embed-text',
          EMBEDDING_DIMENSIONS: '64',
          ...extra,
        }),
      ),
    ).embeddings;

  it("embeds with the block's model through its provider (upstream name, key, the block's batch size)", async () => {
    const embeddings = fromFile(file()).embeddings;
    expect(embeddings).toMatchObject({ available: true, model: 'bge', dimensions: 64, maxInputTokens: 8192 });
    const result = await embeddings.embed(texts, new AbortController().signal);
    expect(result).toMatchObject({ model: 'bge', dimensions: 64 });
    expect(inputs()).toEqual([2, 4, 4]);
    expect(upstream.embeddingRequests[0].body).toMatchObject({ model: 'BAAI/bge-m3' });
    expect(upstream.embeddingRequests[0].headers.authorization).toBe('Bearer sk-tei');
  });

  it('keeps embedding models off /v1/responses and /v1/models, even behind a passthrough', () => {
    const models = fromFile(file());
    expect(models.resolve('bge')).toBeNull();
    expect(models.resolve('chat')).not.toBeNull();
    expect(models.resolve('anything')).not.toBeNull();
    expect(models.list().map((m) => m.id)).not.toContain('bge');
  });

  it('is unavailable without the block, or without any embedding setting', () => {
    expect(fromFile({ ...file(), embeddings: undefined }).embeddings.available).toBe(false);
    expect(new ModelRegistry(new AppConfig(parseEnvironment({ DATA_DIR: 'memory://', INFERENCE_BASE_URL: upstream.url }))).embeddings.available).toBe(false);
  });

  it('takes the EMBEDDING_* form without MODELS_CONFIG: the inference upstream and its key by default', async () => {
    const embeddings = fromEnv({ EMBEDDING_BATCH_SIZE: '3' });
    expect(embeddings).toMatchObject({ available: true, model: 'nomic-embed-text', dimensions: 64 });
    await embeddings.embed(texts, new AbortController().signal);
    expect(inputs()).toEqual([1, 3, 3, 3]);
    expect(upstream.embeddingRequests[0].body).toMatchObject({ model: 'nomic-embed-text' });
    expect(upstream.embeddingRequests[0].body).not.toHaveProperty('dimensions');
    expect(upstream.embeddingRequests[0].headers.authorization).toBe('Bearer sk-inf');
  });

  it('sends dimensions when told, and no inference key to its own EMBEDDING_BASE_URL', async () => {
    const embeddings = fromEnv({
      INFERENCE_BASE_URL: 'http://127.0.0.1:9/v1',
      EMBEDDING_BASE_URL: upstream.url,
      EMBEDDING_SEND_DIMENSIONS: 'true',
      EMBEDDING_DIMENSIONS: '32',
    });
    expect((await embeddings.embed(['x'], new AbortController().signal)).vectors[0]).toHaveLength(32);
    expect(upstream.embeddingRequests[0].body).toMatchObject({ dimensions: 32 });
    expect(upstream.embeddingRequests[0].headers.authorization).toBeUndefined();
  });
});
