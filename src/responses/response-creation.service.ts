import { Injectable, Logger } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { invalidRequest, OpenAIError, unsupportedParameter } from '../common/openai-error';
import type { SecretBox } from '../common/secrets';
import type { Principal } from '../common/principal';
import type { NormalizedRequest, ResponseObject, StoredItem, StreamEvent } from '../common/response-types';
import { PendingSink, type EventSink, type StreamTarget } from '../common/sse';
import { UpstreamError } from '../inference/upstream-error';
import { unknownApproval, unknownApprovalMessage } from '../agents/mcp/approvals';
import { SchemaValidator, strictOutputFormat, UnusableSchemaError } from '../agents/schema-validator';
import { checkEncryptedReasoningInclude, openReasoningInput } from '../agents/reasoning-seal';
import { checkCompactionInput } from '../agents/compaction';
import type { ResolvedModel } from '../inference/model-registry';
import { ResponsesStore } from './persistence/responses.store';
import type { CreateResponseDto } from './dto/create-response.dto';
import { ResponseDispatcher } from './background/response-dispatcher';
import { EventSequencer } from './event-sequencer';
import { ResponseEventLog } from './events/response-event-log';
import { normalizeInput } from '../common/items/input-items';
import type { Execution, PreparedResponse } from './lifecycle/execution';
import { ExecutionFactory } from './lifecycle/execution-factory';
import { mcpHeadersOf, normalizeRequest } from './normalize-request';
import { buildResponse } from './response-object';
import { ResponseExecutor } from './response-executor';
import { KeyedSerial } from '../common/keyed-serial';
import { VectorStoresService } from '../vector-stores/vector-stores.service';

/** What `resolveReferences` reads of an input (or stored) `mcp_call`. */
type McpCallInput = { id: string; type?: string; output?: string | null; error?: string | null };

/**
 * History a transport holds itself (a WebSocket connection's `store: false` responses): the items
 * a request continues from, or `undefined` to load them as usual (the store, the conversation).
 */
export type HeldHistory = (request: NormalizedRequest) => StoredItem[] | undefined;

export function upstreamFailure(error: UpstreamError): OpenAIError {
  return new OpenAIError(error.httpStatus, error.message, error.type, error.param, error.code, error.retryAfter ? { 'retry-after': error.retryAfter } : {});
}

/**
 * Creating a response, whatever carries it (HTTP JSON, SSE, later a WebSocket message):
 * `prepare` (every client error, before anything is stored), then `begin` + `run` inside the
 * request, or `enqueue` for a background one. No transport here: events go to an EventSink.
 */
@Injectable()
export class ResponseCreation {
  private readonly inserts = new KeyedSerial();
  private readonly logger = new Logger('ResponseCreation');

  constructor(
    private readonly store: ResponsesStore,
    private readonly executions: ExecutionFactory,
    private readonly executor: ResponseExecutor,
    private readonly dispatcher: ResponseDispatcher,
    private readonly events: ResponseEventLog,
    private readonly config: AppConfig,
    private readonly schemas: SchemaValidator,
    private readonly vectorStores: VectorStoresService,
  ) {}

