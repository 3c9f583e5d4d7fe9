// Fails when the entities and the migrations disagree: migrates a scratch Postgres database, then
// asks TypeORM what synchronize would still change (it must be nothing). Uses the built dist/.
const { Client } = require('pg');
const { DataSource } = require('typeorm');
const { dataSourceOptions } = require('../dist/data-source');

async function main() {
  const adminUrl = process.env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/test';
  const name = `rg_schema_check_${process.pid}`;
  const admin = new Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  const dataSource = new DataSource(dataSourceOptions({ databaseUrl: url.toString(), dataDir: '' }));
  try {
    await dataSource.initialize();
    await dataSource.runMigrations();
    const { upQueries } = await dataSource.driver.createSchemaBuilder().log();
    if (upQueries.length) {
      console.error('The entities differ from the migrations; synchronize would run:');
      for (const q of upQueries) console.error(`  ${q.query}`);
      process.exitCode = 1;
    } else {
      console.log('Schema check: the migrations match the entities.');
    }
  } finally {
    await dataSource.destroy().catch(() => undefined);
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.end();
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
