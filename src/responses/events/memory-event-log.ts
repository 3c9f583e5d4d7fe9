import { Injectable, OnModuleDestroy } from '@nestjs/common';
import { AppConfig } from '../../config/app-config';
import type { StreamEvent } from '../../common/response-types';
import { LoggedEvent, ResponseEventLog, TERMINAL_EVENT_TYPES, toLogged } from './response-event-log';

interface Entry {
  events: LoggedEvent[];
  waiters: Set<() => void>;
  expiry?: NodeJS.Timeout;
}

/** Index of the first event with `seq > after` (events are in ascending order). */
function indexAfter(events: LoggedEvent[], after: number): number {
  let lo = 0;
  let hi = events.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (events[mid].seq > after) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/** Most events kept per response: older ones are dropped, and a cursor before them is refused. */
const MAX_EVENTS_PER_RESPONSE = 100_000;

/** The event log of the embedded default (no Redis): bounded, in this process's memory. */
@Injectable()
export class MemoryEventLog extends ResponseEventLog implements OnModuleDestroy {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly config: AppConfig) {
    super();
  }

  private entry(id: string): Entry {
    let entry = this.entries.get(id);
    if (!entry) {
      entry = { events: [], waiters: new Set() };
      this.entries.set(id, entry);
    }
    return entry;
  }

  append(responseId: string, event: StreamEvent): void {
    const entry = this.entry(responseId);
    const last = entry.events[entry.events.length - 1];
    if (last && event.sequence_number <= last.seq) return; // never reorder or duplicate
    entry.events.push(toLogged(event));
    if (entry.events.length > MAX_EVENTS_PER_RESPONSE) entry.events.splice(0, entry.events.length - MAX_EVENTS_PER_RESPONSE);
    for (const wake of entry.waiters) wake();
    entry.waiters.clear();
  }

  flush(): Promise<void> {
    return Promise.resolve();
  }

  finish(responseId: string): Promise<void> {
    const entry = this.entry(responseId);
    clearTimeout(entry.expiry);
    entry.expiry = setTimeout(() => this.entries.delete(responseId), this.config.eventRetentionSeconds * 1000);
    entry.expiry.unref();
    return Promise.resolve();
  }

  lastSequence(responseId: string): Promise<number> {
    const events = this.entries.get(responseId)?.events;
    return Promise.resolve(events?.length ? events[events.length - 1].seq : -1);
  }

  firstSequence(responseId: string): Promise<number | null> {
    return Promise.resolve(this.entries.get(responseId)?.events[0]?.seq ?? null);
  }

  async *follow(responseId: string, after: number, signal: AbortSignal, idleMs: number): AsyncIterable<LoggedEvent | null> {
    let cursor = after;
    while (!signal.aborted) {
      const entry = this.entry(responseId);
      const start = indexAfter(entry.events, cursor);
      if (start < entry.events.length) {
        const fresh = entry.events.slice(start);
        for (const event of fresh) {
          yield event;
          cursor = event.seq;
          if (TERMINAL_EVENT_TYPES.has(event.type)) return;
        }
        continue;
      }
      const woke = await new Promise<boolean>((resolve) => {
        const wake = () => {
          clearTimeout(timer);
          signal.removeEventListener('abort', wake);
          resolve(true);
        };
        const timer = setTimeout(() => {
          entry.waiters.delete(wake);
          signal.removeEventListener('abort', wake);
          resolve(false);
        }, idleMs);
        entry.waiters.add(wake);
        signal.addEventListener('abort', wake, { once: true });
      });
      if (!woke) yield null;
    }
  }

  onModuleDestroy(): void {
    for (const entry of this.entries.values()) clearTimeout(entry.expiry);
  }
}
