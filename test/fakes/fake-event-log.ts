import type { StreamEvent } from '../../src/common/response-types';
import { ResponseEventLog, TERMINAL_EVENT_TYPES, toLogged, type LoggedEvent } from '../../src/responses/events/response-event-log';

/** The event log port in memory, recording what was appended and which streams were finished. */
export class FakeEventLog extends ResponseEventLog {
  readonly logs = new Map<string, LoggedEvent[]>();
  readonly finished = new Set<string>();

  append(responseId: string, event: StreamEvent): void {
    const log = this.logs.get(responseId) ?? [];
    log.push(toLogged(event));
    this.logs.set(responseId, log);
  }

  flush(): Promise<void> {
    return Promise.resolve();
  }

  finish(responseId: string): Promise<void> {
    this.finished.add(responseId);
    return Promise.resolve();
  }

  lastSequence(responseId: string): Promise<number> {
    return Promise.resolve(this.logs.get(responseId)?.at(-1)?.seq ?? -1);
  }

  firstSequence(responseId: string): Promise<number | null> {
    return Promise.resolve(this.logs.get(responseId)?.[0]?.seq ?? null);
  }

  /** The types of a response's logged events, in order. */
  types(responseId: string): string[] {
    return (this.logs.get(responseId) ?? []).map((e) => e.type);
  }

  /** The logged terminal events of a response, parsed. */
  terminals(responseId: string): StreamEvent[] {
    return (this.logs.get(responseId) ?? []).filter((e) => TERMINAL_EVENT_TYPES.has(e.type)).map((e) => JSON.parse(e.data) as StreamEvent);
  }

  async *follow(responseId: string, after: number): AsyncIterable<LoggedEvent | null> {
    for (const event of this.logs.get(responseId) ?? []) if (event.seq > after) yield await Promise.resolve(event);
  }
}
