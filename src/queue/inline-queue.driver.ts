import { Injectable, Logger } from '@nestjs/common';
import { settleWithin } from '../common/deadline';
import { JobCounts, QueueDriver } from './queue-driver';
import type { QueueName } from './queue-names';

interface LocalQueue {
  pending: Array<{ id: string; data: object }>;
  running: Map<string, Promise<void>>;
  concurrency: number;
  handler?: (data: object) => Promise<void>;
  stopped: boolean;
}

/**
 * The embedded default (no Redis): jobs run in this process with bounded concurrency. What is
 * unfinished when the process stops is found again at the next start, from the database.
 */
@Injectable()
export class InlineQueueDriver extends QueueDriver {
  private readonly logger = new Logger('Queue');
  private readonly queues = new Map<QueueName, LocalQueue>();

  private queue(name: QueueName): LocalQueue {
    let queue = this.queues.get(name);
    if (!queue) this.queues.set(name, (queue = { pending: [], running: new Map(), concurrency: 1, stopped: false }));
    return queue;
  }

  add<T extends object>(name: QueueName, jobId: string, data: T): Promise<void> {
    const queue = this.queue(name);
    if (!queue.running.has(jobId) && !queue.pending.some((job) => job.id === jobId)) {
      queue.pending.push({ id: jobId, data });
      this.pump(name, queue);
    }
    return Promise.resolve();
  }

  remove(name: QueueName, jobId: string): Promise<void> {
    const queue = this.queue(name);
    const index = queue.pending.findIndex((job) => job.id === jobId);
    if (index >= 0) queue.pending.splice(index, 1);
    return Promise.resolve();
  }

  isLive(name: QueueName, jobId: string): Promise<boolean> {
    const queue = this.queue(name);
    return Promise.resolve(queue.running.has(jobId) || queue.pending.some((job) => job.id === jobId));
  }

  counts(name: QueueName): Promise<JobCounts> {
    const queue = this.queue(name);
    return Promise.resolve({ waiting: queue.pending.length, active: queue.running.size });
  }

  process<T extends object>(name: QueueName, concurrency: number, handler: (data: T) => Promise<void>): void {
    const queue = this.queue(name);
    queue.concurrency = concurrency;
    queue.handler = handler as (data: object) => Promise<void>;
    this.pump(name, queue);
  }

  async stop(name: QueueName, graceMs?: number): Promise<void> {
    const queue = this.queue(name);
    queue.stopped = true;
    if (graceMs !== undefined) await settleWithin(Promise.allSettled([...queue.running.values()]), graceMs);
  }

  private pump(name: QueueName, queue: LocalQueue): void {
    const handler = queue.handler;
    while (handler && !queue.stopped && queue.running.size < queue.concurrency && queue.pending.length) {
      const job = queue.pending.shift()!;
      const run = handler(job.data)
        .catch((error: unknown) => this.logger.error(`${name} job ${job.id} failed`, error instanceof Error ? error.stack : String(error)))
        .finally(() => {
          queue.running.delete(job.id);
          this.pump(name, queue);
        });
      queue.running.set(job.id, run);
    }
  }
}
