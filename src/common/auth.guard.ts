import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { createHash, timingSafeEqual } from 'node:crypto';
import { AppConfig } from '../config/app-config';
import { OpenAIError } from './openai-error';
import { ANONYMOUS, AuthenticatedRequest, Principal } from './principal';

interface KeyEntry {
  digest: Buffer;
  principal: Principal;
}

const digest = (key: string) => createHash('sha256').update(key).digest();

/**
 * Bearer API keys from `API_KEYS` (`key` or `key:tenant`, comma-separated). With none configured
 * every request is the anonymous principal (the server then only listens on loopback).
 */
@Injectable()
export class AuthGuard implements CanActivate {
  private readonly keys: KeyEntry[];

  constructor(config: AppConfig) {
    this.keys = (config.apiKeys ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean)
      .map((entry, i) => {
        const sep = entry.lastIndexOf(':');
        const key = sep > 0 ? entry.slice(0, sep) : entry;
        const owner = sep > 0 ? entry.slice(sep + 1) : 'default';
        return { digest: digest(key), principal: { owner, name: `key#${i + 1}` } };
      });
  }

  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
    if (this.keys.length === 0) {
      request.principal = ANONYMOUS;
      return true;
    }
    const header = request.headers.authorization ?? '';
    const match = /^Bearer\s+(.+)$/i.exec(header);
    if (!match) {
      throw new OpenAIError(
        401,
        "You didn't provide an API key. Send it in the Authorization header: 'Authorization: Bearer YOUR_KEY'.",
        'invalid_request_error',
        null,
        'missing_api_key',
      );
    }
    const presented = digest(match[1].trim());
    const entry = this.keys.find((k) => timingSafeEqual(k.digest, presented));
    if (!entry) throw new OpenAIError(401, 'Incorrect API key provided.', 'invalid_request_error', null, 'invalid_api_key');
    request.principal = entry.principal;
    return true;
  }
}
