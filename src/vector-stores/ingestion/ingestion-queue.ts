import { Injectable } from '@nestjs/common';
import { QueueDriver } from '../../queue/queue-driver';
import { QueueName } from '../../queue/queue-names';

export interface IngestionJob {
  vectorStoreId: string;
  fileId: string;
}

const jobId = (j: IngestionJob) => `${j.vectorStoreId}.${j.fileId}`;

/** Hands vector store files to the workers that ingest them. Jobs carry ids only: Postgres holds the state. */
@Injectable()
export class IngestionQueue {
  constructor(private readonly queue: QueueDriver) {}

  /** Queues an ingestion; a second dispatch of one already queued or running is a no-op. */
  dispatch(job: IngestionJob): Promise<void> {
    return this.queue.add<IngestionJob>(QueueName.Ingestion, jobId(job), job);
  }

  withdraw(job: IngestionJob): Promise<void> {
    return this.queue.remove(QueueName.Ingestion, jobId(job));
  }

  isLive(job: IngestionJob): Promise<boolean> {
    return this.queue.isLive(QueueName.Ingestion, jobId(job));
  }
}
