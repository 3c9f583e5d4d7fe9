import { getQueueToken } from '@nestjs/bull';
import { Injectable, Logger } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import type { Job, Queue } from 'bull';
import { settleWithin, within } from '../common/deadline';
import { JobCounts, QueueDriver } from './queue-driver';
import { QueueName } from './queue-names';

const LIVE_STATES = new Set(['waiting', 'active', 'delayed', 'paused']);
const ADD_TIMEOUT_MS = 5000;
const LOOKUP_TIMEOUT_MS = 2000;

/**
 * Bull on Redis, for any number of API and worker processes. While Redis is away, `add` and
 * `isLive` fail at once (the caller answers 503; the reconciler tries again later) and `remove`
 * does nothing: Bull's client would otherwise queue the commands until Redis is back.
 */
@Injectable()
export class BullQueueDriver extends QueueDriver {
  private readonly logger = new Logger('Queue');

  constructor(private readonly modules: ModuleRef) {
    super();
  }

  private bull(name: QueueName): Queue {
    return this.modules.get<Queue>(getQueueToken(name), { strict: false });
  }

  private ready(queue: Queue): boolean {
    return queue.client.status === 'ready';
  }

  async add<T extends object>(name: QueueName, jobId: string, data: T): Promise<void> {
    const queue = this.bull(name);
    if (!this.ready(queue)) throw new Error(`Redis is not connected (${queue.client.status})`);
    await within(queue.add(data, { jobId, removeOnComplete: true, removeOnFail: true, attempts: 1 }), ADD_TIMEOUT_MS, 'queueing the job');
  }

  async remove(name: QueueName, jobId: string): Promise<void> {
    const queue = this.bull(name);
    if (!this.ready(queue)) return;
    const job = await within(queue.getJob(jobId), LOOKUP_TIMEOUT_MS, 'finding the job');
    if (!job) return;
    const state = await job.getState();
    if (state === 'waiting' || state === 'delayed' || state === 'paused') await job.remove().catch(() => undefined);
  }

  async isLive(name: QueueName, jobId: string): Promise<boolean> {
    const queue = this.bull(name);
    if (!this.ready(queue)) throw new Error(`Redis is not connected (${queue.client.status})`);
    const job = await within(queue.getJob(jobId), LOOKUP_TIMEOUT_MS, 'finding the job');
    return job ? LIVE_STATES.has(await job.getState()) : false;
  }

  async counts(name: QueueName): Promise<JobCounts> {
    const counts = await within(this.bull(name).getJobCounts(), LOOKUP_TIMEOUT_MS, 'counting jobs');
    return { waiting: counts.waiting + counts.delayed, active: counts.active };
  }

  process<T extends object>(name: QueueName, concurrency: number, handler: (data: T) => Promise<void>): void {
    // By hand rather than with `@Process()`: the concurrency is configuration, which a decorator cannot read.
    void this.bull(name).process(concurrency, async (job: Job<T>) => {
      try {
        await handler(job.data);
      } catch (error) {
        // Jobs are removed on failure: this line is what is left of it (Postgres keeps the state).
        this.logger.error(`${name} job ${String(job.id)} failed`, error instanceof Error ? error.stack : String(error));
        throw error;
      }
    });
    this.logger.log(`processing '${name}' jobs, ${concurrency} at a time`);
  }

  async stop(name: QueueName, graceMs?: number): Promise<void> {
    // Local pause: this process takes no new jobs; others go on.
    const paused = this.bull(name)
      .pause(true, graceMs === undefined)
      .catch(() => undefined);
    await (graceMs === undefined ? paused : settleWithin(paused, graceMs));
  }
}
