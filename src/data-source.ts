import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import type { DataSourceOptions } from 'typeorm';
import { vector } from '@electric-sql/pglite-pgvector';
import { PGliteDriver } from 'typeorm-pglite';
import { ApiKeyEntity } from './auth/persistence/entities/api-key.entity';
import { ConversationItemEntity } from './conversations/persistence/entities/conversation-item.entity';
import { ConversationEntity } from './conversations/persistence/entities/conversation.entity';
import { FileContentEntity } from './files/persistence/entities/file-content.entity';
import { FileUsageEntity } from './files/persistence/entities/file-usage.entity';
import { FileEntity } from './files/persistence/entities/file.entity';
import { ResponseInputItemEntity } from './responses/persistence/entities/response-input-item.entity';
import { ResponseOutputItemEntity } from './responses/persistence/entities/response-output-item.entity';
import { ResponseEntity } from './responses/persistence/entities/response.entity';
import { VectorStoreChunkEntity } from './vector-stores/persistence/entities/vector-store-chunk.entity';
import { VectorStoreFileBatchEntity } from './vector-stores/persistence/entities/vector-store-file-batch.entity';
import { VectorStoreFileEntity } from './vector-stores/persistence/entities/vector-store-file.entity';
import { VectorStoreEntity } from './vector-stores/persistence/entities/vector-store.entity';
import { WebhookAttemptEntity } from './webhooks/persistence/entities/webhook-attempt.entity';
import { WebhookDeliveryEntity } from './webhooks/persistence/entities/webhook-delivery.entity';
import { WebhookEndpointEntity } from './webhooks/persistence/entities/webhook-endpoint.entity';
import { WebhookEventEntity } from './webhooks/persistence/entities/webhook-event.entity';
import { CreateResponses1764000000000 } from './database/migrations/1764000000000-CreateResponses';
import { CreateApiKeys1764000100000 } from './database/migrations/1764000100000-CreateApiKeys';
import { CreateConversations1764000200000 } from './database/migrations/1764000200000-CreateConversations';
import { IndexOutputItems1764000300000 } from './database/migrations/1764000300000-IndexOutputItems';
import { CreateWebhooks1764000400000 } from './database/migrations/1764000400000-CreateWebhooks';
import { OutputItemsTable1764000500000 } from './database/migrations/1764000500000-OutputItemsTable';
import { StoreResponseState1764000600000 } from './database/migrations/1764000600000-StoreResponseState';
import { CreateFiles1764000700000 } from './database/migrations/1764000700000-CreateFiles';
import { CreateVectorStores1764000800000 } from './database/migrations/1764000800000-CreateVectorStores';
import { VectorColumn1764000900000 } from './database/migrations/1764000900000-VectorColumn';
import { BackgroundScheduling1764001000000 } from './database/migrations/1764001000000-BackgroundScheduling';
import { ItemsWithoutForeignKeys1764001100000 } from './database/migrations/1764001100000-ItemsWithoutForeignKeys';

export const ENTITIES = [
  ResponseEntity,
  ResponseInputItemEntity,
  ResponseOutputItemEntity,
  ApiKeyEntity,
  ConversationEntity,
  ConversationItemEntity,
  WebhookEndpointEntity,
  WebhookEventEntity,
  WebhookDeliveryEntity,
  WebhookAttemptEntity,
  FileEntity,
  FileContentEntity,
  FileUsageEntity,
  VectorStoreEntity,
  VectorStoreFileEntity,
  VectorStoreFileBatchEntity,
  VectorStoreChunkEntity,
];
export const MIGRATIONS = [
  CreateResponses1764000000000,
  CreateApiKeys1764000100000,
  CreateConversations1764000200000,
  IndexOutputItems1764000300000,
  CreateWebhooks1764000400000,
  OutputItemsTable1764000500000,
  StoreResponseState1764000600000,
  CreateFiles1764000700000,
  CreateVectorStores1764000800000,
  VectorColumn1764000900000,
  BackgroundScheduling1764001000000,
  ItemsWithoutForeignKeys1764001100000,
];

export interface DatabaseSettings {
  /** Postgres URL; unset means embedded PGlite. */
  databaseUrl?: string;
  /** Where PGlite keeps its files; `memory://` for a throwaway database. */
  dataDir: string;
}

/**
 * One definition of the database for the app and the TypeORM CLI (`ormconfig.ts`), at the root
 * because it names every feature's entities (`database/` knows no feature): Postgres when a
 * URL is given, else embedded PGlite. Same entities and migrations either way; never `synchronize`.
 */
export function dataSourceOptions(settings: DatabaseSettings): DataSourceOptions {
  const common = { entities: ENTITIES, migrations: MIGRATIONS, synchronize: false, logging: false } as const;
  if (settings.databaseUrl) {
    return { ...common, type: 'postgres', url: settings.databaseUrl, extra: { max: 20 } };
  }
  const dataDir = settings.dataDir.startsWith('memory://') ? settings.dataDir : pgliteDir(settings.dataDir);
  // pgvector, bundled for PGlite as its own package (the vector column and HNSW index: docs/file-search.md).
  return { ...common, type: 'postgres', driver: new PGliteDriver({ dataDir, extensions: { vector } }).driver, migrationsRun: true };
}

function pgliteDir(dataDir: string): string {
  const dir = resolve(dataDir, 'pglite');
  mkdirSync(dir, { recursive: true });
  return dir;
}

/** The options of the configured database (the app and its CLIs). */
export const configuredDataSource = (config: { databaseUrl?: string; dataDir: string }): DataSourceOptions =>
  dataSourceOptions({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
