import { BullModule } from '@nestjs/bull';
import { DynamicModule, Module, Provider } from '@nestjs/common';
import { AgentsModule } from '../agents/agents.module';
import { ConversationsModule } from '../conversations/conversations.module';
import { AppConfig } from '../config/app-config';
import { InferenceModule } from '../inference/inference.module';
import { StreamSlots } from '../limits/stream-slots';
import { BackgroundRunner } from './background/background-runner';
import { BullDispatcher, RESPONSES_QUEUE } from './background/bull-dispatcher';
import { BullWorker } from './background/bull-worker';
import { CancelSignals, LocalCancelSignals, RedisCancelSignals } from './background/cancel-signals';
import { InlineDispatcher } from './background/inline-dispatcher';
import { Reconciler } from './background/reconciler';
import { ResponseDispatcher } from './background/response-dispatcher';
import { MemoryEventLog } from './events/memory-event-log';
import { ResponsesPersistenceModule } from './persistence/responses-persistence.module';
import { RedisEventLog } from './events/redis-event-log';
import { ResponseEventLog } from './events/response-event-log';
import { ResponseExecutor } from './response-executor';
import { ResponsesController } from './responses.controller';
import { ResponsesService } from './responses.service';

@Module({})
export class ResponsesModule {
  /**
   * With REDIS_URL: Bull queue, Redis Streams event log and Redis pub/sub cancel signals, for any
   * number of API and worker processes. Without: everything in this process.
   */
  static register(config: AppConfig): DynamicModule {
    const common: Provider[] = [ResponsesService, ResponseExecutor, BackgroundRunner, Reconciler, StreamSlots];
    const base = { module: ResponsesModule, controllers: [ResponsesController] };
    const imports = [ResponsesPersistenceModule, InferenceModule, AgentsModule, ConversationsModule];
    if (!config.redisUrl) {
      return {
        ...base,
        imports,
        providers: [
          ...common,
          { provide: ResponseDispatcher, useClass: InlineDispatcher },
          { provide: ResponseEventLog, useClass: MemoryEventLog },
          { provide: CancelSignals, useClass: LocalCancelSignals },
        ],
      };
    }
    return {
      ...base,
      imports: [
        ...imports,
        BullModule.forRootAsync({
          inject: [AppConfig],
          useFactory: (c: AppConfig) => ({
            url: c.redisUrl,
            // Bull's own default backs off exponentially to 20 s between reconnects: after an outage
            // of a few seconds the queue stayed away ~17 s after Redis was back. Same cap as ours.
            redis: { retryStrategy: (times: number) => Math.min(times * 200, 2000) },
            prefix: c.queuePrefix,
            settings: {
              // A worker that stops renewing its lock for this long is presumed dead: its job is
              // moved back to waiting and runs again (the attempt number fences the old run).
              lockDuration: c.stallTimeoutMs,
              stalledInterval: Math.max(500, Math.floor(c.stallTimeoutMs / 2)),
              maxStalledCount: c.backgroundMaxAttempts,
            },
          }),
        }),
        BullModule.registerQueue({ name: RESPONSES_QUEUE }),
      ],
      providers: [
        ...common,
        BullWorker,
        { provide: ResponseDispatcher, useClass: BullDispatcher },
        { provide: ResponseEventLog, useClass: RedisEventLog },
        { provide: CancelSignals, useClass: RedisCancelSignals },
      ],
    };
  }
}
