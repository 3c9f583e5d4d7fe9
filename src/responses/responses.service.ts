import { Injectable, Logger } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { newId } from '../common/ids';
import { invalidRequest, OpenAIError, responseNotFound } from '../common/openai-error';
import type { Principal } from '../common/principal';
import { isTerminal, type NormalizedRequest, type ResponseObject, type StoredItem, type StreamEvent } from '../common/response-types';
import type { EventSink } from '../common/sse';
import { ModelRegistry, type ResolvedModel } from '../inference/model-registry';
import { Metrics } from '../metrics/metrics';
import { ConversationsService } from '../conversations/conversations.service';
import { UpstreamError } from '../inference/upstream-error';
import { SchemaValidator, strictOutputFormat, UnusableSchemaError } from '../agents/schema-validator';
import { CursorNotFoundError } from '../common/page';
import { ResponsesStore, type StoredResponse } from './persistence/responses.store';
import type { CreateResponseDto } from './dto/create-response.dto';
import type { ListInputItemsQueryDto, ListResponsesQueryDto } from './dto/list-responses.dto';
import { ResponseDispatcher } from './background/response-dispatcher';
import { CancelSignals } from './background/cancel-signals';
import { EventSequencer, terminalEvent } from './event-sequencer';
import { ResponseEventLog, toLogged, type LoggedEvent } from './events/response-event-log';
import { normalizeInput } from './input-items';
import { mcpHeadersContext, mcpHeadersOf, normalizeRequest } from './normalize-request';
import { buildResponse } from './response-object';
import { Execution, ResponseExecutor } from './response-executor';


/** A validated create request, with its history loaded: nothing left that could be the client's fault. */
export interface PreparedResponse {
  principal: Principal;
  /** Secret headers of the request's MCP servers (never stored in clear). */
  mcpHeaders: Record<string, Record<string, string>>;
  request: NormalizedRequest;
  input: StoredItem[];
  history: StoredItem[];
  model: ResolvedModel;
}

export interface ListPage<T> {
  object: 'list';
  data: T[];
  first_id: string | null;
  last_id: string | null;
  has_more: boolean;
}

function page<T extends { id?: string }>(data: T[], hasMore: boolean): ListPage<T> {
  return { object: 'list', data, first_id: data[0]?.id ?? null, last_id: data[data.length - 1]?.id ?? null, has_more: hasMore };
}

function upstreamFailure(error: UpstreamError): OpenAIError {
  return new OpenAIError(error.httpStatus, error.message, error.type, error.param, error.code, error.retryAfter ? { 'retry-after': error.retryAfter } : {});
}

/** Where a stream of stored events goes: the SSE writer (which also takes keepalive comments). */
export interface ReplaySink {
  write(event: LoggedEvent): void;
  comment(text: string): void;
  /** Resolves when the client has taken what was written (backpressure: the log keeps the rest). */
  drained(): Promise<void>;
}

/** How long a follower waits for an event before it checks the database (and sends a keepalive). */
const FOLLOW_IDLE_MS = 2000;

/**
 * The Responses use cases: create (inline, streamed, or in the background), retrieve, stream a
 * background response again, cancel, delete, list, input items.
 */
@Injectable()
export class ResponsesService {
  private readonly logger = new Logger('ResponsesService');

  constructor(
    private readonly store: ResponsesStore,
    private readonly models: ModelRegistry,
    private readonly executor: ResponseExecutor,
    private readonly dispatcher: ResponseDispatcher,
    private readonly events: ResponseEventLog,
    private readonly cancels: CancelSignals,
    private readonly config: AppConfig,
    private readonly metrics: Metrics,
    private readonly conversations: ConversationsService,
    private readonly schemas: SchemaValidator,
  ) {}

