import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { WEBHOOK_EVENT_TYPES } from '../persistence/webhooks.store';

// Documentation-only classes: the OpenAPI schemas of what the endpoints return.

export class WebhookEndpointDto {
  @ApiProperty({ example: 'we_0f3c6e1a9b7d4c2e8f1a0b9c8d7e6f5a4b3c2d1e0f9a8b7c' })
  id!: string;
  @ApiProperty({ enum: ['webhook_endpoint'] })
  object!: 'webhook_endpoint';
  @ApiProperty({ example: 'https://example.com/webhooks/openai' })
  url!: string;
  @ApiProperty({ type: 'array', items: { type: 'string', enum: [...WEBHOOK_EVENT_TYPES] } })
  event_types!: string[];
  enabled!: boolean;
  /** Why it is disabled (by its owner, a 410, or failing for the whole retry window). */
  @ApiPropertyOptional({ type: String, nullable: true, example: null })
  disabled_reason!: string | null;
  /** Unix seconds. */
  @ApiProperty({ example: 1764000000 })
  created_at!: number;
  @ApiProperty({ example: 1764000000 })
  updated_at!: number;
  /** During a rotation's grace period: until when (Unix seconds) the previous secret still signs. */
  @ApiPropertyOptional({ type: Number, nullable: true, example: null })
  previous_secret_expires_at!: number | null;
  /** Only when created and when rotated: the signing secret. It is not shown again. */
  @ApiPropertyOptional({ example: 'whsec_2lYfYhW0o2b5Jk1d0TtS9XcQ0oJm6p0c2hQm8kJw3YQ=' })
  secret?: string;
}

export class WebhookEndpointListDto {
  @ApiProperty({ enum: ['list'] })
  object!: 'list';
  @ApiProperty({ type: [WebhookEndpointDto] })
  data!: WebhookEndpointDto[];
}

export class DeletedWebhookEndpointDto {
  id!: string;
  @ApiProperty({ enum: ['webhook_endpoint.deleted'] })
  object!: 'webhook_endpoint.deleted';
  @ApiProperty({ enum: [true] })
  deleted!: true;
}

export class WebhookAttemptDto {
  attempt!: number;
  /** Unix seconds. */
  started_at!: number;
  duration_ms!: number;
  @ApiPropertyOptional({ type: Number, nullable: true, example: 200 })
  status_code!: number | null;
  @ApiPropertyOptional({ type: String, nullable: true, example: null })
  error!: string | null;
  /** The first 256 printable characters of the receiver's answer. */
  @ApiPropertyOptional({ type: String, nullable: true, example: 'ok' })
  response_excerpt!: string | null;
}

export class WebhookDeliveryDto {
  /** Also the `webhook-id` header, the same on every attempt. */
  @ApiProperty({ example: 'wh_0f3c6e1a9b7d4c2e8f1a0b9c8d7e6f5a' })
  id!: string;
  @ApiProperty({ enum: ['webhook_delivery'] })
  object!: 'webhook_delivery';
  endpoint_id!: string;
  @ApiProperty({ example: 'evt_3f0c9a1b2c3d4e5f60718293a4b5c6d7' })
  event_id!: string;
  @ApiProperty({ enum: [...WEBHOOK_EVENT_TYPES] })
  event_type!: string;
  @ApiProperty({ example: 'resp_0f3c6e1a9b7d4c2e8f1a0b9c8d7e6f5a4b3c2d1e0f9a8b7c' })
  response_id!: string;
  /** `pending` (will be attempted, again), `succeeded`, or `failed` (given up). */
  @ApiProperty({ enum: ['pending', 'succeeded', 'failed'] })
  state!: string;
  attempts!: number;
  /** Unix seconds; null unless pending. */
  @ApiPropertyOptional({ type: Number, nullable: true })
  next_attempt_at!: number | null;
  @ApiPropertyOptional({ type: Number, nullable: true })
  last_status_code!: number | null;
  @ApiPropertyOptional({ type: String, nullable: true })
  last_error!: string | null;
  created_at!: number;
  updated_at!: number;
  @ApiProperty({ type: [WebhookAttemptDto] })
  log!: WebhookAttemptDto[];
}

export class WebhookDeliveryListDto {
  @ApiProperty({ enum: ['list'] })
  object!: 'list';
  @ApiProperty({ type: [WebhookDeliveryDto] })
  data!: WebhookDeliveryDto[];
  @ApiPropertyOptional({ type: String, nullable: true })
  first_id!: string | null;
  @ApiPropertyOptional({ type: String, nullable: true })
  last_id!: string | null;
  has_more!: boolean;
}
