import type {
  ChatCompletion,
  ChatCompletionChunk,
  ChatCompletionCreateParamsNonStreaming,
  ChatCompletionCreateParamsStreaming,
  ChatCompletionMessageParam,
  ChatCompletionTool,
} from 'openai/resources/chat/completions';

/** Per call: how hard to try. */
export interface UpstreamCallSettings {
  /** Retries of a call that failed before its reply started; default: the provider's own setting. */
  retries?: number;
  /** Keeps calls with the same key on one replica (prefix caches live per replica); default: the body's `prompt_cache_key`. */
  affinityKey?: string | null;
}

/** What a prompt is made of, for counting its tokens: the chat request's messages and tools. */
export interface TokenCountParams {
  model: string;
  messages: ChatCompletionMessageParam[];
  tools?: ChatCompletionTool[];
}

/** The upstream tokenizer's answer: the prompt's tokens, and the context length it reports (vLLM `max_model_len`). */
export interface UpstreamTokenCount {
  tokens: number;
  contextWindow?: number;
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
  /**
   * The prompt's token count by the upstream's own tokenizer (chat template included), or null
   * when it has none or it could not answer: never throws, the caller falls back to an estimate.
   */
  countTokens(_params: TokenCountParams, _signal?: AbortSignal): Promise<UpstreamTokenCount | null> {
    return Promise.resolve(null);
  }
}
