import { isTerminal, type StoredItem } from '../../src/common/response-types';
import { CursorNotFoundError, type Page } from '../../src/database/page';
import {
  ResponsesStore,
  type ChainHistory,
  type ClaimedResponse,
  type ItemListOptions,
  type ListOptions,
  type NewResponse,
  type QueueDepth,
  type QueueStanding,
  type ResponsePatch,
  type StoredResponse,
  type UnfinishedRun,
  type UpdateCondition,
} from '../../src/responses/persistence/responses.store';

interface Row extends StoredResponse {
  inputItems: StoredItem[];
  seq: number;
  schedClass: number;
  schedTag: number;
  runToken: string | null;
  startBy: Date | null;
  windowEnd: Date | null;
}

/**
 * The ResponsesStore port in memory, with the conditional-update semantics of the SQL adapter
 * (status, attempt and attempt-budget conditions; status-only patches; claims; sealed secrets
 * dropped by a terminal write). Every write is recorded in `writes`, so a test can say that a
 * decision wrote nothing.
 */
export class FakeResponsesStore extends ResponsesStore {
  readonly rows = new Map<string, Row>();
  /** Every write that applied, in order. */
  readonly writes: Array<{ id: string; kind: 'create' | 'update' | 'delete'; patch?: ResponsePatch }> = [];
  private seq = 0;

  create(response: NewResponse): Promise<void> {
    if (this.rows.has(response.id)) return Promise.reject(new Error(`duplicate key ${response.id}`));
    const now = new Date();
    const { schedule, ...fields } = response;
    const schedClass = schedule?.class ?? 0;
    // The SQL adapter's fair tag: the later of the class's head and one step past the owner's tail.
    const queued = [...this.rows.values()].filter((r) => r.status === 'queued' && r.background && r.schedClass === schedClass);
    const own = queued.filter((r) => r.owner === response.owner);
    const head = queued.length ? Math.min(...queued.map((r) => r.schedTag)) : 0;
    const next = own.length && schedule ? Math.max(...own.map((r) => r.schedTag)) + 1 / schedule.weight : 0;
    const schedTag = schedule ? Math.max(head, next) : 0;
    this.rows.set(
      response.id,
      structuredClone({
        ...fields,
        completedAt: response.completedAt ?? null,
        updatedAt: now,
        seq: this.seq++,
        schedClass,
        schedTag,
        runToken: null,
        startBy: schedule?.startBy ?? null,
        windowEnd: schedule?.windowEnd ?? null,
      }),
    );
    this.writes.push({ id: response.id, kind: 'create' });
    return Promise.resolve();
  }

  get(owner: string, id: string): Promise<StoredResponse | null> {
    const row = this.rows.get(id);
    return Promise.resolve(row && row.owner === owner ? this.stored(row) : null);
  }

  getById(id: string): Promise<StoredResponse | null> {
    const row = this.rows.get(id);
    return Promise.resolve(row ? this.stored(row) : null);
  }

  updateResponseObject(id: string, patch: ResponsePatch, condition: UpdateCondition): Promise<StoredResponse | null> {
    const row = this.rows.get(id);
    if (
      !row ||
      !condition.allowedStatuses.includes(row.status) ||
      (condition.attempt !== undefined && row.attempt !== condition.attempt) ||
      (condition.attemptBelow !== undefined && row.attempt >= condition.attemptBelow)
    ) {
      return Promise.resolve(null);
    }
    if (patch.status !== undefined) row.status = patch.status;
    if (patch.status !== undefined && isTerminal(patch.status)) delete row.request.mcp_headers_sealed;
    if (patch.attempt === 'next') row.attempt += 1;
    else if (patch.attempt !== undefined) row.attempt = patch.attempt;
    if (patch.completedAt !== undefined) row.completedAt = patch.completedAt;
    if (patch.response !== undefined) row.response = structuredClone(patch.response);
    else if (patch.status !== undefined) row.response = { ...row.response, status: patch.status };
    if (patch.clearOutput && patch.response === undefined) row.response = { ...row.response, output: [] };
    row.updatedAt = new Date();
    this.writes.push({ id, kind: 'update', patch: structuredClone(patch) });
    return Promise.resolve(this.stored(row));
  }

