import { Socket } from 'node:net';
import { Client } from 'pg';

/** Where the real services are expected (CI points DATABASE_URL / REDIS_URL at them). */
export const POSTGRES_URL = process.env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/test';
export const REDIS_URL = process.env.REDIS_URL || 'redis://127.0.0.1:6379';

export async function postgresReachable(url = POSTGRES_URL): Promise<boolean> {
  const client = new Client({ connectionString: url, connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

export function redisReachable(url = REDIS_URL): Promise<boolean> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = new Socket();
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(2000, () => done(false));
    socket.once('error', () => done(false));
    socket.connect(Number(port || 6379), hostname, () => {
      socket.write('PING\r\n');
      socket.once('data', (data) => done(data.toString().startsWith('+PONG')));
    });
  });
}

/**
 * Set by the global setup: the services this run may use. A test that needs a missing one is
 * left out with a loud message, except under REQUIRE_SERVICES=1, where the run fails instead.
 */
export const services = {
  get postgres(): boolean {
    return process.env.RG_TEST_POSTGRES === '1';
  },
  get redis(): boolean {
    return process.env.RG_TEST_REDIS === '1';
  },
};

export function warnMissing(what: string, suite: string): void {
  // Loud on purpose: a silently smaller run must not pass for a full one.
  process.stderr.write(`\n!!! ${what} is not reachable: the ${suite} tests that need it are NOT running. !!!\n\n`);
}
