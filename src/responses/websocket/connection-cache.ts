import type { StoredItem } from '../../common/response-types';

interface Entry {
  /** The whole history a continuation starts from: the response's history, input and output. */
  items: StoredItem[];
  /** JSON size of what this entry added (its input and output): the rest is shared with its parent. */
  bytes: number;
}

/**
 * A WebSocket connection's `store: false` responses, for `previous_response_id` on the same
 * connection (nothing else can see them: they are in no store). Bounded by count and by bytes:
 * the least recently used go first, the newest always stays (else the connection could not go on).
 */
export class ConnectionCache {
  private readonly entries = new Map<string, Entry>();
  private bytes = 0;

  constructor(
    private readonly maxEntries: number,
    private readonly maxBytes: number,
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
    const bytes = added.reduce((sum, item) => sum + JSON.stringify(item).length, 0);
    this.entries.set(id, { items: [...history, ...added], bytes });
    this.bytes += bytes;
    for (const [oldest, entry] of this.entries) {
      if (this.entries.size <= 1 || (this.entries.size <= this.maxEntries && this.bytes <= this.maxBytes)) break;
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
