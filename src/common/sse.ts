import type { ServerResponse } from 'node:http';
import type { FastifyReply } from 'fastify';

/** Something that receives a response's stream events in order. */
export interface EventSink<E> {
  emit(event: E): void;
}

/**
 * Writes server-sent events straight to the socket: `event: <type>` + `data: <json>` + blank
 * line, no `id:` lines and no `[DONE]` (OpenAI's wire format). `signal` aborts when the client goes away.
 */
export class SseWriter<E extends { type: string }> implements EventSink<E> {
  private readonly controller = new AbortController();
  private readonly raw: ServerResponse;

  constructor(reply: FastifyReply, requestId: string) {
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
    this.raw.on('close', () => {
      if (!this.raw.writableFinished) this.controller.abort();
    });
  }

  /** Aborted when the client disconnects before the stream ended. */
  get signal(): AbortSignal {
    return this.controller.signal;
  }

  get closed(): boolean {
    return this.raw.destroyed || this.raw.writableEnded;
  }

  emit(event: E): void {
    if (this.closed) return;
    this.raw.write(`event: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`);
  }

  /** An event serialized earlier (a stored event log entry). */
  write(event: { type: string; data: string }): void {
    if (this.closed) return;
    this.raw.write(`event: ${event.type}\ndata: ${event.data}\n\n`);
  }

  /** An SSE comment; clients ignore it, proxies see traffic. */
  comment(text: string): void {
    if (!this.closed) this.raw.write(`: ${text}\n\n`);
  }

  end(): void {
    if (!this.closed) this.raw.end();
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
  private target?: SseWriter<E>;

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  emit(event: E): void {
    if (this.target) this.target.emit(event);
    else this.buffer.push(event);
  }

  /** Sends what was held, then passes everything on; a client gone already aborts the run. */
  open(target: SseWriter<E>): void {
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
