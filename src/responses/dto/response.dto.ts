import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

// Documentation-only classes: the OpenAPI schemas of what the endpoints return. At run time the
// objects are built as the `openai` SDK's own types (see common/response-types.ts).

const ITEM = { type: 'object', additionalProperties: true } as const;

export class ResponseErrorDto {
  @ApiProperty({ example: 'server_error' })
  code!: string;
  @ApiProperty({ example: 'The upstream model server failed (HTTP 500).' })
  message!: string;
}

export class ResponseUsageDto {
  @ApiProperty({ example: 12 })
  input_tokens!: number;
  @ApiProperty({ example: { cached_tokens: 0 } })
  input_tokens_details!: Record<string, number>;
  @ApiProperty({ example: 5 })
  output_tokens!: number;
  @ApiProperty({ example: { reasoning_tokens: 0 } })
  output_tokens_details!: Record<string, number>;
  @ApiProperty({ example: 17 })
  total_tokens!: number;
}

export class ResponseDto {
  @ApiProperty({ example: 'resp_0f3c6e1a9b7d4c2e8f1a0b9c8d7e6f5a4b3c2d1e0f9a8b7c' })
  id!: string;
  @ApiProperty({ enum: ['response'] })
  object!: 'response';
  /** The request's `access_programs`; null when none was chosen (OpenAI's implicit standard). */
  @ApiProperty({
    type: 'object',
    nullable: true,
    example: null,
    properties: { cyber: { type: 'string', enum: ['standard', 'daybreak_blue', 'daybreak_red'] } },
  })
  access_programs!: { cyber: string } | null;
  /** Unix seconds. */
  @ApiProperty({ example: 1764000000 })
  created_at!: number;
  @ApiProperty({ enum: ['queued', 'in_progress', 'completed', 'incomplete', 'failed', 'cancelled'] })
  status!: string;
  background!: boolean;
  @ApiProperty({ type: Number, nullable: true })
  completed_at!: number | null;
  /** The request's `background_options`, when it had some (`2h`/`8h` run when no `soonest` response waits: docs/background.md#scheduling). */
  @ApiPropertyOptional({
    type: 'object',
    properties: { completion_window: { type: 'string', enum: ['soonest', '2h', '8h'] }, continuation_id: { type: 'string' } },
  })
  background_options?: { completion_window: string; continuation_id?: string };
  /**
   * Ours, not OpenAI's: on `GET` of a queued background response, when it may start (unix
   * seconds) at the pace of recent background work; null when there is none to go by.
   */
  @ApiPropertyOptional({ type: Number, nullable: true, example: 1764000060 })
  estimated_start_at?: number | null;
  @ApiProperty({ type: ResponseErrorDto, nullable: true })
  error!: ResponseErrorDto | null;
  /** As sent, or 0. */
  @ApiProperty({ example: 0 })
  frequency_penalty!: number;
  /** When the request had `image`: the policy in effect, always `disabled` (no image context compression here). */
  @ApiPropertyOptional({ type: 'object', properties: { context_compression: { type: 'string', enum: ['disabled'] } } })
  image?: { context_compression: 'disabled' };
  @ApiProperty({ type: 'object', nullable: true, example: null, properties: { reason: { type: 'string', enum: ['max_output_tokens', 'content_filter'] } } })
  incomplete_details!: { reason: string } | null;
  @ApiProperty({ type: String, nullable: true })
  instructions!: string | null;
  @ApiProperty({ type: Number, nullable: true })
  max_output_tokens!: number | null;
  @ApiProperty({ example: 'echo' })
  model!: string;
  /** Output items: `message`, `function_call`, `reasoning`. */
  @ApiProperty({
    type: 'array',
    items: ITEM,
    example: [{ id: 'msg_…', type: 'message', role: 'assistant', status: 'completed', content: [{ type: 'output_text', text: 'Echo: hi', annotations: [] }] }],
  })
  output!: object[];
  parallel_tool_calls!: boolean;
  /** As sent, or 0. */
  @ApiProperty({ example: 0 })
  presence_penalty!: number;
  @ApiProperty({ type: String, nullable: true })
  previous_response_id!: string | null;
  @ApiProperty({ type: String, nullable: true })
  prompt_cache_key!: string | null;
  /** When the request had `prompt_cache_options`: them, with the defaults `implicit` and `30m`. */
  @ApiPropertyOptional({
    type: 'object',
    properties: {
      mode: { type: 'string', enum: ['implicit', 'explicit'] },
      ttl: { type: 'string', enum: ['30m', '12h'] },
      comparison_response_id: { type: 'string' },
    },
  })
  prompt_cache_options?: { mode: string; ttl: string; comparison_response_id?: string };
  @ApiProperty({ type: String, nullable: true, enum: ['in_memory', '24h'] })
  prompt_cache_retention!: string | null;
  store!: boolean;
  temperature!: number;
  @ApiProperty({ example: { format: { type: 'text' }, verbosity: 'medium' } })
  text!: object;
  @ApiProperty({ oneOf: [{ type: 'string' }, ITEM], example: 'auto' })
  tool_choice!: unknown;
  @ApiProperty({ type: 'array', items: ITEM })
  tools!: object[];
  top_p!: number;
  @ApiProperty({ enum: ['auto', 'disabled'] })
  truncation!: string;
  @ApiProperty({ type: ResponseUsageDto, nullable: true })
  usage!: ResponseUsageDto | null;
  @ApiProperty({ type: 'object', additionalProperties: { type: 'string' }, example: {} })
  metadata!: Record<string, string>;
}

export class DeletedResponseDto {
  id!: string;
  @ApiProperty({ enum: ['response'] })
  object!: 'response';
  @ApiProperty({ enum: [true] })
  deleted!: true;
}

class ListDto {
  @ApiProperty({ enum: ['list'] })
  object!: 'list';
  @ApiPropertyOptional({ type: String, nullable: true })
  first_id!: string | null;
  @ApiPropertyOptional({ type: String, nullable: true })
  last_id!: string | null;
  has_more!: boolean;
}

export class ResponseListDto extends ListDto {
  @ApiProperty({ type: [ResponseDto] })
  data!: ResponseDto[];
}

export class ResponseItemListDto extends ListDto {
  /** Input items, each with an `id`. */
  @ApiProperty({ type: 'array', items: ITEM })
  data!: object[];
}
