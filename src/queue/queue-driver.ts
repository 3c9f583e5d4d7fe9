import type { QueueName } from './queue-names';

export interface JobCounts {
  /** Waiting to start (delayed included). */
  waiting: number;
  active: number;
}

/**
 * Moves jobs between who queues them and who runs them (port): Bull on Redis across processes,
 * or this process alone (the embedded default). Jobs are small and idempotent by id: Postgres
 * holds the truth, so a lost job is dispatched again from its row.
 */
export abstract class QueueDriver {
  /** Queues a job; adding an id that is already waiting or running is a no-op. Throws when the queue is unreachable. */
  abstract add<T extends object>(queue: QueueName, jobId: string, data: T): Promise<void>;
  /** Removes a job that has not started (best effort: never waits on an unreachable queue). */
  abstract remove(queue: QueueName, jobId: string): Promise<void>;
  /** Whether the job is waiting or running somewhere. Throws when the queue is unreachable. */
  abstract isLive(queue: QueueName, jobId: string): Promise<boolean>;
  /** Jobs waiting and running: the whole queue with Bull, this process inline. */
  abstract counts(queue: QueueName): Promise<JobCounts>;
  /** Runs the queue's jobs in this process, `concurrency` at a time (processes whose role runs jobs). */
  abstract process<T extends object>(queue: QueueName, concurrency: number, handler: (data: T) => Promise<void>): void;
  /**
   * Takes no more jobs from the queue in this process. With `graceMs`, waits up to that long for
   * the running ones; without, returns at once (their owner drains them).
   */
  abstract stop(queue: QueueName, graceMs?: number): Promise<void>;
}
