import { ExecutionContext, Injectable } from '@nestjs/common';
import { ThrottlerGuard, type ThrottlerLimitDetail } from '@nestjs/throttler';
import { IS_PUBLIC } from '../auth/public.decorator';
import { OpenAIError } from '../common/openai-error';
import type { AuthenticatedRequest } from '../common/principal';

/**
 * RATE_LIMIT_PER_MINUTE per credential (not per IP: many teams share egress addresses). Runs
 * after the auth guard, which has set the principal. Public routes are not counted.
 */
@Injectable()
export class PrincipalThrottlerGuard extends ThrottlerGuard {
  protected override async shouldSkip(context: ExecutionContext): Promise<boolean> {
    const open = this.reflector.getAllAndOverride<boolean | undefined>(IS_PUBLIC, [context.getHandler(), context.getClass()]);
    return Boolean(open) || this.throttlers.every((t) => !t.limit) || (await super.shouldSkip(context));
  }

  protected override getTracker(req: Record<string, unknown>): Promise<string> {
    const principal = (req as unknown as AuthenticatedRequest).principal;
    return Promise.resolve(principal ? `${principal.owner}/${principal.name}` : 'anonymous');
  }

  protected override throwThrottlingException(_context: ExecutionContext, detail: ThrottlerLimitDetail): Promise<void> {
    throw new OpenAIError(
      429,
      `Rate limit reached: ${detail.limit} requests per minute for this key. Try again in ${detail.timeToBlockExpire} s.`,
      'requests',
      null,
      'rate_limit_exceeded',
      { 'retry-after': String(detail.timeToBlockExpire) },
    );
  }
}
