'use strict';
/* eslint-disable @typescript-eslint/no-require-imports -- CommonJS on purpose: `node bench/run.js` runs as is, with no build step */
/**
 * The benchmark's upstream: the tests' scriptable fake (test/support/fake-upstream.ts, one
 * upstream for tests and bench), run as its own process so that its CPU time can be read from
 * /proc apart from the gateway's:
 *
 *   node bench/upstream.js            → prints {"port":N} on stdout once it listens on 127.0.0.1
 *
 * Scripts by model name (`benchModelScripter`: `bench`, `bench-n<K>`, `bench-slow<MS>-n<K>`, each
 * with an optional `.<label>`), answered from bytes rendered once so that the upstream costs as
 * little as possible. Only requests whose last user message starts with `tag:<name>` are recorded
 * (at most 20,000), with a sub-millisecond wall clock comparable across processes; the run waits
 * on them with `GET /_upstream/wait?tag=…&until=chunks:N|ended|closed&timeoutMs=…` (a long poll)
 * and reads `GET /_upstream/stats`.
 */
const path = require('node:path');
const { requireTs } = require('./typescript');

/** @type {typeof import('../test/support/fake-upstream')} */
const fake = /** @type {typeof import('../test/support/fake-upstream')} */ (requireTs(path.join(__dirname, '..', 'test', 'support', 'fake-upstream.ts')));

async function main() {
  const upstream = await fake.startFakeUpstream({
    port: Number(process.env.PORT ?? 0),
    clock: () => performance.timeOrigin + performance.now(),
    recordOnlyTagged: true,
    maxRecords: 20_000,
    control: true,
  });
  upstream.setScripter(fake.benchModelScripter());
  process.stdout.write(`${JSON.stringify({ port: upstream.port })}\n`);
  process.on('SIGTERM', () => void upstream.close().finally(() => process.exit(0)));
}

main().catch((/** @type {unknown} */ error) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