  /** Every check that can fail because of the request, before anything is stored or streamed. */
  async prepare(principal: Principal, dto: CreateResponseDto, requestId?: string): Promise<PreparedResponse> {
    const request = normalizeRequest(dto);
    if (requestId) request.request_id = requestId;
    const model = this.models.resolve(request.model);
    if (!model) {
      throw new OpenAIError(400, `The model '${request.model}' does not exist or is not served here. See GET /v1/models.`, 'invalid_request_error', 'model', 'model_not_found');
    }
    if (request.background && !request.store) {
      throw invalidRequest('Background responses must be stored: `background: true` cannot be combined with `store: false`.', 'background', 'unsupported_parameter');
    }
    const format = strictOutputFormat(request);
    if (format) this.checkSchema(format.schema);
    const mcpHeaders = mcpHeadersOf(dto);
    if (request.background && Object.keys(mcpHeaders).length && !this.config.secretBox) {
      throw invalidRequest('MCP tool headers in background mode need SECRETS_KEY to be set on the server (they are stored sealed, never in clear).', 'tools', 'unsupported_parameter');
    }
    const input = normalizeInput(dto.input, {
      maxItems: this.config.maxInputItems,
      maxChars: this.config.maxInputChars - (request.instructions?.length ?? 0),
      maxReferences: this.config.maxItemReferences,
      allowHttpImages: this.config.inputImageAllowHttp,
    });
    await this.resolveReferences(principal, input);
    const history = request.conversation
      ? await this.conversations.contextItems(principal.owner, request.conversation.id)
      : request.previous_response_id
        ? await this.history(principal, request.previous_response_id)
        : [];
    return { principal, request, input, history, model, mcpHeaders };
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

  /** Replaces `item_reference` inputs with the stored items they name (this owner's only). */
  private async resolveReferences(principal: Principal, input: StoredItem[]): Promise<void> {
    const refs = input.map((item, i) => [i, item] as const).filter(([, item]) => (item as { type?: string }).type === 'item_reference');
    if (!refs.length) return;
    const found = await this.store.findItems(principal.owner, [...new Set(refs.map(([, item]) => item.id))]);
    for (const [i, ref] of refs) {
      const item = found.get(ref.id);
      if (!item) throw invalidRequest(`Item with id '${ref.id}' not found.`, `input[${i}]`, 'item_not_found');
      input[i] = item;
    }
  }

  private async history(principal: Principal, previousId: string): Promise<StoredItem[]> {
    const chain = await this.store.chainHistory(principal.owner, previousId, this.config.maxChainDepth);
    if (!chain) {
      throw new OpenAIError(400, `Previous response with id '${previousId}' not found.`, 'invalid_request_error', 'previous_response_id', 'previous_response_not_found');
    }
    if (!isTerminal(chain.headStatus)) {
      throw invalidRequest(`Previous response with id '${previousId}' is still ${chain.headStatus}; wait until it finishes.`, 'previous_response_id');
    }
    if (chain.truncated) {
      throw invalidRequest(`The previous_response_id chain is longer than ${this.config.maxChainDepth} responses.`, 'previous_response_id', 'chain_too_long');
    }
    return chain.items;
  }

  /**
   * Starts storing a streamed synchronous response as `in_progress` (unless `store: false`): its
   * id is in the first event, so it can be retrieved, cancelled or continued from while it runs.
   * The caller opens the stream only once `stored` resolved, so that a storage failure is still an
   * HTTP error. A non-streaming one is stored once, when it ends (see `Execution.persistence`).
   */
  begin(prepared: PreparedResponse): Execution {
    const { principal, request, input, history, model, mcpHeaders } = prepared;
    const id = newId('resp');
    const createdAt = new Date();
    const streaming = request.stream;
    const persistence = !request.store ? 'none' : streaming ? 'row' : 'at-end';
    let stored: Promise<void> | undefined;
    if (persistence === 'row') {
      // Not awaited here: the caller runs the response meanwhile and opens its stream once stored.
      stored = this.store.create({
        id,
        owner: principal.owner,
        status: 'in_progress',
        background: false,
        model: request.model,
        previousResponseId: request.previous_response_id ?? null,
        attempt: 1,
        request,
        response: buildResponse(id, createdAt, request, { status: 'in_progress' }),
        createdAt,
        inputItems: input,
      });
      stored.catch(() => undefined); // its failure is the caller's to report (a 503), not an unhandled rejection
    }
    return { id, createdAt, request, items: [...history, ...input], input, model, owner: principal.owner, persistence, stored, attempt: 1, upstreamStreaming: streaming, mcpHeaders };
  }

  /** Runs a begun response inside the request. With a sink, its events are streamed as they happen. */
  async run(execution: Execution, sink?: EventSink<StreamEvent>, signal: AbortSignal = new AbortController().signal): Promise<ResponseObject> {
    const events = new EventSequencer(sink ? (e) => sink.emit(e) : null);
    events.emit({ type: 'response.created', response: buildResponse(execution.id, execution.createdAt, execution.request, { status: 'in_progress' }) });
    const { response, outcome, saved } = await this.executor.execute(execution, events, signal);
    // Deleted while running: the client that waits still gets its ending.
    if (!saved) this.executor.emitTerminal(response, events);
    if (!sink && outcome.status === 'failed') throw upstreamFailure(outcome.error);
    return response;
  }

  /**
   * Accepts a background response: stores it `queued` with everything a worker needs, records
   * its first events when it will be streamed, and queues it. If it cannot be queued, the row is
   * removed again and the client gets a 503: nothing accepted is left orphaned.
   */
  async enqueue(prepared: PreparedResponse): Promise<ResponseObject> {
    const { principal, request, input, mcpHeaders } = prepared;
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
    const id = newId('resp');
    const createdAt = new Date();
    // Sealed for this tenant and this response alone; dropped by the terminal write (the store).
    if (Object.keys(mcpHeaders).length) request.mcp_headers_sealed = this.config.secretBox!.seal(JSON.stringify(mcpHeaders), mcpHeadersContext(principal.owner, id));
    const queued = buildResponse(id, createdAt, request, { status: 'queued' });
    await this.store.create({
      id,
      owner: principal.owner,
      status: 'queued',
      background: true,
      model: request.model,
      previousResponseId: request.previous_response_id ?? null,
      attempt: 0,
      request,
      response: queued,
      createdAt,
      inputItems: input,
    });
    try {
      if (request.stream) {
        const events = new EventSequencer((e) => this.events.append(id, e));
        events.emit({ type: 'response.created', response: queued });
        events.emit({ type: 'response.queued', response: queued });
        await this.events.flush(id);
      }
      await this.dispatcher.dispatch(id);
    } catch (error) {
      this.logger.error(`could not queue ${id}: ${error instanceof Error ? error.message : String(error)}`);
      await this.store.delete(principal.owner, id).catch(() => undefined); // else the reconciler queues it later
      throw new OpenAIError(503, 'The server cannot accept background responses right now. Try again later.', 'service_unavailable', null, 'queue_unavailable');
    }
    return queued;
  }

  /**
   * Checks that a background response can be streamed from `startingAfter` (before any SSE
   * header is sent), and returns the response.
   */
  async prepareReplay(principal: Principal, id: string, startingAfter: number | undefined): Promise<StoredResponse> {
    const found = await this.find(principal, id);
    if (!found.background || !found.request.stream) {
      throw invalidRequest(
        'This response cannot be streamed because it was not created with background=true and stream=true.',
        'stream',
        'invalid_value',
      );
    }
    const first = await this.events.firstSequence(id);
    const after = startingAfter ?? -1;
    if ((first === null && isTerminal(found.status)) || (first !== null && first > after + 1)) {
      throw invalidRequest(
        `The events of this response before sequence number ${first ?? 'its end'} are no longer retained (retention ${this.config.eventRetentionSeconds} s); starting_after=${after} cannot be served.`,
        'starting_after',
        'events_expired',
      );
    }
    return found;
  }

  /**
   * Replays a background response's events after `after` with their original numbers, then
   * follows the live ones to the terminal event. The client going away stops the reading, never
   * the response.
   */
  async replay(id: string, known: ResponseObject, after: number, sink: ReplaySink, signal: AbortSignal): Promise<void> {
    let last = after;
    try {
      for await (const event of this.events.follow(id, after, signal, FOLLOW_IDLE_MS)) {
        if (event) {
          sink.write(event);
          last = event.seq;
          await sink.drained();
          continue;
        }
        sink.comment('keepalive');
        // No news for a while: if the database says it ended (its worker died, or a cancel found
        // nobody running it), end the stream with the stored state rather than wait forever.
        const current = await this.store.getById(id);
        if (!current || isTerminal(current.status)) {
          sink.write(toLogged({ ...terminalEvent(current?.response ?? known), sequence_number: last + 1 }));
          return;
        }
      }
    } catch (error) {
      if (signal.aborted) return;
      // Redis or Postgres went away mid-stream. The headers are out, so no error answer is possible:
      // the stream ends without its terminal event and the client resumes with starting_after.
      this.logger.warn(`stream of ${id} interrupted after sequence number ${last}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  /**
   * `queued|in_progress → cancelled`, decided once by the database; then the queued job is
   * withdrawn and the running one aborted wherever it runs. Idempotent for a cancelled response.
   */
  async cancel(principal: Principal, id: string): Promise<ResponseObject> {
    const found = await this.find(principal, id);
    if (!found.background) throw invalidRequest('Cannot cancel a synchronous response.', null, null);
    if (found.status === 'cancelled') return found.response;
    if (isTerminal(found.status)) throw invalidRequest(`Cannot cancel a ${found.status} response.`, null, null);
    // Still queued: nobody runs it, so this cancel also writes the end of its stream.
    const fromQueued = await this.store.updateResponseObject(id, { status: 'cancelled' }, { allowedStatuses: ['queued'] });
    const cancelled = fromQueued ?? (await this.store.updateResponseObject(id, { status: 'cancelled' }, { allowedStatuses: ['in_progress'] }));
    if (!cancelled) {
      const now = await this.find(principal, id);
      if (now.status === 'cancelled') return now.response;
      throw invalidRequest(`Cannot cancel a ${now.status} response.`, null, null);
    }
    this.metrics.responseEnded('cancelled', true);
    await Promise.all([this.dispatcher.withdraw(id).catch(() => undefined), this.cancels.broadcast(id)]);
    // Best effort: a follower that finds no end in the log ends from the database (FOLLOW_IDLE_MS).
    if (fromQueued && found.request.stream) {
      await this.events.end(id, cancelled.response).catch((error: unknown) => this.logger.warn(`end of ${id}'s stream not logged: ${String(error)}`));
    }
    return cancelled.response;
  }

  async retrieve(principal: Principal, id: string): Promise<ResponseObject> {
    return (await this.find(principal, id)).response;
  }

  /** Deletes a response; a running background one is cancelled first, so it stops spending. */
  async delete(principal: Principal, id: string): Promise<{ id: string; object: 'response'; deleted: true }> {
    const found = await this.find(principal, id);
    if (found.background && !isTerminal(found.status)) await this.cancel(principal, id).catch(() => undefined);
    if (!(await this.store.delete(principal.owner, id))) throw responseNotFound(id);
    return { id, object: 'response', deleted: true };
  }

  async list(principal: Principal, query: ListResponsesQueryDto): Promise<ListPage<ResponseObject>> {
    try {
      const result = await this.store.list(principal.owner, { after: query.after, limit: query.limit ?? 20, order: query.order ?? 'desc', model: query.model });
      return page(result.data.map((r) => r.response), result.hasMore);
    } catch (error) {
      throw this.cursorError(error);
    }
  }

  async listInputItems(principal: Principal, id: string, query: ListInputItemsQueryDto): Promise<ListPage<StoredItem>> {
    await this.find(principal, id);
    try {
      const result = await this.store.listInputItems(id, { after: query.after, before: query.before, limit: query.limit ?? 20, order: query.order ?? 'desc' });
      return page(result.data, result.hasMore);
    } catch (error) {
      throw this.cursorError(error);
    }
  }

  private cursorError(error: unknown): unknown {
    return error instanceof CursorNotFoundError ? invalidRequest(error.message, error.param) : error;
  }

  private async find(principal: Principal, id: string): Promise<StoredResponse> {
    const found = await this.store.get(principal.owner, id);
    if (!found) throw responseNotFound(id);
    return found;
  }
}
