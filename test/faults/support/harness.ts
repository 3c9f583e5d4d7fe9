/**
 * The fault suite's harness: its own Postgres cluster and Redis, the built server as real API and
 * worker processes, a scriptable upstream, an audit trail of every status change (a trigger on the
 * suite's own database) and the one-line reports CI's log shows.
 */
import { randomBytes } from 'node:crypto';
import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import OpenAI from 'openai';
import { Pool } from 'pg';
import { DataSource } from 'typeorm';
import { dataSourceOptions } from '../../../src/data-source';
import { FakeUpstream, startFakeUpstream } from '../../support/fake-upstream';
import { ServerProcess, startProcess } from '../../support/processes';
import { missingBinaries, PgCluster, RedisServer } from './own-services';

export const SOAK = process.env.FAULTS_SOAK === '1';
/** `ci` normally, `soak` under FAULTS_SOAK=1. */
export const scale = (ci: number, soak: number): number => (SOAK ? soak : ci);

export const MODEL = 'upstream-model';
export const TERMINAL = ['completed', 'incomplete', 'failed', 'cancelled'] as const;
export const isTerminal = (status: string | null | undefined): boolean => (TERMINAL as readonly string[]).includes(status ?? '');
import { sleep } from '../../support/wait';
export { sleep };

/** Waits for `promise` at most `ms` (without leaving a timer behind); true if it settled in time. */
export async function within(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
  try {
    return await Promise.race([promise.then(() => true), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** A random integer in [min, max]. Fault timing is random on purpose; counts are printed. */
export const randomInt = (min: number, max: number) => min + Math.floor(Math.random() * (max - min + 1));

/**
 * The suite runs where Postgres and Redis binaries exist (CI's image). Elsewhere: a loud warning and
 * a todo, as the repository's other service-dependent suites do; under REQUIRE_SERVICES=1 a failure.
 */
export function faultSuite(name: string, body: () => void): void {
  const missing = missingBinaries();
  if (!missing.length) {
    describe(name, body);
    return;
  }
  if (process.env.REQUIRE_SERVICES === '1') {
    describe(name, () => {
      it('has the Postgres and Redis binaries it needs', () => {
        throw new Error(`REQUIRE_SERVICES=1 but missing: ${missing.join(', ')}`);
      });
    });
    return;
  }
  process.stderr.write(`\n!!! ${missing.join(', ')} missing: the fault tests "${name}" are NOT running. !!!\n\n`);
  it.todo(`${name}: needs ${missing.join(', ')}`);
}

/** One line per invariant check, in CI's log, and in test-results/faults-figures.jsonl for docs/reliability.md. */
export function report(check: string, counts: Record<string, number | string>): void {
  const line = `[faults] ${check}: ${Object.entries(counts)
    .map(([k, v]) => `${k}=${v}`)
    .join(' ')}${SOAK ? ' (soak)' : ''}`;
  process.stdout.write(`\n${line}\n`);
  try {
    const dir = join(__dirname, '../../../test-results');
    mkdirSync(dir, { recursive: true });
    appendFileSync(join(dir, 'faults-figures.jsonl'), `${JSON.stringify({ at: new Date().toISOString(), check, soak: SOAK, ...counts })}\n`);
  } catch {
    // the log line is what counts
  }
}

const AUDIT_SQL = `
  CREATE TABLE fault_audit (
    n bigserial PRIMARY KEY, id text NOT NULL, op text NOT NULL,
    old_status text, new_status text, old_attempt int, new_attempt int,
    at timestamptz NOT NULL DEFAULT clock_timestamp());
  CREATE FUNCTION fault_audit_fn() RETURNS trigger LANGUAGE plpgsql AS $$
  BEGIN
    IF TG_OP = 'INSERT' THEN
      INSERT INTO fault_audit (id, op, new_status, new_attempt) VALUES (NEW.id, 'I', NEW.status, NEW.attempt);
    ELSIF TG_OP = 'UPDATE' THEN
      IF NEW.status IS DISTINCT FROM OLD.status OR NEW.attempt IS DISTINCT FROM OLD.attempt THEN
        INSERT INTO fault_audit (id, op, old_status, new_status, old_attempt, new_attempt)
        VALUES (NEW.id, 'U', OLD.status, NEW.status, OLD.attempt, NEW.attempt);
      END IF;
    ELSE
      INSERT INTO fault_audit (id, op, old_status, old_attempt) VALUES (OLD.id, 'D', OLD.status, OLD.attempt);
    END IF;
    RETURN NULL;
  END $$;
  CREATE TRIGGER fault_audit AFTER INSERT OR UPDATE OR DELETE ON responses
    FOR EACH ROW EXECUTE FUNCTION fault_audit_fn();
  -- Vector store files (ingestion) in the same trail, keyed '<vector store>/<file>'.
  CREATE FUNCTION fault_audit_files_fn() RETURNS trigger LANGUAGE plpgsql AS $$
  BEGIN
    IF TG_OP = 'INSERT' THEN
      INSERT INTO fault_audit (id, op, new_status, new_attempt) VALUES (NEW.vector_store_id || '/' || NEW.file_id, 'I', NEW.status, NEW.attempt);
    ELSIF TG_OP = 'UPDATE' THEN
      IF NEW.status IS DISTINCT FROM OLD.status OR NEW.attempt IS DISTINCT FROM OLD.attempt THEN
        INSERT INTO fault_audit (id, op, old_status, new_status, old_attempt, new_attempt)
        VALUES (NEW.vector_store_id || '/' || NEW.file_id, 'U', OLD.status, NEW.status, OLD.attempt, NEW.attempt);
      END IF;
    ELSE
      INSERT INTO fault_audit (id, op, old_status, old_attempt) VALUES (OLD.vector_store_id || '/' || OLD.file_id, 'D', OLD.status, OLD.attempt);
    END IF;
    RETURN NULL;
  END $$;
  CREATE TRIGGER fault_audit_files AFTER INSERT OR UPDATE OR DELETE ON vector_store_files
    FOR EACH ROW EXECUTE FUNCTION fault_audit_files_fn();`;

export interface Row {
  id: string;
  status: string;
  attempt: number;
  background: boolean;
  output: unknown[];
  error: { code?: string; message?: string } | null;
}

export interface AuditFindings {
  /** Responses that entered a terminal state more than once. */
  double: string[];
  /** Status changes out of a terminal state. */
  changedAfterTerminal: string[];
  /** Rows inserted again after a delete. */
  reappeared: string[];
  /** Status changes against the lifecycle (other than the documented in_progress → queued hand-back). */
  backwards: string[];
}

const RANK: Record<string, number> = { queued: 0, in_progress: 1, completed: 2, incomplete: 2, failed: 2, cancelled: 2 };

export class Stack {
  readonly processes: ServerProcess[] = [];
  private readonly retired: ServerProcess[] = [];
  private readonly roles = new Map<ServerProcess, string>();
  pool!: Pool;

  private constructor(
    readonly pg: PgCluster,
    readonly redis: RedisServer,
    readonly upstream: FakeUpstream,
    readonly databaseUrl: string,
    readonly env: Record<string, string>,
  ) {}

  /** A cluster, a migrated database with the audit trigger, a Redis and an upstream. */
  static async create(extraEnv: Record<string, string> = {}): Promise<Stack> {
    const [pg, redis, upstream] = await Promise.all([PgCluster.create(), RedisServer.create(), startFakeUpstream()]);
    const databaseUrl = await pg.createDatabase('faults');
    const dataSource = new DataSource(dataSourceOptions({ databaseUrl, dataDir: '' }));
    await dataSource.initialize();
    await dataSource.runMigrations();
    await dataSource.query(AUDIT_SQL);
    await dataSource.destroy();
    const env = {
      DATABASE_URL: databaseUrl,
      REDIS_URL: redis.url,
      QUEUE_PREFIX: `rgf${randomBytes(3).toString('hex')}`,
      INFERENCE_BASE_URL: upstream.url,
      STALL_TIMEOUT_MS: '2000',
      RECONCILE_INTERVAL_MS: '500',
      SHUTDOWN_GRACE_MS: '3000',
      BACKGROUND_MAX_ATTEMPTS: '5',
      BACKGROUND_UPSTREAM_RETRIES: '2',
      INFERENCE_TIMEOUT_MS: '15000',
      LOG_LEVEL: 'info',
      // The test MCP server is on loopback: an internal server the operator allows.
      MCP_ALLOWED_HOSTS: '127.0.0.1',
      MCP_ALLOW_HTTP: 'true',
      ...extraEnv,
    };
    const stack = new Stack(pg, redis, upstream, databaseUrl, env);
    stack.pool = stack.newPool();
    return stack;
  }

  private newPool(): Pool {
    const pool = new Pool({ connectionString: this.databaseUrl, max: 4, connectionTimeoutMillis: 3000 });
    pool.on('error', () => undefined); // idle clients die with a Postgres restart: the next query reconnects
    return pool;
  }

  async start(role: 'api' | 'worker' | 'all', env: Record<string, string> = {}): Promise<ServerProcess> {
    const process = await startProcess({ ...this.env, ROLE: role, ...env }, 30_000);
    this.processes.push(process);
    this.roles.set(process, role);
    return process;
  }

  /** SIGKILL (crash) or SIGTERM (graceful) one of ours; it leaves the list of live processes. Resolves with its exit code or signal. */
  end(process: ServerProcess, how: 'kill' | 'stop'): Promise<number | string | null> {
    const index = this.processes.indexOf(process);
    if (index >= 0) this.processes.splice(index, 1);
    this.retired.push(process);
    return how === 'kill' ? process.kill() : process.stop();
  }

  client(process: ServerProcess, timeout = 20_000): OpenAI {
    return new OpenAI({ baseURL: `${process.url}/v1`, apiKey: 'x', maxRetries: 0, timeout });
  }

  /** The last lines every process (live or ended) printed, for a failing test's message. */
  logs(lines = 30): string {
    return [...this.retired, ...this.processes]
      .map((p, i) => `--- process ${i} (pid ${p.child.pid})\n${p.output().split('\n').slice(-lines).join('\n')}`)
      .join('\n');
  }

  /** Lines of any process's output matching `pattern`. */
  grep(pattern: RegExp): string[] {
    return [...this.retired, ...this.processes].flatMap((p) =>
      p
        .output()
        .split('\n')
        .filter((l) => pattern.test(l)),
    );
  }

  async query<T>(sql: string, params: unknown[] = []): Promise<T[]> {
    for (let attempt = 0; ; attempt++) {
      try {
        return (await this.pool.query(sql, params)).rows as T[];
      } catch (error) {
        if (attempt >= 20) throw error;
        await sleep(250); // Postgres may be restarting
      }
    }
  }

  async rows(ids: string[]): Promise<Map<string, Row>> {
    const rows = await this.query<Row>(
      `SELECT id, status, attempt, background, error,
         COALESCE((SELECT jsonb_agg(o.item ORDER BY o.position) FROM response_output_items o WHERE o.response_id = r.id), '[]'::jsonb) AS output
       FROM responses r WHERE id = ANY($1)`,
      [ids],
    );
    return new Map(rows.map((r) => [r.id, r]));
  }

  /** Waits until none of `ids` is queued or in_progress (deleted ones count as done); returns the rows. */
  async waitTerminal(ids: string[], timeoutMs: number): Promise<{ rows: Map<string, Row>; stuck: Row[]; ms: number }> {
    const started = Date.now();
    let rows = await this.rows(ids);
    while (Date.now() - started < timeoutMs) {
      if ([...rows.values()].every((r) => isTerminal(r.status))) break;
      await sleep(200);
      rows = await this.rows(ids);
    }
    return { rows, stuck: [...rows.values()].filter((r) => !isTerminal(r.status)), ms: Date.now() - started };
  }

  /** Checks the audit trail of every status change since the database was created. */
  async audit(): Promise<AuditFindings & { transitions: number }> {
    const trail = await this.query<{ id: string; op: string; old_status: string | null; new_status: string | null }>(
      'SELECT id, op, old_status, new_status FROM fault_audit ORDER BY n',
    );
    const findings: AuditFindings = { double: [], changedAfterTerminal: [], reappeared: [], backwards: [] };
    const terminalEntries = new Map<string, number>();
    const deleted = new Set<string>();
    for (const t of trail) {
      if (t.op === 'D') {
        deleted.add(t.id);
        continue;
      }
      if (t.op === 'I' && deleted.has(t.id)) findings.reappeared.push(t.id);
      if (isTerminal(t.new_status) && t.old_status !== t.new_status) terminalEntries.set(t.id, (terminalEntries.get(t.id) ?? 0) + 1);
      if (t.op === 'U' && t.old_status !== t.new_status) {
        if (isTerminal(t.old_status)) findings.changedAfterTerminal.push(`${t.id}: ${t.old_status} → ${t.new_status}`);
        else if (RANK[t.new_status ?? ''] < RANK[t.old_status ?? ''] && !(t.old_status === 'in_progress' && t.new_status === 'queued')) {
          findings.backwards.push(`${t.id}: ${t.old_status} → ${t.new_status}`);
        }
      }
    }
    for (const [id, n] of terminalEntries) if (n > 1) findings.double.push(id);
    return { ...findings, transitions: trail.length };
  }

  /** Every process's whole output, to test-results/faults-logs/<test file>/ (CI keeps test-results/). */
  private saveLogs(): void {
    try {
      const dir = join(__dirname, '../../../test-results/faults-logs', basename(expect.getState().testPath ?? 'unknown', '.fault-spec.ts'));
      mkdirSync(dir, { recursive: true });
      [...this.retired, ...this.processes].forEach((p, i) => writeFileSync(join(dir, `${i}-${this.roles.get(p) ?? 'process'}-${p.child.pid}.log`), p.output()));
    } catch {
      // logs are a help, not a result
    }
  }

  async destroy(): Promise<void> {
    await Promise.all([...this.processes].map((p) => p.kill().catch(() => undefined)));
    this.saveLogs();
    await this.pool?.end().catch(() => undefined);
    await this.upstream.close().catch(() => undefined);
    await this.redis.destroy().catch(() => undefined);
    await this.pg.destroy().catch(() => undefined);
  }
}

/** Text of a stored or returned output (all output_text parts of all messages). */
export function outputText(output: unknown[]): string {
  let text = '';
  for (const item of output as Array<{ type?: string; content?: Array<{ type?: string; text?: string }> }>) {
    if (item.type !== 'message') continue;
    for (const part of item.content ?? []) if (part.type === 'output_text') text += part.text ?? '';
  }
  return text;
}

/**
 * Whether a stamped text (pieces `[#seq:i]`, see the fake upstream's `stamp`) comes whole from one
 * upstream call: one seq, pieces 0..n-1 in order. Returns the seq, or an explanation.
 */
export function singleCall(text: string, pieces: number): { seq: number } | { problem: string } {
  const stamps = [...text.matchAll(/\[#(\d+):(\d+)\]/g)].map((m) => ({ seq: Number(m[1]), i: Number(m[2]) }));
  if (stamps.map((s) => `[#${s.seq}:${s.i}]`).join('') !== text) return { problem: `unstamped text: ${text.slice(0, 120)}` };
  const seqs = new Set(stamps.map((s) => s.seq));
  if (seqs.size !== 1) return { problem: `pieces of ${seqs.size} upstream calls: ${text.slice(0, 200)}` };
  if (stamps.length !== pieces || stamps.some((s, i) => s.i !== i)) return { problem: `partial or repeated output: ${text.slice(0, 200)}` };
  return { seq: stamps[0].seq };
}
