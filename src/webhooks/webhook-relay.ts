import { Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { Metrics } from '../metrics/metrics';
import { WebhooksStore } from './persistence/webhooks.store';
import { WebhookDispatcher } from './webhook-dispatcher';

const BATCH = 100;
const PRUNE_EVERY_MS = 3_600_000;

/**
 * The outbox relay (WorkerModule: processes whose role runs jobs): every WEBHOOK_RELAY_INTERVAL_MS it claims
 * due deliveries in Postgres (`FOR UPDATE SKIP LOCKED`, a lease) and hands them to the
 * dispatcher. Any number of relays share the work; a dead one's claims expire and are taken again.
 * Once an hour it deletes events older than WEBHOOK_RETENTION_DAYS.
 */
@Injectable()
export class WebhookRelay implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('Webhooks');
  private timer?: NodeJS.Timeout;
  private running = false;
  private stopped = false;
  private lastPrune = 0;

  constructor(
    private readonly store: WebhooksStore,
    private readonly dispatcher: WebhookDispatcher,
    private readonly config: AppConfig,
    metrics: Metrics,
  ) {
    metrics.setWebhookDepth(() => store.countPending());
  }

  onApplicationBootstrap(): void {
    this.lastPrune = Date.now() - PRUNE_EVERY_MS + 60_000; // first prune a minute after start
    void this.start();
  }

  /**
   * In the embedded default this process is the only one on its database: claims still held were
   * left by a previous run of it, and need not wait for their lease to end.
   */
  private async start(): Promise<void> {
    if (!this.config.redisUrl) {
      const released = await this.store.releaseClaims().catch(() => 0);
      if (released) this.logger.log(`took back ${released} webhook delivery claim(s) left by the previous run`);
    }
    if (this.stopped) return;
    this.timer = setInterval(() => void this.tick(), this.config.webhookRelayIntervalMs);
    this.timer.unref();
    await this.tick();
  }

  /** One pass; returns how many deliveries were handed over. */
  async tick(): Promise<number> {
    if (this.running || this.stopped) return 0;
    this.running = true;
    let handed = 0;
    try {
      for (;;) {
        const room = Math.min(BATCH, await this.dispatcher.capacity());
        if (room <= 0 || this.stopped) break;
        const claimed = await this.store.claimDue(room, this.config.webhookLeaseMs);
        if (claimed.length) await this.dispatcher.dispatch(claimed);
        handed += claimed.length;
        if (claimed.length < room) break;
      }
      if (Date.now() - this.lastPrune > PRUNE_EVERY_MS) {
        this.lastPrune = Date.now();
        const pruned = await this.store.prune(new Date(Date.now() - this.config.webhookRetentionDays * 86_400_000));
        if (pruned) this.logger.log(`deleted ${pruned} webhook event(s) older than ${this.config.webhookRetentionDays} days`);
      }
    } catch (error) {
      this.logger.warn(`webhook relay pass failed: ${error instanceof Error ? error.message : String(error)}`);
    } finally {
      this.running = false;
    }
    return handed;
  }

  onModuleDestroy(): void {
    this.stopped = true;
    clearInterval(this.timer);
  }
}
