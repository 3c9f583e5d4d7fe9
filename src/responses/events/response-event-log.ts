import type { StreamEvent, UnsequencedEvent } from '../../common/response-types';

/** An event as stored: its number, its type and its JSON (serialized once, when appended). */
export interface LoggedEvent {
  seq: number;
  type: string;
  data: string;
}

export const TERMINAL_EVENT_TYPES: ReadonlySet<string> = new Set(['response.completed', 'response.failed', 'response.incomplete']);

export function toLogged(event: StreamEvent): LoggedEvent {
  return { seq: event.sequence_number, type: event.type, data: JSON.stringify(event) };
}

/**
 * The events of background streams (port), kept so that any API process can replay them from
 * any sequence number and then follow the live ones. One writer at a time per response: the API
 * process that created it (events 0 and 1), then the worker that runs it, or the canceller that
 * ended it while still queued.
 */
export abstract class ResponseEventLog {
  /** Appends in order without waiting; `flush` waits for every append so far. */
  abstract append(responseId: string, event: StreamEvent): void;

  abstract flush(responseId: string): Promise<void>;

  /** The stream is over: it stays replayable for the retention period, then goes. */
  abstract finish(responseId: string): Promise<void>;

  /**
   * Ends the stream of a response whose end was written by someone other than its runner (a
   * cancel of a queued response, a run given up): its terminal event (see ResponseLifecycle)
   * after the last one, then retention.
   */
  async end(responseId: string, terminal: UnsequencedEvent): Promise<void> {
    const seq = (await this.lastSequence(responseId)) + 1;
    this.append(responseId, { ...terminal, sequence_number: seq });
    await this.finish(responseId);
  }

  /** The highest sequence number appended, or -1 when there is none. */
  abstract lastSequence(responseId: string): Promise<number>;

  /** The lowest sequence number still retained, or null when nothing is. */
  abstract firstSequence(responseId: string): Promise<number | null>;

  /**
   * Events after `after`, then live ones as they come, until a terminal event or `signal`.
   * Yields `null` after `idleMs` without events, so the reader can look elsewhere (keepalives,
   * the database) before waiting again.
   */
  abstract follow(responseId: string, after: number, signal: AbortSignal, idleMs: number): AsyncIterable<LoggedEvent | null>;
}
