import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { CurrentPrincipal, type Principal } from '../common/principal';
import {
  CreateWebhookEndpointDto,
  ListWebhookDeliveriesQueryDto,
  RedeliverWebhookDto,
  RotateWebhookSecretDto,
  UpdateWebhookEndpointDto,
} from './dto/webhook-endpoint.dto';
import { DeletedWebhookEndpointDto, WebhookDeliveryDto, WebhookDeliveryListDto, WebhookEndpointDto, WebhookEndpointListDto } from './dto/webhook-objects.dto';
import { WebhooksService } from './webhooks.service';

@ApiTags('Webhooks')
@ApiBearerAuth()
@Controller('v1/webhook_endpoints')
export class WebhooksController {
  constructor(private readonly webhooks: WebhooksService) {}

  @Post()
  @HttpCode(200)
  @ApiOperation({ operationId: 'createWebhookEndpoint', summary: 'Register a webhook endpoint; its signing secret is shown once' })
  @ApiOkResponse({ type: WebhookEndpointDto })
  create(@CurrentPrincipal() principal: Principal, @Body() dto: CreateWebhookEndpointDto) {
    return this.webhooks.create(principal, dto);
  }

  @Get()
  @ApiOperation({ operationId: 'listWebhookEndpoints', summary: "List your tenant's webhook endpoints" })
  @ApiOkResponse({ type: WebhookEndpointListDto })
  list(@CurrentPrincipal() principal: Principal) {
    return this.webhooks.list(principal);
  }

  @Get(':id')
  @ApiOperation({ operationId: 'retrieveWebhookEndpoint', summary: 'Retrieve a webhook endpoint' })
  @ApiOkResponse({ type: WebhookEndpointDto })
  retrieve(@CurrentPrincipal() principal: Principal, @Param('id') id: string) {
    return this.webhooks.retrieve(principal, id);
  }

  @Patch(':id')
  @ApiOperation({ operationId: 'updateWebhookEndpoint', summary: 'Change the URL or event types, or enable or disable a webhook endpoint' })
  @ApiOkResponse({ type: WebhookEndpointDto })
  update(@CurrentPrincipal() principal: Principal, @Param('id') id: string, @Body() dto: UpdateWebhookEndpointDto) {
    return this.webhooks.update(principal, id, dto);
  }

  @Delete(':id')
  @ApiOperation({ operationId: 'deleteWebhookEndpoint', summary: 'Delete a webhook endpoint and its delivery log' })
  @ApiOkResponse({ type: DeletedWebhookEndpointDto })
  delete(@CurrentPrincipal() principal: Principal, @Param('id') id: string) {
    return this.webhooks.delete(principal, id);
  }

  @Post(':id/rotate_secret')
  @HttpCode(200)
  @ApiOperation({ operationId: 'rotateWebhookSecret', summary: 'Rotate the signing secret; the old one keeps signing for a grace period' })
  @ApiOkResponse({ type: WebhookEndpointDto })
  rotateSecret(@CurrentPrincipal() principal: Principal, @Param('id') id: string, @Body() dto: RotateWebhookSecretDto) {
    return this.webhooks.rotateSecret(principal, id, dto);
  }

  @Get(':id/deliveries')
  @ApiOperation({ operationId: 'listWebhookDeliveries', summary: "The endpoint's delivery log, newest first: attempts, status codes, latency" })
  @ApiOkResponse({ type: WebhookDeliveryListDto })
  listDeliveries(@CurrentPrincipal() principal: Principal, @Param('id') id: string, @Query() query: ListWebhookDeliveriesQueryDto) {
    return this.webhooks.listDeliveries(principal, id, query);
  }

  @Post(':id/redeliver')
  @HttpCode(200)
  @ApiOperation({ operationId: 'redeliverWebhookEvent', summary: 'Deliver an event to this endpoint again (a new delivery)' })
  @ApiOkResponse({ type: WebhookDeliveryDto })
  redeliver(@CurrentPrincipal() principal: Principal, @Param('id') id: string, @Body() dto: RedeliverWebhookDto) {
    return this.webhooks.redeliver(principal, id, dto);
  }
}
