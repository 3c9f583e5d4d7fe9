import { BullModule } from '@nestjs/bull';
import { DynamicModule, Global, Module } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { RedisConnections } from '../redis/redis-connections';
import { BullQueueDriver } from './bull-queue.driver';
import { InlineQueueDriver } from './inline-queue.driver';
import { QueueDriver } from './queue-driver';
import { QueueName } from './queue-names';

/**
 * Every queue of the application behind one driver: Bull on Redis when REDIS_URL is set (one
 * root configuration for all queues), in this process otherwise.
 */
@Global()
@Module({})
export class QueueModule {
  static register(config: AppConfig): DynamicModule {
    if (!config.redisUrl) {
      return { module: QueueModule, providers: [{ provide: QueueDriver, useClass: InlineQueueDriver }], exports: [QueueDriver] };
    }
    return {
      module: QueueModule,
      imports: [
        BullModule.forRootAsync({
          inject: [AppConfig, RedisConnections],
          useFactory: (c: AppConfig, redis: RedisConnections) => ({
            url: c.redisUrl,
            redis: redis.bullOptions(),
            prefix: c.queuePrefix,
            settings: {
              // A worker that stops renewing its lock for this long is presumed dead: its job is
              // moved back to waiting and runs again (the attempt number fences the old run).
              lockDuration: c.stallTimeoutMs,
              stalledInterval: Math.max(500, Math.floor(c.stallTimeoutMs / 2)),
              maxStalledCount: c.backgroundMaxAttempts,
            },
          }),
        }),
        BullModule.registerQueue(...Object.values(QueueName).map((name) => ({ name }))),
      ],
      providers: [{ provide: QueueDriver, useClass: BullQueueDriver }],
      exports: [QueueDriver],
    };
  }
}