  /** Every check that can fail because of the request, before anything is stored or streamed. */
  async prepare(principal: Principal, dto: CreateResponseDto, requestId?: string, held?: HeldHistory): Promise<PreparedResponse> {
    const request = normalizeRequest(dto, { webSearch: this.config.webSearch !== null });
    if (requestId) request.request_id = requestId;
    if (request.omitted_tools) this.logger.log({ msg: 'hosted tools left out: this server cannot run them', tools: request.omitted_tools, requestId });
    const model = this.executions.model(request);
    if (request.background && !request.store) {
      throw invalidRequest(
        'Background responses must be stored: `background: true` cannot be combined with `store: false`.',
        'background',
        'unsupported_parameter',
      );
    }
    const format = strictOutputFormat(request);
    if (format) this.checkSchema(format.schema);
    const mcpHeaders = mcpHeadersOf(dto);
    if (request.background && Object.keys(mcpHeaders).length && !this.config.secretBox) {
      throw invalidRequest(
        'MCP tool headers in background mode need SECRETS_KEY to be set on the server (they are stored sealed, never in clear).',
        'tools',
        'unsupported_parameter',
      );
    }
    checkEncryptedReasoningInclude(request, this.clientSealBox);
    const input = normalizeInput(dto.input, {
      maxItems: this.config.maxInputItems,
      maxChars: this.config.maxInputChars - (request.instructions?.length ?? 0),
      maxReferences: this.config.maxItemReferences,
      allowHttpImages: this.config.inputImageAllowHttp,
    });
    openReasoningInput(input, this.clientSealBox, principal.owner);
    this.prepareCompaction(request, input, model, principal);
    if (request.truncation === 'auto' && !model.contextWindow) {
      throw unsupportedParameter(
        'truncation',
        `truncation 'auto' needs the context window of the model '${model.id}': set its contextWindow in MODELS_CONFIG.`,
      );
    }
    await this.resolveReferences(principal, input);
    await this.checkVectorStores(principal, request);
    const history = held?.(request) ?? (await this.executions.history(principal, request));
    this.checkApprovals(history, input);
    return { principal, request, input, history, model, mcpHeaders };
  }

  /**
   * The sealer for encrypted reasoning, for the requests that seal or open it only. On an embedded
   * server it comes from a key file in DATA_DIR: when that cannot be read or made (read-only
   * DATA_DIR, a corrupt file) those requests get a 400 saying so, and every other one still runs.
   */
  private readonly clientSealBox = (param: string): SecretBox | undefined => {
    try {
      return this.config.clientSealBox;
    } catch (error) {
      this.logger.error({ msg: 'the sealing key in DATA_DIR cannot be had', error: (error as Error).message });
      throw unsupportedParameter(
        param,
        `This server cannot seal or open encrypted reasoning: its sealing key in DATA_DIR is unusable (see the server log). Set SECRETS_KEY on the server, or repair DATA_DIR.`,
      );
    }
  };

  /**
   * Compaction items of the input must open here; a final `compaction_trigger` becomes a flag of
   * the request (it is not stored); compacting needs the sealing key, and a threshold.
   */
  private prepareCompaction(request: NormalizedRequest, input: StoredItem[], model: ResolvedModel, principal: Principal): void {
    checkCompactionInput(input, this.clientSealBox, principal.owner);
    if ((input[input.length - 1] as { type?: string } | undefined)?.type === 'compaction_trigger') {
      input.pop();
      request.compaction_trigger = true;
    }
    const entry = request.context_management?.[0];
    if (!request.compaction_trigger && !entry) return;
    this.requireSealing(request.compaction_trigger ? `input[${input.length}]` : 'context_management');
    if (entry && entry.compact_threshold == null && !model.contextWindow) {
      throw invalidRequest(
        `The model '${model.id}' has no known context window (contextWindow in MODELS_CONFIG), so 'compact_threshold' must be given.`,
        'context_management[0].compact_threshold',
        'missing_required_parameter',
      );
    }
  }

  /** Compacting seals the summary it hands out: without a key every process shares, `param` is refused. */
  requireSealing(param: string): void {
    if (!this.clientSealBox(param)) {
      throw unsupportedParameter(
        param,
        'Compaction needs SECRETS_KEY to be set on this server (the same on every process): it seals the summaries it hands out.',
      );
    }
  }

  /** A strict schema the server could not check output against is refused now, not after the upstream call. */
  private checkSchema(schema: Record<string, unknown>): void {
    try {
      this.schemas.check(schema);
    } catch (error) {
      if (!(error instanceof UnusableSchemaError)) throw error;
      throw invalidRequest(`Invalid schema for response_format: ${error.message}.`, 'text.format.schema', 'invalid_json_schema');
    }
  }

