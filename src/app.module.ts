import { DynamicModule, Module } from '@nestjs/common';
import { AgentsModule } from './agents/agents.module';
import { ApiModule } from './api.module';
import { AuthModule } from './auth/auth.module';
import { AppConfig } from './config/app-config';
import { ConfigModule } from './config/config.module';
import { ConversationsModule } from './conversations/conversations.module';
import { configuredDataSource } from './data-source';
import { DatabaseModule } from './database/database.module';
import { FilesModule } from './files/files.module';
import { InferenceModule } from './inference/inference.module';
import { MetricsModule } from './metrics/metrics.module';
import { OutboundModule } from './outbound/outbound.module';
import { QueueModule } from './queue/queue.module';
import { RedisModule } from './redis/redis.module';
import { ResponsesModule } from './responses/responses.module';
import { VectorStoresModule } from './vector-stores/vector-stores.module';
import { WebhooksModule } from './webhooks/webhooks.module';
import { WorkerModule } from './worker.module';

@Module({})
export class AppModule {
  /**
   * The application on a validated configuration (see loadConfig), composed by role: the shared
   * features, then ApiModule where it serves HTTP and WorkerModule where it runs jobs.
   */
  static forRoot(config: AppConfig): DynamicModule {
    const responses = ResponsesModule.register(config);
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot(config),
        OutboundModule,
        MetricsModule,
        RedisModule,
        DatabaseModule.forRoot(configuredDataSource),
        QueueModule.register(config),
        AuthModule,
        InferenceModule,
        AgentsModule,
        ConversationsModule,
        responses,
        WebhooksModule,
        FilesModule,
        VectorStoresModule,
        ...(config.servesHttp ? [ApiModule.forRoot(responses)] : []),
        ...(config.runsJobs ? [WorkerModule.forRoot(responses)] : []),
      ],
    };
  }
}
