import type { ChatCompletionMessageParam } from 'openai/resources/chat/completions';

/**
 * `truncation: "auto"`: drops the oldest messages until the prompt fits. System messages (the
 * instructions, developer messages) always stay; an assistant message's tool calls go together
 * with the tool results that answer them; the turn being answered — from the last user message
 * on (the last unit when there is none) — always stays: a tool loop keeps the task it works on.
 * `tokens` is the prompt's count (the upstream's own when it has a tokenizer), `measure` the
 * estimate of a few messages, which is what dropping them saves.
 */
export function truncateToFit(
  messages: ChatCompletionMessageParam[],
  tokens: number,
  budget: number,
  measure: (messages: ChatCompletionMessageParam[]) => number,
): ChatCompletionMessageParam[] {
  if (tokens <= budget) return messages;
  // Droppable units, oldest first: indexes into `messages`.
  const units: number[][] = [];
  messages.forEach((message, i) => {
    if (message.role === 'system' || message.role === 'developer') return;
    const last = units[units.length - 1];
    const head = last ? messages[last[0]] : undefined;
    if (message.role === 'tool' && head?.role === 'assistant' && head.tool_calls?.length) last.push(i);
    else units.push([i]);
  });
  let lastUser = -1;
  messages.forEach((message, i) => {
    if (message.role === 'user') lastUser = i;
  });
  const droppable = units.slice(0, -1).filter((unit) => lastUser < 0 || unit[0] < lastUser);
  const dropped = new Set<number>();
  let total = tokens;
  for (const unit of droppable) {
    if (total <= budget) break;
    total -= measure(unit.map((i) => messages[i]));
    for (const i of unit) dropped.add(i);
  }
  return messages.filter((_, i) => !dropped.has(i));
}

/** What is kept free for the reply: `max_output_tokens`, else an eighth of the window (at most 4096). */
export const replyReserve = (contextWindow: number, maxOutputTokens: number | null | undefined): number =>
  maxOutputTokens ?? Math.min(4096, Math.floor(contextWindow / 8));
