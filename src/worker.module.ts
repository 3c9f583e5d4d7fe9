import { DynamicModule, Module } from '@nestjs/common';
import { ResponsesProcessor } from './responses/background/responses-processor';
import { IngestionProcessor } from './vector-stores/ingestion/ingestion-processor';
import { VectorStoresModule } from './vector-stores/vector-stores.module';
import { WebhookRelay } from './webhooks/webhook-relay';
import { WebhooksModule } from './webhooks/webhooks.module';
import { WebhooksProcessor } from './webhooks/webhooks-processor';

/**
 * What a process that runs jobs adds (ROLE=all or worker): the processors of the `responses`,
 * `webhooks` and `ingestion` queues and the webhook outbox relay. A worker is a Nest application context: no
 * HTTP server, no controllers.
 */
@Module({})
export class WorkerModule {
  /** `responses` is the application's ResponsesModule (one instance, shared with ApiModule). */
  static forRoot(responses: DynamicModule): DynamicModule {
    return {
      module: WorkerModule,
      imports: [responses, WebhooksModule, VectorStoresModule],
      providers: [ResponsesProcessor, WebhooksProcessor, WebhookRelay, IngestionProcessor],
    };
  }
}
