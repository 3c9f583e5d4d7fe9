import type { IncomingMessage } from 'node:http';
import { createParser } from 'eventsource-parser';
import type {
  ChatCompletion,
  ChatCompletionChunk,
  ChatCompletionCreateParams,
  ChatCompletionCreateParamsNonStreaming,
  ChatCompletionCreateParamsStreaming,
} from 'openai/resources/chat/completions';
import { Logger } from '@nestjs/common';
import { ChatBackend, type TokenCountParams, type UpstreamCallSettings, type UpstreamTokenCount } from './chat-backend';
import type { Tokenizer } from './models-config';
import { ReplicaPicker } from './replica-picker';
import { abortError, isAbort, upstreamMalformed, upstreamStreamError, UpstreamError, UpstreamUnreachable } from './upstream-error';
import { UpstreamHttp } from './upstream-http';

/** An upstream's model list is read up to this size (a longer one is not a list we can use). */
const MODEL_LIST_LIMIT = 1024 * 1024;
/** A token count is worth this long: past it the caller estimates instead. */
const TOKENIZE_TIMEOUT_MS = 5_000;
/** vLLM's `/tokenize` answers with every token id: a prompt of MAX_INPUT_CHARS fits in this. */
const TOKENIZE_REPLY_LIMIT = 32 * 1024 * 1024;

export interface OpenAIBackendOptions {
  name: string;
  /** One upstream, or the replicas of one (each `…/v1`) serving the same models. */
  baseUrl: string | readonly string[];
  apiKey?: string;
  timeoutMs: number;
  maxRetries: number;
  /** `vllm`: count tokens with the upstream's `POST /tokenize`; default `estimate` (none here). */
  tokenizer?: Tokenizer;
}

/**
 * Any OpenAI-compatible Chat Completions server (vLLM, Ollama, llama.cpp, OpenAI, a gateway), or
 * several replicas of one: a call goes to the replica its affinity key picks (ReplicaPicker), and
 * to the next one in that order when a replica cannot be reached at all.
 */
export class OpenAIChatBackend extends ChatBackend {
  readonly name: string;
  private readonly replicas: ReplicaPicker<UpstreamHttp>;
  private readonly all: UpstreamHttp[];
  private readonly maxRetries: number;
  private readonly tokenizer: Tokenizer;
  private readonly logger = new Logger('OpenAIChatBackend');
  /** A failing `/tokenize` is logged once, and again only after it answered in between. */
  private tokenizeFailing = false;

  constructor(options: OpenAIBackendOptions) {
    super();
    this.name = options.name;
    this.maxRetries = options.maxRetries;
    this.tokenizer = options.tokenizer ?? 'estimate';
    const urls = typeof options.baseUrl === 'string' ? [options.baseUrl] : [...options.baseUrl];
    this.all = urls.map((baseUrl) => new UpstreamHttp({ provider: options.name, baseUrl, apiKey: options.apiKey, timeoutMs: options.timeoutMs }));
    this.replicas = new ReplicaPicker(this.all, urls);
  }

  async complete(params: ChatCompletionCreateParamsNonStreaming, signal: AbortSignal, settings?: UpstreamCallSettings): Promise<ChatCompletion> {
    const { reply, http } = await this.post(params, signal, settings);
    const body = await http.readBody(reply, signal).catch((error: unknown) => {
      throw this.classify(http.readFailure(error, signal));
    });
    try {
      const completion = JSON.parse(body) as ChatCompletion;
      if (!Array.isArray(completion?.choices)) throw new Error('no choices');
      return completion;
    } catch {
      throw upstreamMalformed(this.name);
    }
  }

  /** Any replica answering counts: calls fail over to it. */
  async reachable(timeoutMs: number): Promise<boolean> {
    const answers = await Promise.all(this.all.map((http) => http.answers('models', timeoutMs)));
    return answers.includes(true);
  }

