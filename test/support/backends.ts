import { createTestDatabase, TestDatabase } from './database';
import { services, warnMissing } from './services';

/** A store backend the suites run on: embedded PGlite (always) and Postgres (when reachable). */
export interface StoreBackend {
  name: 'pglite' | 'postgres';
  /** Environment for the app: DATABASE_URL, or an in-memory PGlite. */
  setup(): Promise<{ env: Record<string, string>; teardown(): Promise<void> }>;
}

const pglite: StoreBackend = {
  name: 'pglite',
  setup: () => Promise.resolve({ env: { DATA_DIR: 'memory://' }, teardown: () => Promise.resolve() }),
};

const postgres: StoreBackend = {
  name: 'postgres',
  async setup() {
    const db: TestDatabase = await createTestDatabase();
    return { env: { DATABASE_URL: db.url }, teardown: () => db.drop() };
  },
};

export function storeBackends(suite: string): StoreBackend[] {
  if (services.postgres) return [pglite, postgres];
  warnMissing('PostgreSQL', suite);
  return [pglite];
}
