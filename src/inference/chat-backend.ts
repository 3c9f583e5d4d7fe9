import type {
  ChatCompletion,
  ChatCompletionChunk,
  ChatCompletionCreateParamsNonStreaming,
  ChatCompletionCreateParamsStreaming,
} from 'openai/resources/chat/completions';

/**
 * An upstream that speaks Chat Completions (port). Implementations throw UpstreamError for every
 * failure, and stop (throwing AbortError-like errors) when `signal` aborts.
 */
export abstract class ChatBackend {
  abstract readonly name: string;
  abstract complete(params: ChatCompletionCreateParamsNonStreaming, signal: AbortSignal): Promise<ChatCompletion>;
  abstract stream(params: ChatCompletionCreateParamsStreaming, signal: AbortSignal): AsyncIterable<ChatCompletionChunk>;
  /** Whether the upstream answers at all (any HTTP answer counts: it is up). */
  abstract reachable(timeoutMs: number): Promise<boolean>;
}
