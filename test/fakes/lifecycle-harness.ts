import type { AgentRunner } from '../../src/agents/agent-runner';
import type { StoredItem } from '../../src/common/response-types';
import type { AppConfig } from '../../src/config/app-config';
import type { ConversationsService } from '../../src/conversations/conversations.service';
import type { ModelRegistry, ResolvedModel } from '../../src/inference/model-registry';
import { Metrics } from '../../src/metrics/metrics';
import { BackgroundRunner } from '../../src/responses/background/background-runner';
import { ResponseDispatcher } from '../../src/responses/background/response-dispatcher';
import { LocalCancelSignals } from '../../src/responses/background/cancel-signals';
import { Reconciler } from '../../src/responses/background/reconciler';
import { ExecutionFactory } from '../../src/responses/lifecycle/execution-factory';
import { ResponseLifecycle } from '../../src/responses/lifecycle/response-lifecycle';
import { RunRegistry } from '../../src/responses/lifecycle/run-registry';
import { ResponseExecutor } from '../../src/responses/response-executor';
import { ResponsesService } from '../../src/responses/responses.service';
import { FakeAgent } from './fake-agent';
import { FakeQueue } from './fake-queue';
import { FakeEventLog } from './fake-event-log';
import { FakeResponsesStore } from './fake-responses-store';

/** The settings the lifecycle reads, with test values. */
export interface LifecycleSettings {
  backgroundMaxAttempts: number;
  backgroundTimeoutMs: number;
  backgroundUpstreamRetries: number;
  maxChainDepth: number;
  reconcileIntervalMs: number;
  inferenceTimeoutMs: number;
  redisUrl: string | undefined;
  runsJobs: boolean;
  secretBox: undefined;
  backgroundWeight(owner: string): number;
  backgroundWindowMarginSeconds: number;
  backgroundQueueLimit(cls: 'soonest' | 'windowed', scope: 'all' | 'tenant'): number;
}

/** Conversations, in memory: what was appended to which conversation. */
export class FakeConversations implements Pick<ConversationsService, 'contextItems' | 'append'> {
  readonly appended = new Map<string, StoredItem[]>();

  contextItems(_owner: string, conversationId: string): Promise<StoredItem[]> {
    return Promise.resolve(this.appended.get(conversationId) ?? []);
  }

  append(conversationId: string, items: StoredItem[]): Promise<boolean> {
    this.appended.set(conversationId, [...(this.appended.get(conversationId) ?? []), ...items]);
    return Promise.resolve(true);
  }
}

const MODEL = { id: 'm1' } as ResolvedModel;

/**
 * The real lifecycle classes (factory, lifecycle, executor, runner, registry, cancel signals,
 * responses service, reconciler) wired to typed fakes: no database, no Redis, no upstream.
 */
export function lifecycleHarness(overrides: Partial<LifecycleSettings> = {}) {
  const settings: LifecycleSettings = {
    backgroundMaxAttempts: 3,
    backgroundTimeoutMs: 0,
    backgroundUpstreamRetries: 0,
    maxChainDepth: 100,
    reconcileIntervalMs: 60_000,
    inferenceTimeoutMs: 60_000,
    redisUrl: undefined,
    runsJobs: true,
    secretBox: undefined,
    backgroundWeight: () => 1,
    backgroundWindowMarginSeconds: 900,
    backgroundQueueLimit: () => 0,
    ...overrides,
  };
  // The classes take the whole AppConfig; they read only these settings.
  const config = settings as unknown as AppConfig;
  const store = new FakeResponsesStore();
  const events = new FakeEventLog();
  const agent = new FakeAgent();
  const conversations = new FakeConversations();
  const metrics = new Metrics();
  // The real dispatcher over a recording queue.
  const queue = new FakeQueue();
  const dispatcher = new ResponseDispatcher(queue, metrics);
  const limits = new Map<string, number>();
  const models: Pick<ModelRegistry, 'resolve' | 'concurrencyLimits'> = { resolve: (id) => (id === MODEL.id ? MODEL : null), concurrencyLimits: () => limits };
  const runs = new RunRegistry();
  const conversationsService = conversations as unknown as ConversationsService;
  const lifecycle = new ResponseLifecycle(store, events, metrics, conversationsService);
  const executions = new ExecutionFactory(store, models as ModelRegistry, conversationsService, config);
  const executor = new ResponseExecutor(agent as unknown as AgentRunner, lifecycle);
  const runner = new BackgroundRunner(store, executions, executor, lifecycle, runs, events, config, metrics, models as ModelRegistry, dispatcher);
  const cancels = new LocalCancelSignals(runs, metrics);
  const responses = new ResponsesService(store, lifecycle, dispatcher, cancels);
  const reconciler = new Reconciler(store, dispatcher, lifecycle, config, metrics);
  /** How many ends the metric counted, by status and background. */
  const ended = async (status: string, background = true): Promise<number> => {
    const { values } = await metrics.responses.get();
    return values.find((v) => v.labels.status === status && v.labels.background === String(background))?.value ?? 0;
  };
  return {
    settings,
    /** Models' `maxConcurrency` (empty: none). */
    limits,
    store,
    events,
    queue,
    dispatcher,
    agent,
    conversations,
    metrics,
    runs,
    lifecycle,
    executions,
    executor,
    runner,
    cancels,
    responses,
    reconciler,
    ended,
  };
}
