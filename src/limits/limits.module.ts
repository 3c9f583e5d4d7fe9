import { Module } from '@nestjs/common';
import { ThrottlerModule } from '@nestjs/throttler';
import { AppConfig } from '../config/app-config';
import { RedisConnections } from '../redis/redis-connections';
import { MessageRateLimit } from './message-rate-limit';
import { PrincipalThrottlerGuard } from './principal-throttler.guard';
import { RedisThrottlerStorage } from './redis-throttler.storage';

@Module({
  imports: [
    ThrottlerModule.forRootAsync({
      inject: [AppConfig, RedisConnections],
      useFactory: (config: AppConfig, redis: RedisConnections) => ({
        // limit 0 = off (the guard skips); the throttler wants a positive number all the same.
        throttlers: [{ name: 'default', ttl: 60_000, limit: config.rateLimitPerMinute }],
        storage: config.redisUrl && config.rateLimitPerMinute ? new RedisThrottlerStorage(redis.create('rate-limit'), config.queuePrefix) : undefined,
      }),
    }),
  ],
  providers: [PrincipalThrottlerGuard, MessageRateLimit],
  exports: [PrincipalThrottlerGuard, MessageRateLimit],
})
export class LimitsModule {}
