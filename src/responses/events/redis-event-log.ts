import { Injectable, Logger, OnModuleDestroy } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { AppConfig } from '../../config/app-config';
import type { StreamEvent } from '../../common/response-types';
import { RedisConnections } from '../../redis/redis-connections';
import { LoggedEvent, ResponseEventLog, TERMINAL_EVENT_TYPES, toLogged } from './response-event-log';

type StreamEntry = [id: string, fields: string[]];

/** Entry id of sequence number `seq`: `0-(seq+1)`, so a range read by sequence is an id range. */
const entryId = (seq: number) => `0-${seq + 1}`;
const seqOf = (id: string) => Number(id.slice(id.indexOf('-') + 1)) - 1;

function parse([id, fields]: StreamEntry): LoggedEvent {
  let type = '';
  let data = '';
  for (let i = 0; i < fields.length; i += 2) {
    if (fields[i] === 't') type = fields[i + 1];
    else if (fields[i] === 'd') data = fields[i + 1];
  }
  return { seq: seqOf(id), type, data };
}

/**
 * An event the log does not have (its append failed while Redis was away, or Redis lost it): the
 * stream must end visibly there, never skip ahead as if nothing were missing.
 */
const gap = (responseId: string, last: number) => new Error(`the event log of ${responseId} has no event ${last + 1}`);

/**
 * The event log on Redis Streams: one stream per response, entry ids derived from sequence
 * numbers, so replay after N is one range read and following is a blocking read. Keys expire a
 * retention period after the terminal event.
 */
@Injectable()
export class RedisEventLog extends ResponseEventLog implements OnModuleDestroy {
  private readonly logger = new Logger('RedisEventLog');
  private readonly writer: Redis;
  private readonly pending = new Map<string, Promise<unknown>>();

  constructor(
    private readonly redis: RedisConnections,
    private readonly config: AppConfig,
  ) {
    super();
    this.writer = redis.create('event-log');
  }

  private key(responseId: string): string {
    return `${this.config.queuePrefix}:events:${responseId}`;
  }

  append(responseId: string, event: StreamEvent): void {
    const logged = toLogged(event);
    // One connection sends commands in order, so appends stay ordered without awaiting each.
    const done = this.writer.xadd(this.key(responseId), entryId(logged.seq), 't', logged.type, 'd', logged.data).catch((error: unknown) => {
      this.logger.warn(`append ${responseId}#${logged.seq} failed: ${error instanceof Error ? error.message : String(error)}`);
    });
    this.pending.set(responseId, done);
    void done.finally(() => {
      if (this.pending.get(responseId) === done) this.pending.delete(responseId);
    });
  }

  async flush(responseId: string): Promise<void> {
    await this.pending.get(responseId);
  }

  async finish(responseId: string): Promise<void> {
    await this.flush(responseId);
    await this.writer.expire(this.key(responseId), this.config.eventRetentionSeconds);
  }

  async lastSequence(responseId: string): Promise<number> {
    await this.flush(responseId);
    const last = (await this.writer.xrevrange(this.key(responseId), '+', '-', 'COUNT', 1)) as StreamEntry[];
    return last.length ? seqOf(last[0][0]) : -1;
  }

  async firstSequence(responseId: string): Promise<number | null> {
    const first = (await this.writer.xrange(this.key(responseId), '-', '+', 'COUNT', 1)) as StreamEntry[];
    return first.length ? seqOf(first[0][0]) : null;
  }

  async *follow(responseId: string, after: number, signal: AbortSignal, idleMs: number): AsyncIterable<LoggedEvent | null> {
    const key = this.key(responseId);
    // Replay is one range read on the shared connection…
    const replay = (await this.writer.xrange(key, `(${entryId(after)}`, '+')) as StreamEntry[];
    let cursor = after;
    for (const entry of replay) {
      const event = parse(entry);
      if (event.seq !== cursor + 1) throw gap(responseId, cursor);
      yield event;
      cursor = event.seq;
      if (TERMINAL_EVENT_TYPES.has(event.type)) return;
    }
    // …following needs a connection of its own: a blocking read holds it.
    const reader = this.redis.create('event-follow', { lazy: true });
    const stop = () => reader.disconnect();
    signal.addEventListener('abort', stop, { once: true });
    try {
      while (!signal.aborted) {
        let result: Array<[string, StreamEntry[]]> | null;
        try {
          result = (await reader.xread('BLOCK', idleMs, 'STREAMS', key, entryId(cursor)));
        } catch (error) {
          if (signal.aborted) return; // disconnected on purpose
          throw error;
        }
        if (signal.aborted) return;
        if (!result) {
          yield null;
          continue;
        }
        for (const entry of result[0][1]) {
          const event = parse(entry);
          if (event.seq !== cursor + 1) throw gap(responseId, cursor);
          yield event;
          cursor = event.seq;
          if (TERMINAL_EVENT_TYPES.has(event.type)) return;
        }
      }
    } finally {
      signal.removeEventListener('abort', stop);
      reader.disconnect();
    }
  }

  onModuleDestroy(): void {
    this.writer.disconnect();
  }
}
