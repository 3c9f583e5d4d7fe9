import { Logger, Module } from '@nestjs/common';
import { getDataSourceToken } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { AppConfig } from '../../config/app-config';
import { FileContentStore } from './file-content.store';
import { FilesStore } from './files.store';
import { FilesystemFileContentStore } from './filesystem-file-content.store';
import { PostgresFileContentStore } from './postgres-file-content.store';
import { TypeOrmFilesStore } from './typeorm-files.store';

/** The files feature's storage: metadata in SQL, content where FILES_STORAGE says (needs DatabaseModule's DataSource). */
@Module({
  providers: [
    { provide: FilesStore, useClass: TypeOrmFilesStore },
    {
      provide: FileContentStore,
      inject: [AppConfig, getDataSourceToken()],
      useFactory: (config: AppConfig, dataSource: DataSource): FileContentStore => {
        const store = config.filesStorage === 'filesystem' ? new FilesystemFileContentStore(config.filesDir) : new PostgresFileContentStore(dataSource);
        new Logger('Files').log(`file content is stored in ${store.description}`);
        return store;
      },
    },
  ],
  exports: [FilesStore, FileContentStore],
})
export class FilesPersistenceModule {}
