import type {
  ChatCompletion,
  ChatCompletionChunk,
  ChatCompletionCreateParamsNonStreaming,
  ChatCompletionCreateParamsStreaming,
  ChatCompletionMessageParam,
} from 'openai/resources/chat/completions';
import { ChatBackend } from './chat-backend';

export const ECHO_MODEL = 'echo';

function lastUserText(messages: ChatCompletionMessageParam[]): string {
  for (let i = messages.length - 1; i >= 0; i--) {
    const m = messages[i];
    if (m.role !== 'user') continue;
    if (typeof m.content === 'string') return m.content;
    return m.content.map((p) => (p.type === 'text' ? p.text : `[${p.type}]`)).join(' ');
  }
  return '';
}

const countTokens = (text: string): number => (text.trim() ? text.trim().split(/\s+/).length : 0);

/**
 * The built-in offline model: answers "Echo: <last user message>" deterministically, so that a
 * fresh install works with curl and the Swagger UI before any upstream is configured.
 */
export class EchoBackend extends ChatBackend {
  readonly name = 'builtin';

  private reply(params: { messages: ChatCompletionMessageParam[]; max_tokens?: number | null }) {
    let words = `Echo: ${lastUserText(params.messages)}`.split(/(?<=\s)/);
    let finish: 'stop' | 'length' = 'stop';
    if (params.max_tokens && words.length > params.max_tokens) {
      words = words.slice(0, params.max_tokens);
      finish = 'length';
    }
    const promptTokens = params.messages.reduce((n, m) => n + countTokens(typeof m.content === 'string' ? m.content : JSON.stringify(m.content ?? '')), 0);
    return { words, finish, usage: { prompt_tokens: promptTokens, completion_tokens: words.length, total_tokens: promptTokens + words.length } };
  }

  complete(params: ChatCompletionCreateParamsNonStreaming): Promise<ChatCompletion> {
    const { words, finish, usage } = this.reply(params);
    return Promise.resolve({
      id: 'chatcmpl-echo',
      object: 'chat.completion',
      created: Math.floor(Date.now() / 1000),
      model: ECHO_MODEL,
      choices: [{ index: 0, finish_reason: finish, logprobs: null, message: { role: 'assistant', content: words.join(''), refusal: null } }],
      usage,
    });
  }

  reachable(): Promise<boolean> {
    return Promise.resolve(true);
  }

  async *stream(params: ChatCompletionCreateParamsStreaming, signal: AbortSignal): AsyncIterable<ChatCompletionChunk> {
    const { words, finish, usage } = this.reply(params);
    const base = { id: 'chatcmpl-echo', object: 'chat.completion.chunk' as const, created: Math.floor(Date.now() / 1000), model: ECHO_MODEL };
    for (const word of words) {
      if (signal.aborted) throw new DOMException('The upstream call was aborted.', 'AbortError');
      yield { ...base, choices: [{ index: 0, delta: { content: word }, finish_reason: null }] };
      await Promise.resolve();
    }
    yield { ...base, choices: [{ index: 0, delta: {}, finish_reason: finish }] };
    yield { ...base, choices: [], usage };
  }
}
