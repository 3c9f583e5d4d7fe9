import { Injectable, Logger } from '@nestjs/common';
import { createRemoteJWKSet, errors as joseErrors, jwtVerify, type JWTVerifyGetKey } from 'jose';
import { AppConfig } from '../config/app-config';
import { OpenAIError } from '../common/openai-error';
import type { Principal } from '../common/principal';
import { ApiKeysStore } from '../store/api-keys.store';
import { digestOf } from './api-key-secrets';

/** How long a key lookup is trusted; a revoked key stops working within this time. */
const KEY_CACHE_MS = 30_000;
const KEY_CACHE_MAX = 10_000;

const unauthorized = (message: string, code: string) => new OpenAIError(401, message, 'invalid_request_error', null, code);

/**
 * Who a bearer credential is: a bootstrap key (API_KEYS), a key created with the keys CLI
 * (stored as a digest), or a JWT verified against AUTH_JWKS_URL, whose tenant claim names the
 * owner. Every failure is a 401 in OpenAI's shape; the credential itself never reaches a log.
 */
@Injectable()
export class Authenticator {
  private readonly logger = new Logger('Authenticator');
  private readonly bootstrap = new Map<string, Principal>();
  private readonly cache = new Map<string, { principal: Principal | null; until: number }>();
  private readonly jwks?: JWTVerifyGetKey;

  constructor(
    private readonly config: AppConfig,
    private readonly keys: ApiKeysStore,
  ) {
    (config.apiKeys ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean)
      .forEach((entry, i) => {
        const sep = entry.lastIndexOf(':');
        const secret = sep > 0 ? entry.slice(0, sep) : entry;
        const owner = sep > 0 ? entry.slice(sep + 1) : 'default';
        this.bootstrap.set(digestOf(secret), { owner, name: `bootstrap-key#${i + 1}` });
      });
    if (config.jwksUrl) this.jwks = createRemoteJWKSet(new URL(config.jwksUrl), { timeoutDuration: 5000, cooldownDuration: 30_000 });
  }

  get required(): boolean {
    return this.config.authRequired;
  }

  async authenticate(authorization: string | undefined): Promise<Principal> {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '');
    if (!match) {
      throw unauthorized("You didn't provide an API key. Send it in the Authorization header: 'Authorization: Bearer YOUR_KEY'.", 'missing_api_key');
    }
    const token = match[1];
    if (this.jwks && token.split('.').length === 3) return this.verifyJwt(token);
    const principal = await this.lookupKey(digestOf(token));
    if (!principal) throw unauthorized('Incorrect API key provided.', 'invalid_api_key');
    return principal;
  }

  private async lookupKey(digest: string): Promise<Principal | null> {
    const fixed = this.bootstrap.get(digest);
    if (fixed) return fixed;
    const cached = this.cache.get(digest);
    if (cached && cached.until > Date.now()) return cached.principal;
    const record = await this.keys.findActiveByDigest(digest);
    const principal = record ? { owner: record.owner, name: `key:${record.id}` } : null;
    if (this.cache.size >= KEY_CACHE_MAX) this.cache.clear(); // bounded: random keys cannot grow it
    this.cache.set(digest, { principal, until: Date.now() + KEY_CACHE_MS });
    return principal;
  }

  private async verifyJwt(token: string): Promise<Principal> {
    try {
      const { payload } = await jwtVerify(token, this.jwks!, {
        issuer: this.config.jwtIssuer,
        audience: this.config.jwtAudience,
      });
      const tenant = payload[this.config.tenantClaim];
      if (typeof tenant !== 'string' || !tenant) {
        throw unauthorized(`The token has no '${this.config.tenantClaim}' claim naming a tenant.`, 'invalid_token');
      }
      return { owner: tenant, name: `jwt:${payload.sub ?? 'unknown'}` };
    } catch (error) {
      if (error instanceof OpenAIError) throw error;
      if (error instanceof joseErrors.JWKSTimeout || error instanceof joseErrors.JWKSInvalid) {
        this.logger.warn(`JWKS unavailable: ${error.message}`);
        throw new OpenAIError(503, 'The token cannot be verified right now.', 'service_unavailable', null, 'auth_unavailable');
      }
      const reason = error instanceof joseErrors.JWTExpired ? 'The token has expired.' : 'The token is invalid.';
      throw unauthorized(reason, 'invalid_token');
    }
  }
}
