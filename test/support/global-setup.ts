import { POSTGRES_URL, postgresReachable, REDIS_URL, redisReachable } from './services';

/** Probes the real services once per run. Under REQUIRE_SERVICES=1 a missing one fails the run. */
export default async function globalSetup(): Promise<void> {
  const [postgres, redis] = await Promise.all([postgresReachable(), redisReachable()]);
  process.env.RG_TEST_POSTGRES = postgres ? '1' : '0';
  process.env.RG_TEST_REDIS = redis ? '1' : '0';
  const missing = [!postgres && `PostgreSQL (${POSTGRES_URL})`, !redis && `Redis (${REDIS_URL})`].filter(Boolean);
  if (!missing.length) return;
  if (process.env.REQUIRE_SERVICES === '1') {
    throw new Error(`REQUIRE_SERVICES=1 but these are not reachable: ${missing.join(', ')}`);
  }
  process.stderr.write(
    `\n${'!'.repeat(78)}\n!!! NOT REACHABLE: ${missing.join(', ')}\n!!! Tests that need them will not run. Set REQUIRE_SERVICES=1 to make this an error.\n${'!'.repeat(78)}\n\n`,
  );
}
