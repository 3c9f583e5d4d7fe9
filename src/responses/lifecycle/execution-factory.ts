import { Injectable } from '@nestjs/common';
import { newId } from '../../common/ids';
import { invalidRequest, OpenAIError } from '../../common/openai-error';
import type { Principal } from '../../common/principal';
import { isTerminal, type NormalizedRequest, type ResponseObject, type StoredItem } from '../../common/response-types';
import { AppConfig } from '../../config/app-config';
import { ConversationsService } from '../../conversations/conversations.service';
import { ModelRegistry, type ResolvedModel } from '../../inference/model-registry';
import { ResponsesStore, type ClaimedResponse, type NewResponse, type StoredResponse } from '../persistence/responses.store';
import { mcpHeadersContext } from '../normalize-request';
import { buildResponse } from '../response-object';
import type { Execution, PreparedResponse, ResponseIdentity } from './execution';

/** How long a completion window is (`soonest`: none). */
const WINDOW_MS: Record<string, number | undefined> = { soonest: undefined, '2h': 2 * 3600_000, '8h': 8 * 3600_000 };

/** The row a response is inserted as: the one place that builds an insert object. */
export function newResponse(run: ResponseIdentity, response: ResponseObject, completedAt?: Date | null): NewResponse {
  return {
    id: run.id,
    owner: run.owner,
    status: response.status!,
    background: run.request.background,
    model: run.request.model,
    previousResponseId: run.request.previous_response_id ?? null,
    attempt: run.attempt,
    request: run.request,
    response,
    createdAt: run.createdAt,
    ...(completedAt !== undefined ? { completedAt } : {}),
    inputItems: run.input,
  };
}

/** A stored row as the identity of its end (by someone other than a run: a cancel, a give-up). */
export function storedIdentity(row: StoredResponse, attempt = row.attempt): ResponseIdentity {
  return { id: row.id, owner: row.owner, createdAt: row.createdAt, request: row.request, input: [], attempt, persistence: 'row' };
}

/** A claimed row that cannot run, with the reason its response fails. */
export interface CannotRun {
  cannotRun: string;
}

/**
 * Builds executions, from a create request or from a claimed row: model resolution, history
 * (previous_response_id chain or conversation), the insert object, and the sealing and opening of
 * MCP headers happen here and nowhere else.
 */
@Injectable()
export class ExecutionFactory {
  constructor(
    private readonly store: ResponsesStore,
    private readonly models: ModelRegistry,
    private readonly conversations: ConversationsService,
    private readonly config: AppConfig,
  ) {}

  /** The model of a create request: an unknown one is the client's fault (400). */
  model(request: NormalizedRequest): ResolvedModel {
    const model = this.models.resolve(request.model);
    if (!model) {
      throw new OpenAIError(
        400,
        `The model '${request.model}' does not exist or is not served here. See GET /v1/models.`,
        'invalid_request_error',
        'model',
        'model_not_found',
      );
    }
    return model;
  }

  /** The history of a create request (its conversation, or its previous_response_id chain); a bad reference is a 400. */
  history(principal: Principal, request: NormalizedRequest): Promise<StoredItem[]> {
    if (request.conversation) return this.conversations.contextItems(principal.owner, request.conversation.id);
    if (request.previous_response_id) return this.chain(principal, request.previous_response_id);
    return Promise.resolve([]);
  }

