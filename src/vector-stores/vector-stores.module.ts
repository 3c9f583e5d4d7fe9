import { Module } from '@nestjs/common';
import { FilesModule } from '../files/files.module';
import { InferenceModule } from '../inference/inference.module';
import { IngestionQueue } from './ingestion/ingestion-queue';
import { IngestionReconciler } from './ingestion/ingestion-reconciler';
import { IngestionRunner } from './ingestion/ingestion-runner';
import { VectorStoresPersistenceModule } from './persistence/vector-stores-persistence.module';
import { VectorSearch } from './retrieval/vector-search';
import { VectorStoresService } from './vector-stores.service';

/**
 * Vector stores: the API's service, ingestion (queued; run by WorkerModule's processor, dispatched
 * again by the reconciler) and hybrid search, which the `file_search` tool uses too.
 */
@Module({
  imports: [VectorStoresPersistenceModule, FilesModule, InferenceModule],
  providers: [VectorStoresService, IngestionQueue, IngestionRunner, IngestionReconciler, VectorSearch],
  exports: [VectorStoresService, IngestionRunner, VectorSearch],
})
export class VectorStoresModule {}
