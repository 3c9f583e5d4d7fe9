import { InjectQueue } from '@nestjs/bull';
import { Injectable } from '@nestjs/common';
import type { Queue } from 'bull';
import { Metrics } from '../../metrics/metrics';
import { within } from '../../common/deadline';
import { ResponseDispatcher } from './response-dispatcher';

export const RESPONSES_QUEUE = 'responses';
export interface ResponseJob {
  responseId: string;
}

const LIVE_STATES = new Set(['waiting', 'active', 'delayed', 'paused']);
const DISPATCH_TIMEOUT_MS = 5000;

/** Bull producer: one job per response, job id = response id (so a duplicate dispatch is a no-op). */
@Injectable()
export class BullDispatcher extends ResponseDispatcher {
  constructor(@InjectQueue(RESPONSES_QUEUE) private readonly queue: Queue<ResponseJob>, metrics: Metrics) {
    super();
    metrics.setQueueCounts(() => this.counts());
  }

  async counts(): Promise<{ waiting: number; active: number }> {
    const counts = await within(this.queue.getJobCounts(), 2000, 'counting jobs');
    return { waiting: counts.waiting + counts.delayed, active: counts.active };
  }

  async dispatch(responseId: string): Promise<void> {
    // Redis away: say so now (the caller answers 503) rather than after the timeout.
    if (this.queue.client.status !== 'ready') throw new Error(`Redis is not connected (${this.queue.client.status})`);
    await within(
      this.queue.add({ responseId }, { jobId: responseId, removeOnComplete: true, removeOnFail: true, attempts: 1 }),
      DISPATCH_TIMEOUT_MS,
      'queueing the job',
    );
  }

  async withdraw(responseId: string): Promise<void> {
    // Best effort: a job left behind finds its response cancelled and does nothing. Bull's client
    // queues commands while Redis is away, so never wait on it then (a cancel must still answer).
    if (this.queue.client.status !== 'ready') return;
    const job = await within(this.queue.getJob(responseId), 2000, 'finding the job');
    if (!job) return;
    const state = await job.getState();
    if (state === 'waiting' || state === 'delayed' || state === 'paused') await job.remove().catch(() => undefined);
  }

  async isLive(responseId: string): Promise<boolean> {
    if (this.queue.client.status !== 'ready') throw new Error(`Redis is not connected (${this.queue.client.status})`);
    const job = await within(this.queue.getJob(responseId), 2000, 'finding the job');
    return job ? LIVE_STATES.has(await job.getState()) : false;
  }
}
