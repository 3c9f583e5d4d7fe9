import { Injectable } from '@nestjs/common';
import type { ChatCompletionContentPart, ChatCompletionMessageParam } from 'openai/resources/chat/completions';
import type { TokenCountParams } from './chat-backend';
import type { ResolvedModel } from './model-registry';

/** A prompt's size in tokens, and where the number comes from. */
export interface TokenCount {
  tokens: number;
  /** `upstream`: the upstream's own tokenizer (chat template included); `estimate`: counted here (estimateTokens). */
  source: 'upstream' | 'estimate';
  /** The model's context length: MODELS_CONFIG's `contextWindow`, else what the upstream tokenizer reported, else unknown. */
  contextWindow?: number;
}

/** A chat prompt: what the upstream would be sent. */
export type TokenCountInput = Omit<TokenCountParams, 'model'>;

/** OpenAI's documented framing for its chat models: each message costs 3 tokens, a `name` 1 more, the reply's priming 3. */
export const TOKENS_PER_MESSAGE = 3;
export const TOKENS_PER_NAME = 1;
export const REPLY_PRIMING_TOKENS = 3;
/**
 * An image, whose size is not looked at: OpenAI's `low` detail cost (85), or 85 + 170 per 512 px
 * tile for a 1024×1024 image (4 tiles) otherwise.
 */
export const IMAGE_TOKENS_LOW = 85;
export const IMAGE_TOKENS = 85 + 4 * 170;
/** A file part (base64 `file_data`): a quarter of its decoded bytes, at most this. */
export const FILE_TOKENS_MAX = 100_000;

/**
 * Text counted with the real BPE per estimate, at most: past it the rest is counted at the
 * characters-per-token ratio measured on the part counted. BPE costs ~1 µs per character of
 * ordinary text and up to ~15 µs for adversarial text, synchronously; this bounds one estimate
 * to well under a second of CPU whatever the input (MAX_INPUT_CHARS allows 2 million characters).
 */
export const EXACT_CHARS = 100_000;
/**
 * BPE is quadratic in the length of one pre-tokenized piece (a run of letters, of spaces, of
 * punctuation): longer runs are counted in slices of this many characters (each slice border costs
 * at most one token more than the whole run would).
 */
const MAX_RUN = 256;
const LONG_RUN = new RegExp(`\\S{${MAX_RUN + 1},}|\\s{${MAX_RUN + 1},}`, 'g');
/** Characters per token when nothing has been counted yet (English prose under o200k_base). */
const DEFAULT_CHARS_PER_TOKEN = 4;

type O200k = typeof import('gpt-tokenizer/encoding/o200k_base');
let o200k: O200k | undefined;
/** The encoding, loaded on first use: it costs ~70 MB and half a second, which a process that never counts (a worker) need not pay. */
function encoding(): O200k {
  if (!o200k) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- synchronous and lazy (estimateTokens is synchronous)
    o200k = require('gpt-tokenizer/encoding/o200k_base') as O200k;
    // Its merge cache is an LRU keyed by pieces (at most MAX_RUN characters here): bounded.
    o200k.setMergeCacheSize(20_000);
  }
  return o200k;
}

/** o200k_base, with the text's special-token look-alikes counted as text (a prompt may quote `<|endoftext|>`). */
const bpe = (text: string): number => encoding().countTokens(text, { disallowedSpecial: new Set() });

/** Counts texts with BPE within EXACT_CHARS, the rest by the ratio measured so far. */
class TextBudget {
  private exactChars = 0;
  private exactTokens = 0;
  private restChars = 0;

  add(text: string): void {
    if (!text) return;
    const room = EXACT_CHARS - this.exactChars;
    const exact = text.length <= room ? text : text.slice(0, Math.max(0, room));
    if (exact) {
      this.exactTokens += countRuns(exact);
      this.exactChars += exact.length;
    }
    this.restChars += text.length - exact.length;
  }

  get tokens(): number {
    if (!this.restChars) return this.exactTokens;
    const charsPerToken = this.exactTokens > 0 ? this.exactChars / this.exactTokens : DEFAULT_CHARS_PER_TOKEN;
    return this.exactTokens + Math.ceil(this.restChars / charsPerToken);
  }
}

/** BPE count of a text whose long runs are counted in MAX_RUN slices (see MAX_RUN). */
function countRuns(text: string): number {
  let tokens = 0;
  let rest = '';
  let from = 0;
  for (const match of text.matchAll(LONG_RUN)) {
    rest += text.slice(from, match.index);
    for (let i = 0; i < match[0].length; i += MAX_RUN) tokens += bpe(match[0].slice(i, i + MAX_RUN));
    from = match.index + match[0].length;
  }
  return tokens + bpe(from ? rest + text.slice(from) : text);
}

/** A stretch of text the BPE encodes on its own, and its tokens: what chunking cuts between. */
export interface TokenPiece {
  /** UTF-16 code units. */
  length: number;
  tokens: number;
}

const noSpecial = { disallowedSpecial: new Set<string>() };

