import { Module } from '@nestjs/common';
import { FilesService } from './files.service';
import { FilesPersistenceModule } from './persistence/files-persistence.module';

/**
 * The Files API's use cases; exports FilesService (`get`, `read`) for the features built on files
 * (vector stores, ingestion, file_search). The controller and its transport are ApiModule's, the
 * sweep WorkerModule's.
 */
@Module({
  imports: [FilesPersistenceModule],
  providers: [FilesService],
  exports: [FilesService, FilesPersistenceModule],
})
export class FilesModule {}
