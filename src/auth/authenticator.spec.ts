import { Logger } from '@nestjs/common';
import { OpenAIError } from '../common/openai-error';
import { AppConfig } from '../config/app-config';
import { parseEnvironment } from '../config/environment';
import { ApiKeyRecord, ApiKeysStore } from './persistence/api-keys.store';
import { digestOf } from './api-key-secrets';
import { Authenticator } from './authenticator';

/** A key store that counts its lookups. */
class CountingKeys extends ApiKeysStore {
  lookups = 0;
  constructor(private readonly known: Map<string, ApiKeyRecord>) {
    super();
  }
  create(): Promise<void> {
    return Promise.resolve();
  }
  findActiveByDigest(digest: string): Promise<ApiKeyRecord | null> {
    this.lookups++;
    return Promise.resolve(this.known.get(digest) ?? null);
  }
  list(): Promise<ApiKeyRecord[]> {
    return Promise.resolve([...this.known.values()]);
  }
  revoke(): Promise<boolean> {
    return Promise.resolve(false);
  }
}

const record: ApiKeyRecord = { id: 'key_1', owner: 'team-a', name: 'a', prefix: 'sk-rg-abc', createdAt: new Date(), revokedAt: null };

function authenticator(env: Record<string, string> = {}) {
  const keys = new CountingKeys(new Map([[digestOf('sk-good'), record]]));
  const config = new AppConfig(parseEnvironment({ DATA_DIR: 'memory://', AUTH_REQUIRED: 'true', ...env }));
  return { auth: new Authenticator(config, keys), keys };
}

/** The OpenAIError a promise rejects with (fails the test otherwise). */
async function rejected(promise: Promise<unknown>): Promise<OpenAIError> {
  const error = await promise.then(
    () => new Error('expected a rejection'),
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(OpenAIError);
  return error as OpenAIError;
}

describe('Authenticator', () => {
  it('remembers unknown keys apart from known ones: a flood of random keys neither reaches the store twice nor evicts a good key', async () => {
    const { auth, keys } = authenticator({ AUTH_FAILURES_PER_MINUTE: '0' });
    await auth.authenticate('Bearer sk-good', '10.0.0.1');
    for (let i = 0; i < 12_000; i++) await auth.authenticate(`Bearer sk-random-${i}`, '10.0.0.2').catch(() => undefined);
    const afterFlood = keys.lookups;
    expect(afterFlood).toBe(12_001);
    await auth.authenticate('Bearer sk-good', '10.0.0.1');
    await auth.authenticate('Bearer sk-random-11999', '10.0.0.2').catch(() => undefined);
    expect(keys.lookups).toBe(afterFlood); // both answered from their caches
  });

  it('answers 429 with retry-after, without a lookup, to an address that keeps failing; others are unaffected', async () => {
    const { auth, keys } = authenticator({ AUTH_FAILURES_PER_MINUTE: '5' });
    for (let i = 0; i < 5; i++) expect((await rejected(auth.authenticate(`Bearer sk-bad-${i}`, '10.0.0.9'))).getStatus()).toBe(401);
    const lookups = keys.lookups;
    const refused = await rejected(auth.authenticate('Bearer sk-bad-x', '10.0.0.9'));
    expect(refused.getStatus()).toBe(429);
    expect(refused.toBody().error).toMatchObject({ type: 'requests', code: 'rate_limit_exceeded' });
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
    // Even a good key waits: the address is throttled, not the key.
    expect((await rejected(auth.authenticate('Bearer sk-good', '10.0.0.9'))).getStatus()).toBe(429);
    expect(keys.lookups).toBe(lookups);
    await expect(auth.authenticate('Bearer sk-good', '10.0.0.10')).resolves.toMatchObject({ owner: 'team-a' });
  });

  it('warns at start when JWT issuer or audience checks are off', () => {
    const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    try {
      authenticator({ AUTH_JWKS_URL: 'http://127.0.0.1:9/jwks.json', AUTH_JWT_ISSUER: 'https://idp.example.com' });
      expect(warn).toHaveBeenCalledWith(expect.stringContaining('any audience (AUTH_JWT_AUDIENCE)'));
      warn.mockClear();
      authenticator({ AUTH_JWKS_URL: 'http://127.0.0.1:9/jwks.json', AUTH_JWT_ISSUER: 'https://idp.example.com', AUTH_JWT_AUDIENCE: 'gw' });
      expect(warn).not.toHaveBeenCalled();
    } finally {
      warn.mockRestore();
    }
  });
});