/**
 * The text's pre-tokenized pieces in order (o200k_base's split), with their token counts: their
 * lengths add up to the text's, their tokens to its count. As in countRuns, runs longer than
 * `maxRun` characters are encoded in slices of that many (never between a surrogate pair's
 * halves), which bounds the BPE's cost and each piece's tokens (at most 3 per code unit).
 */
export function* tokenPieces(text: string, maxRun = MAX_RUN): Generator<TokenPiece, void, undefined> {
  const enc = encoding();
  const encode = function* (stretch: string): Generator<TokenPiece, void, undefined> {
    for (const tokens of enc.encodeGenerator(stretch, noSpecial)) yield { length: enc.decode(tokens).length, tokens: tokens.length };
  };
  const longRun = maxRun === MAX_RUN ? LONG_RUN : new RegExp(`\\S{${maxRun + 1},}|\\s{${maxRun + 1},}`, 'g');
  let from = 0;
  for (const match of text.matchAll(longRun)) {
    if (match.index > from) yield* encode(text.slice(from, match.index));
    const run = match[0];
    for (let i = 0; i < run.length;) {
      let end = Math.min(run.length, i + maxRun);
      if (end < run.length && /[\ud800-\udbff]/.test(run[end - 1])) end -= 1;
      yield* encode(run.slice(i, end));
      i = end;
    }
    from = match.index + run.length;
  }
  if (from < text.length) yield* encode(from ? text.slice(from) : text);
}

/** Tokens of a message's content: text (string or parts), images and files at their fixed estimates. */
function addContent(
  content: string | ReadonlyArray<ChatCompletionContentPart | { type: string; text?: string; refusal?: string }> | null | undefined,
  text: TextBudget,
): number {
  if (content == null) return 0;
  if (typeof content === 'string') {
    text.add(content);
    return 0;
  }
  let fixed = 0;
  for (const part of content) {
    if (part.type === 'image_url') fixed += (part as { image_url?: { detail?: string } }).image_url?.detail === 'low' ? IMAGE_TOKENS_LOW : IMAGE_TOKENS;
    else if (part.type === 'file') {
      const data = (part as { file?: { file_data?: string } }).file?.file_data ?? '';
      fixed += Math.min(FILE_TOKENS_MAX, Math.ceil((data.length * 3) / 4 / 4));
    } else text.add('text' in part && typeof part.text === 'string' ? part.text : 'refusal' in part && typeof part.refusal === 'string' ? part.refusal : '');
  }
  return fixed;
}

/**
 * A local estimate of a chat prompt's tokens: o200k_base (OpenAI's tokenizer of its current
 * models) over every text the upstream would read — contents, reasoning sent back, tool calls'
 * names and arguments, the tools as JSON — plus OpenAI's documented per-message framing and fixed
 * estimates for images and files. Other models' tokenizers differ (Llama 3 counts ~10 % more on
 * English prose); the upstream's own count (`tokenizer: "vllm"`) has no such error. Pure, synchronous
 * and bounded (EXACT_CHARS): cheap enough to measure single items.
 */
export function estimateTokens(params: TokenCountInput): number {
  const text = new TextBudget();
  let fixed = REPLY_PRIMING_TOKENS;
  for (const message of params.messages) {
    fixed += TOKENS_PER_MESSAGE;
    text.add(message.role);
    if ('name' in message && message.name) {
      fixed += TOKENS_PER_NAME;
      text.add(message.name);
    }
    fixed += addContent(message.content, text);
    if (message.role === 'assistant') {
      const withReasoning = message as { reasoning?: unknown; reasoning_content?: unknown };
      for (const reasoning of [withReasoning.reasoning, withReasoning.reasoning_content]) if (typeof reasoning === 'string') text.add(reasoning);
      for (const call of message.tool_calls ?? []) {
        fixed += TOKENS_PER_MESSAGE;
        if (call.type === 'function') {
          text.add(call.function.name);
          text.add(call.function.arguments);
        } else {
          text.add(call.custom.name);
          text.add(call.custom.input);
        }
      }
    }
  }
  if (params.tools?.length) text.add(JSON.stringify(params.tools));
  return fixed + text.tokens;
}

/** Some messages' share of a prompt (no reply priming): what keeping or dropping them is worth. */
export const estimateMessageTokens = (messages: ChatCompletionMessageParam[]): number => estimateTokens({ messages }) - REPLY_PRIMING_TOKENS;

/**
 * Counts prompts: with the upstream's tokenizer when the model's backend has one and it answers,
 * else with estimateTokens. No model (a count request that names none): the estimate.
 */
@Injectable()
export class TokenCounter {
  async count(model: ResolvedModel | null, params: TokenCountInput, signal?: AbortSignal): Promise<TokenCount> {
    const upstream = model
      ? await model.backend.countTokens({ model: model.upstreamModel, messages: params.messages, ...(params.tools ? { tools: params.tools } : {}) }, signal)
      : null;
    const contextWindow = model?.contextWindow ?? upstream?.contextWindow;
    const window = contextWindow ? { contextWindow } : {};
    if (upstream) return { tokens: upstream.tokens, source: 'upstream', ...window };
    return { tokens: estimateTokens(params), source: 'estimate', ...window };
  }
}
