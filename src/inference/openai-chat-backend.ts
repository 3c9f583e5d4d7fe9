import OpenAI, { APIError } from 'openai';
import type {
  ChatCompletion,
  ChatCompletionChunk,
  ChatCompletionCreateParamsNonStreaming,
  ChatCompletionCreateParamsStreaming,
} from 'openai/resources/chat/completions';
import { ChatBackend } from './chat-backend';
import { isAbort, toUpstreamError } from './upstream-error';

export interface OpenAIBackendOptions {
  name: string;
  baseUrl: string;
  apiKey?: string;
  timeoutMs: number;
  maxRetries: number;
}

/** Any OpenAI-compatible Chat Completions server (vLLM, Ollama, llama.cpp, OpenAI, a gateway). */
export class OpenAIChatBackend extends ChatBackend {
  readonly name: string;
  private readonly client: OpenAI;

  constructor(options: OpenAIBackendOptions) {
    super();
    this.name = options.name;
    this.client = new OpenAI({
      baseURL: options.baseUrl,
      // Local servers often need no key, but the client insists on one.
      apiKey: options.apiKey ?? 'unused',
      timeout: options.timeoutMs,
      maxRetries: options.maxRetries,
      logLevel: 'off',
    });
  }

  async complete(params: ChatCompletionCreateParamsNonStreaming, signal: AbortSignal): Promise<ChatCompletion> {
    try {
      return await this.client.chat.completions.create(params, { signal });
    } catch (error) {
      throw isAbort(error) ? error : toUpstreamError(error, this.name);
    }
  }

  async reachable(timeoutMs: number): Promise<boolean> {
    try {
      await this.client.models.list({ timeout: timeoutMs, maxRetries: 0 });
      return true;
    } catch (error) {
      return error instanceof APIError && typeof error.status === 'number';
    }
  }

  async *stream(params: ChatCompletionCreateParamsStreaming, signal: AbortSignal): AsyncIterable<ChatCompletionChunk> {
    try {
      const stream = await this.client.chat.completions.create(params, { signal });
      let finished = false;
      for await (const chunk of stream) {
        if (chunk.choices?.some((c) => c.finish_reason)) finished = true;
        yield chunk;
      }
      // The SDK ends quietly when aborted mid-stream, and some servers just close the socket.
      if (signal.aborted) throw new DOMException('The upstream call was aborted.', 'AbortError');
      if (!finished) throw new Error('stream ended without a finish_reason');
    } catch (error) {
      throw isAbort(error) ? error : toUpstreamError(error, this.name);
    }
  }
}
