import { Module } from '@nestjs/common';
import { TypeOrmVectorStoresStore } from './typeorm-vector-stores.store';
import { VectorStoresStore } from './vector-stores.store';

/** The vector stores feature's storage: the `VectorStoresStore` port on its SQL adapter. */
@Module({ providers: [{ provide: VectorStoresStore, useClass: TypeOrmVectorStoresStore }], exports: [VectorStoresStore] })
export class VectorStoresPersistenceModule {}
