import type { ServerResponse } from 'node:http';
import type { FastifyReply } from 'fastify';

/** Something that receives a response's stream events in order. */
export interface EventSink<E> {
  emit(event: E): void;
}

/** Where a stream's events go once it is open: an SSE response or a WebSocket (`signal` aborts when its client is gone). */
export interface StreamTarget<E> extends EventSink<E> {
  readonly closed: boolean;
  readonly signal: AbortSignal;
}

/** How far an SSE client may fall behind before it is dropped (see `SseWriter`). */
export interface SseLimits {
  /** Bytes left unread (in this process) beyond which the next write drops the client. */
  maxBufferedBytes: number;
  /** How long the socket may stay undrained after a write was refused. */
  maxBehindMs: number;
  onDrop?(reason: 'buffered_bytes' | 'behind'): void;
}

/**
 * Writes server-sent events straight to the socket: `event: <type>` + `data: <json>` + blank
 * line, no `id:` lines and no `[DONE]` (OpenAI's wire format). `signal` aborts when the client goes away.
 *
 * A client that does not read must not make the server hold its whole stream: after `write()`
 * refused more, `drained()` waits for `drain` (followers of the event log wait there, the log keeps
 * the events), and a client over `maxBufferedBytes` or behind for `maxBehindMs` is dropped — its
 * socket destroyed, which is a disconnect for everything that follows `signal`.
 */
export class SseWriter<E extends { type: string }> implements StreamTarget<E> {
  private readonly controller = new AbortController();
  private readonly raw: ServerResponse;
  /** Set while the socket has refused a write and not drained yet. */
  private behind?: NodeJS.Timeout;
  private drainWaiters: Array<() => void> = [];

  constructor(
    reply: FastifyReply,
    requestId: string,
    private readonly limits: SseLimits,
  ) {
    reply.hijack(); // we own the socket from here on; Nest and Fastify will not answer for us
    this.raw = reply.raw;
    this.raw.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
      'x-request-id': requestId,
    });
    this.raw.flushHeaders();
    this.raw.on('drain', () => this.caughtUp());
    this.raw.on('close', () => {
      this.caughtUp();
      if (!this.raw.writableFinished) this.controller.abort();
    });
  }

  /** Aborted when the client disconnects (or is dropped) before the stream ended. */
  get signal(): AbortSignal {
    return this.controller.signal;
  }

  get closed(): boolean {
    return this.raw.destroyed || this.raw.writableEnded;
  }

  emit(event: E): void {
    this.send(`event: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`);
  }

  /** An event serialized earlier (a stored event log entry). */
  write(event: { type: string; data: string }): void {
    this.send(`event: ${event.type}\ndata: ${event.data}\n\n`);
  }

  /** An SSE comment; clients ignore it, proxies see traffic. */
  comment(text: string): void {
    this.send(`: ${text}\n\n`);
  }

  /** Resolves once the client has taken what was written (at once unless it is behind), or is gone. */
  drained(): Promise<void> {
    if (!this.behind || this.closed) return Promise.resolve();
    return new Promise((resolve) => this.drainWaiters.push(resolve));
  }

  end(): void {
    if (!this.closed) this.raw.end();
  }

  private send(chunk: string): void {
    if (this.closed) return;
    // Counted before this chunk, so one event of any size gets through to a client that keeps up.
    if (this.raw.writableLength > this.limits.maxBufferedBytes) return this.drop('buffered_bytes');
    if (this.raw.write(chunk) || this.behind) return;
    this.behind = setTimeout(() => this.drop('behind'), this.limits.maxBehindMs);
  }

  private caughtUp(): void {
    clearTimeout(this.behind);
    this.behind = undefined;
    for (const resolve of this.drainWaiters.splice(0)) resolve();
  }

  private drop(reason: 'buffered_bytes' | 'behind'): void {
    this.limits.onDrop?.(reason);
    this.raw.destroy(); // 'close' follows: the signal aborts as for a client that left
  }
}

/**
 * Holds a response's first events until its stream may open (its row is stored), then passes
 * them on: the upstream call starts at once, in parallel with the INSERT, instead of after it.
 * `signal` aborts the run when the stream cannot open (storage failed) or its client left.
 */
export class PendingSink<E extends { type: string }> implements EventSink<E> {
  private readonly controller = new AbortController();
  private buffer: E[] = [];
  private target?: StreamTarget<E>;

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  emit(event: E): void {
    if (this.target) this.target.emit(event);
    else this.buffer.push(event);
  }

  /** Sends what was held, then passes everything on; a client gone already aborts the run. */
  open(target: StreamTarget<E>): void {
    for (const event of this.buffer) target.emit(event);
    this.buffer = [];
    this.target = target;
    if (target.closed || target.signal.aborted) this.abort();
    else target.signal.addEventListener('abort', () => this.abort(), { once: true });
  }

  abort(): void {
    this.controller.abort();
  }
}
