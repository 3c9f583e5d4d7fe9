import { Module } from '@nestjs/common';
import { ResponsesStore } from './responses.store';
import { TypeOrmResponsesStore } from './typeorm-responses.store';

/** The responses feature's storage: the `ResponsesStore` port on its SQL adapter (needs DatabaseModule's DataSource). */
@Module({ providers: [{ provide: ResponsesStore, useClass: TypeOrmResponsesStore }], exports: [ResponsesStore] })
export class ResponsesPersistenceModule {}
