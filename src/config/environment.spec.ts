import { join } from 'node:path';
import { IsOptional, IsString } from 'class-validator';
import { AppConfig } from './app-config';
import { Environment, EnvironmentError, parseEnvironment, readVariables, variablesOf } from './environment';

const VARIABLES = ['PORT', 'HOST', 'ROLE', 'DATABASE_URL', 'DATA_DIR', 'REDIS_URL', 'INFERENCE_BASE_URL', 'LOG_LEVEL'];

/** The EnvironmentError that parsing `env` throws. */
function rejection(env: Record<string, string | undefined>): EnvironmentError {
  try {
    parseEnvironment(env);
  } catch (error: unknown) {
    expect(error).toBeInstanceOf(EnvironmentError);
    return error as EnvironmentError;
  }
  throw new Error('expected an EnvironmentError, but the environment was accepted');
}

/** Asserts that `env` is refused with a message naming `variable` and no other variable. */
function expectRefused(env: Record<string, string | undefined>, variable: string): void {
  const { message } = rejection(env);
  expect(message).toMatch(new RegExp(`\\b${variable}\\b`));
  for (const other of VARIABLES.filter((v) => v !== variable)) expect(message).not.toMatch(new RegExp(`\\b${other}\\b`));
}

describe('parseEnvironment', () => {
  it('applies the documented defaults to an empty environment', () => {
    const env = parseEnvironment({});
    expect(env).toBeInstanceOf(Environment);
    expect(env).toMatchObject({ PORT: 8321, HOST: '127.0.0.1', ROLE: 'all', DATA_DIR: './data', LOG_LEVEL: 'info' });
    expect(env.DATABASE_URL).toBeUndefined();
    expect(env.REDIS_URL).toBeUndefined();
  });

  it('parses PORT from its string form', () => {
    const env = parseEnvironment({ PORT: '8080' });
    expect(env.PORT).toBe(8080);
    expect(typeof env.PORT).toBe('number');
  });

  it('reads the other variables it knows', () => {
    const env = parseEnvironment({
      HOST: '0.0.0.0',
      ROLE: 'worker',
      DATA_DIR: '/var/lib/gateway',
      LOG_LEVEL: 'debug',
      DATABASE_URL: 'postgresql://u:p@db:5432/gw',
      REDIS_URL: 'rediss://cache:6380',
      INFERENCE_TIMEOUT_MS: '30000',
    });
    expect(env).toMatchObject({
      HOST: '0.0.0.0',
      ROLE: 'worker',
      DATA_DIR: '/var/lib/gateway',
      LOG_LEVEL: 'debug',
      DATABASE_URL: 'postgresql://u:p@db:5432/gw',
      REDIS_URL: 'rediss://cache:6380',
      INFERENCE_TIMEOUT_MS: 30000,
    });
  });

  it('accepts postgres:// and redis:// URLs', () => {
    expect(parseEnvironment({ DATABASE_URL: 'postgres://localhost/gw', REDIS_URL: 'redis://localhost:6379' })).toMatchObject({
      DATABASE_URL: 'postgres://localhost/gw',
      REDIS_URL: 'redis://localhost:6379',
    });
  });

  it('reads the optional variables, which have no default and so no key on an instance', () => {
    const optional = {
      INFERENCE_API_KEY: 'sk-upstream',
      MODELS_CONFIG: '/etc/gateway/models.json',
      API_KEYS: 'k1:acme',
      AUTH_REQUIRED: 'true',
      AUTH_JWKS_URL: 'https://issuer.example/jwks.json',
      AUTH_JWT_ISSUER: 'https://issuer.example/',
      AUTH_JWT_AUDIENCE: 'gateway',
      SECRETS_KEY: 'a-secrets-key-of-32-characters!!',
      SECRETS_KEY_PREVIOUS: 'an-older-key-of-enough-length',
    };
    const env = parseEnvironment(optional);
    for (const key of Object.keys(new Environment())) expect(optional).not.toHaveProperty(key);
    expect(env).toMatchObject({ ...optional, AUTH_REQUIRED: true });
  });

  it('reads an optional variable that only a class property declares (no list of names to keep in step)', () => {
    class Extended extends Environment {
      @IsOptional()
      @IsString()
      SOMETHING_NEW?: string;
    }
    expect(variablesOf(Extended)).toContain('SOMETHING_NEW');
    expect(readVariables(Extended, { SOMETHING_NEW: 'yes', PORT: '9000' })).toMatchObject({ SOMETHING_NEW: 'yes', PORT: 9000 });
    expect(readVariables(Extended, {}).SOMETHING_NEW).toBeUndefined();
  });

  it('knows every variable that has a default', () => {
    expect(variablesOf(Environment)).toEqual(expect.arrayContaining(Object.keys(new Environment())));
  });

  it('ignores variables it does not know', () => {
    const env = parseEnvironment({ PATH: '/usr/bin', HOME: '/root' });
    expect(env).not.toHaveProperty('PATH');
    expect(env).not.toHaveProperty('HOME');
  });

  it.each(['abc', '70000', '-1', '80.5'])('refuses PORT=%s, naming PORT', (port) => {
    expectRefused({ PORT: port }, 'PORT');
  });

  it('reads the background scheduling settings, and refuses malformed ones naming them', () => {
    const config = new AppConfig(
      parseEnvironment({
        BACKGROUND_TENANT_WEIGHTS: 'team-a=2, team-b=0.5',
        BACKGROUND_MAX_QUEUED: 'windowed=100',
        BACKGROUND_MAX_QUEUED_PER_TENANT: 'soonest=5,windowed=50',
      }),
      {},
    );
    expect([config.backgroundWeight('team-a'), config.backgroundWeight('team-b'), config.backgroundWeight('other')]).toEqual([2, 0.5, 1]);
    expect([config.backgroundQueueLimit('windowed', 'all'), config.backgroundQueueLimit('soonest', 'all')]).toEqual([100, 0]);
    expect([config.backgroundQueueLimit('soonest', 'tenant'), config.backgroundQueueLimit('windowed', 'tenant')]).toEqual([5, 50]);
    expect(config.backgroundWindowMarginSeconds).toBe(900);
    expect(rejection({ BACKGROUND_TENANT_WEIGHTS: 'team-a' }).message).toMatch(/BACKGROUND_TENANT_WEIGHTS/);
    expect(rejection({ BACKGROUND_MAX_QUEUED: 'urgent=5' }).message).toMatch(/BACKGROUND_MAX_QUEUED\b/);
    expect(rejection({ BACKGROUND_MAX_QUEUED_PER_TENANT: 'soonest=-1' }).message).toMatch(/BACKGROUND_MAX_QUEUED_PER_TENANT/);
  });

  it('refuses an unknown ROLE, naming ROLE', () => {
    expectRefused({ ROLE: 'master' }, 'ROLE');
  });

  it('refuses a DATABASE_URL that is not postgres, naming DATABASE_URL', () => {
    expectRefused({ DATABASE_URL: 'mysql://localhost/gw' }, 'DATABASE_URL');
  });

  it('refuses a REDIS_URL that is not redis, naming REDIS_URL', () => {
    expectRefused({ REDIS_URL: 'http://localhost:6379' }, 'REDIS_URL');
  });

  it('refuses an unknown LOG_LEVEL, naming LOG_LEVEL', () => {
    expectRefused({ LOG_LEVEL: 'verbose' }, 'LOG_LEVEL');
  });

  it('names every bad variable at once', () => {
    const { message } = rejection({ PORT: 'abc', ROLE: 'master', REDIS_URL: 'nope' });
    for (const variable of ['PORT', 'ROLE', 'REDIS_URL']) expect(message).toContain(variable);
  });

  it('counts empty strings as unset', () => {
    const env = parseEnvironment({ PORT: '', HOST: '', ROLE: '', DATA_DIR: '', LOG_LEVEL: '', DATABASE_URL: '', REDIS_URL: '' });
    expect(env).toMatchObject({ PORT: 8321, HOST: '127.0.0.1', ROLE: 'all', DATA_DIR: './data', LOG_LEVEL: 'info' });
    expect(env.DATABASE_URL).toBeUndefined();
    expect(env.REDIS_URL).toBeUndefined();
  });

  it('counts undefined values as unset', () => {
    expect(parseEnvironment({ PORT: undefined, ROLE: undefined })).toMatchObject({ PORT: 8321, ROLE: 'all' });
  });

  describe('EMBEDDING_*', () => {
    const base = { INFERENCE_BASE_URL: 'http://127.0.0.1:9/v1', EMBEDDING_MODEL: 'bge', EMBEDDING_DIMENSIONS: '384' };

    it('parses the embedding model and the batching defaults', () => {
      expect(parseEnvironment(base)).toMatchObject({ EMBEDDING_MODEL: 'bge', EMBEDDING_DIMENSIONS: 384, EMBEDDING_SEND_DIMENSIONS: false });
      expect(parseEnvironment({})).toMatchObject({ EMBEDDING_BATCH_SIZE: 32, EMBEDDING_BATCH_TOKENS: 16384, EMBEDDING_CONCURRENCY: 4 });
    });

    it.each([
      [{ ...base, EMBEDDING_DIMENSIONS: undefined }, 'EMBEDDING_MODEL needs EMBEDDING_DIMENSIONS'],
      [{ ...base, INFERENCE_BASE_URL: undefined }, 'EMBEDDING_MODEL needs EMBEDDING_BASE_URL'],
      [{ ...base, MODELS_CONFIG: '/x.json' }, 'with MODELS_CONFIG, name the embedding model in its "embeddings" block'],
      [{ ...base, EMBEDDING_DIMENSIONS: '0' }, 'EMBEDDING_DIMENSIONS'],
      [{ ...base, EMBEDDING_BATCH_SIZE: '4096' }, 'EMBEDDING_BATCH_SIZE'],
      [{ ...base, EMBEDDING_BASE_URL: 'not a url' }, 'EMBEDDING_BASE_URL=(value hidden)'],
    ])('refuses %j', (env, message) => {
      expect(rejection(env).message).toContain(message);
    });
  });
});

