import { ApiProperty, ApiPropertyOptional, PickType, type ApiPropertyOptions } from '@nestjs/swagger';
import { ArrayMinSize, ArrayUnique, IsArray, IsBoolean, IsDefined, IsIn, IsInt, IsOptional, IsString, Max, MaxLength, Min, MinLength } from 'class-validator';
import { PageQueryDto } from '../../common/dto/page-query.dto';
import { WEBHOOK_EVENT_TYPES, type WebhookEventType } from '../persistence/webhooks.store';

const EVENT_TYPES_SCHEMA: ApiPropertyOptions = { type: 'array', items: { type: 'string', enum: [...WEBHOOK_EVENT_TYPES] }, minItems: 1 };

/** `POST /v1/webhook_endpoints`. */
export class CreateWebhookEndpointDto {
  /** Where events are POSTed: `https` (or `http` when the operator allows it), a public address unless the operator allow-lists it. */
  @ApiProperty({ example: 'https://example.com/webhooks/openai', maxLength: 2048 })
  @IsDefined()
  @IsString()
  @MinLength(1)
  @MaxLength(2048)
  url!: string;

  /** The events to send (default: all four). */
  @ApiPropertyOptional({ ...EVENT_TYPES_SCHEMA, example: ['response.completed', 'response.failed'] })
  @IsOptional()
  @IsArray()
  @ArrayMinSize(1)
  @ArrayUnique()
  @IsIn(WEBHOOK_EVENT_TYPES, { each: true })
  event_types?: WebhookEventType[];

  /** Default true. */
  @IsOptional()
  @IsBoolean()
  enabled?: boolean;
}

/** `PATCH /v1/webhook_endpoints/{id}`: the fields given are replaced. Enabling clears `disabled_reason`. */
export class UpdateWebhookEndpointDto {
  @ApiPropertyOptional({ example: 'https://example.com/webhooks/v2', maxLength: 2048 })
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(2048)
  url?: string;

  @ApiPropertyOptional({ ...EVENT_TYPES_SCHEMA, example: ['response.completed'] })
  @IsOptional()
  @IsArray()
  @ArrayMinSize(1)
  @ArrayUnique()
  @IsIn(WEBHOOK_EVENT_TYPES, { each: true })
  event_types?: WebhookEventType[];

  @ApiPropertyOptional({ example: true })
  @IsOptional()
  @IsBoolean()
  enabled?: boolean;
}

/** `POST /v1/webhook_endpoints/{id}/rotate_secret`. */
export class RotateWebhookSecretDto {
  /** How long the old secret keeps signing alongside the new one (default: the server's WEBHOOK_ROTATION_GRACE_SECONDS; 0 ends it now). */
  @ApiPropertyOptional({ example: 86400, minimum: 0, maximum: 2_592_000 })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(30 * 86_400)
  grace_period_seconds?: number;
}

/** `POST /v1/webhook_endpoints/{id}/redeliver`. */
export class RedeliverWebhookDto {
  /** An event of yours (from the delivery log): delivered again to this endpoint, as a new delivery. */
  @ApiProperty({ example: 'evt_3f0c9a1b2c3d4e5f60718293a4b5c6d7' })
  @IsDefined()
  @IsString()
  @MinLength(1)
  event_id!: string;
}

/** `GET /v1/webhook_endpoints/{id}/deliveries`: newest first (the paging of every list, without `order`). */
export class ListWebhookDeliveriesQueryDto extends PickType(PageQueryDto, ['after', 'limit'] as const) {
  /** Only the deliveries of this event. */
  @IsOptional()
  @IsString()
  event_id?: string;
}