  /** An approval answer must answer an approval request of this history or input (else the agent loop could not run it). */
  private checkApprovals(history: StoredItem[], input: StoredItem[]): void {
    const unknown = unknownApproval([...history, ...input]);
    if (unknown) throw invalidRequest(unknownApprovalMessage(unknown.id), `input[${unknown.index - history.length}].approval_request_id`, 'invalid_prompt');
  }

  /**
   * Replaces `item_reference` inputs with the stored items they name (this owner's only), and
   * completes replayed `mcp_call`s that leave out their `output` (optional in the API; the Agents
   * SDK never resends it) from the stored call with that id: else the model would see the call
   * answered with nothing. A call with an unknown id is taken as it is.
   */
  private async resolveReferences(principal: Principal, input: StoredItem[]): Promise<void> {
    const refs = input.map((item, i) => [i, item] as const).filter(([, item]) => (item as { type?: string }).type === 'item_reference');
    const calls = input
      .map((item, i) => [i, item as McpCallInput] as const)
      .filter(([, item]) => item.type === 'mcp_call' && item.output == null && item.error == null);
    if (!refs.length && !calls.length) return;
    const found = await this.store.findItems(principal.owner, [...new Set([...refs, ...calls].map(([, item]) => item.id))]);
    for (const [i, ref] of refs) {
      const item = found.get(ref.id);
      if (!item) throw invalidRequest(`Item with id '${ref.id}' not found.`, `input[${i}]`, 'item_not_found');
      input[i] = item;
    }
    for (const [i, call] of calls) {
      const stored = found.get(call.id) as McpCallInput | undefined;
      if (stored?.type === 'mcp_call') input[i] = { ...call, output: stored.output, error: stored.error } as unknown as StoredItem;
    }
  }

  /**
   * A synchronous response about to run (see ExecutionFactory.forRequest): a streamed stored one
   * is being inserted, and its stream opens once `execution.stored` resolved.
   */
  begin(prepared: PreparedResponse): Execution {
    return this.executions.forRequest(prepared);
  }

  /** Runs a begun response inside the request. With a sink, its events are streamed as they happen. */
  async run(execution: Execution, sink?: EventSink<StreamEvent>, signal: AbortSignal = new AbortController().signal): Promise<ResponseObject> {
    const events = new EventSequencer(sink ? (e) => sink.emit(e) : null);
    events.emit({ type: 'response.created', response: buildResponse(execution.id, execution.createdAt, execution.request, { status: 'in_progress' }) });
    const { response, outcome } = await this.executor.execute(execution, events, signal);
    if (!sink && outcome.status === 'failed') throw upstreamFailure(outcome.error);
    return response;
  }

  /**
   * A synchronous response streamed to a transport (SSE or a WebSocket): the upstream call starts
   * while its row is being stored, its first events are held, and `open()` is asked for the
   * target only once the row is stored — a storage failure aborts the run and is thrown before
   * anything was sent, so the transport still answers it as an error.
   */
  async stream(prepared: PreparedResponse, open: () => StreamTarget<StreamEvent>): Promise<ResponseObject> {
    const execution = this.begin(prepared);
    const pending = new PendingSink<StreamEvent>();
    const running = this.run(execution, pending, pending.signal);
    try {
      await execution.stored;
    } catch (error) {
      pending.abort();
      await running.catch(() => undefined);
      throw error;
    }
    pending.open(open());
    return running;
  }

  /** A file_search tool searches the caller's vector stores only: any other id is a 404 naming it, before anything runs. */
  private async checkVectorStores(principal: Principal, request: NormalizedRequest): Promise<void> {
    const index = request.tools?.findIndex((t) => t.type === 'file_search') ?? -1;
    const tool = index >= 0 ? request.tools![index] : undefined;
    if (tool?.type === 'file_search') await this.vectorStores.embeddingModels(principal.owner, tool.vector_store_ids, `tools[${index}].vector_store_ids`);
  }

