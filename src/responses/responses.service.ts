import { listObject, type ListObject } from '../common/list-object';
import { readPage } from '../database/pagination';
import { Injectable } from '@nestjs/common';
import { invalidRequest, responseNotFound } from '../common/openai-error';
import type { Principal } from '../common/principal';
import { isTerminal, type ResponseObject, type StoredItem } from '../common/response-types';
import { ResponsesStore, type StoredResponse } from './persistence/responses.store';
import type { ListInputItemsQueryDto, ListResponsesQueryDto } from './dto/list-responses.dto';
import { ResponseDispatcher } from './background/response-dispatcher';
import { CancelSignals } from './background/cancel-signals';
import { storedIdentity } from './lifecycle/execution-factory';
import { estimatedStart, PACE_SECONDS } from './background/estimated-start';
import { ResponseLifecycle } from './lifecycle/response-lifecycle';

export type ListPage<T> = ListObject<T>;

const page = listObject;

/** The use cases on stored responses: retrieve, list, input items, cancel, delete. */
@Injectable()
export class ResponsesService {
  constructor(
    private readonly store: ResponsesStore,
    private readonly lifecycle: ResponseLifecycle,
    private readonly dispatcher: ResponseDispatcher,
    private readonly cancels: CancelSignals,
  ) {}

  /**
   * `queued|in_progress → cancelled`, decided once by the database; then the queued job is
   * withdrawn and the running one aborted wherever it runs. Idempotent for a cancelled response.
   */
  async cancel(principal: Principal, id: string): Promise<ResponseObject> {
    const found = await this.find(principal, id);
    if (!found.background) throw invalidRequest('Cannot cancel a synchronous response.', null, null);
    if (found.status === 'cancelled') return found.response;
    if (isTerminal(found.status)) throw invalidRequest(`Cannot cancel a ${found.status} response.`, null, null);
    const run = storedIdentity(found);
    // Still queued: nobody runs it, so this cancel also writes the end of its stream; a running
    // one's stream is ended by its run.
    const fromQueued = await this.lifecycle.end({ run, outcome: { status: 'cancelled' }, from: ['queued'], events: 'log' });
    const cancelled = fromQueued.saved
      ? fromQueued
      : await this.lifecycle.end({ run, outcome: { status: 'cancelled' }, from: ['in_progress'], events: 'none' });
    if (!cancelled.response) {
      const now = await this.find(principal, id);
      if (now.status === 'cancelled') return now.response;
      throw invalidRequest(`Cannot cancel a ${now.status} response.`, null, null);
    }
    // A still-queued one's job goes; a running one's waiting job (if another job runs it) stays: it
    // runs the next queued response (docs/background.md#scheduling).
    await Promise.all([fromQueued.saved ? this.dispatcher.withdraw(id).catch(() => undefined) : undefined, this.cancels.broadcast(id)]);
    return cancelled.response;
  }

  /** A stored response; a queued background one carries our `estimated_start_at` (docs/background.md#scheduling). */
  async retrieve(principal: Principal, id: string): Promise<ResponseObject & { estimated_start_at?: number | null }> {
    const found = await this.find(principal, id);
    if (!found.background || found.status !== 'queued') return found.response;
    const standing = await this.store.queueStanding(id, PACE_SECONDS);
    return standing ? { ...found.response, estimated_start_at: estimatedStart(standing, Date.now()) } : found.response;
  }

  /** Deletes a response; a running background one is cancelled first, so it stops spending. */
  async delete(principal: Principal, id: string): Promise<{ id: string; object: 'response'; deleted: true }> {
    const found = await this.find(principal, id);
    if (found.background && !isTerminal(found.status)) await this.cancel(principal, id).catch(() => undefined);
    if (!(await this.store.delete(principal.owner, id))) throw responseNotFound(id);
    return { id, object: 'response', deleted: true };
  }

  async list(principal: Principal, query: ListResponsesQueryDto): Promise<ListPage<ResponseObject>> {
    const result = await readPage(() =>
      this.store.list(principal.owner, { after: query.after, limit: query.limit ?? 20, order: query.order ?? 'desc', model: query.model }),
    );
    return page(
      result.data.map((r) => r.response),
      result.hasMore,
    );
  }

  async listInputItems(principal: Principal, id: string, query: ListInputItemsQueryDto): Promise<ListPage<StoredItem>> {
    await this.find(principal, id);
    const result = await readPage(() =>
      this.store.listInputItems(id, { after: query.after, before: query.before, limit: query.limit ?? 20, order: query.order ?? 'desc' }),
    );
    return page(result.data, result.hasMore);
  }

  private async find(principal: Principal, id: string): Promise<StoredResponse> {
    const found = await this.store.get(principal.owner, id);
    if (!found) throw responseNotFound(id);
    return found;
  }
}
