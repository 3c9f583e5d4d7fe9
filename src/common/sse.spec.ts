import { PendingSink, type SseWriter } from './sse';

type Event = { type: string; n: number };

/** The part of SseWriter that PendingSink uses, recording what it is sent. */
function fakeWriter(closed = false) {
  const controller = new AbortController();
  const sent: number[] = [];
  const writer = { closed, signal: controller.signal, emit: (e: Event) => void sent.push(e.n) };
  return { writer: writer as unknown as SseWriter<Event>, sent, leave: () => controller.abort() };
}

describe('PendingSink', () => {
  it('holds events until the stream opens, then sends them in order and passes the rest on', () => {
    const sink = new PendingSink<Event>();
    sink.emit({ type: 'a', n: 0 });
    sink.emit({ type: 'b', n: 1 });
    const { writer, sent } = fakeWriter();
    sink.open(writer);
    sink.emit({ type: 'c', n: 2 });
    expect(sent).toEqual([0, 1, 2]);
    expect(sink.signal.aborted).toBe(false);
  });

  it('aborts the run when the client leaves, also when it left before the stream opened', () => {
    const open = new PendingSink<Event>();
    const { writer, leave } = fakeWriter();
    open.open(writer);
    leave();
    expect(open.signal.aborted).toBe(true);
    const early = new PendingSink<Event>();
    early.open(fakeWriter(true).writer);
    expect(early.signal.aborted).toBe(true);
  });
});
