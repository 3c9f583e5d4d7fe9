import 'reflect-metadata';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { parseArgs } from 'node:util';
import type { Principal } from '../common/principal';
import { loadConfig } from '../config/app-config';
import { ConfigModule } from '../config/config.module';
import { EnvironmentError } from '../config/environment';
import { WebhooksStore, WEBHOOK_EVENT_TYPES, type WebhookEventType } from '../webhooks/persistence/webhooks.store';
import { configuredDataSource } from '../data-source';
import { DatabaseModule } from '../database/database.module';
import { WebhooksPersistenceModule } from '../webhooks/persistence/webhooks-persistence.module';
import { OutboundModule } from '../outbound/outbound.module';
import { WEBHOOK_ADMIN_PROVIDERS } from '../webhooks/webhooks.module';
import { WebhooksService } from '../webhooks/webhooks.service';
import { OpenAIError } from '../common/openai-error';

const USAGE = `Usage: npm run webhooks -- <command> --tenant <tenant> [options]
  create --url <url> [--events <type,…>] [--disabled]   register an endpoint (its secret is shown once)
  list                                                   list endpoints (never their secrets); without --tenant: every tenant's
  show <endpoint id>                                     one endpoint
  enable <endpoint id> | disable <endpoint id>           turn deliveries on or off
  rotate <endpoint id> [--grace <seconds>]               new secret (shown once); the old one signs too during the grace period
  deliveries <endpoint id> [--limit <n>]                 the delivery log, newest first
  redeliver <endpoint id> <event id>                     deliver an event again
  delete <endpoint id>                                   delete an endpoint and its log
Event types: ${WEBHOOK_EVENT_TYPES.join(', ')}.
Uses the same DATABASE_URL / DATA_DIR, SECRETS_KEY and WEBHOOK_* settings as the server.`;

const COMMANDS = ['create', 'list', 'show', 'enable', 'disable', 'rotate', 'deliveries', 'redeliver', 'delete'];
const ARGS: Record<string, number> = { create: 0, list: 0, show: 1, enable: 1, disable: 1, rotate: 1, deliveries: 1, redeliver: 2, delete: 1 };

class UsageError extends Error {}

async function run(argv: string[], out: (line: string) => void): Promise<void> {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      tenant: { type: 'string' },
      url: { type: 'string' },
      events: { type: 'string' },
      disabled: { type: 'boolean' },
      grace: { type: 'string' },
      limit: { type: 'string' },
    },
  });
  const [command, ...rest] = positionals;
  if (!command || !COMMANDS.includes(command)) throw new UsageError(`Unknown command '${command ?? ''}'.`);
  if (rest.length !== ARGS[command]) throw new UsageError(`${command} takes ${ARGS[command]} argument(s).`);
  if (!values.tenant && command !== 'list') throw new UsageError(`${command} needs --tenant.`);
  if (command === 'create' && !values.url) throw new UsageError('create needs --url.');
  const events = values.events?.split(',').map((e) => e.trim());
  if (events?.some((e) => !(WEBHOOK_EVENT_TYPES as readonly string[]).includes(e)))
    throw new UsageError(`--events: one or more of ${WEBHOOK_EVENT_TYPES.join(', ')}.`);
  const number = (value: string | undefined, name: string) => {
    if (value === undefined) return undefined;
    if (!/^\d+$/.test(value)) throw new UsageError(`--${name} must be a whole number.`);
    return Number(value);
  };
  const grace = number(values.grace, 'grace');
  const limit = number(values.limit, 'limit');

  const config = loadConfig();
  @Module({
    imports: [ConfigModule.forRoot(config), OutboundModule, DatabaseModule.forRoot(configuredDataSource), WebhooksPersistenceModule],
    providers: WEBHOOK_ADMIN_PROVIDERS,
  })
  class WebhooksCliModule {}
  const app = await NestFactory.createApplicationContext(WebhooksCliModule, { logger: ['error'] });
  try {
    const service = app.get(WebhooksService);
    const principal: Principal = { owner: values.tenant ?? '', name: 'cli' };
    const print = (value: unknown) => out(JSON.stringify(value, null, 2));
    const [id, eventId] = rest;
    switch (command) {
      case 'create':
        print(await service.create(principal, { url: values.url!, event_types: events as WebhookEventType[] | undefined, enabled: !values.disabled }));
        return out('Store the secret now: it is not shown again.');
      case 'list': {
        const list = values.tenant
          ? (await service.list(principal)).data.map((e) => ({ ...e, tenant: principal.owner }))
          : await allTenants(app.get(WebhooksStore), service);
        out(['id', 'tenant', 'url', 'events', 'enabled', 'disabled reason'].join('\t'));
        for (const e of list) out([e.id, e.tenant, e.url, e.event_types.join(','), String(e.enabled), e.disabled_reason ?? '-'].join('\t'));
        return;
      }
      case 'show':
        return print(await service.retrieve(principal, id));
      case 'enable':
      case 'disable':
        return print(await service.update(principal, id, { enabled: command === 'enable' }));
      case 'rotate':
        print(await service.rotateSecret(principal, id, { grace_period_seconds: grace }));
        return out('Store the new secret now: it is not shown again.');
      case 'deliveries':
        return print(await service.listDeliveries(principal, id, { limit }));
      case 'redeliver':
        return print(await service.redeliver(principal, id, { event_id: eventId }));
      case 'delete':
        return print(await service.delete(principal, id));
    }
  } finally {
    await app.close();
  }
}

async function allTenants(store: WebhooksStore, service: WebhooksService) {
  const rows = [];
  for (const e of await store.listEndpoints()) {
    rows.push({ ...(await service.retrieve({ owner: e.owner, name: 'cli' }, e.id)), tenant: e.owner });
  }
  return rows;
}

run(process.argv.slice(2), (line) => process.stdout.write(`${line}\n`)).catch((error: unknown) => {
  if (error instanceof UsageError || error instanceof EnvironmentError || (error instanceof TypeError && 'code' in error)) {
    process.stderr.write(`${error.message}\n\n${USAGE}\n`);
    process.exit(2);
  }
  // An OpenAI-shaped error (a refused URL, an unknown id) is the user's to fix: its message, no stack.
  process.stderr.write(`${error instanceof OpenAIError ? `Error: ${error.message}` : error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
