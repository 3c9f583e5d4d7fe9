import { BullModule } from '@nestjs/bull';
import { DynamicModule, Module, Provider } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { BullWebhookDispatcher, BullWebhookWorker, WEBHOOKS_QUEUE } from './bull-webhook-dispatcher';
import { WebhooksPersistenceModule } from './persistence/webhooks-persistence.module';
import { WebhookDeliverer } from './webhook-deliverer';
import { InlineWebhookDispatcher, WebhookDispatcher } from './webhook-dispatcher';
import { WebhookRelay } from './webhook-relay';
import { WebhookSecrets } from './webhook-secrets';
import { WebhookSender } from './webhook-sender';
import { WebhooksController } from './webhooks.controller';
import { WebhooksService } from './webhooks.service';

/** What the admin API and the CLI need: endpoints, secrets (and OutboundModule's URL guard). */
export const WEBHOOK_ADMIN_PROVIDERS: Provider[] = [WebhooksService, WebhookSecrets];

@Module({})
export class WebhooksModule {
  /**
   * The admin API everywhere; the relay and the attempts in processes that run jobs. With
   * REDIS_URL the attempts go through the Bull queue `webhooks` (the Bull connection is the one
   * ResponsesModule configures); without, they run in this process.
   */
  static register(config: AppConfig): DynamicModule {
    const providers: Provider[] = [...WEBHOOK_ADMIN_PROVIDERS, WebhookSender, WebhookDeliverer, WebhookRelay];
    const base = { module: WebhooksModule, controllers: [WebhooksController] };
    if (!config.redisUrl) {
      return { ...base, imports: [WebhooksPersistenceModule], providers: [...providers, { provide: WebhookDispatcher, useClass: InlineWebhookDispatcher }] };
    }
    return {
      ...base,
      imports: [WebhooksPersistenceModule, BullModule.registerQueue({ name: WEBHOOKS_QUEUE })],
      providers: [...providers, BullWebhookWorker, { provide: WebhookDispatcher, useClass: BullWebhookDispatcher }],
    };
  }
}
