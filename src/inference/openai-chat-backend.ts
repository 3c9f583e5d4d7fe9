import type { IncomingMessage } from 'node:http';
import { createParser } from 'eventsource-parser';
import type {
  ChatCompletion,
  ChatCompletionChunk,
  ChatCompletionCreateParamsNonStreaming,
  ChatCompletionCreateParamsStreaming,
} from 'openai/resources/chat/completions';
import { ChatBackend, type UpstreamCallSettings } from './chat-backend';
import { abortError, isAbort, upstreamMalformed, upstreamStreamError, UpstreamError } from './upstream-error';
import { UpstreamHttp } from './upstream-http';

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
  private readonly http: UpstreamHttp;
  private readonly maxRetries: number;

  constructor(options: OpenAIBackendOptions) {
    super();
    this.name = options.name;
    this.maxRetries = options.maxRetries;
    this.http = new UpstreamHttp({ provider: options.name, baseUrl: options.baseUrl, apiKey: options.apiKey, timeoutMs: options.timeoutMs });
  }

  async complete(params: ChatCompletionCreateParamsNonStreaming, signal: AbortSignal, settings?: UpstreamCallSettings): Promise<ChatCompletion> {
    const reply = await this.post(params, signal, settings);
    const body = await this.http.readBody(reply, signal).catch((error: unknown) => {
      throw this.classify(this.http.readFailure(error, signal));
    });
    try {
      const completion = JSON.parse(body) as ChatCompletion;
      if (!Array.isArray(completion?.choices)) throw new Error('no choices');
      return completion;
    } catch {
      throw upstreamMalformed(this.name);
    }
  }

  async reachable(timeoutMs: number): Promise<boolean> {
    return this.http.answers('models', timeoutMs);
  }

  async *stream(params: ChatCompletionCreateParamsStreaming, signal: AbortSignal, settings?: UpstreamCallSettings): AsyncIterable<ChatCompletionChunk> {
    const reply = await this.post(params, signal, settings);
    let ready: ChatCompletionChunk[] = [];
    let failure: Error | undefined;
    let done = false;
    const parser = createParser({
      onEvent: (event) => {
        if (done || failure) return;
        if (event.data === '[DONE]') return void (done = true);
        try {
          const chunk = JSON.parse(event.data) as ChatCompletionChunk & { error?: { message?: string } | string };
          if (chunk.error) failure = upstreamStreamError(this.name, typeof chunk.error === 'string' ? chunk.error : (chunk.error.message ?? 'unknown error'));
          else ready.push(chunk);
        } catch {
          failure = upstreamMalformed(this.name);
        }
      },
    });
    let finished = false;
    try {
      reply.setEncoding('utf8');
      for await (const text of reply as AsyncIterable<string>) {
        parser.feed(text);
        const chunks = ready;
        ready = [];
        for (const chunk of chunks) {
          if (chunk.choices?.some((c) => c.finish_reason)) finished = true;
          yield chunk;
        }
        if (failure) throw failure;
        // After [DONE] the loop reads on to the reply's end, so the connection goes back to the pool.
      }
    } catch (error) {
      throw this.classify(error instanceof UpstreamError ? error : this.http.readFailure(error, signal));
    } finally {
      // Stops reading (and frees the socket) when the consumer or an error ended the stream early.
      if (!reply.readableEnded) reply.destroy();
    }
    // Some servers just close the socket instead of sending an error.
    if (signal.aborted) throw abortError(signal);
    if (!finished) throw upstreamMalformed(this.name);
  }

  private post(params: object, signal: AbortSignal, settings?: UpstreamCallSettings): Promise<IncomingMessage> {
    return this.http.post('chat/completions', JSON.stringify(params), { signal, retries: settings?.retries ?? this.maxRetries });
  }

  /** Aborts and classified errors pass; anything else broke the reply mid-way. */
  private classify(error: Error): Error {
    return isAbort(error) || error instanceof UpstreamError ? error : upstreamMalformed(this.name);
  }
}
