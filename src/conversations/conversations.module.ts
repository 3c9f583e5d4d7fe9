import { Module } from '@nestjs/common';
import { StoreModule } from '../store/store.module';
import { ConversationsController } from './conversations.controller';
import { ConversationsService } from './conversations.service';

/** The Conversations API; exports ConversationsService for responses that run on a conversation. */
@Module({
  imports: [StoreModule],
  controllers: [ConversationsController],
  providers: [ConversationsService],
  exports: [ConversationsService],
})
export class ConversationsModule {}
