import { Injectable } from '@nestjs/common';
import type { Model } from 'openai/resources/models';
import { AppConfig } from '../config/app-config';
import { ChatBackend } from './chat-backend';
import { ECHO_MODEL, EchoBackend } from './echo-backend';
import { loadModelsConfig, type ReasoningReplay } from './models-config';
import { OpenAIChatBackend } from './openai-chat-backend';

/** Where a model's requests go. */
export interface ResolvedModel {
  id: string;
  backend: ChatBackend;
  upstreamModel: string;
  maxTokensParam: 'max_tokens' | 'max_completion_tokens';
  /** How earlier reasoning goes back to it; unset: the default of toChatMessages. */
  reasoningReplay?: ReasoningReplay;
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

  constructor(config: AppConfig) {
    this.models.set(ECHO_MODEL, { id: ECHO_MODEL, backend: new EchoBackend(), upstreamModel: ECHO_MODEL, maxTokensParam: 'max_tokens' });
    if (config.modelsConfigPath) {
      const file = loadModelsConfig(config.modelsConfigPath);
      const backends = new Map(
        file.providers.map((p) => [
          p.name,
          {
            maxTokensParam: p.maxTokensParam ?? 'max_tokens',
            backend: new OpenAIChatBackend({
              name: p.name,
              baseUrl: p.baseUrl,
              apiKey: p.apiKeyEnv ? config.secret(p.apiKeyEnv) : undefined,
              timeoutMs: p.timeoutMs ?? config.inferenceTimeoutMs,
              maxRetries: p.maxRetries ?? 0,
            }),
          },
        ]),
      );
      for (const m of file.models) {
        const provider = backends.get(m.provider)!; // validated by loadModelsConfig
        this.models.set(m.id, {
          id: m.id,
          upstreamModel: m.upstreamModel ?? m.id,
          ...provider,
          ...(m.reasoningReplay ? { reasoningReplay: m.reasoningReplay } : {}),
        });
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
  }

  /** The model's route, or null when this server does not serve it. */
  resolve(id: string): ResolvedModel | null {
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
    return [...this.models.values()].map((m) => ({
      id: m.id,
      object: 'model',
      created: this.created,
      owned_by: m.backend.name,
    }));
  }
}
