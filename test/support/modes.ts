import { randomBytes } from 'node:crypto';
import { createTestDatabase } from './database';
import { REDIS_URL, services, warnMissing } from './services';

/** How background responses run: in process, or through Bull on Redis with Postgres. */
export interface BackgroundMode {
  name: string;
  setup(): Promise<{ env: Record<string, string>; teardown(): Promise<void> }>;
}

const inline: BackgroundMode = {
  name: 'inline (embedded PGlite, no Redis)',
  setup: () => Promise.resolve({ env: { DATA_DIR: 'memory://' }, teardown: () => Promise.resolve() }),
};

/** A fresh database and a Bull key prefix of its own, so runs never see each other's jobs. */
export const bull: BackgroundMode = {
  name: 'Bull (Postgres + Redis)',
  async setup() {
    const db = await createTestDatabase();
    const prefix = `rgtest${randomBytes(4).toString('hex')}`;
    return { env: { DATABASE_URL: db.url, REDIS_URL, QUEUE_PREFIX: prefix }, teardown: () => db.drop() };
  },
};

export function backgroundModes(suite: string): BackgroundMode[] {
  if (services.postgres && services.redis) return [inline, bull];
  warnMissing(!services.postgres ? 'PostgreSQL' : 'Redis', suite);
  return [inline];
}
