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
