import { Injectable, Logger } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { invalidRequest, responseNotFound } from '../common/openai-error';
import type { Principal } from '../common/principal';
import { isTerminal, type ResponseObject } from '../common/response-types';
import { ResponsesStore, type StoredResponse } from './persistence/responses.store';
import { terminalEvent } from './event-sequencer';
import { ResponseEventLog, toLogged, type LoggedEvent } from './events/response-event-log';

/** Where a stream of stored events goes: the SSE writer (which also takes keepalive comments). */
export interface ReplaySink {
  write(event: LoggedEvent): void;
  comment(text: string): void;
  /** Resolves when the client has taken what was written (backpressure: the log keeps the rest). */
  drained(): Promise<void>;
}

/** How long a follower waits for an event before it checks the database (and sends a keepalive). */
const FOLLOW_IDLE_MS = 2000;

/** Streaming a background response again, from any sequence number, on any API process. */
@Injectable()
export class ResponseReplay {
  private readonly logger = new Logger('ResponseReplay');

  constructor(
    private readonly store: ResponsesStore,
    private readonly events: ResponseEventLog,
    private readonly config: AppConfig,
  ) {}

  /**
   * Checks that a background response can be streamed from `startingAfter` (before any SSE
   * header is sent), and returns the response.
   */
  async prepare(principal: Principal, id: string, startingAfter: number | undefined): Promise<StoredResponse> {
    const found = await this.store.get(principal.owner, id);
    if (!found) throw responseNotFound(id);
    if (!found.background || !found.request.stream) {
      throw invalidRequest('This response cannot be streamed because it was not created with background=true and stream=true.', 'stream', 'invalid_value');
    }
    const first = await this.events.firstSequence(id);
    const after = startingAfter ?? -1;
    if ((first === null && isTerminal(found.status)) || (first !== null && first > after + 1)) {
      throw invalidRequest(
        `The events of this response before sequence number ${first ?? 'its end'} are no longer retained (retention ${this.config.eventRetentionSeconds} s); starting_after=${after} cannot be served.`,
        'starting_after',
        'events_expired',
      );
    }
    return found;
  }

  /**
   * Replays a background response's events after `after` with their original numbers, then
   * follows the live ones to the terminal event. The client going away stops the reading, never
   * the response.
   */
  async replay(id: string, known: ResponseObject, after: number, sink: ReplaySink, signal: AbortSignal): Promise<void> {
    let last = after;
    try {
      for await (const event of this.events.follow(id, after, signal, FOLLOW_IDLE_MS)) {
        if (event) {
          sink.write(event);
          last = event.seq;
          await sink.drained();
          continue;
        }
        sink.comment('keepalive');
        // No news for a while: if the database says it ended (its worker died, or a cancel found
        // nobody running it), end this reader's stream with the stored state rather than wait
        // forever. Only this reader's: the log is not written. A deleted one was cancelled by its
        // delete unless it had ended (docs/background.md), and an ended one's terminal event is in
        // the log: it ends cancelled, never with the stale status this reader started from.
        const current = await this.store.getById(id);
        if (!current || isTerminal(current.status)) {
          const final: ResponseObject = current?.response ?? { ...known, status: 'cancelled' };
          sink.write(toLogged({ ...terminalEvent(final), sequence_number: last + 1 }));
          return;
        }
      }
    } catch (error) {
      if (signal.aborted) return;
      // Redis or Postgres went away mid-stream. The headers are out, so no error answer is possible:
      // the stream ends without its terminal event and the client resumes with starting_after.
      this.logger.warn(`stream of ${id} interrupted after sequence number ${last}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
}
