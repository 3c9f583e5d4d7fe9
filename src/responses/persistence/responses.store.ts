import type { Page } from '../../database/page';
import type { NormalizedRequest, ResponseObject, ResponseStatus, StoredItem } from '../../common/response-types';

export interface StoredResponse {
  id: string;
  owner: string;
  status: ResponseStatus;
  background: boolean;
  model: string;
  previousResponseId: string | null;
  attempt: number;
  request: NormalizedRequest;
  response: ResponseObject;
  createdAt: Date;
  updatedAt: Date;
  completedAt: Date | null;
}

/** A claimed background response, with its own input items (read by the claim: a run needs them). */
export interface ClaimedResponse extends StoredResponse {
  input: StoredItem[];
}

/** Where a queued background response waits (docs/background.md#scheduling). */
export interface Schedule {
  /** 0: `soonest`; 1: a completion window (claimed only when no `soonest` response waits). */
  class: 0 | 1;
  /** The owner's share within the class: its fair-queuing tags advance by 1 / weight per response. */
  weight: number;
  /** A windowed response: from then on it is claimed ahead of `soonest` work… */
  startBy?: Date;
  /** …and still queued then, it fails. */
  windowEnd?: Date;
}

/** Background responses waiting, per class and owner (for /metrics). */
export interface QueueDepth {
  class: 0 | 1;
  owner: string;
  queued: number;
  /** Seconds the oldest of them has waited. */
  oldestSeconds: number;
}

/** What `create` inserts, with its input items: a response about to run, or (stored when it ends) a finished one. */
export type NewResponse = Omit<StoredResponse, 'updatedAt' | 'completedAt'> & {
  inputItems: StoredItem[];
  completedAt?: Date | null;
  /** A queued background response's place in the queue. */
  schedule?: Schedule;
};

/** A queued response's place (for its estimated start). */
export interface QueueStanding {
  ahead: number;
  startBy: Date | null;
  completedRecently: number;
}

/** An unfinished background response, as the reconciler sees it. */
export interface UnfinishedRun {
  id: string;
  status: ResponseStatus;
  /** The job that runs it (in progress), if one has claimed it. */
  runToken: string | null;
}

export interface ResponsePatch {
  /** Without `response`, the stored Response's own `status` field is set to match. */
  status?: ResponseStatus;
  response?: ResponseObject;
  /** The new attempt number, or `next`: the row's own plus one (a claim, in the same statement). */
  attempt?: number | 'next';
  /** Empties the stored output (a claim: an attempt never continues another's partial output). */
  clearOutput?: boolean;
  completedAt?: Date | null;
}

export interface UpdateCondition {
  /** The patch applies only while the row is in one of these statuses… */
  allowedStatuses: readonly ResponseStatus[];
  /** …and, when given, only while its attempt is this one (fencing a stale worker)… */
  attempt?: number;
  /** …and, when given, only while its attempt is below this (a claim within the attempt budget). */
  attemptBelow?: number;
}

export interface ListOptions {
  after?: string;
  limit: number;
  order: 'asc' | 'desc';
  model?: string;
}

export interface ItemListOptions {
  after?: string;
  before?: string;
  limit: number;
  order: 'asc' | 'desc';
}

/** What a `previous_response_id` chain holds, oldest first. */
export interface ChainHistory {
  /** Status of the response the chain starts from (the newest one). */
  headStatus: ResponseStatus;
  /** Every input item and then every output item of each response, oldest response first. */
  items: StoredItem[];
  /** The chain went back further than the depth allowed. */
  truncated: boolean;
}

/**
 * The responses store (port). Every method is scoped by owner: another owner's id is the same as
 * a missing one. After creation, `updateResponseObject` is the only write path.
 */
export abstract class ResponsesStore {
  /** Inserts the response and its input items atomically (in any status: a finished one, too). */
  abstract create(response: NewResponse): Promise<void>;

  abstract get(owner: string, id: string): Promise<StoredResponse | null>;

  /** For workers, which act on a job id alone; the row's owner travels with it. */
  abstract getById(id: string): Promise<StoredResponse | null>;

  /**
   * A conditional update: applies `patch` only if the row's status is one of `allowedStatuses`
   * (and its attempt matches), in a single statement. Returns the new row, or null when another
   * writer won (a cancel, a retry, a delete).
   */
  abstract updateResponseObject(id: string, patch: ResponsePatch, condition: UpdateCondition): Promise<StoredResponse | null>;

  /**
   * Stored items of this owner by id — input items, and output items of its responses — for
   * `item_reference` inputs. Missing ids are absent from the map.
   */
  abstract findItems(owner: string, ids: string[]): Promise<Map<string, StoredItem>>;

  /** Ids of unfinished background responses not updated since `olderThan`, oldest first. */
  abstract findUnfinishedBackground(olderThan: Date, limit: number): Promise<UnfinishedRun[]>;

  /** How many background responses wait to be claimed: all of them, or of one class (and owner). */
  abstract countQueuedBackground(filter?: { class: 0 | 1; owner?: string }): Promise<number>;

  /** Background responses waiting, per class and owner. */
  abstract queueDepths(): Promise<QueueDepth[]>;

  /**
   * Moves the windowed responses whose `startBy` has come into the `soonest` class, level with its
   * head: they run next, so that they finish inside their window. Returns how many.
   */
  abstract promoteDueWindows(): Promise<number>;

  /**
   * Where a queued background response stands: how many are ahead of it in the claim order, its
   * latest start (windowed), and how many background responses completed in the last
   * `paceSeconds`. Null when it is not queued.
   */
  abstract queueStanding(id: string, paceSeconds: number): Promise<QueueStanding | null>;

  /** Ids of queued background responses whose completion window has ended. */
  abstract findExpiredWindows(limit: number): Promise<string[]>;

  /**
   * Claims the next queued background response in the fair order — lowest class, then lowest
   * tag, then oldest; never one whose completion window has ended — for job `token`: `queued → in_progress`, attempt + 1, output emptied,
   * `run_token = token`, within the attempt budget. One statement; concurrent claims never take
   * the same row (`FOR UPDATE SKIP LOCKED`). Responses of `skipModels` (at their concurrency
   * limit) are passed over. The claimed row comes with its input items, so that a response
   * without a previous_response_id needs no second read to run.
   */
  abstract claimNext(token: string, attemptBelow: number, skipModels?: readonly string[]): Promise<ClaimedResponse | null>;

  /** How many responses of each of these models are in progress (stored ones, background or not). */
  abstract runningByModel(models: readonly string[]): Promise<Map<string, number>>;

  /** The in-progress background response that job `token` claimed (the job runs again: its worker died). */
  abstract findRunOf(token: string): Promise<string | null>;

  /**
   * Fails synchronous responses still `in_progress` that were created before `olderThan`: the
   * process that ran them is gone. Returns how many.
   */
  abstract failAbandonedSynchronous(olderThan: Date, error: { code: string; message: string }): Promise<number>;

  /** How many background responses of this owner are queued or running. */
  abstract countUnfinishedBackground(owner: string): Promise<number>;

  /** Deletes the response and its items; false when there was none. */
  abstract delete(owner: string, id: string): Promise<boolean>;

  abstract list(owner: string, options: ListOptions): Promise<Page<StoredResponse>>;

  /** @throws CursorNotFoundError for an `after`/`before` that is not an item of this response. */
  abstract listInputItems(responseId: string, options: ItemListOptions): Promise<Page<StoredItem>>;

  /** The items of the chain ending at `id` (that response included); null when `id` is not found. */
  abstract chainHistory(owner: string, id: string, maxDepth: number): Promise<ChainHistory | null>;
}
