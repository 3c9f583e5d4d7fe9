import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { dataSourceOptions } from '../../src/data-source';
import { POSTGRES_URL } from './services';

export interface TestDatabase {
  url: string;
  drop(): Promise<void>;
}

/** A fresh Postgres database for one test file, migrated, so runs never see each other's rows. */
export async function createTestDatabase(): Promise<TestDatabase> {
  const name = `rg_test_${process.pid}_${randomBytes(4).toString('hex')}`;
  const admin = new Client({ connectionString: POSTGRES_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(POSTGRES_URL);
  url.pathname = `/${name}`;
  const dataSource = new DataSource(dataSourceOptions({ databaseUrl: url.toString(), dataDir: '' }));
  await dataSource.initialize();
  await dataSource.runMigrations();
  await dataSource.destroy();
  return {
    url: url.toString(),
    async drop() {
      const client = new Client({ connectionString: POSTGRES_URL });
      await client.connect();
      await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await client.end();
    },
  };
}
