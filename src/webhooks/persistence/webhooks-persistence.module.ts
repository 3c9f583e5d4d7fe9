import { Module } from '@nestjs/common';
import { WebhooksStore } from './webhooks.store';
import { TypeOrmWebhooksStore } from './typeorm-webhooks.store';

/** The webhooks feature's storage: the `WebhooksStore` port on its SQL adapter (needs DatabaseModule's DataSource). */
@Module({ providers: [{ provide: WebhooksStore, useClass: TypeOrmWebhooksStore }], exports: [WebhooksStore] })
export class WebhooksPersistenceModule {}
