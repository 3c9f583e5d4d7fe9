/**
 * Postgres and Redis instances that belong to one fault test file: the suite kills, restarts and
 * flushes them for real, so it never touches the shared services other tests use.
 */
import { ChildProcess, execFile, spawn } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Client } from 'pg';
import { sleep } from '../../support/wait';

const exec = promisify(execFile);

/** A port nobody listens on right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** The newest installed Postgres server binaries (Debian layout), or undefined. */
export function postgresBin(): string | undefined {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root)
    .filter((v) => existsSync(join(root, v, 'bin', 'initdb')))
    .sort((a, b) => Number(b) - Number(a));
  return versions.length ? join(root, versions[0], 'bin') : undefined;
}

export function redisBin(): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(':')) {
    if (dir && existsSync(join(dir, 'redis-server'))) return join(dir, 'redis-server');
  }
  return undefined;
}

/** What is missing to run the fault suite on this machine (empty: everything is there). */
export function missingBinaries(): string[] {
  const missing: string[] = [];
  if (!postgresBin()) missing.push('Postgres server binaries (/usr/lib/postgresql/*/bin/initdb)');
  if (!redisBin()) missing.push('redis-server');
  if (process.getuid?.() === 0 && !existsSync('/usr/sbin/runuser') && !existsSync('/sbin/runuser')) missing.push('runuser (initdb refuses root)');
  return missing;
}

/** A throwaway Postgres cluster in a temp dir: initdb, start, crash, stop. */
export class PgCluster {
  readonly port: number;
  private readonly bin: string;
  private readonly dir: string;
  private readonly asPostgres: boolean;

  private constructor(bin: string, dir: string, port: number) {
    this.bin = bin;
    this.dir = dir;
    this.port = port;
    this.asPostgres = process.getuid?.() === 0;
  }

  static async create(): Promise<PgCluster> {
    const bin = postgresBin();
    if (!bin) throw new Error('no Postgres binaries');
    const dir = mkdtempSync(join(tmpdir(), 'rg-faults-pg-'));
    const cluster = new PgCluster(bin, dir, await freePort());
    if (cluster.asPostgres) {
      const { stdout } = await exec('id', ['-u', 'postgres']);
      const { stdout: gid } = await exec('id', ['-g', 'postgres']);
      chownSync(dir, Number(stdout.trim()), Number(gid.trim()));
    }
    chmodSync(dir, 0o700);
    await cluster.run('initdb', ['-D', cluster.data, '-A', 'trust', '-U', 'postgres', '-N', '--no-instructions', '-E', 'UTF8']);
    await cluster.start();
    return cluster;
  }

  get data(): string {
    return join(this.dir, 'data');
  }

  /** URL of a database on this cluster. */
  url(database = 'postgres'): string {
    return `postgres://postgres@127.0.0.1:${this.port}/${database}`;
  }

  private run(tool: string, args: string[]): Promise<{ stdout: string; stderr: string }> {
    const binary = join(this.bin, tool);
    return this.asPostgres ? exec('runuser', ['-u', 'postgres', '--', binary, ...args], { cwd: this.dir }) : exec(binary, args, { cwd: this.dir });
  }

  private options(): string {
    return `-p ${this.port} -c listen_addresses=127.0.0.1 -k ${this.dir} -c fsync=off -c full_page_writes=off -c max_connections=200`;
  }

  async start(): Promise<void> {
    await this.run('pg_ctl', ['-D', this.data, '-l', join(this.dir, 'log'), '-o', this.options(), '-w', '-t', '30', 'start']);
  }

  /** `immediate` is a crash (no shutdown checkpoint, clients cut); `fast` a clean stop. */
  async stop(mode: 'immediate' | 'fast' = 'fast'): Promise<void> {
    await this.run('pg_ctl', ['-D', this.data, '-m', mode, '-w', '-t', '30', 'stop']);
  }

  /** A crash and a restart (`pg_ctl restart -m immediate`): the server is back when this resolves. */
  async crashRestart(): Promise<void> {
    await this.run('pg_ctl', ['-D', this.data, '-l', join(this.dir, 'log'), '-o', this.options(), '-m', 'immediate', '-w', '-t', '30', 'restart']);
  }

  async createDatabase(name: string): Promise<string> {
    const client = new Client({ connectionString: this.url() });
    await client.connect();
    await client.query(`CREATE DATABASE ${name}`);
    await client.end();
    return this.url(name);
  }

  async destroy(): Promise<void> {
    await this.stop('immediate').catch(() => undefined);
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** A redis-server of our own, without persistence: a restart loses everything, as in production without AOF. */
export class RedisServer {
  private child?: ChildProcess;
  private constructor(readonly port: number) {}

  static async create(): Promise<RedisServer> {
    const server = new RedisServer(await freePort());
    await server.start();
    return server;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  get running(): boolean {
    return !!this.child && this.child.exitCode === null && this.child.signalCode === null;
  }

  async start(): Promise<void> {
    const bin = redisBin();
    if (!bin) throw new Error('no redis-server');
    const child = spawn(bin, ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--protected-mode', 'no'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    let output = '';
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`redis-server did not start:\n${output}`)), 10_000);
      const onData = (d: Buffer) => {
        output += d.toString();
        if (output.includes('Ready to accept connections')) {
          clearTimeout(timer);
          resolve();
        }
      };
      child.stdout?.on('data', onData);
      child.stderr?.on('data', onData);
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`redis-server exited with ${code}:\n${output}`));
      });
    });
  }

  /** SIGKILL (a crash) or SIGTERM; resolves once the process is gone. */
  async stop(signal: 'SIGKILL' | 'SIGTERM' = 'SIGKILL'): Promise<void> {
    const child = this.child;
    if (!child || !this.running) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill(signal);
    await exited;
  }

  async restart(signal: 'SIGKILL' | 'SIGTERM' = 'SIGKILL', downMs = 0): Promise<void> {
    await this.stop(signal);
    if (downMs) await sleep(downMs);
    // The port may linger a moment in TIME_WAIT on some kernels; redis binds with SO_REUSEADDR.
    await this.start();
  }

  async destroy(): Promise<void> {
    await this.stop('SIGKILL');
  }
}
