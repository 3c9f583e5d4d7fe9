import { Injectable, Logger, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { once } from 'node:events';
import type { Redis } from 'ioredis';
import { AppConfig } from '../../config/app-config';
import { Metrics } from '../../metrics/metrics';
import { RedisConnections } from '../../redis/redis-connections';
import { RunRegistry } from '../lifecycle/run-registry';
import { CancelRequested } from './abort-reasons';

/**
 * Cancel signals (port): carry a cancel to whichever process runs the background response, whose
 * RunRegistry aborts its upstream call — at once, without polling the database.
 */
export abstract class CancelSignals {
  constructor(
    private readonly runs: RunRegistry,
    private readonly metrics: Metrics,
  ) {}

  /** Tells every process (this one included) that the response was cancelled. */
  abstract broadcast(responseId: string): Promise<void>;

  /** Aborts the run of this process, if any; `sentAt` (ms) is when the cancel was asked for. */
  protected abortLocal(responseId: string, sentAt = Date.now()): void {
    if (!this.runs.abort(responseId, new CancelRequested())) return;
    this.metrics.cancelLatency.observe(Math.max(0, Date.now() - sentAt) / 1000);
  }
}

/** One process: the signal goes straight to the run. */
@Injectable()
export class LocalCancelSignals extends CancelSignals {
  constructor(runs: RunRegistry, metrics: Metrics) {
    super(runs, metrics);
  }

  broadcast(responseId: string): Promise<void> {
    this.abortLocal(responseId);
    return Promise.resolve();
  }
}

/** Many processes: a Redis pub/sub channel that every process listens on. */
@Injectable()
export class RedisCancelSignals extends CancelSignals implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger('CancelSignals');
  private readonly publisher: Redis;
  private readonly subscriber: Redis;
  private readonly channel: string;

  constructor(redis: RedisConnections, config: AppConfig, runs: RunRegistry, metrics: Metrics) {
    super(runs, metrics);
    this.channel = `${config.queuePrefix}:cancel`;
    this.publisher = redis.create('cancel-pub');
    this.subscriber = redis.create('cancel-sub');
  }

  async onModuleInit(): Promise<void> {
    // Messages are `<response id> <sent at, ms>`: the receiver measures the signal's latency.
    this.subscriber.on('message', (_channel: string, message: string) => {
      const [responseId, sentAt] = message.split(' ');
      this.abortLocal(responseId, Number(sentAt) || Date.now());
    });
    // ioredis loses a SUBSCRIBE sent while its connection handshake (CLIENT SETNAME, ready
    // check) is still going on: wait until the connection is ready.
    if (this.subscriber.status !== 'ready') await once(this.subscriber, 'ready');
    await this.subscriber.subscribe(this.channel);
  }

  async broadcast(responseId: string): Promise<void> {
    const sentAt = Date.now();
    this.abortLocal(responseId, sentAt);
    try {
      await this.publisher.publish(this.channel, `${responseId} ${sentAt}`);
    } catch (error) {
      // The database already says cancelled: the run's final write will lose and discard its result.
      this.logger.warn(`cancel signal for ${responseId} not sent: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  onModuleDestroy(): void {
    this.subscriber.disconnect();
    this.publisher.disconnect();
  }
}
