import { Logger, type ValidationPipe } from '@nestjs/common';
import type { RawData, WebSocket } from 'ws';
import { newId } from '../../common/ids';
import { invalidRequest, OpenAIError, unsupportedParameter } from '../../common/openai-error';
import type { Principal } from '../../common/principal';
import type { StoredItem, StreamEvent } from '../../common/response-types';
import type { StreamTarget } from '../../common/sse';
import { describeError } from '../../http/all-exceptions.filter';
import type { MessageRateLimit } from '../../limits/message-rate-limit';
import type { StreamSlots } from '../../limits/stream-slots';
import { CreateResponseDto } from '../dto/create-response.dto';
import type { ResponseCreation } from '../response-creation.service';
import { ConnectionCache } from './connection-cache';

/** A socket with more than this unsent counts as behind (as Node's stream high-water mark does for SSE). */
const HIGH_WATER_BYTES = 16_384;

/** What a connection needs from the application (one set, shared by every connection). */
export interface SocketContext {
  creation: ResponseCreation;
  streamSlots: StreamSlots;
  rateLimit: MessageRateLimit;
  validation: ValidationPipe;
  limits: {
    maxBufferedBytes: number;
    maxBehindMs: number;
    maxConnectionMs: number;
    cachedResponses: number;
    cacheMaxBytes: number;
    /** Items of one held history at most (MAX_INPUT_ITEMS: what a client resending it would be allowed). */
    cacheMaxItems: number;
  };
  onDrop(reason: 'buffered_bytes' | 'behind'): void;
}

/** The `error` event of the WebSocket API (the SDK's `ResponsesServerEvent.ResponseWsError`). */
interface ErrorEvent {
  type: 'error';
  status: number;
  error: { type: string; code: string | null; message: string; param: string | null; headers?: Record<string, string> };
  stream_id?: string;
}

/**
 * One client's WebSocket on `/v1/responses`: `response.create` messages run one at a time through
 * the same use cases as HTTP (prepare → begin + run), their events go out as JSON text messages,
 * and `store: false` responses stay in this connection's cache for `previous_response_id`.
 */
export class ResponsesSocket {
  private readonly logger = new Logger('ResponsesSocket');
  private readonly cache: ConnectionCache;
  /** The response running now (one at a time); its controller aborts it when the socket goes. */
  private inFlight?: { done: Promise<void>; abort: AbortController };
  private behind?: NodeJS.Timeout;
  private readonly lifetime: NodeJS.Timeout;
  /** The 60-minute limit passed: the connection ends once its response has. */
  private expired = false;
  /** The server is shutting down: no new responses. */
  private draining = false;
  private alive = true;
  readonly closed: Promise<void>;

  constructor(
    private readonly ws: WebSocket,
    private readonly principal: Principal,
    private readonly context: SocketContext,
  ) {
    this.cache = new ConnectionCache(context.limits.cachedResponses, context.limits.cacheMaxBytes, context.limits.cacheMaxItems);
    this.closed = new Promise((resolve) => ws.once('close', () => resolve()));
    void this.closed.then(() => {
      clearTimeout(this.lifetime);
      clearTimeout(this.behind);
      this.inFlight?.abort.abort(); // like an SSE client that left: the upstream call stops, the response ends cancelled
    });
    ws.on('error', () => undefined); // 'close' follows
    ws.on('pong', () => (this.alive = true));
    ws.on('message', (data, isBinary) => this.onMessage(data, isBinary));
    this.lifetime = setTimeout(() => this.expire(), context.limits.maxConnectionMs);
  }

  get isClosed(): boolean {
    return this.ws.readyState !== this.ws.OPEN;
  }

  /** Keepalive: a peer that did not answer the last ping is gone (half-open TCP): drop it. */
  heartbeat(): void {
    if (this.isClosed) return;
    if (!this.alive) return void this.ws.terminate();
    this.alive = false;
    this.ws.ping();
  }

