import { DynamicModule, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import type { DataSourceOptions } from 'typeorm';
import { AppConfig } from '../config/app-config';

/**
 * The database connection: one TypeORM DataSource (Postgres, or embedded PGlite), global, for the
 * features' persistence adapters (`<feature>/persistence/`). Imported once, by the root module.
 */
@Module({})
export class DatabaseModule {
  /** `options` comes from the composition root (`src/data-source.ts`), which knows the features' entities. */
  static forRoot(options: (config: AppConfig) => DataSourceOptions): DynamicModule {
    return {
      module: DatabaseModule,
      imports: [
        TypeOrmModule.forRootAsync({
          inject: [AppConfig],
          useFactory: (config: AppConfig) => ({
            ...options(config),
            // Fail fast at boot instead of retrying for minutes; the orchestrator restarts us.
            retryAttempts: 2,
            retryDelay: 1000,
          }),
        }),
      ],
    };
  }
}
