/**
 * Hands background responses to whatever runs them (port). Jobs carry the response id only:
 * Postgres holds everything else, so a lost job is re-dispatched from the row.
 */
export abstract class ResponseDispatcher {
  /** Queues a run; a second dispatch of an id already queued or running is a no-op. */
  abstract dispatch(responseId: string): Promise<void>;

  /** Removes a run that has not started yet. */
  abstract withdraw(responseId: string): Promise<void>;

  /** Whether a run of it is queued or running somewhere. */
  abstract isLive(responseId: string): Promise<boolean>;

  /** Jobs waiting and running (the whole queue with Bull; this process inline). */
  abstract counts(): Promise<{ waiting: number; active: number }>;
}
