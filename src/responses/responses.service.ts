import { Injectable } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { newId } from '../common/ids';
import { invalidRequest, OpenAIError, responseNotFound } from '../common/openai-error';
import type { Principal } from '../common/principal';
import { isTerminal, type NormalizedRequest, type ResponseObject, type StoredItem, type StreamEvent } from '../common/response-types';
import type { EventSink } from '../common/sse';
import { ModelRegistry, type ResolvedModel } from '../inference/model-registry';
import { UpstreamError } from '../inference/upstream-error';
import { CursorNotFoundError, ResponsesStore, type StoredResponse } from '../store/responses.store';
import type { CreateResponseDto } from './dto/create-response.dto';
import type { ListInputItemsQueryDto, ListResponsesQueryDto } from './dto/list-responses.dto';
import { EventSequencer } from './event-sequencer';
import { normalizeInput } from './input-items';
import { normalizeRequest } from './normalize-request';
import { buildResponse } from './response-object';
import { Execution, ResponseExecutor } from './response-executor';

/** A validated create request, with its history loaded: nothing left that could be the client's fault. */
export interface PreparedResponse {
  principal: Principal;
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

/** The Responses use cases: create (plain or streamed), retrieve, delete, list, input items. */
@Injectable()
export class ResponsesService {
  constructor(
    private readonly store: ResponsesStore,
    private readonly models: ModelRegistry,
    private readonly executor: ResponseExecutor,
    private readonly config: AppConfig,
  ) {}

  /** Every check that can fail because of the request, before anything is stored or streamed. */
  async prepare(principal: Principal, dto: CreateResponseDto): Promise<PreparedResponse> {
    const request = normalizeRequest(dto);
    const model = this.models.resolve(request.model);
    if (!model) {
      throw new OpenAIError(400, `The model '${request.model}' does not exist or is not served here. See GET /v1/models.`, 'invalid_request_error', 'model', 'model_not_found');
    }
    if (request.background) {
      throw invalidRequest('Background mode is not available on this server yet.', 'background', 'unsupported_parameter');
    }
    const input = normalizeInput(dto.input);
    const history = request.previous_response_id ? await this.history(principal, request.previous_response_id) : [];
    return { principal, request, input, history, model };
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

  /** Runs the response inside the request. With a sink, its events are streamed as they happen. */
  async run(prepared: PreparedResponse, sink?: EventSink<StreamEvent>, signal: AbortSignal = new AbortController().signal): Promise<ResponseObject> {
    const { principal, request, input, history, model } = prepared;
    const id = newId('resp');
    const createdAt = new Date();
    const inProgress = buildResponse(id, createdAt, request, { status: 'in_progress' });
    if (request.store) {
      await this.store.create({
        id,
        owner: principal.owner,
        status: 'in_progress',
        background: false,
        model: request.model,
        previousResponseId: request.previous_response_id ?? null,
        attempt: 1,
        request,
        response: inProgress,
        createdAt,
        inputItems: input,
      });
    }
    const events = new EventSequencer(sink ? (e) => sink.emit(e) : null);
    events.emit({ type: 'response.created', response: inProgress });
    const execution: Execution = { id, createdAt, request, items: [...history, ...input], model, persisted: request.store, attempt: 1 };
    const { response, outcome } = await this.executor.execute(execution, events, signal);
    if (!sink && outcome.status === 'failed') throw upstreamFailure(outcome.error);
    return response;
  }

  async retrieve(principal: Principal, id: string): Promise<ResponseObject> {
    return (await this.find(principal, id)).response;
  }

  async delete(principal: Principal, id: string): Promise<{ id: string; object: 'response'; deleted: true }> {
    if (!(await this.store.delete(principal.owner, id))) throw responseNotFound(id);
    return { id, object: 'response', deleted: true };
  }

  async cancel(principal: Principal, id: string): Promise<ResponseObject> {
    const found = await this.find(principal, id);
    if (!found.background) throw invalidRequest('Cannot cancel a synchronous response.', null, null);
    if (found.status === 'cancelled') return found.response;
    throw invalidRequest(`Cannot cancel a ${found.status} response.`, null, null);
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
