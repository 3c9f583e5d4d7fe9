import { ApiProperty, ApiPropertyOptional, type ApiPropertyOptions } from '@nestjs/swagger';
import { ArrayMaxSize, ArrayMinSize, IsArray, IsDefined, IsIn, IsOptional } from 'class-validator';
import { PageQueryDto } from '../../common/dto/page-query.dto';
import { INCLUDABLE } from '../../common/items/includable';
import { MAX_ITEMS_PER_REQUEST } from './create-conversation.dto';

type Includable = (typeof INCLUDABLE)[number];
const INCLUDE_SCHEMA: ApiPropertyOptions = { type: 'array', items: { type: 'string', enum: [...INCLUDABLE] } };

/** `POST /v1/conversations/{id}/items`. */
export class CreateConversationItemsDto {
  /** 1 to 20 items to append, in order, as `input` takes them. */
  @ApiProperty({
    type: 'array',
    items: { type: 'object', additionalProperties: true },
    minItems: 1,
    maxItems: MAX_ITEMS_PER_REQUEST,
    example: [{ type: 'message', role: 'user', content: 'And in French?' }],
  })
  @IsDefined()
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(MAX_ITEMS_PER_REQUEST)
  items!: unknown[];
}

/**
 * `include` on the item endpoints: accepted (items are always returned whole). The SDK sends it
 * as `include[]`.
 */
export class ItemIncludeQueryDto {
  @ApiPropertyOptional(INCLUDE_SCHEMA)
  @IsOptional()
  @IsIn(INCLUDABLE, { each: true })
  include?: Includable | Includable[];

  @ApiPropertyOptional(INCLUDE_SCHEMA)
  @IsOptional()
  @IsIn(INCLUDABLE, { each: true })
  'include[]'?: Includable | Includable[];
}

/** `GET /v1/conversations/{id}/items`: `after`, `limit` (1–100, default 20), `order` (default `desc`). */
export class ListConversationItemsQueryDto extends PageQueryDto {
  @ApiPropertyOptional(INCLUDE_SCHEMA)
  @IsOptional()
  @IsIn(INCLUDABLE, { each: true })
  include?: Includable | Includable[];

  @ApiPropertyOptional(INCLUDE_SCHEMA)
  @IsOptional()
  @IsIn(INCLUDABLE, { each: true })
  'include[]'?: Includable | Includable[];
}
