import 'reflect-metadata';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { parseArgs } from 'node:util';
import { generateApiKey } from '../auth/api-key-secrets';
import { loadConfig } from '../config/app-config';
import { ConfigModule } from '../config/config.module';
import { EnvironmentError } from '../config/environment';
import { newId } from '../common/ids';
import { ApiKeysStore } from '../auth/persistence/api-keys.store';
import { AuthPersistenceModule } from '../auth/persistence/auth-persistence.module';
import { configuredDataSource } from '../data-source';
import { DatabaseModule } from '../database/database.module';

const USAGE = `Usage: npm run keys -- <command>
  create --tenant <tenant> --name <name>   create a key (its secret is shown once)
  list [--tenant <tenant>]                  list keys (never their secrets)
  revoke <key id>                           revoke a key (it stops working within 30 s)
Uses the same DATABASE_URL / DATA_DIR as the server.`;

class UsageError extends Error {}

async function run(argv: string[], out: (line: string) => void): Promise<void> {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { tenant: { type: 'string' }, name: { type: 'string' }, json: { type: 'boolean' } },
  });
  const [command, ...rest] = positionals;
  if (!command || !['create', 'list', 'revoke'].includes(command)) throw new UsageError(`Unknown command '${command ?? ''}'.`);
  if (command === 'create' && (!values.tenant || !values.name)) throw new UsageError('create needs --tenant and --name.');
  if (command === 'revoke' && rest.length !== 1) throw new UsageError('revoke needs exactly one key id.');

  const config = loadConfig();
  @Module({ imports: [ConfigModule.forRoot(config), DatabaseModule.forRoot(configuredDataSource), AuthPersistenceModule] })
  class KeysCliModule {}
  const app = await NestFactory.createApplicationContext(KeysCliModule, { logger: ['error'] });
  try {
    const keys = app.get(ApiKeysStore);
    if (command === 'create') {
      const { secret, digest, prefix } = generateApiKey();
      const record = { id: newId('key'), owner: values.tenant!, name: values.name!, prefix, createdAt: new Date(), revokedAt: null };
      await keys.create({ ...record, digest });
      out(JSON.stringify({ id: record.id, tenant: record.owner, name: record.name, key: secret }, null, 2));
      out('Store the key now: it is not shown again.');
    } else if (command === 'list') {
      const list = await keys.list(values.tenant);
      if (values.json) return out(JSON.stringify(list, null, 2));
      out(['id', 'tenant', 'name', 'prefix', 'created', 'revoked'].join('\t'));
      for (const k of list) out([k.id, k.owner, k.name, `${k.prefix}…`, k.createdAt.toISOString(), k.revokedAt?.toISOString() ?? '-'].join('\t'));
    } else {
      if (!(await keys.revoke(rest[0]))) throw new UsageError(`No active key with id '${rest[0]}'.`);
      out(`Revoked ${rest[0]}.`);
    }
  } finally {
    await app.close();
  }
}

run(process.argv.slice(2), (line) => process.stdout.write(`${line}\n`)).catch((error: unknown) => {
  if (error instanceof UsageError || error instanceof EnvironmentError || (error instanceof TypeError && 'code' in error)) {
    process.stderr.write(`${error.message}\n\n${USAGE}\n`);
    process.exit(2);
  }
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
