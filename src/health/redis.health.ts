import { Injectable, OnModuleDestroy } from '@nestjs/common';
import { HealthIndicatorService } from '@nestjs/terminus';
import type { Redis } from 'ioredis';
import { RedisConnections } from '../redis/redis-connections';

/** Redis answers PING within 2 s. */
@Injectable()
export class RedisHealth implements OnModuleDestroy {
  private client?: Redis;

  constructor(
    private readonly indicators: HealthIndicatorService,
    private readonly redis: RedisConnections,
  ) {}

  async ping<const Key extends string>(key: Key) {
    const check = this.indicators.check(key);
    this.client ??= this.redis.create('health', { lazy: true });
    try {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        this.client.ping(),
        new Promise((_, reject) => (timer = setTimeout(() => reject(new Error('timeout after 2000 ms')), 2000))),
      ]).finally(() => clearTimeout(timer));
      return check.up();
    } catch (error) {
      return check.down({ message: error instanceof Error ? error.message : String(error) });
    }
  }

  onModuleDestroy(): void {
    this.client?.disconnect();
  }
}
