/**
 * The fault suite's own checkers and the fake upstream's fault modes, tested: an invariant check
 * that cannot fail would prove nothing.
 */
import type { ResponseStreamEvent } from 'openai/resources/responses/responses';
import { startFakeUpstream } from '../support/fake-upstream';
import { singleCall } from './support/harness';
import { statusesFor, streamProblems } from './support/streams';

const event = (type: string, sequence_number: number) => ({ type, sequence_number }) as unknown as ResponseStreamEvent;

describe('fault suite checkers', () => {
  it('singleCall accepts one whole upstream call and rejects mixed, partial, repeated or foreign text', () => {
    expect(singleCall('[#7:0][#7:1][#7:2]', 3)).toEqual({ seq: 7 });
    expect(singleCall('[#7:0][#8:1][#7:2]', 3)).toHaveProperty('problem');
    expect(singleCall('[#7:0][#7:1]', 3)).toHaveProperty('problem');
    expect(singleCall('[#7:0][#7:1][#7:1]', 3)).toHaveProperty('problem');
    expect(singleCall('[#7:0][#7:1][#7:2] and more', 3)).toHaveProperty('problem');
    expect(singleCall('', 3)).toHaveProperty('problem');
  });

  it('streamProblems finds gaps, repeats and misplaced or extra terminal events', () => {
    const ok = { id: 'r', events: [event('response.created', 0), event('response.in_progress', 1), event('response.completed', 2)] };
    expect(streamProblems(ok)).toEqual([]);
    expect(streamProblems({ id: 'r', events: [event('response.created', 0), event('response.in_progress', 2)] })).toHaveLength(1);
    expect(streamProblems({ id: 'r', events: [event('response.created', 0), event('response.created', 0)] })).toHaveLength(1);
    expect(streamProblems({ id: 'r', events: [event('response.completed', 0), event('response.in_progress', 1)] })).toHaveLength(1);
    expect(streamProblems({ id: 'r', events: [event('response.completed', 0), event('response.failed', 1)] })).toHaveLength(1);
    expect(statusesFor('response.failed')).toEqual(['failed', 'cancelled']);
    expect(statusesFor('response.output_text.delta')).toEqual([]);
  });

  it('the fake upstream stamps its output per call, takes a scripter, and can go silent mid-stream', async () => {
    const upstream = await startFakeUpstream();
    try {
      upstream.setScripter((body) => (JSON.stringify(body).includes('silent') ? { chunks: ['a', 'b', 'c'], hangAfterChunks: 2 } : { stamp: 3 }));
      const post = (input: string, stream: boolean) =>
        fetch(`${upstream.url}/chat/completions`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ model: 'm', stream, messages: [{ role: 'user', content: input }] }),
        });
      const whole = (await (await post('hi', false)).json()) as { choices: Array<{ message: { content: string } }> };
      expect(whole.choices[0].message.content).toBe('[#1:0][#1:1][#1:2]');
      const controller = new AbortController();
      const res = await fetch(`${upstream.url}/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'm', stream: true, messages: [{ role: 'user', content: 'silent' }] }),
        signal: controller.signal,
      });
      const reader = res.body!.getReader();
      let text = '';
      const deadline = Date.now() + 500;
      while (Date.now() < deadline && (text.match(/^data: /gm) ?? []).length < 2) {
        const { value } = await reader.read();
        text += new TextDecoder().decode(value);
      }
      // Two events arrived, then silence: no third event, no [DONE], within the next 300 ms.
      const more = await Promise.race([reader.read().then(() => 'more'), new Promise((r) => setTimeout(() => r('silent'), 300))]);
      expect(more).toBe('silent');
      expect(text).not.toContain('[DONE]');
      controller.abort();
      await upstream.waitForClientClose(1, 2000);
      upstream.reset();
      expect(((await (await post('again', false)).json()) as { choices: Array<{ message: { content: string } }> }).choices[0].message.content).toBe(
        'Hello from upstream',
      );
    } finally {
      await upstream.close();
    }
  });
});
