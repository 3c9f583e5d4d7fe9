import { JobCounts, QueueDriver } from '../../src/queue/queue-driver';
import type { QueueName } from '../../src/queue/queue-names';

/** The queue port that only records: which job ids were added and removed, and which a test says are live (waiting). */
export class FakeQueue extends QueueDriver {
  readonly dispatched: string[] = [];
  readonly withdrawn: string[] = [];
  readonly live = new Set<string>();

  add(_queue: QueueName, jobId: string): Promise<void> {
    this.dispatched.push(jobId);
    return Promise.resolve();
  }

  remove(_queue: QueueName, jobId: string): Promise<void> {
    this.withdrawn.push(jobId);
    return Promise.resolve();
  }

  isLive(_queue: QueueName, jobId: string): Promise<boolean> {
    return Promise.resolve(this.live.has(jobId));
  }

  counts(): Promise<JobCounts> {
    return Promise.resolve({ waiting: this.live.size, active: 0 });
  }

  process(): void {}

  stop(): Promise<void> {
    return Promise.resolve();
  }
}
