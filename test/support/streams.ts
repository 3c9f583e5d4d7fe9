/** How to read a stream: stop early, or act on each event as it comes. */
export interface CollectOptions<T> {
  /** Stop after the first event for which this holds (leaving the loop closes an SDK stream's connection). */
  until?: (event: T, seen: T[]) => boolean;
  /** Called with each event once it is collected, before the next is read (awaited). */
  onEvent?: (event: T, seen: T[]) => unknown;
}

/**
 * Every event of a stream (an SDK event stream, an SSE stream, an auto-paginated list), in order,
 * to its end or up to `until`. The one loop e2e tests read streams with.
 */
export async function collect<T>(stream: AsyncIterable<T>, options: CollectOptions<T> = {}): Promise<T[]> {
  const seen: T[] = [];
  for await (const event of stream) {
    seen.push(event);
    await options.onEvent?.(event, seen);
    if (options.until?.(event, seen)) break;
  }
  return seen;
}

/** The `type` of every event of a stream, in order. */
export async function eventTypes<T extends { type: string }>(stream: AsyncIterable<T>, options: CollectOptions<T> = {}): Promise<string[]> {
  return (await collect(stream, options)).map((event) => event.type);
}
