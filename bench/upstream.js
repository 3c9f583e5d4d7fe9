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
 * little as possible; `bench-agent…` (figure 10's agent loop) answers every request with a `shell`
 * function call, the command of the turn (bench/agent-session.js; turn = tool results so far + 1). Only requests whose last user message starts with `tag:<name>` are recorded
 * (at most 20,000), with a sub-millisecond wall clock comparable across processes; the run waits
 * on them with `GET /_upstream/wait?tag=…&until=chunks:N|ended|closed&timeoutMs=…` (a long poll)
 * and reads `GET /_upstream/stats`.
 */
const path = require('node:path');
const { requireTs } = require('./typescript');
const session = require('./agent-session');

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
  const bench = fake.benchModelScripter();
  upstream.setScripter((body, seq) => {
    if (typeof body['model'] !== 'string' || !body['model'].startsWith('bench-agent')) return bench(body, seq);
    const messages = Array.isArray(body['messages']) ? /** @type {Array<{ role?: unknown }>} */ (body['messages']) : [];
    const turn = messages.filter((m) => m.role === 'tool').length + 1;
    // Rendered per request: the default call id (`call_fake<seq>_0`) must differ from turn to turn.
    return {
      toolCalls: [{ name: 'shell', arguments: JSON.stringify({ cmd: session.commandOf(turn).cmd }) }],
      usage: { prompt_tokens: 10 * turn, completion_tokens: 12 },
    };
  });
  process.stdout.write(`${JSON.stringify({ port: upstream.port })}\n`);
  process.on('SIGTERM', () => void upstream.close().finally(() => process.exit(0)));
}

main().catch((/** @type {unknown} */ error) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
