import { Injectable } from '@nestjs/common';
import type { Model } from 'openai/resources/models';
import { AppConfig } from '../config/app-config';
import { ChatBackend } from './chat-backend';
import { ECHO_MODEL, EchoBackend } from './echo-backend';
import { codexModelInfo, type CodexModelInfo } from './codex-catalog';
import { Embeddings, NoEmbeddings } from './embeddings';
import { type CodexModelConfig, loadModelsConfig, type ModelsConfigFile, type ReasoningReplay } from './models-config';
import { OpenAIChatBackend } from './openai-chat-backend';
import { OpenAIEmbeddings } from './openai-embeddings';

/** How long the passthrough upstream's model list is reused, and how long asking for it may take. */
const PASSTHROUGH_LIST_TTL_MS = 60_000;
const PASSTHROUGH_LIST_TIMEOUT_MS = 3_000;
/**
 * Retries of an embeddings request when its provider sets no `maxRetries`: unlike a chat call
 * (which clients retry themselves) an ingestion batch has no client to retry it, and is idempotent.
 */
const EMBEDDING_DEFAULT_RETRIES = 2;

/** Where a model's requests go. */
export interface ResolvedModel {
  id: string;
  backend: ChatBackend;
  upstreamModel: string;
  maxTokensParam: 'max_tokens' | 'max_completion_tokens';
  /** How earlier reasoning goes back to it; unset: the default of toChatMessages. */
  reasoningReplay?: ReasoningReplay;
  /** Its context length in tokens, as MODELS_CONFIG gives it; unset: unknown here (its tokenizer may report one). */
  contextWindow?: number;
  /** How long before the end of a completion window its windowed responses start at the latest (MODELS_CONFIG). */
  windowMarginSeconds?: number;
  /** How many of its responses the upstream takes at once (MODELS_CONFIG); unset: no limit. */
  maxConcurrency?: number;
}

/**
 * The models this server offers: the built-in `echo`, the models of MODELS_CONFIG, and — when only
 * INFERENCE_BASE_URL is set, or MODELS_CONFIG names a `passthrough` provider — any other name,
 * forwarded unchanged.
 */
@Injectable()
export class ModelRegistry {
  private readonly models = new Map<string, ResolvedModel>();
  private readonly passthrough?: { backend: ChatBackend; maxTokensParam: ResolvedModel['maxTokensParam'] };
  private readonly created = Math.floor(Date.now() / 1000);
  /** Each listed model's `codex` block (absent: the defaults). */
  private readonly codex = new Map<string, CodexModelConfig | undefined>();
  /** The passthrough upstream's own model list, for the Codex catalog (refreshed after PASSTHROUGH_LIST_TTL_MS). */
  private passthroughList?: { at: number; ids: Promise<string[]> };
  /** Embedding models are not chat models: refused on /v1/responses even behind a passthrough provider. */
  private readonly embeddingIds = new Set<string>();
  /** The deployment's embedding model (MODELS_CONFIG `embeddings`, or EMBEDDING_MODEL), or NoEmbeddings. */
  readonly embeddings: Embeddings;

  constructor(config: AppConfig) {
    this.models.set(ECHO_MODEL, { id: ECHO_MODEL, backend: new EchoBackend(), upstreamModel: ECHO_MODEL, maxTokensParam: 'max_tokens' });
    const file = config.modelsConfigPath ? loadModelsConfig(config.modelsConfigPath) : undefined;
    if (file) {
      const backends = new Map(
        file.providers.map((p) => [
          p.name,
          {
            maxTokensParam: p.maxTokensParam ?? 'max_tokens',
            backend: new OpenAIChatBackend({
              name: p.name,
              baseUrl: p.baseUrls ?? p.baseUrl!, // one of them: validated by loadModelsConfig
              apiKey: p.apiKeyEnv ? config.secret(p.apiKeyEnv) : undefined,
              timeoutMs: p.timeoutMs ?? config.inferenceTimeoutMs,
              maxRetries: p.maxRetries ?? 0,
              tokenizer: p.tokenizer,
            }),
          },
        ]),
      );
      for (const m of file.models) {
        if (m.type === 'embedding') {
          this.embeddingIds.add(m.id);
          continue;
        }
        const provider = backends.get(m.provider)!; // validated by loadModelsConfig
        this.models.set(m.id, {
          id: m.id,
          upstreamModel: m.upstreamModel ?? m.id,
          ...provider,
          ...(m.reasoningReplay ? { reasoningReplay: m.reasoningReplay } : {}),
          ...(m.contextWindow ? { contextWindow: m.contextWindow } : {}),
          ...(m.windowMarginSeconds !== undefined ? { windowMarginSeconds: m.windowMarginSeconds } : {}),
          ...(m.maxConcurrency !== undefined ? { maxConcurrency: m.maxConcurrency } : {}),
        });
        // Codex is told the model's context window unless its codex block says otherwise.
        this.codex.set(m.id, m.contextWindow && m.codex?.contextWindow === undefined ? { ...m.codex, contextWindow: m.contextWindow } : m.codex);
      }
      if (file.passthrough) this.passthrough = backends.get(file.passthrough);
    } else if (config.inferenceBaseUrl) {
      this.passthrough = {
        maxTokensParam: 'max_tokens',
        backend: new OpenAIChatBackend({
          name: 'default',
          baseUrl: config.inferenceBaseUrl,
          apiKey: config.inferenceApiKey,
          timeoutMs: config.inferenceTimeoutMs,
          maxRetries: 0,
        }),
      };
    }
    this.embeddings = embeddingsOf(file, config);
  }