  findItems(owner: string, ids: string[]): Promise<Map<string, StoredItem>> {
    const found = new Map<string, StoredItem>();
    for (const row of this.rows.values()) {
      if (row.owner !== owner) continue;
      for (const item of [...row.inputItems, ...((row.response.output ?? []) as StoredItem[])]) {
        if (ids.includes(item.id) && !found.has(item.id)) found.set(item.id, item);
      }
    }
    return Promise.resolve(found);
  }

  findUnfinishedBackground(olderThan: Date, limit: number): Promise<UnfinishedRun[]> {
    const runs = [...this.rows.values()]
      .filter((r) => r.background && (r.status === 'queued' || r.status === 'in_progress') && r.updatedAt < olderThan)
      .sort((a, b) => a.seq - b.seq)
      .slice(0, limit)
      .map((r) => ({ id: r.id, status: r.status, runToken: r.runToken }));
    return Promise.resolve(runs);
  }

  countQueuedBackground(filter?: { class: 0 | 1; owner?: string }): Promise<number> {
    return Promise.resolve(this.queued().filter((r) => !filter || (r.schedClass === filter.class && (!filter.owner || r.owner === filter.owner))).length);
  }

  queueDepths(): Promise<QueueDepth[]> {
    const depths = new Map<string, QueueDepth>();
    for (const r of this.queued()) {
      const key = `${r.schedClass}/${r.owner}`;
      const depth = depths.get(key) ?? { class: r.schedClass === 1 ? 1 : 0, owner: r.owner, queued: 0, oldestSeconds: 0 };
      depth.queued++;
      depth.oldestSeconds = Math.max(depth.oldestSeconds, (Date.now() - r.createdAt.getTime()) / 1000);
      depths.set(key, depth);
    }
    return Promise.resolve([...depths.values()]);
  }

  promoteDueWindows(): Promise<number> {
    const soonest = this.queued().filter((r) => r.schedClass === 0);
    const head = soonest.length ? Math.min(...soonest.map((r) => r.schedTag)) : 0;
    const due = this.queued().filter((r) => r.schedClass === 1 && r.startBy && r.startBy <= new Date());
    for (const r of due) Object.assign(r, { schedClass: 0, schedTag: head });
    return Promise.resolve(due.length);
  }

  findExpiredWindows(limit: number): Promise<string[]> {
    return Promise.resolve(
      this.queued()
        .filter((r) => r.windowEnd && r.windowEnd <= new Date())
        .slice(0, limit)
        .map((r) => r.id),
    );
  }

  queueStanding(id: string, paceSeconds: number): Promise<QueueStanding | null> {
    const row = this.rows.get(id);
    if (!row || !row.background || row.status !== 'queued') return Promise.resolve(null);
    const order = (r: Row) => [r.schedClass, r.schedTag, r.seq];
    const before = (a: Row, b: Row) => {
      const [x, y] = [order(a), order(b)];
      return x[0] - y[0] || x[1] - y[1] || x[2] - y[2];
    };
    const since = Date.now() - paceSeconds * 1000;
    return Promise.resolve({
      ahead: this.queued().filter((r) => before(r, row) < 0).length,
      startBy: row.startBy,
      completedRecently: [...this.rows.values()].filter((r) => r.background && r.completedAt && r.completedAt.getTime() > since).length,
    });
  }

  private queued(): Row[] {
    return [...this.rows.values()].filter((r) => r.background && r.status === 'queued');
  }

  async claimNext(token: string, attemptBelow: number, skipModels: readonly string[] = []): Promise<ClaimedResponse | null> {
    const next = [...this.rows.values()]
      .filter(
        (r) =>
          r.background && r.status === 'queued' && r.attempt < attemptBelow && !(r.windowEnd && r.windowEnd <= new Date()) && !skipModels.includes(r.model),
      )
      .sort((a, b) => a.schedClass - b.schedClass || a.schedTag - b.schedTag || a.seq - b.seq)[0];
    if (!next) return null;
    const claimed = await this.updateResponseObject(next.id, { status: 'in_progress', attempt: 'next', clearOutput: true }, { allowedStatuses: ['queued'] });
    next.runToken = token;
    return claimed && { ...claimed, input: structuredClone(next.inputItems) };
  }

