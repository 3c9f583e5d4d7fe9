import { DynamicModule, Module } from '@nestjs/common';
import { APP_FILTER, APP_GUARD, APP_PIPE } from '@nestjs/core';
import { AgentsModule } from './agents/agents.module';
import { AllExceptionsFilter } from './common/all-exceptions.filter';
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
import { DatabaseModule } from './database/database.module';
import { parseEnvironment } from './config/environment';
import { HealthModule } from './health/health.module';
import { InferenceModule } from './inference/inference.module';
import { OutboundModule } from './outbound/outbound.module';
import { ResponsesModule } from './responses/responses.module';
import { WebhooksModule } from './webhooks/webhooks.module';

@Module({})
export class AppModule {
  /** The HTTP application. `env` defaults to the process environment; tests pass their own. */
  static forRoot(env: Record<string, string | undefined> = process.env): DynamicModule {
    const config = new AppConfig(parseEnvironment(env), env);
    return {
      module: AppModule,
      imports: [ConfigModule.forRoot(config), OutboundModule, MetricsModule, RedisModule, DatabaseModule, AuthModule, LimitsModule, InferenceModule, AgentsModule, ConversationsModule, ResponsesModule.register(config), WebhooksModule.register(config), HealthModule],
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
