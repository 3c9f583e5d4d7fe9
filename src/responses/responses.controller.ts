import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiOkResponse, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { CurrentPrincipal, type Principal } from '../common/principal';
import type { StreamEvent } from '../common/response-types';
import { PendingSink, SseWriter } from '../common/sse';
import { CreateResponseDto } from './dto/create-response.dto';
import { ListInputItemsQueryDto, ListResponsesQueryDto, RetrieveResponseQueryDto } from './dto/list-responses.dto';
import { DeletedResponseDto, ResponseDto, ResponseItemListDto, ResponseListDto } from './dto/response.dto';
import { ResponsesService } from './responses.service';

@ApiTags('Responses')
@ApiBearerAuth()
@Controller('v1/responses')
export class ResponsesController {
  constructor(private readonly responses: ResponsesService) {}

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
    if (prepared.request.background) {
      const queued = await this.responses.enqueue(prepared);
      if (!dto.stream) return void reply.send(queued);
      // The client going away stops only its reading: the response runs on.
      const sse = new SseWriter<StreamEvent>(reply, String(reply.request.id));
      return this.responses.replay(queued.id, queued, -1, sse, sse.signal).finally(() => sse.end());
    }
    const execution = this.responses.begin(prepared);
    if (!dto.stream) return void reply.send(await this.responses.run(execution));
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
    const sse = new SseWriter<StreamEvent>(reply, String(reply.request.id));
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
    const sse = new SseWriter<StreamEvent>(reply, String(reply.request.id));
    await this.responses.replay(stored.id, stored.response, query.starting_after ?? -1, sse, sse.signal).finally(() => sse.end());
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
