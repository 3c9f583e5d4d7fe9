import { type E2e, type E2eOptions, useE2e } from '../e2e';
import type { UpstreamScript } from '../fake-upstream';
import { createFetchRecorder, type FetchRecorder } from './recording-fetch';
import { traced } from './traced';

/** The model name the client suites ask for (the fake upstream answers any). */
export const MODEL = 'some-model';

export interface FrameworkSuite {
  e2e: E2e;
  /** What the framework sent to the gateway and what it answered (reset before each test). */
  recorder: FetchRecorder;
  /** `it`, with the framework ↔ gateway ↔ upstream transcript added to any failure. */
  itTraced(name: string, body: () => Promise<void>, timeout?: number): void;
  /** The chat messages the upstream received in its request #i. */
  upstreamMessages(i: number): unknown[];
}

/**
 * The setup of a test/clients suite: the app in process against the fake upstream
 * (`INFERENCE_BASE_URL`, plus `env`), a recording `fetch` for the framework under test, and
 * `itTraced`. Call it at the top of the file, before hooks that use its handles.
 */
export function useFrameworkSuite(options: { env?: E2eOptions['env'] } = {}): FrameworkSuite {
  const e2e = useE2e({
    env: async (upstream) => ({
      INFERENCE_BASE_URL: upstream.url,
      ...(typeof options.env === 'function' ? await options.env(upstream) : (options.env ?? {})),
    }),
    resetUpstream: true,
  });
  const recorder = createFetchRecorder();
  beforeEach(() => recorder.reset());
  return {
    e2e,
    recorder,
    itTraced: (name, body, timeout) =>
      it(
        name,
        traced(
          () => recorder,
          () => e2e.upstream,
          body,
        ),
        timeout,
      ),
    upstreamMessages: (i) => e2e.upstream.requests[i].body.messages as unknown[],
  };
}

/** A chat `tool_calls` entry, as the upstream should see a replayed function call. */
export const chatCall = (id: string, name: string, args: string) => ({ id, type: 'function', function: { name, arguments: args } });

/** A user chat message as the gateway sends it upstream (content parts, never a bare string). */
export const userText = (text: string) => ({ role: 'user', content: [{ type: 'text', text }] });

/** An upstream turn that calls these tools (`finish_reason: tool_calls`). */
export const toolCallScript = (...calls: Array<[id: string, name: string, args: string]>): UpstreamScript => ({
  toolCalls: calls.map(([id, name, args]) => ({ id, name, arguments: args })),
  finishReason: 'tool_calls',
});
