import type { StoredItem } from '../../common/response-types';

interface Entry {
  /** The whole history a continuation starts from: the response's history, input and output. */
  items: StoredItem[];
  /** JSON size of all of `items`: what the entry keeps alive, whether or not its ancestors are still cached. */
  bytes: number;
}

/** JSON size of items. */
const sizeOf = (items: StoredItem[]): number => items.reduce((sum, item) => sum + JSON.stringify(item).length, 0);

/**
 * A WebSocket connection's `store: false` responses, for `previous_response_id` on the same
 * connection (nothing else can see them: they are in no store). Bounded by count and by bytes —
 * each entry counted with its whole history, which it holds — the least recently used going first.
 * A response whose history alone is past the bounds is not kept: its continuation is
 * `previous_response_not_found`, and the client sends its whole input again (the documented way back).
 */
export class ConnectionCache {
  private readonly entries = new Map<string, Entry>();
  private bytes = 0;

  constructor(
    private readonly maxEntries: number,
    private readonly maxBytes: number,
    /** Items of one history at most (MAX_CHAIN_DEPTH's role for stored chains). */
    private readonly maxItems = Number.MAX_SAFE_INTEGER,
  ) {}

  get size(): number {
    return this.entries.size;
  }

  /** The history continuing from `id`, or undefined; a hit becomes the most recently used. */
  get(id: string): StoredItem[] | undefined {
    const entry = this.entries.get(id);
    if (!entry) return undefined;
    this.entries.delete(id);
    this.entries.set(id, entry);
    return entry.items;
  }

  /** Keeps a finished response: `history` it continued from, and `added` (its input and output). */
  put(id: string, history: StoredItem[], added: StoredItem[]): void {
    this.evict(id);
    const items = [...history, ...added];
    const bytes = sizeOf(items);
    if (bytes > this.maxBytes || items.length > this.maxItems) return;
    this.entries.set(id, { items, bytes });
    this.bytes += bytes;
    for (const [oldest, entry] of this.entries) {
      if (this.entries.size <= this.maxEntries && this.bytes <= this.maxBytes) break;
      this.entries.delete(oldest);
      this.bytes -= entry.bytes;
    }
  }

  evict(id: string): void {
    const entry = this.entries.get(id);
    if (!entry) return;
    this.entries.delete(id);
    this.bytes -= entry.bytes;
  }
}