describe('file storage settings', () => {
  const config = (env: Record<string, string>) => new AppConfig(parseEnvironment(env));

  it('keeps content in DATA_DIR/files for the embedded server, in Postgres with DATABASE_URL or an in-memory DATA_DIR', () => {
    expect(config({ DATA_DIR: '/srv/rg' })).toMatchObject({ filesStorage: 'filesystem', filesDir: join('/srv/rg', 'files') });
    expect(config({ DATA_DIR: '/srv/rg', DATABASE_URL: 'postgres://db/rg' }).filesStorage).toBe('postgres');
    expect(config({ DATA_DIR: 'memory://' }).filesStorage).toBe('postgres');
    expect(config({ DATABASE_URL: 'postgres://db/rg', FILES_STORAGE: 'filesystem', FILES_DIR: '/mnt/files' })).toMatchObject({
      filesStorage: 'filesystem',
      filesDir: '/mnt/files',
    });
    expect(config({})).toMatchObject({ filesMaxBytes: 64 * 1024 * 1024, filesMaxBytesPerTenant: 1024 * 1024 * 1024 });
  });

  it('refuses an unknown FILES_STORAGE, and a filesystem store with nowhere on disk to go', () => {
    expect(rejection({ FILES_STORAGE: 's3' }).message).toMatch(/\bFILES_STORAGE\b/);
    expect(rejection({ FILES_STORAGE: 'filesystem', DATA_DIR: 'memory://' }).message).toMatch(/FILES_STORAGE=filesystem needs FILES_DIR/);
    expect(rejection({ FILES_MAX_BYTES: '0' }).message).toMatch(/\bFILES_MAX_BYTES\b/);
  });
});
