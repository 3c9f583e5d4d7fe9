import { Module } from '@nestjs/common';
import { ApiKeysStore } from './api-keys.store';
import { TypeOrmApiKeysStore } from './typeorm-api-keys.store';

/** The auth feature's storage: the `ApiKeysStore` port on its SQL adapter (needs DatabaseModule's DataSource). */
@Module({ providers: [{ provide: ApiKeysStore, useClass: TypeOrmApiKeysStore }], exports: [ApiKeysStore] })
export class AuthPersistenceModule {}
