import type {
  ChatCompletion,
  ChatCompletionChunk,
  ChatCompletionCreateParamsNonStreaming,
  ChatCompletionCreateParamsStreaming,
} from 'openai/resources/chat/completions';

/** Per call: how hard to try. */
export interface UpstreamCallSettings {
  /** Retries of a call that failed before its reply started; default: the provider's own setting. */
  retries?: number;
  /** Keeps calls with the same key on one replica (prefix caches live per replica); default: the body's `prompt_cache_key`. */
  affinityKey?: string | null;
}

/**
 * An upstream that speaks Chat Completions (port). Implementations throw UpstreamError for every
 * failure, and stop (throwing AbortError-like errors) when `signal` aborts.
 */
export abstract class ChatBackend {
  abstract readonly name: string;
  abstract complete(params: ChatCompletionCreateParamsNonStreaming, signal: AbortSignal, settings?: UpstreamCallSettings): Promise<ChatCompletion>;
  abstract stream(params: ChatCompletionCreateParamsStreaming, signal: AbortSignal, settings?: UpstreamCallSettings): AsyncIterable<ChatCompletionChunk>;
  /** Whether the upstream answers at all (any HTTP answer counts: it is up). */
  abstract reachable(timeoutMs: number): Promise<boolean>;
  /** The model names the upstream lists (`GET /models`); empty when it lists none or cannot be asked. */
  listModels(_timeoutMs: number): Promise<string[]> {
    return Promise.resolve([]);
  }
}