  /** Shutdown, first step: no new responses; resolves when the running one (if any) has ended. */
  drain(): Promise<void> {
    this.draining = true;
    return this.inFlight?.done ?? Promise.resolve();
  }

  /** Shutdown, last step: aborts what still runs and closes (1001, going away: clients may reconnect elsewhere). */
  close(code: number, reason: string): void {
    this.inFlight?.abort.abort();
    if (!this.isClosed) this.ws.close(code, reason);
  }

  /** Forced end of a close handshake the peer does not finish. */
  terminate(): void {
    this.ws.terminate();
  }

  private onMessage(data: RawData, isBinary: boolean): void {
    // Every message costs the tenant's rate limit as an HTTP request would; past it, a 429 error event and nothing parsed.
    this.context.rateLimit.consume(this.principal, 'ws-message').then(
      () => this.dispatch(data, isBinary),
      (error: unknown) => this.sendError(error),
    );
  }

  private dispatch(data: RawData, isBinary: boolean): void {
    if (isBinary) return this.sendError(invalidRequest('Binary messages are not accepted: send each event as JSON text.', null, 'invalid_message'));
    let message: unknown;
    try {
      message = JSON.parse(rawText(data));
    } catch {
      return this.sendError(invalidRequest('We could not parse the JSON of your message. Each message must be one JSON object.', null, 'invalid_json'));
    }
    if (typeof message !== 'object' || message === null || Array.isArray(message) || typeof (message as { type?: unknown }).type !== 'string') {
      return this.sendError(invalidRequest("Each message must be a JSON object with a string 'type'.", 'type', 'invalid_message'));
    }
    const event = message as { type: string } & Record<string, unknown>;
    switch (event.type) {
      case 'response.create':
        return this.create(event);
      case 'response.steer':
        return this.send({
          type: 'response.steer.failed',
          sequence_number: 0,
          error: { type: 'invalid_request_error', code: 'steering_not_supported', message: 'This server does not support steering: send a response.create.' },
          // As sent (the SDK's shape): one answer per message, and messages count against the rate limit.
          steer: { input: event.input, previous_response_id: event.previous_response_id },
        });
      default:
        return this.sendError(
          invalidRequest(`Unknown event type '${event.type.slice(0, 64)}': this server accepts 'response.create'.`, 'type', 'unknown_event_type'),
        );
    }
  }

  private create(event: Record<string, unknown>): void {
    const streamId = typeof event.stream_id === 'string' ? event.stream_id : undefined;
    if (this.inFlight) {
      return this.sendError(
        invalidRequest(
          'A response is already in flight on this connection: send the next response.create after its terminal event (response.completed, response.incomplete or response.failed).',
          null,
          'response_already_in_flight',
        ),
        streamId,
      );
    }
    if (this.expired) return this.limitReached();
    if (this.draining) {
      return this.sendError(
        new OpenAIError(503, 'The server is shutting down: open a new connection.', 'service_unavailable', null, 'server_shutting_down'),
        streamId,
      );
    }
    const abort = new AbortController();
    const done = this.respond(event, streamId, abort).finally(() => {
      this.inFlight = undefined;
      if (this.expired) this.limitReached();
    });
    this.inFlight = { done, abort };
  }

