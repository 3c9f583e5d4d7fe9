import { Injectable, Logger } from '@nestjs/common';
import { createRemoteJWKSet, jwtVerify, type JWTVerifyGetKey } from 'jose';
import { AppConfig } from '../config/app-config';
import { OpenAIError } from '../common/openai-error';
import type { Principal } from '../common/principal';
import { ApiKeysStore } from './persistence/api-keys.store';
import { digestOf } from './api-key-secrets';

/** How long a key lookup is trusted; a revoked key stops working within this time. */
const KEY_CACHE_MS = 30_000;
const KEY_CACHE_MAX = 10_000;
/** Unknown keys are remembered apart from known ones, so a flood of random keys cannot evict them. */
const UNKNOWN_CACHE_MAX = 10_000;
/** Client addresses whose failed authentications are counted at once. */
const FAILURE_TRACKED_MAX = 10_000;
const FAILURE_WINDOW_MS = 60_000;

const maxAgeText = (seconds: number) => (seconds % 3600 === 0 ? `${seconds / 3600} h` : `${seconds} s`);
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
  private readonly cache = new Map<string, { principal: Principal; until: number }>();
  private readonly unknown = new Map<string, number>();
  private readonly failures = new Map<string, { count: number; since: number }>();
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
    if (config.jwksUrl) {
      this.jwks = createRemoteJWKSet(new URL(config.jwksUrl), { timeoutDuration: 5000, cooldownDuration: 30_000 });
      const off = [!config.jwtIssuer && 'issuer (AUTH_JWT_ISSUER)', !config.jwtAudience && 'audience (AUTH_JWT_AUDIENCE)'].filter(Boolean);
      if (off.length)
        this.logger.warn(`JWTs are accepted with any ${off.join(' and any ')}: every token the JWKS keys signed, for any application, is a credential here.`);
    }
  }

  get required(): boolean {
    return this.config.authRequired;
  }

  /**
   * `client` is the caller's address: one that keeps presenting bad credentials gets 429s, with no
   * lookup, once it has failed AUTH_FAILURES_PER_MINUTE times in a minute.
   */
  async authenticate(authorization: string | undefined, client = 'unknown'): Promise<Principal> {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '');
    if (!match) {
      throw unauthorized("You didn't provide an API key. Send it in the Authorization header: 'Authorization: Bearer YOUR_KEY'.", 'missing_api_key');
    }
    this.checkFailures(client);
    try {
      const token = match[1];
      if (this.jwks && token.split('.').length === 3) return await this.verifyJwt(token);
      const principal = await this.lookupKey(digestOf(token));
      if (!principal) throw unauthorized('Incorrect API key provided.', 'invalid_api_key');
      return principal;
    } catch (error) {
      if (error instanceof OpenAIError && error.getStatus() === 401) this.countFailure(client);
      throw error;
    }
  }

  private checkFailures(client: string): void {
    const limit = this.config.authFailuresPerMinute;
    const seen = this.failures.get(client);
    if (!limit || !seen || seen.count < limit) return;
    const wait = seen.since + FAILURE_WINDOW_MS - Date.now();
    if (wait <= 0) {
      this.failures.delete(client);
      return;
    }
    throw new OpenAIError(429, 'Too many failed authentication attempts from this address. Try again later.', 'requests', null, 'rate_limit_exceeded', {
      'retry-after': String(Math.ceil(wait / 1000)),
    });
  }

  private countFailure(client: string): void {
    const now = Date.now();
    const seen = this.failures.get(client);
    if (seen && now - seen.since < FAILURE_WINDOW_MS) {
      seen.count++;
      return;
    }
    if (this.failures.size >= FAILURE_TRACKED_MAX) this.failures.delete(this.failures.keys().next().value!); // the oldest
    this.failures.set(client, { count: 1, since: now });
  }

  private async lookupKey(digest: string): Promise<Principal | null> {
    const fixed = this.bootstrap.get(digest);
    if (fixed) return fixed;
    const now = Date.now();
    const cached = this.cache.get(digest);
    if (cached && cached.until > now) return cached.principal;
    const unknownUntil = this.unknown.get(digest);
    if (unknownUntil !== undefined && unknownUntil > now) return null;
    const record = await this.keys.findActiveByDigest(digest);
    if (!record) {
      // Bounded, and apart from the known keys: a flood of random keys evicts only its own kind.
      if (this.unknown.size >= UNKNOWN_CACHE_MAX) this.unknown.delete(this.unknown.keys().next().value!);
      this.unknown.set(digest, now + KEY_CACHE_MS);
      return null;
    }
    const principal = { owner: record.owner, name: `key:${record.id}` };
    if (this.cache.size >= KEY_CACHE_MAX) this.cache.delete(this.cache.keys().next().value!);
    this.cache.set(digest, { principal, until: now + KEY_CACHE_MS });
    return principal;
  }

  private async verifyJwt(token: string): Promise<Principal> {
    try {
      const maxAge = this.config.jwtMaxAgeSeconds;
      // `exp` is required: a token without one would be a credential forever.
      const { payload } = await jwtVerify(token, this.jwks!, {
        issuer: this.config.jwtIssuer,
        audience: this.config.jwtAudience,
        requiredClaims: ['exp'],
        ...(maxAge > 0 ? { maxTokenAge: maxAge } : {}),
      });
      const tenant = payload[this.config.tenantClaim];
      if (typeof tenant !== 'string' || !tenant) {
        throw unauthorized(`The token has no '${this.config.tenantClaim}' claim naming a tenant.`, 'invalid_token');
      }
      return { owner: tenant, name: `jwt:${payload.sub ?? 'unknown'}` };
    } catch (error) {
      if (error instanceof OpenAIError) throw error;
      // By `code`, not instanceof: jose's error classes differ between its builds.
      const { code, claim, message } = error as { code?: string; claim?: string; message?: string };
      if (code === 'ERR_JWKS_TIMEOUT' || code === 'ERR_JWKS_INVALID') {
        this.logger.warn(`JWKS unavailable: ${message}`);
        throw new OpenAIError(503, 'The token cannot be verified right now.', 'service_unavailable', null, 'auth_unavailable');
      }
      const reason =
        claim === 'iat'
          ? `The token is older than this server accepts (${maxAgeText(this.config.jwtMaxAgeSeconds)}, AUTH_JWT_MAX_AGE_SECONDS), or has no 'iat' claim.`
          : code === 'ERR_JWT_EXPIRED'
            ? 'The token has expired.'
            : claim === 'exp'
              ? "The token has no 'exp' (expiry) claim; tokens that never expire are not accepted."
              : 'The token is invalid.';
      throw unauthorized(reason, 'invalid_token');
    }
  }
}
