import { DynamicModule, Module } from '@nestjs/common';
import { AgentsModule } from '../agents/agents.module';
import { ConversationsModule } from '../conversations/conversations.module';
import { AppConfig } from '../config/app-config';
import { InferenceModule } from '../inference/inference.module';
import { VectorStoresModule } from '../vector-stores/vector-stores.module';
import { BackgroundRunner } from './background/background-runner';
import { CancelSignals, LocalCancelSignals, RedisCancelSignals } from './background/cancel-signals';
import { Reconciler } from './background/reconciler';
import { ResponseDispatcher } from './background/response-dispatcher';
import { MemoryEventLog } from './events/memory-event-log';
import { ResponsesPersistenceModule } from './persistence/responses-persistence.module';
import { RedisEventLog } from './events/redis-event-log';
import { ResponseEventLog } from './events/response-event-log';
import { ExecutionFactory } from './lifecycle/execution-factory';
import { ResponseLifecycle } from './lifecycle/response-lifecycle';
import { RunRegistry } from './lifecycle/run-registry';
import { ResponseCreation } from './response-creation.service';
import { ResponseCompaction } from './response-compaction.service';
import { ResponseExecutor } from './response-executor';
import { InputTokens } from './input-tokens.service';
import { ResponseReplay } from './response-replay.service';
import { ResponsesService } from './responses.service';

@Module({})
export class ResponsesModule {
  /**
   * With REDIS_URL: the Redis Streams event log and Redis pub/sub cancel signals, for any number
   * of API and worker processes (the queue is QueueModule's). Without: everything in this process.
   */
  static register(config: AppConfig): DynamicModule {
    const redis = Boolean(config.redisUrl);
    return {
      module: ResponsesModule,
      imports: [ResponsesPersistenceModule, InferenceModule, AgentsModule, ConversationsModule, VectorStoresModule],
      providers: [
        ResponseCreation,
        ResponseCompaction,
        InputTokens,
        ResponseReplay,
        ResponsesService,
        ExecutionFactory,
        ResponseLifecycle,
        RunRegistry,
        ResponseExecutor,
        BackgroundRunner,
        Reconciler,
        ResponseDispatcher,
        { provide: ResponseEventLog, useClass: redis ? RedisEventLog : MemoryEventLog },
        { provide: CancelSignals, useClass: redis ? RedisCancelSignals : LocalCancelSignals },
      ],
      // For the transports (ApiModule) and the queue's processor (WorkerModule).
      exports: [ResponseCreation, ResponseCompaction, InputTokens, ResponseReplay, ResponsesService, BackgroundRunner],
    };
  }
}
