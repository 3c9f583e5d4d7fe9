import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiOkResponse, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { CurrentPrincipal, type Principal } from '../common/principal';
import type { StreamEvent } from '../common/response-types';
import { PendingSink, SseWriter } from '../common/sse';
import { AppConfig } from '../config/app-config';
import { StreamSlots } from '../limits/stream-slots';
import { Metrics } from '../metrics/metrics';
import { CreateResponseDto } from './dto/create-response.dto';
import { ListInputItemsQueryDto, ListResponsesQueryDto, RetrieveResponseQueryDto } from './dto/list-responses.dto';
import { DeletedResponseDto, ResponseDto, ResponseItemListDto, ResponseListDto } from './dto/response.dto';
import { type PreparedResponse, ResponsesService } from './responses.service';

@ApiTags('Responses')
@ApiBearerAuth()
@Controller('v1/responses')
export class ResponsesController {
  constructor(
    private readonly responses: ResponsesService,
    private readonly slots: StreamSlots,
    private readonly config: AppConfig,
    private readonly metrics: Metrics,
  ) {}

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

  @Post()
  @HttpCode(200)
  @ApiOperation({ operationId: 'createResponse', summary: 'Create a response (JSON, or server-sent events with `stream: true`)' })
  @ApiProduces('application/json', 'text/event-stream')
  @ApiOkResponse({ type: ResponseDto })
  // Swagger UI pre-fills "Try it out" with the first example: it must be a request that works.
  @ApiBody({
    type: CreateResponseDto,
    examples: {
      echo: { summary: 'Built-in echo model', value: { model: 'echo', input: 'Say hello in three languages.' } },
      background: { summary: 'Background', value: { model: 'echo', input: 'Say hello in three languages.', background: true } },
      stream: { summary: 'Streaming (server-sent events)', value: { model: 'echo', input: 'Say hello in three languages.', stream: true } },
    },
  })
  // These two handlers answer either JSON or a stream, so they own the reply (`@Res()` without
  // passthrough): Nest would otherwise try to send again after a stream took the socket over.
  async create(@CurrentPrincipal() principal: Principal, @Body() dto: CreateResponseDto, @Res() reply: FastifyReply): Promise<void> {
    const prepared = await this.responses.prepare(principal, dto, String(reply.request.id));
    if (!dto.stream) {
      if (prepared.request.background) return void reply.send(await this.responses.enqueue(prepared));
      return void reply.send(await this.responses.run(this.responses.begin(prepared)));
    }
    // The slot is taken before anything is queued or called: a refused stream costs nothing.
    await this.holdingSlot(principal, () => (prepared.request.background ? this.streamBackground(prepared, reply) : this.streamSync(prepared, reply)));
  }

  private async streamBackground(prepared: PreparedResponse, reply: FastifyReply): Promise<void> {
    const queued = await this.responses.enqueue(prepared);
    // The client going away stops only its reading: the response runs on.
    const sse = this.sse(reply);
    await this.responses.replay(queued.id, queued, -1, sse, sse.signal).finally(() => sse.end());
  }

  private async streamSync(prepared: PreparedResponse, reply: FastifyReply): Promise<void> {
    const execution = this.responses.begin(prepared);
    // The upstream call starts while the row is being stored; the stream opens once it is.
    const pending = new PendingSink<StreamEvent>();
    const running = this.responses.run(execution, pending, pending.signal);
    try {
      await execution.stored;
    } catch (error) {
      pending.abort();
      await running.catch(() => undefined);
      throw error; // no header sent yet: the client gets the error (503 for a storage outage)
    }
    const sse = this.sse(reply);
    pending.open(sse);
    await running.finally(() => sse.end());
  }

  @Get()
  @ApiOperation({ operationId: 'listResponses', summary: 'List stored responses, newest first' })
  @ApiOkResponse({ type: ResponseListDto })
  list(@CurrentPrincipal() principal: Principal, @Query() query: ListResponsesQueryDto) {
    return this.responses.list(principal, query);
  }

  @Get(':id')
  @ApiOperation({
    operationId: 'retrieveResponse',
    summary: 'Retrieve a response; with `stream=true`, replay a background stream from `starting_after`',
  })
  @ApiProduces('application/json', 'text/event-stream')
  @ApiOkResponse({ type: ResponseDto })
  async retrieve(
    @CurrentPrincipal() principal: Principal,
    @Param('id') id: string,
    @Query() query: RetrieveResponseQueryDto,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    if (!query.stream) return void reply.send(await this.responses.retrieve(principal, id));
    const stored = await this.responses.prepareReplay(principal, id, query.starting_after);
    await this.holdingSlot(principal, async () => {
      const sse = this.sse(reply);
      await this.responses.replay(stored.id, stored.response, query.starting_after ?? -1, sse, sse.signal).finally(() => sse.end());
    });
  }

  @Delete(':id')
  @ApiOperation({ operationId: 'deleteResponse', summary: 'Delete a response' })
  @ApiOkResponse({ type: DeletedResponseDto })
  delete(@CurrentPrincipal() principal: Principal, @Param('id') id: string) {
    return this.responses.delete(principal, id);
  }

  @Post(':id/cancel')
  @HttpCode(200)
  @ApiOperation({ operationId: 'cancelResponse', summary: 'Cancel a background response' })
  @ApiOkResponse({ type: ResponseDto })
  cancel(@CurrentPrincipal() principal: Principal, @Param('id') id: string) {
    return this.responses.cancel(principal, id);
  }

  @Get(':id/input_items')
  @ApiOperation({ operationId: 'listInputItems', summary: "List a response's input items" })
  @ApiOkResponse({ type: ResponseItemListDto })
  listInputItems(@CurrentPrincipal() principal: Principal, @Param('id') id: string, @Query() query: ListInputItemsQueryDto) {
    return this.responses.listInputItems(principal, id, query);
  }
}
