import { ApiProperty, ApiPropertyOptional, PickType } from '@nestjs/swagger';
import { IsNotEmpty, IsOptional, IsString } from 'class-validator';
import { CreateResponseDto } from './create-response.dto';
import { IsStringOrArray } from './validators';

/**
 * `POST /v1/responses/input_tokens`: the fields of a create that shape the prompt, validated as a
 * create validates them. Other create fields are ignored.
 */
export class InputTokensDto extends PickType(CreateResponseDto, [
  'instructions',
  'previous_response_id',
  'conversation',
  'tools',
  'tool_choice',
  'parallel_tool_calls',
  'text',
  'reasoning',
  'truncation',
] as const) {
  /** Model id, as listed by `GET /v1/models`. Without one, the count is the gateway's estimate. */
  @ApiPropertyOptional({ example: 'echo' })
  @IsOptional()
  @IsString()
  @IsNotEmpty()
  model?: string | null;

  /** Text, or a list of input items, as for a create. */
  @ApiPropertyOptional({
    oneOf: [{ type: 'string' }, { type: 'array', items: { type: 'object', additionalProperties: true } }],
    example: 'Say hello in three languages.',
  })
  @IsOptional()
  @IsStringOrArray()
  input?: string | unknown[] | null;
}

/** Documentation only: the answer (see the `x-token-count-source` header for where the count comes from). */
export class InputTokensResponseDto {
  @ApiProperty({ enum: ['response.input_tokens'] })
  object!: 'response.input_tokens';

  @ApiProperty({ example: 12 })
  input_tokens!: number;
}
