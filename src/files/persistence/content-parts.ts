/** The size of the parts content is cut into where it is written in pieces (a table row each). */
export const PART_BYTES = 1024 * 1024;

/**
 * Regroups a stream's chunks into parts of exactly `size` bytes (the last one shorter, and at
 * least one part, empty for empty content), holding at most one part in memory.
 */
export async function* parts(source: AsyncIterable<Uint8Array>, size = PART_BYTES): AsyncGenerator<Buffer> {
  let pending: Buffer[] = [];
  let held = 0;
  let emitted = false;
  for await (const chunk of source) {
    let rest = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    while (held + rest.length >= size) {
      const take = size - held;
      pending.push(rest.subarray(0, take));
      rest = rest.subarray(take);
      yield Buffer.concat(pending);
      emitted = true;
      pending = [];
      held = 0;
    }
    if (rest.length) {
      // Copied: the source may reuse its chunk's memory once we ask for the next one.
      pending.push(Buffer.from(rest));
      held += rest.length;
    }
  }
  if (held > 0 || !emitted) yield Buffer.concat(pending);
}
