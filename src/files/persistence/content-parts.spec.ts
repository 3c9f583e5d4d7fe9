import { Readable } from 'node:stream';
import { parts } from './content-parts';

async function collect(source: AsyncIterable<Buffer>): Promise<Buffer[]> {
  const out: Buffer[] = [];
  for await (const part of source) out.push(part);
  return out;
}

/** Chunks of these sizes, of the bytes 0, 1, 2, … (mod 251). */
function chunks(...sizes: number[]): AsyncIterable<Uint8Array> {
  let n = 0;
  return Readable.from(sizes.map((size) => Uint8Array.from({ length: size }, () => n++ % 251)));
}

describe('parts', () => {
  it('regroups chunks into parts of the given size, the last one shorter, bytes in order', async () => {
    const out = await collect(parts(chunks(3, 7, 1, 12), 5));
    expect(out.map((p) => p.length)).toEqual([5, 5, 5, 5, 3]);
    expect([...Buffer.concat(out)]).toEqual(Array.from({ length: 23 }, (_, i) => i % 251));
  });

  it('gives one empty part for empty content, and no empty part after an exact fit', async () => {
    expect((await collect(parts(chunks(), 5))).map((p) => p.length)).toEqual([0]);
    expect((await collect(parts(chunks(0, 0), 5))).map((p) => p.length)).toEqual([0]);
    expect((await collect(parts(chunks(10), 5))).map((p) => p.length)).toEqual([5, 5]);
  });

  it('copies what it holds, so a source that reuses its buffer cannot change a part', async () => {
    const shared = Buffer.alloc(3);
    let round = 0;
    // Fills its one buffer anew only when asked for the next chunk, as a socket's reader may.
    const reusing: AsyncIterable<Buffer> = {
      [Symbol.asyncIterator]: () => ({
        next: () => Promise.resolve(++round <= 2 ? { done: false, value: shared.fill(round) } : { done: true, value: undefined }),
      }),
    };
    expect([...Buffer.concat(await collect(parts(reusing, 4)))]).toEqual([1, 1, 1, 2, 2, 2]);
  });
});
