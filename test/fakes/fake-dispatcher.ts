import { ResponseDispatcher } from '../../src/responses/background/response-dispatcher';

/** The dispatch port that only records: what was dispatched and withdrawn, and what a test says is live. */
export class FakeDispatcher extends ResponseDispatcher {
  readonly dispatched: string[] = [];
  readonly withdrawn: string[] = [];
  readonly live = new Set<string>();

  dispatch(responseId: string): Promise<void> {
    this.dispatched.push(responseId);
    return Promise.resolve();
  }

  withdraw(responseId: string): Promise<void> {
    this.withdrawn.push(responseId);
    return Promise.resolve();
  }

  isLive(responseId: string): Promise<boolean> {
    return Promise.resolve(this.live.has(responseId));
  }

  counts(): Promise<{ waiting: number; active: number }> {
    return Promise.resolve({ waiting: this.dispatched.length, active: 0 });
  }
}
