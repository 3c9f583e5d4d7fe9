import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

// Documentation-only classes: the OpenAPI schemas of what the endpoints return.

const ITEM = { type: 'object', additionalProperties: true } as const;

export class ConversationDto {
  @ApiProperty({ example: 'conv_0f3c6e1a9b7d4c2e8f1a0b9c8d7e6f5a4b3c2d1e0f9a8b7c' })
  id!: string;
  @ApiProperty({ enum: ['conversation'] })
  object!: 'conversation';
  /** Unix seconds. */
  @ApiProperty({ example: 1764000000 })
  created_at!: number;
  @ApiProperty({ type: 'object', additionalProperties: { type: 'string' }, example: { topic: 'demo' } })
  metadata!: Record<string, string>;
}

export class DeletedConversationDto {
  id!: string;
  @ApiProperty({ enum: ['conversation.deleted'] })
  object!: 'conversation.deleted';
  @ApiProperty({ enum: [true] })
  deleted!: true;
}

export class ConversationItemListDto {
  @ApiProperty({ enum: ['list'] })
  object!: 'list';
  /** Items, each with an `id`. */
  @ApiProperty({
    type: 'array',
    items: ITEM,
    example: [{ id: 'msg_…', type: 'message', role: 'user', status: 'completed', content: [{ type: 'input_text', text: 'Hello!' }] }],
  })
  data!: object[];
  @ApiPropertyOptional({ type: String, nullable: true })
  first_id!: string | null;
  @ApiPropertyOptional({ type: String, nullable: true })
  last_id!: string | null;
  has_more!: boolean;
}

/** One item of a conversation (`message`, `function_call`, `function_call_output`, `reasoning`). */
export class ConversationItemDto {
  @ApiProperty({ example: 'msg_0f3c6e1a9b7d4c2e8f1a0b9c8d7e6f5a4b3c2d1e0f9a8b7c' })
  id!: string;
  @ApiProperty({ example: 'message' })
  type!: string;
}
