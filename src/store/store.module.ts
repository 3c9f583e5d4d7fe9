import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AppConfig } from '../config/app-config';
import { dataSourceOptions } from './data-source';
import { ApiKeysStore } from './api-keys.store';
import { ConversationsStore } from './conversations.store';
import { TypeOrmConversationsStore } from './typeorm-conversations.store';
import { ResponsesStore } from './responses.store';
import { TypeOrmApiKeysStore } from './typeorm-api-keys.store';
import { TypeOrmResponsesStore } from './typeorm-responses.store';
import { TypeOrmWebhooksStore } from './typeorm-webhooks.store';
import { WebhooksStore } from './webhooks.store';

/** The only module that knows TypeORM. Exports the store ports. */
@Module({
  imports: [
    TypeOrmModule.forRootAsync({
      inject: [AppConfig],
      useFactory: (config: AppConfig) => ({
        ...dataSourceOptions({ databaseUrl: config.databaseUrl, dataDir: config.dataDir }),
        // Fail fast at boot instead of retrying for minutes; the orchestrator restarts us.
        retryAttempts: 2,
        retryDelay: 1000,
      }),
    }),
  ],
  providers: [
    { provide: ResponsesStore, useClass: TypeOrmResponsesStore },
    { provide: ApiKeysStore, useClass: TypeOrmApiKeysStore },
    { provide: ConversationsStore, useClass: TypeOrmConversationsStore },
    { provide: WebhooksStore, useClass: TypeOrmWebhooksStore },
  ],
  exports: [ResponsesStore, ApiKeysStore, ConversationsStore, WebhooksStore],
})
export class StoreModule {}