  /** The JSON answer to a non-streaming create: the finished response, or the queued one. */
  async respond(prepared: PreparedResponse): Promise<ResponseObject> {
    return prepared.request.background ? (await this.enqueue(prepared)).response : this.run(this.begin(prepared));
  }

  /**
   * Accepts a background response: records its first events when it will be streamed, stores it
   * `queued` with everything a worker needs, and queues it. The events go first: once the row
   * exists a reconciler pass may hand it to a worker, whose events must follow these. If it
   * cannot be queued, the row is removed again and the client gets a 503: nothing accepted is
   * left orphaned.
   */
  async enqueue(prepared: PreparedResponse): Promise<{ response: ResponseObject; events: StreamEvent[] }> {
    const { principal, request } = prepared;
    const limit = this.config.maxBackgroundPerTenant;
    // Approximate under bursts (count, then insert); a hard bound would serialize every tenant.
    if (limit > 0 && (await this.store.countUnfinishedBackground(principal.owner)) >= limit) {
      throw new OpenAIError(
        429,
        `Too many unfinished background responses: this tenant may have ${limit} queued or running at once. Wait for some to finish, or cancel them.`,
        'requests',
        null,
        'rate_limit_exceeded',
        { 'retry-after': '5' },
      );
    }
    const row = this.executions.forQueue(prepared);
    await this.admit(principal.owner, row.schedule!.class);
    const { id, response: queued } = row;
    /** The events logged here (a streamed one's first two), for the creating request's own stream. */
    const logged: StreamEvent[] = [];
    try {
      if (request.stream) {
        const sequencer = new EventSequencer((e) => {
          logged.push(e);
          this.events.append(id, e);
        });
        sequencer.emit({ type: 'response.created', response: queued });
        sequencer.emit({ type: 'response.queued', response: queued });
        await this.events.flush(id);
      }
    } catch (error) {
      throw this.unavailable(id, error);
    }
    try {
      // One tenant's background creates are inserted one at a time in this process: each reads
      // the tenant's last fair-queuing tag, and concurrent ones would tie (a burst run back to back).
      await this.inserts.run(principal.owner, () => this.store.create(row));
    } catch (error) {
      if (request.stream) await this.events.finish(id).catch(() => undefined); // no row: nobody can read them; they expire
      throw error;
    }
    try {
      await this.dispatcher.dispatch(id);
    } catch (error) {
      await this.store.delete(principal.owner, id).catch(() => undefined); // else the reconciler queues it later
      throw this.unavailable(id, error);
    }
    return { response: queued, events: logged };
  }

  /**
   * The queue limits of the response's class (BACKGROUND_MAX_QUEUED, …_PER_TENANT): a 429 with
   * `retry-after` when its class is full. Approximate under bursts, like the tenant limit.
   */
  private async admit(owner: string, cls: 0 | 1): Promise<void> {
    const name = cls === 0 ? 'soonest' : 'windowed';
    for (const scope of ['tenant', 'all'] as const) {
      const limit = this.config.backgroundQueueLimit(name, scope);
      if (limit <= 0) continue;
      const waiting = await this.store.countQueuedBackground({ class: cls, ...(scope === 'tenant' ? { owner } : {}) });
      if (waiting < limit) continue;
      const whose = scope === 'tenant' ? "this tenant's" : "the server's";
      throw new OpenAIError(
        429,
        `The ${name} background queue is full: ${whose} limit is ${limit} waiting responses. Try again later${cls === 1 ? '' : ', or use a completion window'}.`,
        'requests',
        null,
        'rate_limit_exceeded',
        { 'retry-after': cls === 0 ? '5' : '60' },
      );
    }
  }

  private unavailable(id: string, error: unknown): OpenAIError {
    this.logger.error(`could not queue ${id}: ${error instanceof Error ? error.message : String(error)}`);
    return new OpenAIError(503, 'The server cannot accept background responses right now. Try again later.', 'service_unavailable', null, 'queue_unavailable');
  }
}
