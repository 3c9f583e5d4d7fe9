import { createHash } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { ThrottlerStorage } from '@nestjs/throttler';
import { OpenAIError } from '../common/openai-error';
import type { Principal } from '../common/principal';
import { AppConfig } from '../config/app-config';

const WINDOW_MS = 60_000;

/**
 * RATE_LIMIT_PER_MINUTE for what arrives without an HTTP request of its own (a WebSocket upgrade,
 * each `response.create` on the socket): the same storage as the HTTP guard (shared through Redis
 * when configured), one counter per credential and `route`.
 */
@Injectable()
export class MessageRateLimit {
  constructor(
    // A symbol token: ThrottlerStorage is an interface.
    @Inject(ThrottlerStorage) private readonly storage: ThrottlerStorage,
    private readonly config: AppConfig,
  ) {}

  /** Counts one hit; a 429 (with `retry-after`) when the credential is over its limit. */
  async consume(principal: Principal, route: string): Promise<void> {
    const limit = this.config.rateLimitPerMinute;
    if (!limit) return;
    const key = createHash('sha256').update(`${route}-default-${principal.owner}/${principal.name}`).digest('hex');
    const record = await this.storage.increment(key, WINDOW_MS, limit, WINDOW_MS, 'default');
    if (!record.isBlocked) return;
    const wait = Math.max(1, record.timeToBlockExpire || record.timeToExpire);
    throw new OpenAIError(
      429,
      `Rate limit reached: ${limit} requests per minute for this key. Try again in ${wait} s.`,
      'requests',
      null,
      'rate_limit_exceeded',
      {
        'retry-after': String(wait),
      },
    );
  }
}
