/**
 * Item 7: a rolling restart under load — SIGTERM to API and worker processes while synchronous and
 * background creates keep coming. Every request answered 2xx is in Postgres and ends; a request
 * refused during shutdown got a clean refusal (connection refused or 503), never a cut connection.
 */
import { randomBytes } from 'node:crypto';
import type { ServerProcess } from '../support/processes';
import { faultSuite, isTerminal, MODEL, outputText, randomInt, report, scale, singleCall, sleep, Stack } from './support/harness';
import { postFresh, RawResult, Tally } from './support/http';

const PIECES = 5;
/** Some background responses outlast the shutdown grace period: a stopping worker must hand them back. */
const LONG_PIECES = 40;

interface Sent {
  tag: string;
  /** The API process it was sent to. */
  api: ServerProcess;
  background: boolean;
  long: boolean;
  result: RawResult;
}

faultSuite('fault: graceful shutdown (SIGTERM) under load', () => {
  let stack: Stack;
  /** The API processes the "load balancer" sends to; a stopping one stays in until it has exited. */
  let routable: ServerProcess[] = [];
  let workers: ServerProcess[] = [];

  beforeAll(async () => {
    stack = await Stack.create({ SHUTDOWN_GRACE_MS: '4000' });
    stack.upstream.setScripter((body) =>
      JSON.stringify(body.messages).includes('long-run') ? { stamp: LONG_PIECES, chunkDelayMs: 150 } : { stamp: PIECES, chunkDelayMs: randomInt(20, 150) },
    );
    routable = await Promise.all([stack.start('api'), stack.start('api')]);
    workers = await Promise.all([stack.start('worker'), stack.start('worker')]);
  }, 90_000);

  afterAll(() => stack?.destroy());

  it('loses no accepted request when API and worker processes are stopped one by one', async () => {
    const sent: Sent[] = [];
    let stopping = false;
    let faults = 0;
    const lanes = Array.from({ length: 4 }, async (_, lane) => {
      for (let n = 0; !stopping; n++) {
        const api = routable[randomInt(0, routable.length - 1)];
        const background = (n + lane) % 3 !== 0;
        const tag = `t${randomBytes(6).toString('hex')}`;
        const long = background && n % 15 === 1;
        const result = await postFresh(`${api.url}/v1/responses`, { model: MODEL, input: `shutdown ${tag}${long ? ' long-run' : ''}`, background });
        sent.push({ tag, api, background, long, result });
        await sleep(randomInt(20, 120));
      }
    });

    // A rolling deploy of each tier, both tiers at once: start a replacement, then SIGTERM the old one.
    const rounds = scale(1, 5);
    /** How each SIGTERMed process ended, and the API processes that were stopped. */
    const exits: Array<{ role: 'api' | 'worker'; exit: number | string | null }> = [];
    const stoppedApis: ServerProcess[] = [];
    const rollApis = async () => {
      for (let i = 0; i < 2 * rounds; i++) {
        await sleep(randomInt(500, 1200));
        const old = routable[0];
        routable.push(await stack.start('api'));
        const exited = stack.end(old, 'stop');
        faults++;
        stoppedApis.push(old);
        exits.push({ role: 'api', exit: await exited });
        routable = routable.filter((p) => p !== old);
      }
    };
    const rollWorkers = async () => {
      for (let i = 0; i < 2 * rounds; i++) {
        await sleep(randomInt(500, 1200));
        const old = workers[0];
        workers = [...workers.slice(1), await stack.start('worker')];
        exits.push({ role: 'worker', exit: await stack.end(old, 'stop') });
        faults++;
      }
    };
    await Promise.all([rollApis(), rollWorkers()]);
    await sleep(500);
    stopping = true;
    await Promise.all(lanes);

    const outcomes = new Tally();
    for (const s of sent) outcomes.add(s.result);
    const accepted = sent.filter((s) => s.result.status === 200);
    const ids = accepted.map((s) => (s.result.body as { id: string }).id);
    const { rows, stuck, ms } = await stack.waitTerminal(ids, 60_000);
    const audit = await stack.audit();
    // Runs a stopping worker handed back (in_progress → queued) instead of finishing them within the grace period.
    const [{ n: handbacks }] = await stack.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM fault_audit WHERE old_status = 'in_progress' AND new_status = 'queued'`,
    );

    const problems: string[] = [];
    let completed = 0;
    for (const s of accepted) {
      const body = s.result.body as { id: string; status: string };
      const row = rows.get(body.id);
      if (!row) {
        problems.push(`${body.id} (${s.background ? 'background' : 'sync'}) answered 200 but is not in Postgres`);
        continue;
      }
      if (!s.background && body.status !== 'completed') problems.push(`${body.id}: synchronous answer ${body.status}`);
      if (row.status === 'completed') {
        completed++;
        const check = singleCall(outputText(row.output), s.long ? LONG_PIECES : PIECES);
        if ('problem' in check) problems.push(`${row.id}: ${check.problem}`);
      } else if (row.status === 'cancelled') problems.push(`${row.id}: cancelled on the user's behalf`);
    }
    // Refusals: connection refused or 503 are clean. A connection reset is ambiguous for the client, so
    // each one is looked up: stored (accepted, answer lost) would break the promise; not stored is a refusal.
    const unclean = sent.filter((s) => s.result.status !== 200 && s.result.status !== 503 && s.result.network !== 'ECONNREFUSED');
    const unanswered: string[] = [];
    let droppedAccepted = 0;
    for (const s of unclean) {
      const found = await stack.query<{ id: string; status: string }>(`SELECT id, status FROM responses WHERE request::text LIKE $1`, [`%${s.tag}%`]);
      unanswered.push(
        `${s.tag} (${s.background ? 'background' : 'sync'}): ${s.result.status || s.result.network} ${s.result.text.slice(0, 120)}; stored: ${found.map((f) => `${f.id} ${f.status}`).join(', ') || 'no'}`,
      );
      if (found.length || s.result.status) droppedAccepted++;
      for (const f of found) if (!isTerminal(f.status)) problems.push(`${f.id}: stored after a cut request and left ${f.status}`);
    }
    const lost = problems.filter((p) => p.includes('not in Postgres')).length + stuck.length;

    report('graceful-shutdown', {
      requests: sent.length,
      accepted: accepted.length,
      background: accepted.filter((s) => s.background).length,
      sync: accepted.filter((s) => !s.background).length,
      faults,
      outcomes: outcomes.toString(),
      terminal: ids.length - stuck.length,
      completed,
      handbacks,
      lost,
      reset_not_stored: unclean.length - droppedAccepted,
      dropped_accepted: droppedAccepted,
      double: audit.double.length + audit.changedAfterTerminal.length,
      settle_ms: ms,
    });
    const all = { problems, unanswered, stuck: stuck.map((r) => `${r.id} ${r.status} attempt ${r.attempt}`), audit };
    if (problems.length || stuck.length || droppedAccepted || audit.double.length || audit.changedAfterTerminal.length || audit.backwards.length) {
      throw new Error(
        `invariants broken: ${JSON.stringify(all, null, 1).slice(0, 5000)}\n${stack
          .grep(/"level":(40|50|60)/)
          .slice(-8)
          .join('\n')}`,
      );
    }
    expect(accepted.length).toBeGreaterThan(50);
    // Each SIGTERM ended its process the graceful way (Nest re-raises the signal after its shutdown hooks), never a crash.
    expect(exits.filter((e) => e.exit !== 0 && e.exit !== 'SIGTERM')).toEqual([]);
    // And each API process was stopped while it carried load: it had answered accepted requests.
    expect(stoppedApis.filter((old) => !accepted.some((s) => s.api === old)).map((old) => old.url)).toEqual([]);
  }, 240_000);
});
