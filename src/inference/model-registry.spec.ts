import 'reflect-metadata';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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
