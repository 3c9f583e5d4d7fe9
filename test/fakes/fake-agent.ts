import type { ResponseOutputItem } from 'openai/resources/responses/responses';
import type { AgentOutcome, AgentRunner, AgentSink, AgentTurn } from '../../src/agents/agent-runner';

/** One assistant message, as the agent loop would produce it. */
export function message(text: string): ResponseOutputItem {
  return { id: `msg_${text.length}`, type: 'message', role: 'assistant', status: 'completed', content: [{ type: 'output_text', text, annotations: [] }] };
}

/**
 * The agent loop, scripted: each run completes with `output` at once, or — while `held` — waits
 * until `release()` (completing) or until its signal aborts (then `aborted`, as the real loop).
 */
export class FakeAgent implements Pick<AgentRunner, 'run'> {
  readonly turns: AgentTurn[] = [];
  outcome: AgentOutcome = { status: 'completed', output: [message('hello')], usage: null };
  held = false;
  /** A held run that does not stop when aborted (its abort never reached it: another process, say). */
  ignoresAbort = false;
  private waiting: Array<() => void> = [];
  private started: Array<() => void> = [];

  run(turn: AgentTurn, signal: AbortSignal, sink: AgentSink): Promise<AgentOutcome> {
    this.turns.push(turn);
    for (const resolve of this.started.splice(0)) resolve();
    const aborted = (): AgentOutcome => ({ status: 'aborted', output: [], usage: null });
    if (signal.aborted) return Promise.resolve(aborted());
    if (!this.held) return Promise.resolve(this.finish(sink));
    return new Promise((resolve) => {
      if (!this.ignoresAbort) signal.addEventListener('abort', () => resolve(aborted()), { once: true });
      this.waiting.push(() => resolve(this.finish(sink)));
    });
  }

  /** Resolves once a run has started (the next one, or one already running). */
  whenStarted(): Promise<void> {
    if (this.turns.length) return Promise.resolve();
    return new Promise((resolve) => this.started.push(resolve));
  }

  /** Lets every held run end with `outcome`. */
  release(): void {
    this.held = false;
    for (const go of this.waiting.splice(0)) go();
  }

  private finish(sink: AgentSink): AgentOutcome {
    if (this.outcome.status !== 'failed') sink.itemDone?.(this.outcome.output);
    return this.outcome;
  }
}
