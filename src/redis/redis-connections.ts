import { Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { Redis, type RedisOptions } from 'ioredis';
import { AppConfig } from '../config/app-config';

/** Reconnect forever with a cap: Redis coming back must heal the process by itself (Bull's own default backs off to 20 s). */
const retryStrategy = (times: number): number => Math.min(times * 200, 2000);

/**
 * Creates the Redis connections this process uses (from REDIS_URL) and closes them all at
 * shutdown; Bull's own connections take their options from here too.
 */
@Injectable()
export class RedisConnections implements OnApplicationShutdown {
  private readonly logger = new Logger('Redis');
  private readonly open = new Set<Redis>();

  constructor(private readonly config: AppConfig) {}

  create(name: string, options: { lazy?: boolean } = {}): Redis {
    const url = this.config.redisUrl;
    if (!url) throw new Error('REDIS_URL is not set');
    const redisOptions: RedisOptions = {
      connectionName: `rg-${name}`,
      lazyConnect: options.lazy ?? false,
      maxRetriesPerRequest: 3,
      retryStrategy,
    };
    const client = new Redis(url, redisOptions);
    // Commands wait for the first connection at start-up; once connected, a command sent while
    // Redis is away fails at once (a 503 to the client) instead of queueing for seconds.
    client.once('ready', () => (client.options.enableOfflineQueue = false));
    client.on('error', (error: Error) => this.logger.debug(`${name}: ${error.message}`));
    client.on('end', () => this.open.delete(client));
    this.open.add(client);
    return client;
  }

  /**
   * The options Bull opens its connections with (it opens and closes them itself: blocking
   * readers need Bull's own settings, and its offline queue, which our clients turn off).
   */
  bullOptions(): RedisOptions {
    return { connectionName: 'rg-bull', retryStrategy };
  }

  onApplicationShutdown(): void {
    for (const client of this.open) client.disconnect();
    this.open.clear();
  }
}
