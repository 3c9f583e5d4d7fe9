import { STATUS_CODES, type IncomingMessage, type Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { BeforeApplicationShutdown, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { WebSocketServer } from 'ws';
import { Authenticator } from '../../auth/authenticator';
import { settleWithin } from '../../common/deadline';
import { newId } from '../../common/ids';
import { ANONYMOUS, type Principal } from '../../common/principal';
import { createValidationPipe } from '../../common/validation';
import { AppConfig } from '../../config/app-config';
import { describeError, type DescribedError } from '../../http/all-exceptions.filter';
import { MessageRateLimit } from '../../limits/message-rate-limit';
import { StreamSlots, WebSocketSlots } from '../../limits/stream-slots';
import { Metrics } from '../../metrics/metrics';
import { ResponseCreation } from '../response-creation.service';
import { ResponsesSocket, type SocketContext } from './responses-socket';

const PATHS = new Set(['/v1/responses', '/v1/responses/']);
/** How long a closing handshake may take at shutdown before the socket is cut. */
const CLOSE_HANDSHAKE_MS = 1000;

/**
 * WebSocket mode of `/v1/responses` (the second transport beside `ResponsesHttp`): `ws` on the
 * HTTP server's `upgrade` event, so that a refused upgrade is a plain HTTP answer (401, 429, in
 * OpenAI's error shape) before any WebSocket exists, and `GET /v1/responses` without an upgrade
 * stays the list route. Each accepted socket is a `ResponsesSocket`.
 */
@Injectable()
export class ResponsesWebSocket implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('ResponsesWebSocket');
  private readonly sockets = new Set<ResponsesSocket>();
  private readonly server: WebSocketServer;
  private readonly context: SocketContext;
  private accepting = true;
  private keepalive?: NodeJS.Timeout;

  constructor(
    private readonly adapterHost: HttpAdapterHost,
    private readonly authenticator: Authenticator,
    private readonly connectionSlots: WebSocketSlots,
    private readonly rateLimit: MessageRateLimit,
    private readonly config: AppConfig,
    creation: ResponseCreation,
    streamSlots: StreamSlots,
    metrics: Metrics,
  ) {
    // No permessage-deflate: a zlib context per socket costs more memory than agent traffic saves.
    this.server = new WebSocketServer({ noServer: true, clientTracking: false, perMessageDeflate: false, maxPayload: config.bodyLimitBytes });
    this.context = {
      creation,
      streamSlots,
      rateLimit,
      validation: createValidationPipe(),
      limits: {
        maxBufferedBytes: config.streamMaxBufferedBytes,
        maxBehindMs: config.streamMaxBehindMs,
        maxConnectionMs: config.wsMaxConnectionMs,
        cachedResponses: config.wsCachedResponses,
        cacheMaxBytes: config.wsCacheMaxBytes,
        cacheMaxItems: config.maxInputItems,
      },
      onDrop: (reason) => metrics.wsDropped.inc({ reason }),
    };
  }

  onApplicationBootstrap(): void {
    const http = this.adapterHost.httpAdapter?.getHttpServer() as Server | undefined;
    if (!http) return;
    http.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => void this.upgrade(request, socket, head));
    this.keepalive = setInterval(() => this.sockets.forEach((s) => s.heartbeat()), this.config.wsPingIntervalMs);
    this.keepalive.unref();
  }

  /**
   * Shutdown: no new upgrades; running responses may end within the grace period; then every
   * socket is closed with 1001 (going away), which the SDK takes as a reason to reconnect.
   */
  async beforeApplicationShutdown(): Promise<void> {
    this.accepting = false;
    clearInterval(this.keepalive);
    const sockets = [...this.sockets];
    await settleWithin(Promise.allSettled(sockets.map((s) => s.drain())), this.config.shutdownGraceMs);
    sockets.forEach((s) => s.close(1001, 'server shutting down'));
    // The aborted responses record their end (cancelled) before the database closes.
    await settleWithin(Promise.allSettled(sockets.flatMap((s) => [s.closed, s.drain()])), CLOSE_HANDSHAKE_MS);
    sockets.forEach((s) => s.terminate());
  }

  private async upgrade(request: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    socket.on('error', () => socket.destroy());
    const url = request.url ?? '/';
    if (!PATHS.has(url.split('?')[0])) {
      return refuse(socket, describeError({ statusCode: 404, message: `Unknown request URL: GET ${url.split('?')[0]}.` }, { method: 'GET', url }));
    }
    if (!this.accepting) {
      return refuse(socket, { status: 503, body: shuttingDown, headers: { 'retry-after': '1' } });
    }
    let principal: Principal;
    let release: () => void;
    try {
      principal = this.authenticator.required ? await this.authenticator.authenticate(request.headers.authorization, request.socket.remoteAddress) : ANONYMOUS;
      await this.rateLimit.consume(principal, 'ws-upgrade');
      release = this.connectionSlots.acquire(principal.owner);
    } catch (error) {
      const described = describeError(error, { method: 'GET', url });
      if (described.status >= 500) this.logger.error(`upgrade → ${described.status}`, error instanceof Error ? error.stack : String(error));
      return refuse(socket, described);
    }
    // However the socket ends (a bad handshake that `ws` answers itself included), the slot comes back.
    socket.once('close', release);
    if (socket.destroyed) return release();
    this.server.handleUpgrade(request, socket, head, (ws) => {
      // Shutdown began while this one authenticated: it would miss the close below.
      if (!this.accepting) return void ws.close(1001, 'server shutting down');
      const connection = new ResponsesSocket(ws, principal, this.context);
      this.sockets.add(connection);
      void connection.closed.then(() => this.sockets.delete(connection));
    });
  }
}

const shuttingDown = {
  error: { message: 'The server is shutting down: connect again.', type: 'service_unavailable', param: null, code: 'server_shutting_down' },
};

/** An HTTP answer instead of the upgrade (the connection then closes). */
function refuse(socket: Duplex, { status, body, headers }: DescribedError): void {
  if (!socket.writable) return void socket.destroy();
  const json = JSON.stringify(body);
  const lines = [
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}`,
    'content-type: application/json',
    `content-length: ${Buffer.byteLength(json)}`,
    `x-request-id: ${newId('req')}`,
    'connection: close',
    ...Object.entries(headers).map(([name, value]) => `${name}: ${value}`),
  ];
  socket.end(`${lines.join('\r\n')}\r\n\r\n${json}`);
}
