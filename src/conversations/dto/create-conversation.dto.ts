import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ArrayMaxSize, IsArray, IsDefined, IsOptional, ValidateIf } from 'class-validator';
import { IsMetadata } from '../../common/dto/validators';

/** OpenAI's limit on the items one request may add to a conversation. */
export const MAX_ITEMS_PER_REQUEST = 20;

const ITEMS_SCHEMA = { type: 'array', items: { type: 'object', additionalProperties: true }, maxItems: MAX_ITEMS_PER_REQUEST } as const;
const METADATA_SCHEMA = { type: 'object', additionalProperties: { type: 'string' } } as const;

/** `POST /v1/conversations`. Unknown fields are ignored. */
export class CreateConversationDto {
  /** Up to 20 initial items (messages, function calls and their outputs), as `input` takes them. */
  @ApiPropertyOptional({ ...ITEMS_SCHEMA, nullable: true, example: [{ type: 'message', role: 'user', content: 'Hello!' }] })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(MAX_ITEMS_PER_REQUEST)
  items?: unknown[] | null;

  /** Up to 16 string pairs; keys up to 64 characters, values up to 512. */
  @ApiPropertyOptional({ ...METADATA_SCHEMA, nullable: true, example: { topic: 'demo' } })
  @IsOptional()
  @IsMetadata()
  metadata?: Record<string, string> | null;
}

/** `POST /v1/conversations/{id}`: replaces the metadata (`null` clears it). */
export class UpdateConversationDto {
  /** Up to 16 string pairs; keys up to 64 characters, values up to 512. */
  @ApiProperty({ ...METADATA_SCHEMA, nullable: true, example: { topic: 'renamed' } })
  @ValidateIf((o: UpdateConversationDto) => o.metadata !== null)
  @IsDefined()
  @IsMetadata()
  metadata!: Record<string, string> | null;
}
