import { Module } from '@nestjs/common';
import { ConversationsService } from './conversations.service';
import { ConversationsPersistenceModule } from './persistence/conversations-persistence.module';

/** The Conversations API; exports ConversationsService for responses that run on a conversation. */
@Module({
  imports: [ConversationsPersistenceModule],
  providers: [ConversationsService],
  exports: [ConversationsService],
})
export class ConversationsModule {}
