import { Injectable } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { OpenAIError } from '../common/openai-error';

/**
 * Open streams per tenant, counted in this process. Per process on purpose: what a stream holds
 * (a socket, its buffers, an upstream call, a place in the shared reader) is this process's, a
 * count in memory cannot leak when a process dies (a Redis counter would need leases), and it
 * works without Redis. With N API processes a tenant may have up to N × the limit.
 */
@Injectable()
export class StreamSlots {
  private readonly open = new Map<string, number>();

  constructor(private readonly config: AppConfig) {}

  /** Takes one of `owner`'s slots, or refuses with 429; the function returned gives it back (once). */
  acquire(owner: string): () => void {
    const limit = this.config.maxStreamsPerTenant;
    const current = this.open.get(owner) ?? 0;
    if (limit > 0 && current >= limit) {
      throw new OpenAIError(
        429,
        `Too many open streams: this tenant may have ${limit} streaming responses open at once. Close a stream, or poll without stream, and try again.`,
        'requests',
        'stream',
        'rate_limit_exceeded',
        { 'retry-after': '1' },
      );
    }
    this.open.set(owner, current + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = (this.open.get(owner) ?? 1) - 1;
      if (left > 0) this.open.set(owner, left);
      else this.open.delete(owner);
    };
  }
}
