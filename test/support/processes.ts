import { ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';

export const MAIN = join(__dirname, '../../dist/main.js');

export interface ServerProcess {
  child: ChildProcess;
  /** http://127.0.0.1:PORT for API processes; '' for workers. */
  url: string;
  output(): string;
  /** SIGTERM (as an orchestrator stops it); resolves with the exit code or signal. */
  stop(): Promise<number | string | null>;
  /** SIGKILL: the process dies on the spot, mid-whatever; resolves with the exit code or signal. */
  kill(): Promise<number | string | null>;
}

/**
 * `node dist/main.js` as its own process, as users run it. Resolves when it listens (API) or
 * has started its worker; rejects with its output if it exits first.
 */
export function startProcess(env: Record<string, string>, timeoutMs = 20_000): Promise<ServerProcess> {
  const child = spawn(process.execPath, [MAIN], {
    env: { PATH: process.env.PATH ?? '', PORT: '0', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const exited = new Promise<number | string | null>((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal)));
  const handle = (url: string): ServerProcess => ({
    child,
    url,
    output: () => output,
    stop: () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      return exited;
    },
    kill: () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      return exited;
    },
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`process did not start within ${timeoutMs} ms:\n${output}`));
    }, timeoutMs);
    const onData = (data: Buffer) => {
      output += data.toString();
      const listening = /Listening on (http:\/\/[\d.]+:\d+)/.exec(output);
      if (listening || output.includes('Worker started')) {
        clearTimeout(timer);
        resolve(handle(listening?.[1] ?? ''));
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`process exited with ${code}:\n${output}`));
    });
  });
}

/** Runs `node dist/main.js` to its end (for start-up failures). */
export function runToExit(env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  const child = spawn(process.execPath, [MAIN], { env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  return new Promise((resolve) => child.once('exit', (code) => resolve({ code, output })));
}

/** Runs a script of dist/ (e.g. the keys CLI) to its end, with stdout and stderr apart. */
export function runCli(args: string[], env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, args, {
    cwd: join(__dirname, '../..'),
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve) => child.once('exit', (code) => resolve({ code, stdout, stderr })));
}
