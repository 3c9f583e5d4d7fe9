import { DynamicModule, Module } from '@nestjs/common';
import { APP_FILTER, APP_GUARD, APP_PIPE } from '@nestjs/core';
import { AgentsModule } from './agents/agents.module';
import { AllExceptionsFilter } from './http/all-exceptions.filter';
import { AuthGuard } from './auth/auth.guard';
import { AuthModule } from './auth/auth.module';
import { ConversationsModule } from './conversations/conversations.module';
import { LimitsModule } from './limits/limits.module';
import { MetricsModule } from './metrics/metrics.module';
import { PrincipalThrottlerGuard } from './limits/principal-throttler.guard';
import { RedisModule } from './redis/redis.module';
import { createValidationPipe } from './common/validation';
import { AppConfig } from './config/app-config';
import { ConfigModule } from './config/config.module';
import { configuredDataSource } from './data-source';
import { DatabaseModule } from './database/database.module';
import { HealthModule } from './health/health.module';
import { InferenceModule } from './inference/inference.module';
import { OutboundModule } from './outbound/outbound.module';
import { QueueModule } from './queue/queue.module';
import { ResponsesModule } from './responses/responses.module';
import { WebhooksModule } from './webhooks/webhooks.module';

@Module({})
export class AppModule {
  /** The application on a validated configuration (see loadConfig). */
  static forRoot(config: AppConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [ConfigModule.forRoot(config), OutboundModule, MetricsModule, RedisModule, DatabaseModule.forRoot(configuredDataSource), AuthModule, LimitsModule, InferenceModule, AgentsModule, ConversationsModule, QueueModule.register(config), ResponsesModule.register(config), WebhooksModule.register(), HealthModule],
      providers: [
        // Global edges as providers, so a test that builds this module gets them too.
        { provide: APP_PIPE, useFactory: createValidationPipe },
        { provide: APP_FILTER, useClass: AllExceptionsFilter },
        // In this order: who is calling, then how often.
        { provide: APP_GUARD, useClass: AuthGuard },
        { provide: APP_GUARD, useClass: PrincipalThrottlerGuard },
      ],
    };
  }
}
