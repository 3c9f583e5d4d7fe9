import { Injectable } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { OpenAIError } from '../common/openai-error';

/**
 * Things one tenant holds open at once, counted in this process. Per process on purpose: what
 * they hold (a socket, its buffers, an upstream call, a place in the shared reader) is this
 * process's, a count in memory cannot leak when a process dies (a Redis counter would need
 * leases), and it works without Redis. With N API processes a tenant may have up to N × the limit.
 */
abstract class TenantSlots {
  private readonly open = new Map<string, number>();

  /** 0 = no limit. */
  protected abstract get limit(): number;
  protected abstract refusal(limit: number): OpenAIError;

  /** Takes one of `owner`'s slots, or refuses with 429; the function returned gives it back (once). */
  acquire(owner: string): () => void {
    const limit = this.limit;
    const current = this.open.get(owner) ?? 0;
    if (limit > 0 && current >= limit) throw this.refusal(limit);
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

/** Open streams per tenant (SSE creates, `GET …?stream=true` followers, responses running on a WebSocket). */
@Injectable()
export class StreamSlots extends TenantSlots {
  constructor(private readonly config: AppConfig) {
    super();
  }

  protected get limit(): number {
    return this.config.maxStreamsPerTenant;
  }

  protected refusal(limit: number): OpenAIError {
    return new OpenAIError(
      429,
      `Too many open streams: this tenant may have ${limit} streaming responses open at once. Close a stream, or poll without stream, and try again.`,
      'requests',
      'stream',
      'rate_limit_exceeded',
      { 'retry-after': '1' },
    );
  }
}

/** Open WebSocket connections per tenant (MAX_WS_CONNECTIONS_PER_TENANT): one more is refused at the upgrade. */
@Injectable()
export class WebSocketSlots extends TenantSlots {
  constructor(private readonly config: AppConfig) {
    super();
  }

  protected get limit(): number {
    return this.config.maxWsConnectionsPerTenant;
  }

  protected refusal(limit: number): OpenAIError {
    return new OpenAIError(
      429,
      `Too many open WebSocket connections: this tenant may have ${limit} open at once on this server. Close one, and try again.`,
      'requests',
      null,
      'rate_limit_exceeded',
      { 'retry-after': '1' },
    );
  }
}