  private async chain(principal: Principal, previousId: string): Promise<StoredItem[]> {
    const chain = await this.store.chainHistory(principal.owner, previousId, this.config.maxChainDepth);
    if (!chain) {
      throw new OpenAIError(
        400,
        `Previous response with id '${previousId}' not found.`,
        'invalid_request_error',
        'previous_response_id',
        'previous_response_not_found',
      );
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
   * A synchronous response, about to run inside its request. A streamed stored one starts its
   * INSERT as `in_progress` now (not awaited: the caller runs it meanwhile and opens its stream
   * once `stored` resolved, so that a storage failure is still an HTTP error); a non-streaming one
   * is stored once, when it ends.
   */
  forRequest(prepared: PreparedResponse): Execution {
    const { principal, request, input, history, model, mcpHeaders } = prepared;
    const streaming = request.stream;
    const execution: Execution = {
      id: newId('resp'),
      createdAt: new Date(),
      request,
      items: [...history, ...input],
      input,
      model,
      owner: principal.owner,
      persistence: !request.store ? 'none' : streaming ? 'row' : 'at-end',
      attempt: 1,
      upstreamStreaming: streaming,
      mcpHeaders,
    };
    if (execution.persistence === 'row') {
      execution.stored = this.store.create(newResponse(execution, buildResponse(execution.id, execution.createdAt, request, { status: 'in_progress' })));
      execution.stored.catch(() => undefined); // its failure is the caller's to report (a 503), not an unhandled rejection
    }
    return execution;
  }

  /** A background response's `queued` row, with its MCP headers sealed for this tenant and this response alone. */
  forQueue(prepared: PreparedResponse): NewResponse {
    const { principal, request, input, mcpHeaders } = prepared;
    const identity: ResponseIdentity = { id: newId('resp'), owner: principal.owner, createdAt: new Date(), request, input, attempt: 0, persistence: 'row' };
    // Dropped by the terminal write (the store).
    if (Object.keys(mcpHeaders).length)
      request.mcp_headers_sealed = this.config.secretBox!.seal(JSON.stringify(mcpHeaders), mcpHeadersContext(principal.owner, identity.id));
    const weight = this.config.backgroundWeight(principal.owner);
    const window = WINDOW_MS[request.background_options?.completion_window ?? 'soonest'];
    const windowEnd = window ? new Date(identity.createdAt.getTime() + window) : undefined;
    const marginMs = (prepared.model.windowMarginSeconds ?? this.config.backgroundWindowMarginSeconds) * 1000;
    return {
      ...newResponse(identity, buildResponse(identity.id, identity.createdAt, request, { status: 'queued' })),
      schedule: windowEnd
        ? { class: 1, weight, windowEnd, startBy: new Date(Math.max(identity.createdAt.getTime(), windowEnd.getTime() - marginMs)) }
        : { class: 0, weight },
    };
  }

  /**
   * The execution of a claimed row (its output was reset by the claim), or why it cannot run any
   * more. A row claimed with its input and no previous response needs no further read; otherwise
   * its chain is read, which ends with its own input.
   */
  async forClaim(row: StoredResponse | ClaimedResponse): Promise<Execution | CannotRun> {
    const model = this.models.resolve(row.request.model);
    const history =
      'input' in row && !row.previousResponseId ? { items: row.input } : await this.store.chainHistory(row.owner, row.id, this.config.maxChainDepth + 1);
    const own = history && !row.previousResponseId ? history.items : [];
    const conversation = row.request.conversation ? await this.conversations.contextItems(row.owner, row.request.conversation.id).catch(() => null) : [];
    if (!model || !history || !conversation) {
      return { cannotRun: !model ? `The model '${row.request.model}' is no longer served here.` : 'Its conversation no longer exists.' };
    }
    let mcpHeaders: Record<string, Record<string, string>>;
    try {
      mcpHeaders = this.openMcpHeaders(row);
    } catch {
      return { cannotRun: 'Its MCP tool headers cannot be opened: SECRETS_KEY changed, and the key that sealed them is not in SECRETS_KEY_PREVIOUS.' };
    }
    return {
      id: row.id,
      createdAt: row.createdAt,
      request: row.request,
      items: [...conversation, ...history.items],
      input: own,
      model,
      owner: row.owner,
      persistence: 'row',
      attempt: row.attempt,
      upstreamStreaming: true,
      mcpHeaders,
      upstreamRetries: this.config.backgroundUpstreamRetries,
    };
  }

  /** The MCP headers sealed at creation (SECRETS_KEY must be the same on every process). */
  private openMcpHeaders(row: StoredResponse): Record<string, Record<string, string>> {
    const sealed = row.request.mcp_headers_sealed;
    const box = this.config.secretBox;
    if (!sealed || !box) return {};
    return JSON.parse(box.open(sealed, mcpHeadersContext(row.owner, row.id))) as Record<string, Record<string, string>>;
  }
}
