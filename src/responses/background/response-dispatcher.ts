import { Injectable } from '@nestjs/common';
import { Metrics } from '../../metrics/metrics';
import { JobCounts, QueueDriver } from '../../queue/queue-driver';
import { QueueName } from '../../queue/queue-names';

export interface ResponseJob {
  responseId: string;
}

/**
 * Hands background responses to whatever runs them, through the queue driver. Jobs carry the
 * response id only (it is also the job id, so a second dispatch is a no-op): Postgres holds
 * everything else, so a lost job is re-dispatched from the row.
 */
@Injectable()
export class ResponseDispatcher {
  constructor(
    private readonly queue: QueueDriver,
    metrics: Metrics,
  ) {
    metrics.setQueueCounts(() => this.counts());
  }

  /** Queues a run; a second dispatch of an id already queued or running is a no-op. */
  dispatch(responseId: string): Promise<void> {
    return this.queue.add<ResponseJob>(QueueName.Responses, responseId, { responseId });
  }

  /** Removes a run that has not started yet. */
  withdraw(responseId: string): Promise<void> {
    return this.queue.remove(QueueName.Responses, responseId);
  }

  /** Whether a run of it is queued or running somewhere. */
  isLive(responseId: string): Promise<boolean> {
    return this.queue.isLive(QueueName.Responses, responseId);
  }

  /** Jobs waiting and running (the whole queue with Bull; this process inline). */
  counts(): Promise<JobCounts> {
    return this.queue.counts(QueueName.Responses);
  }
}
