import { DynamicModule, Module } from '@nestjs/common';
import { FilesSweeper } from './files/files-sweeper';
import { FilesModule } from './files/files.module';
import { ResponsesProcessor } from './responses/background/responses-processor';
import { IngestionProcessor } from './vector-stores/ingestion/ingestion-processor';
import { VectorStoresModule } from './vector-stores/vector-stores.module';
import { WebhookRelay } from './webhooks/webhook-relay';
import { WebhooksModule } from './webhooks/webhooks.module';
import { WebhooksProcessor } from './webhooks/webhooks-processor';

/**
 * What a process that runs jobs adds (ROLE=all or worker): the processors of the `responses`,
 * `webhooks` and `ingestion` queues, the webhook outbox relay and the sweep of expired files. A worker is a Nest application context: no
 * HTTP server, no controllers.
 */
@Module({})
export class WorkerModule {
  /** `responses` is the application's ResponsesModule (one instance, shared with ApiModule). */
  static forRoot(responses: DynamicModule): DynamicModule {
    return {
      module: WorkerModule,
      imports: [responses, WebhooksModule, FilesModule, VectorStoresModule],
      providers: [ResponsesProcessor, WebhooksProcessor, WebhookRelay, FilesSweeper, IngestionProcessor],
    };
  }
}
