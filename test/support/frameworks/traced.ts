import type { FakeUpstream } from '../fake-upstream';
import type { FetchRecorder } from './recording-fetch';

/**
 * Wraps a test body so that, when it fails (a framework error or a failed expectation), the
 * failure message also shows what the framework sent to the gateway and what it answered, and
 * what the gateway sent to the upstream. The error object itself is rethrown, so Jest still
 * reports it as what it is (a failed `expect`, an `APICallError`, …).
 */
export function traced(recorder: () => FetchRecorder, upstream: () => FakeUpstream, body: () => Promise<void>): () => Promise<void> {
  return async () => {
    try {
      await body();
    } catch (err) {
      // Let streamed bodies that the framework abandoned finish recording.
      await new Promise((resolve) => setTimeout(resolve, 50));
      const upstreamBodies = upstream()
        .requests.map((r, i) => `#${i} ${r.method} ${r.path}\n  ${JSON.stringify(r.body)}`)
        .join('\n');
      const transcript =
        `\n\n--- framework → gateway ---\n${recorder().describe() || '(nothing)'}` + `\n\n--- gateway → upstream ---\n${upstreamBodies || '(nothing)'}`;
      if (err instanceof Error) {
        // Jest prints `stack` for ordinary errors (it already holds the message) and `message`
        // for failed expectations: extend both.
        // (V8 formats `stack` lazily, from the message at first access: read it first.)
        const { message: original, stack } = err;
        err.message = `${original}${transcript}`;
        if (stack?.includes(original)) err.stack = stack.replace(original, err.message);
        throw err;
      }
      throw new Error(`${String(err)}${transcript}`);
    }
  };
}