  /** One `response.create`, to its terminal event or its `error` event; never rejects. */
  private async respond(event: Record<string, unknown>, streamId: string | undefined, abort: AbortController): Promise<void> {
    const referenced = typeof event.previous_response_id === 'string' ? event.previous_response_id : undefined;
    let release: (() => void) | undefined;
    try {
      const { type: _type, stream_id: _lane, ...body } = event;
      // Stream is implicit on a socket; background runs would outlive it (OpenAI refuses them too).
      if (body.background === true) {
        throw unsupportedParameter('background', "'background' is not supported over WebSocket: use POST /v1/responses for background responses.");
      }
      const dto = (await this.context.validation.transform(
        { ...body, stream: true, background: false },
        { type: 'body', metatype: CreateResponseDto },
      )) as CreateResponseDto;
      let held = false;
      const prepared = await this.context.creation.prepare(this.principal, dto, newId('req'), (request) => {
        const history = request.previous_response_id ? this.cache.get(request.previous_response_id) : undefined;
        held = history !== undefined;
        return history;
      });
      if (held && prepared.request.store) {
        // Stored, it would name a parent no store has: no chain could be loaded from it, here or anywhere.
        throw invalidRequest(
          `'previous_response_id' names a store: false response held by this connection only, so this response cannot be stored: send 'store': false, or its whole input without previous_response_id.`,
          'store',
          'invalid_value',
        );
      }
      release = this.context.streamSlots.acquire(this.principal.owner);
      // As over SSE: a storage failure is an error event before any response event.
      const response = await this.context.creation.stream(prepared, () => this.target(streamId, abort));
      if (response.status === 'failed') {
        if (referenced) this.cache.evict(referenced); // a failed continuation does not leave its parent to retry from
      } else if (!prepared.request.store && (response.status === 'completed' || response.status === 'incomplete')) {
        this.cache.put(response.id, prepared.history, [...prepared.input, ...(response.output as StoredItem[])]);
      }
    } catch (error) {
      if (abort.signal.aborted) return; // the socket went away: nobody to tell, nothing to evict
      if (referenced) this.cache.evict(referenced);
      this.sendError(error, streamId);
    } finally {
      release?.();
    }
  }

  /** The events of one response, onto this socket (with the client's `stream_id`, when it gave one). */
  private target(streamId: string | undefined, abort: AbortController): StreamTarget<StreamEvent> {
    return {
      emit: (e) => this.send(streamId ? { ...e, stream_id: streamId } : e),
      get closed() {
        return abort.signal.aborted;
      },
      signal: abort.signal,
    };
  }

  private sendError(error: unknown, streamId?: string): void {
    const { status, body, headers } = describeError(error, { method: 'GET', url: '/v1/responses' });
    if (status >= 500) this.logger.error(`response.create → ${status}`, error instanceof Error ? error.stack : String(error));
    const event: ErrorEvent = { type: 'error', status, error: { ...body.error, ...(Object.keys(headers).length ? { headers } : {}) } };
    if (streamId) event.stream_id = streamId;
    this.send(event);
  }

  /** The connection has been open as long as it may: say so (as OpenAI does), then close. */
  private expire(): void {
    this.expired = true;
    if (!this.inFlight) this.limitReached();
  }

  private limitReached(): void {
    const minutes = Math.round(this.context.limits.maxConnectionMs / 60_000);
    this.sendError(
      invalidRequest(
        `Responses websocket connection limit reached (${minutes} minutes). Create a new websocket connection to continue.`,
        null,
        'websocket_connection_limit_reached',
      ),
    );
    if (!this.isClosed) this.ws.close(1000, 'connection limit reached');
  }

  /**
   * One JSON text message. A client that does not read must not make the server hold its stream:
   * over `maxBufferedBytes` unsent, or behind for `maxBehindMs`, it is dropped (as SSE clients are),
   * which aborts its response like a disconnect.
   */
  private send(event: object): void {
    if (this.isClosed) return;
    if (this.ws.bufferedAmount > this.context.limits.maxBufferedBytes) return this.drop('buffered_bytes');
    this.ws.send(JSON.stringify(event), () => {
      if (this.behind && this.ws.bufferedAmount <= HIGH_WATER_BYTES) {
        clearTimeout(this.behind);
        this.behind = undefined;
      }
    });
    if (!this.behind && this.ws.bufferedAmount > HIGH_WATER_BYTES) this.behind = setTimeout(() => this.drop('behind'), this.context.limits.maxBehindMs);
  }

  private drop(reason: 'buffered_bytes' | 'behind'): void {
    this.context.onDrop(reason);
    this.ws.terminate(); // 'close' follows: the running response is aborted
  }
}

function rawText(data: RawData): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return (Buffer.isBuffer(data) ? data : Buffer.from(data)).toString('utf8');
}
