import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AppConfig } from '../config/app-config';
import { dataSourceOptions } from './data-source';

/**
 * The database connection: one TypeORM DataSource (Postgres, or embedded PGlite), global, for the
 * features' persistence adapters (`<feature>/persistence/`). Imported once, by the root module.
 */
@Module({
  imports: [
    TypeOrmModule.forRootAsync({
      inject: [AppConfig],
      useFactory: (config: AppConfig) => ({
        ...dataSourceOptions({ databaseUrl: config.databaseUrl, dataDir: config.dataDir }),
        // Fail fast at boot instead of retrying for minutes; the orchestrator restarts us.
        retryAttempts: 2,
        retryDelay: 1000,
      }),
    }),
  ],
})
export class DatabaseModule {}
