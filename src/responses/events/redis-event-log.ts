import { randomUUID } from 'node:crypto';
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

/** Entries one read returns per stream: bounds a reply, the rest comes with the next read. */
const PAGE = 500;
/**
 * Longest single blocking read. Wake-ups make new followers independent of it; it only bounds how
 * long a silently dead connection could hold the reader.
 */
const BLOCK_MS = 5000;

/** A follower waiting for the entries of `key` after sequence number `after`. */
interface Waiter {
  key: string;
  after: number;
  settle(result: StreamEntry[] | null | Error): void;
}

/**
 * One blocking reader for every follower of this process: it `XREAD BLOCK`s over the streams the
 * waiting followers follow (each from its lowest cursor) and hands each follower the entries after
 * its own cursor. Followers are served by pull: one that is not waiting (its client is slow) is
 * not read for, so nothing piles up here.
 *
 * A follower that the current read does not cover wakes the reader by an XADD to this reader's own
 * wake stream, which every read includes. Unlike `CLIENT UNBLOCK` this cannot be lost to a race
 * (a wake sent before the read blocked makes the read return at once), and unlike a short block it
 * costs nothing while nobody joins.
 */
class SharedReader {
  private readonly waiters = new Set<Waiter>();
  /** Streams and cursors of the read in flight (empty when none is). */
  private reading = new Map<string, number>();
  private woken = false;
  private wakeCursor = '0-0';
  private idle?: () => void;
  private running = false;
  private closed = false;

  constructor(
    private readonly reader: Redis,
    private readonly writer: Redis,
    private readonly wakeKey: string,
  ) {}

  /** The entries of `key` after `after` (up to a page), or null after `idleMs` without any. */
  next(key: string, after: number, idleMs: number, signal: AbortSignal): Promise<StreamEntry[] | null> {
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        key,
        after,
        settle: (result) => {
          clearTimeout(timer);
          signal.removeEventListener('abort', quit);
          this.waiters.delete(waiter);
          if (result instanceof Error) reject(result);
          else resolve(result);
        },
      };
      const quit = () => waiter.settle(null);
      const timer = setTimeout(quit, idleMs);
      signal.addEventListener('abort', quit, { once: true });
      if (this.closed) return quit();
      this.waiters.add(waiter);
      this.kick(waiter);
    });
  }

  private kick(waiter: Waiter): void {
    if (!this.running) {
      this.running = true;
      void this.run().finally(() => (this.running = false));
      return;
    }
    if (this.idle) return this.idle();
    const covered = this.reading.get(waiter.key);
    if (covered !== undefined && covered <= waiter.after) return;
    if (this.woken || !this.reading.size) return;
    this.woken = true;
    // If Redis is away, the read in flight fails too and settles every waiter.
    this.writer
      .pipeline()
      .xadd(this.wakeKey, 'MAXLEN', '1', '*', 'w', '1')
      .pexpire(this.wakeKey, 60_000)
      .exec()
      .catch(() => undefined);
  }

  private async run(): Promise<void> {
    while (!this.closed) {
      if (!this.waiters.size) {
        await new Promise<void>((resolve) => (this.idle = resolve));
        this.idle = undefined;
        continue;
      }
      const cursors = new Map<string, number>();
      for (const w of this.waiters) cursors.set(w.key, Math.min(cursors.get(w.key) ?? Infinity, w.after));
      this.reading = cursors;
      this.woken = false;
      let result: Array<[string, StreamEntry[]]> | null;
      try {
        result = await this.reader.xread(
          'COUNT',
          PAGE,
          'BLOCK',
          BLOCK_MS,
          'STREAMS',
          ...cursors.keys(),
          this.wakeKey,
          ...[...cursors.values()].map(entryId),
          this.wakeCursor,
        );
      } catch (error) {
        this.reading = new Map();
        if (this.closed) break;
        // Redis went away: every follower ends as its own blocking read would have.
        for (const w of [...this.waiters]) w.settle(error instanceof Error ? error : new Error(String(error)));
        continue;
      }
      this.reading = new Map();
      for (const [key, entries] of result ?? []) {
        if (key === this.wakeKey) {
          this.wakeCursor = entries[entries.length - 1][0];
          continue;
        }
        // A follower that joined behind this read's cursor (its wake-up came too late for it) is
        // served by the next read: these entries would skip the events between its cursor and this one.
        const readFrom = cursors.get(key) ?? -1;
        for (const w of [...this.waiters]) {
          if (w.key !== key || w.after < readFrom) continue;
          const fresh = entries.filter(([id]) => seqOf(id) > w.after);
          if (fresh.length) w.settle(fresh);
        }
      }
      // Lets the followers just served write their events and wait again before the next read.
      await new Promise((resolve) => setImmediate(resolve));
    }
    for (const w of [...this.waiters]) w.settle(null);
  }

  close(): void {
    this.closed = true;
    this.idle?.();
    for (const w of [...this.waiters]) w.settle(null);
  }
}

/**
 * The event log on Redis Streams: one stream per response, entry ids derived from sequence
 * numbers, so replay after N is a range read and following is a blocking read — one shared by
 * every follower of the process (`SharedReader`). Keys expire a retention period after the
 * terminal event.
 */
@Injectable()
export class RedisEventLog extends ResponseEventLog implements OnModuleDestroy {
  private readonly logger = new Logger('RedisEventLog');
  private readonly writer: Redis;
  private readonly pending = new Map<string, Promise<unknown>>();
  private reader?: SharedReader;
  private readerConnection?: Redis;

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

  /** The process's one blocking reader, connected when the first follower needs it. */
  private shared(): SharedReader {
    if (!this.reader) {
      this.readerConnection = this.redis.create('event-follow', { lazy: true });
      this.reader = new SharedReader(this.readerConnection, this.writer, `${this.config.queuePrefix}:events-wake:${randomUUID()}`);
    }
    return this.reader;
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
    let cursor = after;
    /** Checks and passes on entries in order; true once the terminal event went out. */
    const deliver = function* (entries: StreamEntry[]): Generator<LoggedEvent, boolean> {
      for (const entry of entries) {
        const event = parse(entry);
        if (event.seq !== cursor + 1) throw gap(responseId, cursor);
        yield event;
        cursor = event.seq;
        if (TERMINAL_EVENT_TYPES.has(event.type)) return true;
      }
      return false;
    };
    // Replay: range reads on the normal connection, a page at a time…
    for (;;) {
      const page = (await this.writer.xrange(key, `(${entryId(cursor)}`, '+', 'COUNT', PAGE)) as StreamEntry[];
      if (signal.aborted || (yield* deliver(page))) return;
      if (page.length < PAGE) break;
    }
    // …then the live events, from the process's shared blocking reader.
    const reader = this.shared();
    while (!signal.aborted) {
      const entries = await reader.next(key, cursor, idleMs, signal);
      if (signal.aborted) return;
      if (!entries) yield null;
      else if (yield* deliver(entries)) return;
    }
  }

  onModuleDestroy(): void {
    this.reader?.close();
    this.readerConnection?.disconnect();
    this.writer.disconnect();
  }
}
