import { Injectable } from '@nestjs/common';
import { settleWithin } from '../../common/deadline';
import { ShuttingDown } from '../background/abort-reasons';

interface Run {
  controller: AbortController;
  done: Promise<void>;
}

/**
 * What runs in this process, by response id: the one place that aborts a run (a cancel signal,
 * a time limit, a lost claim), counts them (inline concurrency) and drains them at shutdown.
 */
@Injectable()
export class RunRegistry {
  private readonly runs = new Map<string, Run>();

  /** Starts `work` with its own AbortController, unless this process runs `id` already: then joins that run. */
  start(id: string, work: (controller: AbortController) => Promise<void>): Promise<void> {
    const current = this.runs.get(id);
    if (current) return current.done;
    const controller = new AbortController();
    const done = work(controller).finally(() => {
      if (this.runs.get(id)?.done === done) this.runs.delete(id);
    });
    this.runs.set(id, { controller, done });
    return done;
  }

  has(id: string): boolean {
    return this.runs.has(id);
  }

  get size(): number {
    return this.runs.size;
  }

  /** Aborts the run of `id` with `reason`; false when this process does not run it (or it is already aborted). */
  abort(id: string, reason: Error): boolean {
    const run = this.runs.get(id);
    if (!run || run.controller.signal.aborted) return false;
    run.controller.abort(reason);
    return true;
  }

  /** Waits up to `graceMs` for every run, then aborts the rest as a shutdown (they go back to the queue). */
  async drain(graceMs: number): Promise<void> {
    const all = () => Promise.all([...this.runs.values()].map((run) => run.done));
    await settleWithin(all(), graceMs);
    for (const id of this.runs.keys()) this.abort(id, new ShuttingDown());
    await all();
  }
}
