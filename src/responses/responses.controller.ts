import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiOkResponse, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { CurrentPrincipal, type Principal } from '../common/principal';
import { CreateResponseDto } from './dto/create-response.dto';
import { InputTokensDto, InputTokensResponseDto } from './dto/input-tokens.dto';
import { ListInputItemsQueryDto, ListResponsesQueryDto, RetrieveResponseQueryDto } from './dto/list-responses.dto';
import { DeletedResponseDto, ResponseDto, ResponseItemListDto, ResponseListDto } from './dto/response.dto';
import { ResponsesHttp } from './responses-http';
import { ResponsesService } from './responses.service';
import { CompactedResponseDto, CompactResponseDto } from './dto/compact-response.dto';

@ApiTags('Responses')
@ApiBearerAuth()
@Controller('v1/responses')
export class ResponsesController {
  constructor(
    private readonly http: ResponsesHttp,
    private readonly responses: ResponsesService,
  ) {}

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
  create(@CurrentPrincipal() principal: Principal, @Body() dto: CreateResponseDto, @Res() reply: FastifyReply): Promise<void> {
    return this.http.create(principal, dto, reply);
  }

  @Post('compact')
  @HttpCode(200)
  @ApiOperation({ operationId: 'compactResponse', summary: 'Compact a window: the retained user messages and one `compaction` item summarizing the rest' })
  @ApiOkResponse({ type: CompactedResponseDto })
  compact(@CurrentPrincipal() principal: Principal, @Body() dto: CompactResponseDto, @Res({ passthrough: true }) reply: FastifyReply) {
    return this.http.compact(principal, dto, reply);
  }

  @Post('input_tokens')
  @HttpCode(200)
  @ApiOperation({
    operationId: 'getInputTokenCounts',
    summary: 'Count the input tokens a create request would send upstream (nothing is stored, no model is called)',
  })
  @ApiOkResponse({
    type: InputTokensResponseDto,
    headers: {
      'x-token-count-source': {
        description: "`upstream`: the upstream's own tokenizer counted it; `estimate`: the gateway's local estimate (o200k_base). Not an OpenAI header.",
        schema: { type: 'string', enum: ['upstream', 'estimate'] },
      },
    },
  })
  countInputTokens(@CurrentPrincipal() principal: Principal, @Body() dto: InputTokensDto, @Res({ passthrough: true }) reply: FastifyReply) {
    return this.http.countInputTokens(principal, dto, reply);
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
  retrieve(
    @CurrentPrincipal() principal: Principal,
    @Param('id') id: string,
    @Query() query: RetrieveResponseQueryDto,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    return this.http.retrieve(principal, id, query, reply);
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
