import 'reflect-metadata';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadModelsConfig } from './models-config';

function file(content: unknown): string {
  const path = join(mkdtempSync(join(tmpdir(), 'rg-mc-')), 'models.json');
  writeFileSync(path, JSON.stringify(content));
  return path;
}
const withProvider = (provider: Record<string, unknown>) => file({ providers: [{ name: 'p', ...provider }], models: [{ id: 'm', provider: 'p' }] });

describe('loadModelsConfig', () => {
  it('accepts a provider with baseUrl or with replicas in baseUrls', () => {
    expect(loadModelsConfig(withProvider({ baseUrl: 'http://a:8000/v1' })).providers[0].baseUrl).toBe('http://a:8000/v1');
    expect(loadModelsConfig(withProvider({ baseUrls: ['http://a:8000/v1', 'http://b:8000/v1'] })).providers[0].baseUrls).toHaveLength(2);
  });

  it.each([
    [{}, 'providers.0: give either baseUrl or baseUrls (replicas), not neither'],
    [{ baseUrl: 'http://a/v1', baseUrls: ['http://b/v1'] }, 'not both'],
    [{ baseUrls: [] }, 'providers.0.baseUrls: baseUrls should not be empty'],
    [{ baseUrls: ['http://a/v1', 'http://a/v1'] }, "providers.0.baseUrls: All baseUrls's elements must be unique"],
    [{ baseUrls: ['http://a/v1', 'ftp://b'] }, 'providers.0.baseUrls: each value in baseUrls must be a URL address'],
  ])('refuses provider %j, naming the problem', (provider, problem) => {
    expect(() => loadModelsConfig(withProvider(provider))).toThrow(problem);
  });

  it("validates a model's codex block", () => {
    const withCodex = (codex: unknown) => file({ providers: [{ name: 'p', baseUrl: 'http://a/v1' }], models: [{ id: 'm', provider: 'p', codex }] });
    expect(loadModelsConfig(withCodex({ contextWindow: 32768, reasoningLevels: ['low'], defaultReasoningLevel: 'low' })).models[0].codex?.contextWindow).toBe(
      32768,
    );
    // "function" is refused: Codex 0.171 cannot decode it and would drop the whole catalog.
    expect(() => loadModelsConfig(withCodex({ applyPatch: 'function' }))).toThrow('models.0.codex.applyPatch');
    expect(() => loadModelsConfig(withCodex({ reasoningLevels: ['max'] }))).toThrow('models.0.codex.reasoningLevels');
    expect(() => loadModelsConfig(withCodex({ reasoningLevels: ['low'], defaultReasoningLevel: 'high' }))).toThrow(
      "models: 'm' codex.defaultReasoningLevel 'high' is not in codex.reasoningLevels",
    );
  });

  it("takes a model's contextWindow (an integer ≥ 1) and a provider's tokenizer (vllm or estimate)", () => {
    const config = (model: Record<string, unknown>, provider: Record<string, unknown> = {}) =>
      file({ providers: [{ name: 'p', baseUrl: 'http://a/v1', ...provider }], models: [{ id: 'm', provider: 'p', ...model }] });
    const loaded = loadModelsConfig(config({ contextWindow: 131072 }, { tokenizer: 'vllm' }));
    expect(loaded.models[0].contextWindow).toBe(131072);
    expect(loaded.providers[0].tokenizer).toBe('vllm');
    expect(loadModelsConfig(config({}, { tokenizer: 'estimate' })).providers[0].tokenizer).toBe('estimate');
    expect(() => loadModelsConfig(config({ contextWindow: 0 }))).toThrow('models.0.contextWindow');
    expect(() => loadModelsConfig(config({ contextWindow: 1.5 }))).toThrow('models.0.contextWindow');
    expect(() => loadModelsConfig(config({}, { tokenizer: 'tiktoken' }))).toThrow('providers.0.tokenizer');
  });

  describe('embedding models and the embeddings block', () => {
    const config = (models: unknown[], embeddings?: unknown) =>
      file({ providers: [{ name: 'p', baseUrl: 'http://a/v1' }], models, ...(embeddings === undefined ? {} : { embeddings }) });
    const emb = { id: 'e', provider: 'p', type: 'embedding', dimensions: 1024 };

    it('accepts an embedding model with dimensions, named by the block with its batching', () => {
      const loaded = loadModelsConfig(
        config(
          [
            { id: 'm', provider: 'p' },
            { ...emb, sendDimensions: true, contextWindow: 8192 },
          ],
          { model: 'e', batchSize: 16, batchTokens: 4096, concurrency: 2 },
        ),
      );
      expect(loaded.models[1]).toMatchObject({ type: 'embedding', dimensions: 1024, sendDimensions: true, contextWindow: 8192 });
      expect(loaded.embeddings).toMatchObject({ model: 'e', batchSize: 16, batchTokens: 4096, concurrency: 2 });
      expect(loadModelsConfig(config([emb])).embeddings).toBeUndefined();
    });

    it.each([
      [[{ ...emb, dimensions: undefined }], undefined, "models: embedding model 'e' needs dimensions"],
      [[{ ...emb, dimensions: 0 }], undefined, 'models.0.dimensions'],
      [[{ ...emb, type: 'rerank' }], undefined, 'models.0.type'],
      [[{ id: 'm', provider: 'p', dimensions: 8 }], undefined, `models: 'm' has dimensions/sendDimensions but is not type "embedding"`],
      [[{ ...emb, reasoningReplay: 'drop' }], undefined, "models: embedding model 'e' takes no codex or reasoningReplay"],
      [[emb, { id: 'm', provider: 'p' }], { model: 'm' }, `embeddings.model: 'm' is not a model of type "embedding" in models`],
      [[emb], { model: 'nope' }, `embeddings.model: 'nope' is not a model of type "embedding"`],
      [[emb], { model: 'e', batchSize: 0 }, 'embeddings.batchSize'],
      [[emb], { model: 'e', concurrency: 65 }, 'embeddings.concurrency'],
      [[emb], {}, 'embeddings.model'],
    ])('refuses models %j with embeddings %j, naming the problem', (models, embeddings, problem) => {
      expect(() => loadModelsConfig(config(models, embeddings))).toThrow(problem);
    });
  });
});
