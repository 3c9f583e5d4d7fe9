/** A wait that took longer than it may. */
export class DeadlineExceeded extends Error {}

/** Rejects when `promise` takes longer than `ms` (a queue whose Redis is down must not hang a request). */
export function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new DeadlineExceeded(`${what} took longer than ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Waits until `promise` settles, or `ms` have passed, whichever is first (a shutdown's grace period). */
export async function settleWithin(promise: Promise<unknown>, ms: number): Promise<void> {
  await within(promise, ms, 'waiting').then(
    () => undefined,
    () => undefined,
  );
}
