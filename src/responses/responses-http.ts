import { Injectable } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import type { Principal } from '../common/principal';
import type { StreamEvent } from '../common/response-types';
import { SseWriter } from '../common/sse';
import { AppConfig } from '../config/app-config';
import { StreamSlots } from '../limits/stream-slots';
import { Metrics } from '../metrics/metrics';
import type { CreateResponseDto } from './dto/create-response.dto';
import type { InputTokensDto } from './dto/input-tokens.dto';
import type { RetrieveResponseQueryDto } from './dto/list-responses.dto';
import type { PreparedResponse } from './lifecycle/execution';
import { InputTokens, type InputTokensResult } from './input-tokens.service';
import { ResponseCreation } from './response-creation.service';
import { ResponseCompaction } from './response-compaction.service';
import type { CompactResponseDto } from './dto/compact-response.dto';
import type { CompactedResponse } from 'openai/resources/responses/responses';
import { ResponseReplay } from './response-replay.service';
import { toLogged } from './events/response-event-log';
import { ResponsesService } from './responses.service';

/**
 * The HTTP transport of the two endpoints that answer either JSON or server-sent events: it owns
 * the Fastify reply, the SSE writer and the tenant's stream slots; the use cases behind it know
 * no transport (a WebSocket transport would call the same ones with its own sink). Also the
 * headers of the input token count.
 */
@Injectable()
export class ResponsesHttp {
  constructor(
    private readonly creation: ResponseCreation,
    private readonly compaction: ResponseCompaction,
    private readonly inputTokens: InputTokens,
    private readonly replays: ResponseReplay,
    private readonly responses: ResponsesService,
    private readonly slots: StreamSlots,
    private readonly config: AppConfig,
    private readonly metrics: Metrics,
  ) {}

  async create(principal: Principal, dto: CreateResponseDto, reply: FastifyReply): Promise<void> {
    const prepared = await this.creation.prepare(principal, dto, String(reply.request.id));
    // The notice that hosted tools were left out (normalizeRequest); the echoed `tools` lack them too.
    // On the raw response, so that a stream (which takes the socket over) sends it as well.
    if (prepared.request.omitted_tools) reply.raw.setHeader('x-omitted-tools', prepared.request.omitted_tools.join(', '));
    if (!dto.stream) return void reply.send(await this.creation.respond(prepared));
    // The slot is taken before anything is queued or called: a refused stream costs nothing.
    await this.holdingSlot(principal, () => (prepared.request.background ? this.streamBackground(prepared, reply) : this.streamSync(prepared, reply)));
  }

  /** The count as JSON; `x-token-count-source` says whether it is the upstream tokenizer's or our estimate (a header of ours). */
  async countInputTokens(principal: Principal, dto: InputTokensDto, reply: FastifyReply): Promise<InputTokensResult['body']> {
    const { body, source } = await this.inputTokens.count(principal, dto, this.clientGone(reply));
    reply.header('x-token-count-source', source);
    return body;
  }

  /** A compaction's summary call stops when its client goes away (it may write 4,096 tokens for nobody). */
  compact(principal: Principal, dto: CompactResponseDto, reply: FastifyReply): Promise<CompactedResponse> {
    return this.compaction.compact(principal, dto, this.clientGone(reply));
  }

  /** Aborts when the client's connection closes before the answer was sent. */
  private clientGone(reply: FastifyReply): AbortSignal {
    const gone = new AbortController();
    reply.raw.once('close', () => {
      if (!reply.raw.writableEnded) gone.abort();
    });
    return gone.signal;
  }

  async retrieve(principal: Principal, id: string, query: RetrieveResponseQueryDto, reply: FastifyReply): Promise<void> {
    if (!query.stream) return void reply.send(await this.responses.retrieve(principal, id));
    const stored = await this.replays.prepare(principal, id, query.starting_after);
    await this.holdingSlot(principal, async () => {
      const sse = this.sse(reply);
      await this.replays.replay(stored.id, stored.response, query.starting_after ?? -1, sse, sse.signal).finally(() => sse.end());
    });
  }

  private async streamBackground(prepared: PreparedResponse, reply: FastifyReply): Promise<void> {
    const { response: queued, events } = await this.creation.enqueue(prepared);
    // The client going away stops only its reading: the response runs on.
    const sse = this.sse(reply);
    // Its first events are written from here, not read back: a stream whose log cannot be read
    // at once (Redis just restarted) still tells the client the id it resumes with.
    for (const event of events) sse.write(toLogged(event));
    await this.replays.replay(queued.id, queued, events.length - 1, sse, sse.signal).finally(() => sse.end());
  }

  private async streamSync(prepared: PreparedResponse, reply: FastifyReply): Promise<void> {
    let sse: SseWriter<StreamEvent> | undefined;
    // A storage failure is thrown before any header is sent: the client gets the HTTP error (503).
    await this.creation.stream(prepared, () => (sse = this.sse(reply))).finally(() => sse?.end());
  }

  /** Takes the socket over for a stream, with the limits that drop a client that does not read. */
  private sse(reply: FastifyReply): SseWriter<StreamEvent> {
    return new SseWriter<StreamEvent>(reply, String(reply.request.id), {
      maxBufferedBytes: this.config.streamMaxBufferedBytes,
      maxBehindMs: this.config.streamMaxBehindMs,
      onDrop: (reason) => this.metrics.sseDropped.inc({ reason }),
    });
  }

  /** Runs `body` holding one of the tenant's stream slots (429 when none is free), however it ends. */
  private async holdingSlot(principal: Principal, body: () => Promise<void>): Promise<void> {
    const release = this.slots.acquire(principal.owner);
    try {
      await body();
    } finally {
      release();
    }
  }
}