  /** The model's route, or null when this server does not serve it (as a chat model). */
  /** The models with a `maxConcurrency`, and it. */
  concurrencyLimits(): Map<string, number> {
    return new Map([...this.models.values()].filter((m) => m.maxConcurrency !== undefined).map((m) => [m.id, m.maxConcurrency!]));
  }

  resolve(id: string): ResolvedModel | null {
    if (this.embeddingIds.has(id)) return null;
    const known = this.models.get(id);
    if (known) return known;
    return this.passthrough ? { id, upstreamModel: id, ...this.passthrough } : null;
  }

  /** Every upstream behind the models (the built-in echo excluded). */
  upstreams(): ChatBackend[] {
    const all = [...this.models.values()].map((m) => m.backend).concat(this.passthrough ? [this.passthrough.backend] : []);
    return [...new Set(all)].filter((b) => !(b instanceof EchoBackend));
  }

  list(): Model[] {
    return [...this.models.values()].map((m) => this.model(m.id, m.backend.name));
  }

  /**
   * The list for the Codex CLI: every listed model, plus — behind a passthrough provider — the
   * models that upstream lists (Codex needs an entry for the name it uses, or it offers no
   * apply_patch), each in the OpenAI shape (`data`) and in Codex's (`models`).
   */
  async codexCatalog(): Promise<{ data: Model[]; models: CodexModelInfo[] }> {
    const data = this.list();
    if (this.passthrough) {
      const listed = new Set(data.map((m) => m.id));
      for (const id of await this.passthroughModels()) if (!listed.has(id)) data.push(this.model(id, this.passthrough.backend.name));
    }
    const echoLast = [...data.filter((m) => m.id !== ECHO_MODEL), ...data.filter((m) => m.id === ECHO_MODEL)];
    // echo cannot call tools: usable by name, kept out of Codex's picker.
    const models = echoLast.map((m, i) => codexModelInfo(m.id, m.id === ECHO_MODEL ? { visibility: 'hide' } : this.codex.get(m.id), i));
    return { data: echoLast, models };
  }

  private model(id: string, ownedBy: string): Model {
    return { id, object: 'model', created: this.created, owned_by: ownedBy };
  }

  private passthroughModels(): Promise<string[]> {
    const now = Date.now();
    if (!this.passthrough) return Promise.resolve([]);
    if (!this.passthroughList || now - this.passthroughList.at > PASSTHROUGH_LIST_TTL_MS) {
      const ids = this.passthrough.backend.listModels(PASSTHROUGH_LIST_TIMEOUT_MS);
      this.passthroughList = { at: now, ids };
      // An upstream that could not be asked is asked again next time, not in a minute.
      void ids.then((list) => {
        if (list.length === 0 && this.passthroughList?.ids === ids) this.passthroughList = undefined;
      });
    }
    return this.passthroughList.ids;
  }
}

/** The embedding model MODELS_CONFIG's `embeddings` block names, or (without MODELS_CONFIG) EMBEDDING_MODEL's; else none. */
function embeddingsOf(file: ModelsConfigFile | undefined, config: AppConfig): Embeddings {
  const batching = config.embeddingBatching;
  if (file) {
    const block = file.embeddings;
    if (!block) return new NoEmbeddings();
    const m = file.models.find((model) => model.id === block.model)!; // validated by loadModelsConfig
    const p = file.providers.find((provider) => provider.name === m.provider)!;
    return new OpenAIEmbeddings({
      provider: p.name,
      baseUrl: p.baseUrls ?? p.baseUrl!,
      apiKey: p.apiKeyEnv ? config.secret(p.apiKeyEnv) : undefined,
      timeoutMs: p.timeoutMs ?? config.inferenceTimeoutMs,
      maxRetries: p.maxRetries ?? EMBEDDING_DEFAULT_RETRIES,
      model: m.id,
      upstreamModel: m.upstreamModel ?? m.id,
      dimensions: m.dimensions!,
      sendDimensions: m.sendDimensions ?? false,
      ...(m.contextWindow ? { maxInputTokens: m.contextWindow } : {}),
      batchSize: block.batchSize ?? batching.batchSize,
      batchTokens: block.batchTokens ?? batching.batchTokens,
      concurrency: block.concurrency ?? batching.concurrency,
    });
  }
  const env = config.embeddingModel;
  if (!env) return new NoEmbeddings();
  return new OpenAIEmbeddings({
    provider: 'embeddings',
    baseUrl: env.baseUrl,
    apiKey: env.apiKey,
    timeoutMs: config.inferenceTimeoutMs,
    maxRetries: EMBEDDING_DEFAULT_RETRIES,
    model: env.model,
    upstreamModel: env.model,
    dimensions: env.dimensions,
    sendDimensions: env.sendDimensions,
    ...batching,
  });
}