  /** The ids of the upstream's `GET /models` (OpenAI list shape), from the next replica that answers. */
  override async listModels(timeoutMs: number): Promise<string[]> {
    for (const http of this.replicas.order()) {
      try {
        const body = JSON.parse(await http.getText('models', timeoutMs, MODEL_LIST_LIMIT)) as { data?: { id?: unknown }[] };
        if (Array.isArray(body?.data)) return body.data.map((m) => m?.id).filter((id): id is string => typeof id === 'string' && id.length > 0);
      } catch {
        // unreachable, an error status or not a list: try the next replica
      }
    }
    return [];
  }

  /**
   * vLLM's `POST /tokenize` with the chat form (TokenizeChatRequest): the count includes the
   * model's chat template and the assistant header the reply starts with. The next replica is
   * tried when one fails; all within TOKENIZE_TIMEOUT_MS, with no retries.
   */
  override async countTokens(params: TokenCountParams, signal?: AbortSignal): Promise<UpstreamTokenCount | null> {
    if (this.tokenizer !== 'vllm') return null;
    const body = JSON.stringify({
      model: params.model,
      messages: params.messages,
      ...(params.tools?.length ? { tools: params.tools } : {}),
      add_generation_prompt: true,
    });
    const timeout = AbortSignal.timeout(TOKENIZE_TIMEOUT_MS);
    const bounded = signal ? AbortSignal.any([signal, timeout]) : timeout;
    let failure = 'no replica';
    for (const http of this.replicas.order()) {
      if (bounded.aborted) break;
      try {
        const reply = await http.post(http.rootPath('tokenize'), body, { signal: bounded, retries: 0 });
        const answer = JSON.parse(await http.readBody(reply, bounded, TOKENIZE_REPLY_LIMIT)) as { count?: unknown; max_model_len?: unknown };
        if (typeof answer?.count !== 'number' || !Number.isInteger(answer.count) || answer.count < 0) throw new Error('no count in the answer');
        this.tokenizeFailing = false;
        const window = answer.max_model_len;
        return { tokens: answer.count, ...(typeof window === 'number' && Number.isInteger(window) && window > 0 ? { contextWindow: window } : {}) };
      } catch (error) {
        failure = error instanceof Error ? error.message : String(error);
      }
    }
    if (!this.tokenizeFailing && !signal?.aborted) {
      this.tokenizeFailing = true;
      this.logger.warn({ msg: 'the upstream tokenizer did not answer: token counts are estimated until it does', provider: this.name, error: failure });
    }
    return null;
  }

  async *stream(params: ChatCompletionCreateParamsStreaming, signal: AbortSignal, settings?: UpstreamCallSettings): AsyncIterable<ChatCompletionChunk> {
    const { reply, http } = await this.post(params, signal, settings);
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
      throw this.classify(error instanceof UpstreamError ? error : http.readFailure(error, signal));
    } finally {
      // Stops reading (and frees the socket) when the consumer or an error ended the stream early.
      if (!reply.readableEnded) reply.destroy();
    }
    // Some servers just close the socket instead of sending an error.
    if (signal.aborted) throw abortError(signal);
    if (!finished) throw upstreamMalformed(this.name);
  }

  /** POSTs to the preferred replica; one that cannot be reached (after its retries) hands over to the next. */
  private async post(
    params: ChatCompletionCreateParams,
    signal: AbortSignal,
    settings?: UpstreamCallSettings,
  ): Promise<{ reply: IncomingMessage; http: UpstreamHttp }> {
    const body = JSON.stringify(params);
    const order = this.replicas.order(settings?.affinityKey ?? params.prompt_cache_key);
    for (let i = 0; ; i++) {
      try {
        return { reply: await order[i].post('chat/completions', body, { signal, retries: settings?.retries ?? this.maxRetries }), http: order[i] };
      } catch (error) {
        if (!(error instanceof UpstreamUnreachable) || i === order.length - 1) throw error;
      }
    }
  }

  /** Aborts and classified errors pass; anything else broke the reply mid-way. */
  private classify(error: Error): Error {
    return isAbort(error) || error instanceof UpstreamError ? error : upstreamMalformed(this.name);
  }
}
