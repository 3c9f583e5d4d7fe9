import { DynamicModule, Module, Provider } from '@nestjs/common';
import { WebhooksPersistenceModule } from './persistence/webhooks-persistence.module';
import { WebhookDeliverer } from './webhook-deliverer';
import { WebhookDispatcher } from './webhook-dispatcher';
import { WebhookRelay } from './webhook-relay';
import { WebhookSecrets } from './webhook-secrets';
import { WebhookSender } from './webhook-sender';
import { WebhooksController } from './webhooks.controller';
import { WebhooksService } from './webhooks.service';

/** What the admin API and the CLI need: endpoints, secrets (and OutboundModule's URL guard). */
export const WEBHOOK_ADMIN_PROVIDERS: Provider[] = [WebhooksService, WebhookSecrets];

@Module({})
export class WebhooksModule {
  /** The admin API everywhere; the relay and the attempts (the `webhooks` queue) in processes that run jobs. */
  static register(): DynamicModule {
    return {
      module: WebhooksModule,
      controllers: [WebhooksController],
      imports: [WebhooksPersistenceModule],
      providers: [...WEBHOOK_ADMIN_PROVIDERS, WebhookSender, WebhookDeliverer, WebhookRelay, WebhookDispatcher],
    };
  }
}
