import { Injectable } from '@nestjs/common';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/** Background responses waiting in one class (0 `soonest`, 1 windowed) for one tenant. */
export interface QueueDepthRow {
  class: 0 | 1;
  owner: string;
  queued: number;
  oldestSeconds: number;
}

export interface QueueCounts {
  waiting: number;
  active: number;
}

/** Every Prometheus metric of this process, in one registry (served at GET /metrics). */
@Injectable()
export class Metrics {
  readonly registry = new Registry();
  private queueCounts?: () => Promise<QueueCounts>;
  private queueDepths?: () => Promise<QueueDepthRow[]>;
  private webhookDepth?: () => Promise<number>;

  readonly httpDuration = new Histogram({
    name: 'rg_http_request_duration_seconds',
    help: 'HTTP request latency by route template and status (streams: until the last byte).',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers: [this.registry],
  });

  readonly responses = new Counter({
    name: 'rg_responses_total',
    help: 'Responses that reached a terminal status.',
    labelNames: ['status', 'background'] as const,
    registers: [this.registry],
  });

  readonly jobDuration = new Histogram({
    name: 'rg_background_job_duration_seconds',
    help: 'Duration of background runs on this process, by how they ended.',
    labelNames: ['outcome'] as const,
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800],
    registers: [this.registry],
  });

  readonly upstreamDuration = new Histogram({
    name: 'rg_upstream_request_duration_seconds',
    help: 'Upstream Chat Completions calls, by provider and outcome.',
    labelNames: ['provider', 'outcome'] as const,
    buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300],
    registers: [this.registry],
  });

  readonly upstreamErrors = new Counter({
    name: 'rg_upstream_errors_total',
    help: 'Failed upstream calls, by provider and the HTTP status given to clients.',
    labelNames: ['provider', 'status'] as const,
    registers: [this.registry],
  });

  readonly cancelLatency = new Histogram({
    name: 'rg_cancel_signal_latency_seconds',
    help: 'From a cancel request to the abort of the run it reached.',
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
    registers: [this.registry],
  });

  readonly sseDropped = new Counter({
    name: 'rg_sse_clients_dropped_total',
    help: 'SSE clients dropped for not reading, by limit (buffered_bytes, behind).',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });

  readonly wsDropped = new Counter({
    name: 'rg_ws_clients_dropped_total',
    help: 'WebSocket clients dropped for not reading, by limit (buffered_bytes, behind).',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });

  readonly webhookDeliveries = new Counter({
    name: 'rg_webhook_deliveries_total',
    help: 'Webhook delivery attempts, by outcome (success, retry, gave_up, gone, refused).',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });

  readonly webhookAttemptDuration = new Histogram({
    name: 'rg_webhook_attempt_duration_seconds',
    help: 'Duration of one webhook delivery attempt (connect to answer), by outcome.',
    labelNames: ['outcome'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [this.registry],
  });

  readonly webhookDeliveryLag = new Histogram({
    name: 'rg_webhook_delivery_latency_seconds',
    help: 'From the event (the terminal status change) to its successful delivery, retries included.',
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800, 3600, 21600, 86400],
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'rg_' });
    const depth = () => this.webhookDepth?.();
    new Gauge({
      name: 'rg_webhook_queue_depth',
      help: 'Webhook deliveries not yet succeeded or given up (read from the database).',
      registers: [this.registry],
      async collect() {
        const current = await depth()?.catch(() => undefined);
        if (current !== undefined) this.set(current);
      },
    });
    const depths = () => this.queueDepths?.();
    const classes = ['soonest', 'windowed'];
    new Gauge({
      name: 'rg_background_queued',
      help: 'Background responses waiting to start, by class and tenant (read from the database).',
      labelNames: ['class', 'tenant'] as const,
      registers: [this.registry],
      async collect() {
        this.reset();
        for (const d of (await depths()?.catch(() => undefined)) ?? []) this.set({ class: classes[d.class], tenant: d.owner }, d.queued);
      },
    });
    new Gauge({
      name: 'rg_background_queue_age_seconds',
      help: 'How long the oldest waiting background response has waited, by class and tenant.',
      labelNames: ['class', 'tenant'] as const,
      registers: [this.registry],
      async collect() {
        this.reset();
        for (const d of (await depths()?.catch(() => undefined)) ?? []) this.set({ class: classes[d.class], tenant: d.owner }, d.oldestSeconds);
      },
    });
    const counts = () => this.queueCounts?.();
    new Gauge({
      name: 'rg_queue_jobs',
      help: 'Background jobs in the queue, by state.',
      labelNames: ['state'] as const,
      registers: [this.registry],
      async collect() {
        const current = await counts()?.catch(() => undefined);
        if (!current) return;
        this.set({ state: 'waiting' }, current.waiting);
        this.set({ state: 'active' }, current.active);
      },
    });
  }

  /** Where the queue gauge reads from (the dispatcher registers itself). */
  setQueueCounts(source: () => Promise<QueueCounts>): void {
    this.queueCounts = source;
  }

  /** Where the background queue gauges read from (the reconciler registers the store). */
  setQueueDepths(source: () => Promise<QueueDepthRow[]>): void {
    this.queueDepths = source;
  }

  /** Where the webhook queue depth gauge reads from (the relay registers itself). */
  setWebhookDepth(source: () => Promise<number>): void {
    this.webhookDepth = source;
  }

  responseEnded(status: string, background: boolean, count = 1): void {
    this.responses.inc({ status, background: String(background) }, count);
  }
}