  runningByModel(models: readonly string[]): Promise<Map<string, number>> {
    const counts = new Map<string, number>();
    for (const r of this.rows.values()) if (r.status === 'in_progress' && models.includes(r.model)) counts.set(r.model, (counts.get(r.model) ?? 0) + 1);
    return Promise.resolve(counts);
  }

  findRunOf(token: string): Promise<string | null> {
    const row = [...this.rows.values()].find(
      (r) => r.background && r.status === 'in_progress' && (r.runToken === token || (r.runToken === null && r.id === token)),
    );
    return Promise.resolve(row?.id ?? null);
  }

  failAbandonedSynchronous(olderThan: Date, error: { code: string; message: string }): Promise<number> {
    let failed = 0;
    for (const row of this.rows.values()) {
      if (row.background || row.status !== 'in_progress' || row.createdAt >= olderThan) continue;
      row.status = 'failed';
      row.response = { ...row.response, status: 'failed', error: error as StoredResponse['response']['error'] };
      this.writes.push({ id: row.id, kind: 'update', patch: { status: 'failed' } });
      failed++;
    }
    return Promise.resolve(failed);
  }

  countUnfinishedBackground(owner: string): Promise<number> {
    return Promise.resolve([...this.rows.values()].filter((r) => r.owner === owner && r.background && !isTerminal(r.status)).length);
  }

  delete(owner: string, id: string): Promise<boolean> {
    const row = this.rows.get(id);
    if (!row || row.owner !== owner) return Promise.resolve(false);
    this.rows.delete(id);
    this.writes.push({ id, kind: 'delete' });
    return Promise.resolve(true);
  }

  list(owner: string, options: ListOptions): Promise<Page<StoredResponse>> {
    let rows = [...this.rows.values()].filter((r) => r.owner === owner && (!options.model || r.model === options.model)).sort((a, b) => a.seq - b.seq);
    if (options.order === 'desc') rows.reverse();
    if (options.after) {
      const at = rows.findIndex((r) => r.id === options.after);
      rows = at < 0 ? [] : rows.slice(at + 1);
    }
    return Promise.resolve({ data: rows.slice(0, options.limit).map((r) => this.stored(r)), hasMore: rows.length > options.limit });
  }

  listInputItems(responseId: string, options: ItemListOptions): Promise<Page<StoredItem>> {
    let items = [...(this.rows.get(responseId)?.inputItems ?? [])];
    if (options.order === 'desc') items.reverse();
    for (const param of ['after', 'before'] as const) {
      const cursor = options[param];
      if (!cursor) continue;
      const at = items.findIndex((i) => i.id === cursor);
      if (at < 0) return Promise.reject(new CursorNotFoundError(param, cursor));
      items = param === 'after' ? items.slice(at + 1) : items.slice(0, at);
    }
    return Promise.resolve({ data: items.slice(0, options.limit), hasMore: items.length > options.limit });
  }

  chainHistory(owner: string, id: string, maxDepth: number): Promise<ChainHistory | null> {
    const head = this.rows.get(id);
    if (!head || head.owner !== owner) return Promise.resolve(null);
    const chain: Row[] = [];
    let current: Row | undefined = head;
    while (current && chain.length < maxDepth) {
      chain.unshift(current);
      current = current.previousResponseId ? this.rows.get(current.previousResponseId) : undefined;
    }
    const items = chain.flatMap((r) => [...r.inputItems, ...((r.response.output ?? []) as StoredItem[])]);
    return Promise.resolve({ headStatus: head.status, items: structuredClone(items), truncated: current !== undefined });
  }

  private stored(row: Row): StoredResponse {
    const { inputItems: _items, seq: _seq, schedClass: _class, schedTag: _tag, runToken: _token, startBy: _start, windowEnd: _end, ...stored } = row;
    return structuredClone(stored);
  }
}
