import { Injectable, Logger } from '@nestjs/common';
import type { ResponseObject, ResponseStatus, StoredItem } from '../../common/response-types';
import { ConversationsService } from '../../conversations/conversations.service';
import { Metrics } from '../../metrics/metrics';
import { ResponsesStore, type ResponsePatch } from '../persistence/responses.store';
import { terminalEvent, type EventSequencer } from '../event-sequencer';
import { ResponseEventLog } from '../events/response-event-log';
import type { ResponseIdentity } from './execution';
import { newResponse } from './execution-factory';

/** How a response ends. */
export interface Ending {
  run: ResponseIdentity;
  /**
   * What is written: the Response its run built (with `completedAt` when it completed), or — a
   * cancel — only the terminal status, over whatever the row holds.
   */
  outcome: { response: ResponseObject; completedAt?: Date | null } | { status: Extract<ResponseStatus, 'cancelled'> };
  /** The statuses it may end from (a `row` response)… */
  from: readonly ResponseStatus[];
  /** …and the attempt it must still have (fencing a stale run), when given. */
  attempt?: number;
  /**
   * Who writes the terminal event: the run itself, on its own numbering (the client's stream, or a
   * background stream's log); `log` — someone who does not run it (a cancel of a queued response,
   * a give-up), after the log's last event; `none` — a runner will.
   */
  events: EventSequencer | 'log' | 'none';
}

export interface Ended {
  /** True when this ending was written; false when another writer (a cancel, a retry, a delete) had won. */
  saved: boolean;
  /** What was written; when a run lost, what the winner left (or its own, if the row is gone); null when an outside writer lost. */
  response: ResponseObject | null;
}

/**
 * The only way a response reaches a terminal state: the fenced terminal write (a conditional
 * update, or the one INSERT of a non-streaming synchronous response), the metric, the terminal
 * event, the conversation append. The webhook outbox is filled by a trigger on that write.
 */
@Injectable()
export class ResponseLifecycle {
  private readonly logger = new Logger('ResponseLifecycle');

  constructor(
    private readonly store: ResponsesStore,
    private readonly events: ResponseEventLog,
    private readonly metrics: Metrics,
    private readonly conversations: ConversationsService,
  ) {}

  async end(ending: Ending): Promise<Ended> {
    const { saved, response } = await this.write(ending);
    if (saved && response) {
      this.metrics.responseEnded(response.status ?? 'unknown', ending.run.request.background);
      await this.appendToConversation(ending.run, response);
    }
    await this.endStream(ending, saved, response);
    return { saved, response };
  }

  /**
   * Synchronous responses whose process died (they run inside an HTTP request, so nobody else
   * will end them): failed in one statement. They have no event log and no conversation turn.
   */
  async endAbandonedSynchronous(olderThan: Date, error: { code: string; message: string }): Promise<number> {
    const failed = await this.store.failAbandonedSynchronous(olderThan, error);
    if (failed) this.metrics.responseEnded('failed', false, failed);
    return failed;
  }

  private async write({ run, outcome, from, attempt, events }: Ending): Promise<Ended> {
    if (!('response' in outcome)) {
      const row = await this.store.updateResponseObject(run.id, { status: outcome.status }, { allowedStatuses: from, attempt });
      return { saved: row !== null, response: row?.response ?? null };
    }
    const { response, completedAt } = outcome;
    if (run.persistence === 'none') return { saved: true, response };
    if (run.persistence === 'at-end') {
      await this.store.create(newResponse(run, response, completedAt ?? null));
      return { saved: true, response };
    }
    await run.stored;
    const patch: ResponsePatch = { status: response.status, response, completedAt };
    if (await this.store.updateResponseObject(run.id, patch, { allowedStatuses: from, attempt })) return { saved: true, response };
    if (events === 'log' || events === 'none') return { saved: false, response: null };
    // A run lost: another writer decided this response's fate; what it wrote is the truth, if it still exists.
    const current = await this.store.getById(run.id);
    return { saved: false, response: current?.response ?? response };
  }

  /**
   * The writer of a stream ends it. A run that lost still ends its stream when nobody else will:
   * a synchronous stream has no other writer; a background one lost to a cancel (which leaves the
   * stream of a running response to its run), but not to a retry, which writes its own.
   */
  private async endStream({ run, events }: Ending, saved: boolean, response: ResponseObject | null): Promise<void> {
    if (!response || events === 'none') return;
    const logged = run.request.background && run.request.stream;
    if (events === 'log') {
      if (!saved || !logged) return;
      // Best effort: a follower that finds no end in the log ends from the database.
      await this.events
        .end(run.id, terminalEvent(response))
        .catch((error: unknown) => this.logger.warn(`end of ${run.id}'s stream not logged: ${String(error)}`));
      return;
    }
    if (!saved && run.request.background && response.status !== 'cancelled') return;
    events.emit(terminalEvent(response));
    if (logged) await this.events.finish(run.id);
  }

  /** A response on a conversation adds its input and output to it once it completed (or ran out of tokens). */
  private async appendToConversation(run: ResponseIdentity, response: ResponseObject): Promise<void> {
    const conversation = run.request.conversation;
    if (!conversation || (response.status !== 'completed' && response.status !== 'incomplete')) return;
    try {
      await this.conversations.append(conversation.id, [...run.input, ...(response.output as StoredItem[])]);
    } catch (error) {
      // The response stands; the conversation just misses this turn (deleted meanwhile, say).
      this.logger.warn(`response ${run.id}: not appended to ${conversation.id}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
}
