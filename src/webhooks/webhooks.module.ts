import { Module, Provider } from '@nestjs/common';
import { WebhooksPersistenceModule } from './persistence/webhooks-persistence.module';
import { WebhookDeliverer } from './webhook-deliverer';
import { WebhookDispatcher } from './webhook-dispatcher';
import { WebhookSecrets } from './webhook-secrets';
import { WebhookSender } from './webhook-sender';
import { WebhooksService } from './webhooks.service';

/** What the admin API and the CLI need: endpoints, secrets (and OutboundModule's URL guard). */
export const WEBHOOK_ADMIN_PROVIDERS: Provider[] = [WebhooksService, WebhookSecrets];

/**
 * Webhooks: the endpoints' use cases, delivery attempts and their hand-over to the `webhooks`
 * queue. The controller is ApiModule's; the relay and the queue's processor are WorkerModule's.
 */
@Module({
  imports: [WebhooksPersistenceModule],
  providers: [...WEBHOOK_ADMIN_PROVIDERS, WebhookSender, WebhookDeliverer, WebhookDispatcher],
  exports: [WebhooksService, WebhookDeliverer, WebhookDispatcher, WebhooksPersistenceModule],
})
export class WebhooksModule {}
