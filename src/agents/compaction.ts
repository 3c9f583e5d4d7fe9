import type { ResponseCompactionItem } from 'openai/resources/responses/responses';
import { invalidRequest } from '../common/openai-error';
import type { StoredItem } from '../common/response-types';
import { SealedValueError, type SealContext, type SecretBox } from '../common/secrets';
import type { ClientSealBox } from './reasoning-seal';

/**
 * Compaction (docs/compaction.md). A `compaction` item stands for the window before it: its
 * `encrypted_content` is a summary written by the backend model, sealed by this server for the
 * tenant. Upstream, the latest compaction item of a window replaces the items before it except the
 * system and developer messages and the newest user messages (what OpenAI keeps verbatim), and
 * its summary goes in its place as a user message.
 */

/** Bound to the tenant only: clients (Codex) replay compaction items without their ids. */
export const compactionContext = (tenant: string): SealContext => ({ purpose: 'compaction', tenant, id: 'window' });

/** What is sealed: JSON, so that later versions can add fields next to the summary. */
interface SealedCompaction {
  summary: string;
}

/** How the summary reaches the model: the start of the user message that carries it. */
export const SUMMARY_PREFIX = 'Summary of the earlier conversation (its turns were compacted away; this summary replaces them):\n\n';

/** Newest user messages kept verbatim before a compaction, in estimated tokens (Codex keeps 64k too). */
export const RETAINED_USER_TOKENS = 64_000;

/**
 * What the retained user messages may take: RETAINED_USER_TOKENS, at most half the compaction
 * threshold and a quarter of the model's window — else a long session's user messages alone would
 * outgrow the threshold, and every turn would compact.
 */
export function retainedBudget(contextWindow?: number, threshold?: number | null): number {
  return Math.floor(Math.min(RETAINED_USER_TOKENS, threshold ? threshold / 2 : Infinity, contextWindow ? contextWindow / 4 : Infinity));
}

export const isCompaction = (item: StoredItem): boolean => (item as { type?: string }).type === 'compaction';

export function sealCompaction(box: SecretBox, tenant: string, id: string, summary: string): ResponseCompactionItem {
  const payload: SealedCompaction = { summary };
  return { type: 'compaction', id, encrypted_content: box.seal(JSON.stringify(payload), compactionContext(tenant)) };
}

/** The summary of a compaction item; throws SealedValueError when this server cannot open it. */
export function openCompaction(box: SecretBox | undefined, tenant: string, item: StoredItem): string {
  if (!box) throw new SealedValueError('SECRETS_KEY is not set on this server');
  const sealed = (item as { encrypted_content?: unknown }).encrypted_content;
  if (typeof sealed !== 'string') throw new SealedValueError('it has no encrypted_content');
  const plain = box.open(sealed, compactionContext(tenant), { legacy: false });
  try {
    const payload = JSON.parse(plain) as Partial<SealedCompaction> | null;
    if (typeof payload?.summary === 'string') return payload.summary;
  } catch {
    // not ours: refused below
  }
  throw new SealedValueError('it holds no summary');
}

/** Every compaction item of a request's input must open here: one that does not is a 400 naming it. */
export function checkCompactionInput(input: StoredItem[], box: ClientSealBox, tenant: string): void {
  input.forEach((item, i) => {
    if (!isCompaction(item)) return;
    const param = `input[${i}].encrypted_content`;
    try {
      openCompaction(box(param), tenant, item);
    } catch (error) {
      if (!(error instanceof SealedValueError)) throw error;
      throw invalidRequest(
        `The encrypted_content of compaction item '${item.id}' cannot be opened by this server: ${error.message}; it must come back unchanged, to the server that made it.`,
        param,
        'invalid_encrypted_content',
      );
    }
  });
}

/** The messages that carry summaries (summaryMessage): user messages to the upstream, never retained as the user's. */
const summaries = new WeakSet<StoredItem>();

const role = (item: StoredItem): string | undefined => {
  const raw = item as { type?: string; role?: string };
  return (raw.type ?? 'message') === 'message' && !summaries.has(item) ? raw.role : undefined;
};

/**
 * The user messages a compaction keeps verbatim: the newest ones within `budget` tokens (the
 * newest always), in their order.
 */
export function retainedUserMessages(items: StoredItem[], budget: number, measure: (item: StoredItem) => number): StoredItem[] {
  const kept: StoredItem[] = [];
  let used = 0;
  for (let i = items.length - 1; i >= 0; i--) {
    const item = items[i];
    if (role(item) !== 'user') continue;
    used += measure(item);
    if (kept.length && used > budget) break;
    kept.unshift(item);
  }
  return kept;
}

/** The user message that carries a compaction's summary upstream. */
export function summaryMessage(id: string, summary: string): StoredItem {
  const message = {
    type: 'message',
    id,
    role: 'user',
    status: 'completed',
    content: [{ type: 'input_text', text: `${SUMMARY_PREFIX}${summary}` }],
  } as StoredItem;
  summaries.add(message);
  return message;
}

/**
 * The items the upstream gets for a window: before its latest compaction item only the system and
 * developer messages and the retained user messages stay, then the summary, then what followed.
 * `open` gives a compaction item's summary (and throws when it cannot).
 */
export function compactedWindow(items: StoredItem[], open: (item: StoredItem) => string, budget: number, measure: (item: StoredItem) => number): StoredItem[] {
  let last = -1;
  for (let i = items.length - 1; i >= 0 && last < 0; i--) if (isCompaction(items[i])) last = i;
  if (last < 0) return items;
  const before = items.slice(0, last);
  const retained = new Set(retainedUserMessages(before, budget, measure));
  const kept = before.filter((item) => retained.has(item) || role(item) === 'system' || role(item) === 'developer');
  const compaction = items[last];
  return [...kept, summaryMessage(compaction.id, open(compaction)), ...items.slice(last + 1)];
}
