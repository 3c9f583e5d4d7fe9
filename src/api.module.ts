import { DynamicModule, Module } from '@nestjs/common';
import { APP_FILTER, APP_GUARD, APP_PIPE } from '@nestjs/core';
import { AuthGuard } from './auth/auth.guard';
import { AuthModule } from './auth/auth.module';
import { createValidationPipe } from './common/validation';
import { ConversationsController } from './conversations/conversations.controller';
import { ConversationsModule } from './conversations/conversations.module';
import { FilesHttp } from './files/files-http';
import { FilesController } from './files/files.controller';
import { FilesModule } from './files/files.module';
import { HealthModule } from './health/health.module';
import { AllExceptionsFilter } from './http/all-exceptions.filter';
import { InferenceModule } from './inference/inference.module';
import { ModelsController } from './inference/models.controller';
import { LimitsModule } from './limits/limits.module';
import { PrincipalThrottlerGuard } from './limits/principal-throttler.guard';
import { StreamSlots, WebSocketSlots } from './limits/stream-slots';
import { MetricsController } from './metrics/metrics.controller';
import { ResponsesHttp } from './responses/responses-http';
import { ResponsesController } from './responses/responses.controller';
import { ResponsesWebSocket } from './responses/websocket/responses-websocket';
import { VectorStoresController } from './vector-stores/vector-stores.controller';
import { VectorStoresModule } from './vector-stores/vector-stores.module';
import { WebhooksController } from './webhooks/webhooks.controller';
import { WebhooksModule } from './webhooks/webhooks.module';

/**
 * What a process that serves HTTP adds (ROLE=all or api): the controllers, the HTTP/SSE and
 * WebSocket transports of responses, and the global edges (validation pipe, OpenAI-shaped errors,
 * authentication, rate limits). A worker never loads any of it.
 */
@Module({})
export class ApiModule {
  /** `responses` is the application's ResponsesModule (one instance, shared with WorkerModule). */
  static forRoot(responses: DynamicModule): DynamicModule {
    return {
      module: ApiModule,
      imports: [responses, ConversationsModule, WebhooksModule, FilesModule, VectorStoresModule, InferenceModule, AuthModule, LimitsModule, HealthModule],
      controllers: [
        ResponsesController,
        ConversationsController,
        WebhooksController,
        FilesController,
        VectorStoresController,
        ModelsController,
        MetricsController,
      ],
      providers: [
        ResponsesHttp,
        FilesHttp,
        ResponsesWebSocket,
        StreamSlots,
        WebSocketSlots,
        // Global edges as providers, so a test that builds the module gets them too.
        { provide: APP_PIPE, useFactory: createValidationPipe },
        { provide: APP_FILTER, useClass: AllExceptionsFilter },
        // In this order: who is calling, then how often.
        { provide: APP_GUARD, useClass: AuthGuard },
        { provide: APP_GUARD, useClass: PrincipalThrottlerGuard },
      ],
    };
  }
}
