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
});
