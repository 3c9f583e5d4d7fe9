import { Injectable } from '@nestjs/common';
import type { ResponseCompactionItem, ResponseUsage } from 'openai/resources/responses/responses';
import { newId } from '../common/ids';
import type { StoredItem } from '../common/response-types';
import { AppConfig } from '../config/app-config';
import type { ResolvedModel } from '../inference/model-registry';
import { UpstreamError } from '../inference/upstream-error';
import { estimateMessageTokens, estimateTokens } from '../inference/token-counter';
import { toChatMessages } from './chat-request';
import { compactedWindow, openCompaction, retainedUserMessages, sealCompaction } from './compaction';
import { toUsage } from './usage';
import { truncateToFit } from './truncation';
import type { ChatCompletionMessageParam } from 'openai/resources/chat/completions';

/**
 * What the backend model is asked after the window (docs/compaction.md shows it): a summary another
 * model can continue the work from, since nothing else of the compacted turns reaches it again.
 */
export const SUMMARY_PROMPT = [
  'Summarize the conversation above for a model that will continue it without seeing it: the earlier turns are about to be removed from its context and replaced by your summary.',
  'Keep: the goals and constraints the user stated, decisions made and why, what was done (files, commands, tool calls and their important results, exact names, paths, identifiers and numbers), what failed, the current state, and the open tasks and next steps.',
  'Leave out greetings and repetition. Write the summary only, in the language of the conversation.',
].join('\n');

/** The summary's bound in tokens (at most a quarter of the model's window, when it is known). */
const SUMMARY_MAX_TOKENS = 4096;
const summaryTokens = (model: ResolvedModel): number =>
  Math.min(SUMMARY_MAX_TOKENS, model.contextWindow ? Math.floor(model.contextWindow / 4) : SUMMARY_MAX_TOKENS);

/** Items measured already: a window's user messages are measured on every turn that holds a compaction. */
const measured = new WeakMap<StoredItem, number>();

/** An item's estimated tokens as the upstream gets it: what bounds the retained user messages. */
function itemTokens(item: StoredItem): number {
  let tokens = measured.get(item);
  if (tokens === undefined) {
    tokens = estimateMessageTokens(toChatMessages(null, [item]));
    measured.set(item, tokens);
  }
  return tokens;
}

/** The summary prompt's own room: the summary prompt message and a margin for the template's framing. */
const SUMMARY_PROMPT_ROOM = 256;

export interface CompactionRequest {
  /** The compaction item's id (default: a new one). */
  id?: string;
  model: ResolvedModel;
  instructions?: string | null;
  /** The window to compact: history and input (earlier compaction items are expanded first). */
  items: StoredItem[];
  tenant: string;
  /** Tokens of user messages kept verbatim (retainedBudget). */
  retainedTokens: number;
  signal: AbortSignal;
  /** Upstream retries before any output; default: the provider's. */
  upstreamRetries?: number;
  affinityKey?: string | null;
}

export interface Compacted {
  item: ResponseCompactionItem;
  /** The user messages kept verbatim (the `/responses/compact` output before the item). */
  retained: StoredItem[];
  /** What the upstream gets from now on in place of `items`. */
  window: StoredItem[];
  usage: ResponseUsage | null;
}

/**
 * The summary call must leave room for the summary: a window compacted at 80 % of a small model's
 * context plus 4,096 output tokens would be refused by the upstream (vLLM checks prompt + max_tokens).
 * The oldest turns go first, as with `truncation: "auto"`; the summary prompt (the last turn) stays.
 */
function fitWindow(messages: ChatCompletionMessageParam[], model: ResolvedModel, maxTokens: number): ChatCompletionMessageParam[] {
  if (!model.contextWindow) return messages;
  return truncateToFit(messages, estimateTokens({ messages }), model.contextWindow - maxTokens - SUMMARY_PROMPT_ROOM, estimateMessageTokens);
}

/** Compacts a window: one non-streaming call to the response's own model writes the summary, which is sealed for the tenant. */
@Injectable()
export class Compactor {
  constructor(private readonly config: AppConfig) {}

  /** Where earlier compaction items of a window are expanded into their summaries (they must open). */
  window(items: StoredItem[], tenant: string, retainedTokens: number): StoredItem[] {
    return compactedWindow(items, (item) => this.open(item, tenant), retainedTokens, itemTokens);
  }

  async compact(request: CompactionRequest): Promise<Compacted> {
    const box = this.config.clientSealBox;
    // prepare() refused the request already without a box; kept for callers that skip it.
    if (!box) throw new UpstreamError(400, 'invalid_request_error', 'invalid_prompt', 'Compaction needs SECRETS_KEY to be set on this server.');
    const { model } = request;
    const window = this.window(request.items, request.tenant, request.retainedTokens);
    const maxTokens = summaryTokens(model);
    const messages = fitWindow(
      [...toChatMessages(request.instructions, window, undefined, model.reasoningReplay), { role: 'user' as const, content: SUMMARY_PROMPT }],
      model,
      maxTokens,
    );
    const completion = await model.backend.complete(
      { model: model.upstreamModel, messages, stream: false, [model.maxTokensParam]: maxTokens },
      request.signal,
      { retries: request.upstreamRetries, affinityKey: request.affinityKey },
    );
    const summary = completion.choices[0]?.message?.content?.trim();
    if (!summary) throw new UpstreamError(502, 'server_error', 'server_error', `The upstream model '${model.id}' wrote no summary for the compaction.`);
    const item = sealCompaction(box, request.tenant, request.id ?? newId('cmp'), summary);
    const retained = retainedUserMessages(window, request.retainedTokens, itemTokens);
    return {
      item,
      retained,
      window: compactedWindow([...window, item], () => summary, request.retainedTokens, itemTokens),
      usage: toUsage(completion.usage),
    };
  }

  private open(item: StoredItem, tenant: string): string {
    try {
      return openCompaction(this.config.clientSealBox, tenant, item);
    } catch (error) {
      // Input items were checked by prepare(); a stored one no longer opens when SECRETS_KEY changed without SECRETS_KEY_PREVIOUS.
      throw new UpstreamError(
        400,
        'invalid_request_error',
        'invalid_prompt',
        `The compaction item '${item.id}' cannot be opened by this server any more: ${(error as Error).message}.`,
      );
    }
  }
}
