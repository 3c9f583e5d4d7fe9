import { Module } from '@nestjs/common';
import { AgentsModule } from '../agents/agents.module';
import { InferenceModule } from '../inference/inference.module';
import { StoreModule } from '../store/store.module';
import { ResponseExecutor } from './response-executor';
import { ResponsesController } from './responses.controller';
import { ResponsesService } from './responses.service';

@Module({
  imports: [StoreModule, InferenceModule, AgentsModule],
  controllers: [ResponsesController],
  providers: [ResponsesService, ResponseExecutor],
})
export class ResponsesModule {}
