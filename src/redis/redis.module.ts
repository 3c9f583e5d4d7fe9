import { Global, Module } from '@nestjs/common';
import { RedisConnections } from './redis-connections';

/** The Redis connections of this process (used only when REDIS_URL is set). */
@Global()
@Module({ providers: [RedisConnections], exports: [RedisConnections] })
export class RedisModule {}
