import { Module } from '@nestjs/common';
import { ConversationsStore } from './conversations.store';
import { TypeOrmConversationsStore } from './typeorm-conversations.store';

/** The conversations feature's storage: the `ConversationsStore` port on its SQL adapter (needs DatabaseModule's DataSource). */
@Module({ providers: [{ provide: ConversationsStore, useClass: TypeOrmConversationsStore }], exports: [ConversationsStore] })
export class ConversationsPersistenceModule {}
