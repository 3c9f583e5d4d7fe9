import { ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';

const MAIN = join(__dirname, '../../dist/main.js');

interface Started {
  child: ChildProcess;
  url: string;
  output: () => string;
}

/** `node dist/main.js`, as the README starts it, on an ephemeral port; resolves once it listens. */
function startBuilt(env: Record<string, string>): Promise<Started> {
  const child = spawn(process.execPath, [MAIN], { env: { PATH: process.env.PATH ?? '', PORT: '0', LOG_LEVEL: 'info', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${output}`)), 20_000);
    const onData = (data: Buffer) => {
      output += data.toString();
      const match = /Listening on (http:\/\/[\d.]+:\d+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve({ child, url: match[1], output: () => output });
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code}:\n${output}`));
    });
  });
}

/** SIGTERM, as an orchestrator stops it; Nest closes the app and then re-raises the signal. */
function stop(child: ChildProcess): Promise<number | string | null> {
  return new Promise((resolve) => {
    if (child.exitCode !== null) return resolve(child.exitCode);
    child.once('exit', (code, signal) => resolve(code ?? signal));
    child.kill('SIGTERM');
  });
}

function runToExit(env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  const child = spawn(process.execPath, [MAIN], { env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  return new Promise((resolve) => child.once('exit', (code) => resolve({ code, output })));
}

describe('the built server (node dist/main.js), as a user starts it', () => {
  beforeAll(() => {
    if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: run \`npm run build\` first (\`npm test\` does).`);
  });

  it('serves /docs and the echo model on the embedded default, and keeps data across a restart', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'rg-built-'));
    let server = await startBuilt({ DATA_DIR: dataDir });
    let id: string;
    try {
      const docs = await fetch(`${server.url}/docs`);
      expect(docs.status).toBe(200);
      expect(await docs.text()).toContain('swagger');
      const spec = (await fetch(`${server.url}/openapi.json`).then((r) => r.json())) as { paths: Record<string, unknown>; components: { securitySchemes: Record<string, unknown> } };
      expect(Object.keys(spec.paths)).toEqual(expect.arrayContaining(['/v1/responses', '/v1/responses/{id}', '/v1/responses/{id}/input_items', '/v1/models']));
      expect(spec.components.securitySchemes).toHaveProperty('bearer');
      const client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: 'anything', maxRetries: 0 });
      const response = await client.responses.create({ model: 'echo', input: 'hi' });
      expect(response.output_text).toBe('Echo: hi');
      id = response.id;
    } finally {
      expect([0, 'SIGTERM']).toContain(await stop(server.child));
    }
    server = await startBuilt({ DATA_DIR: dataDir });
    try {
      const client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: 'anything', maxRetries: 0 });
      expect((await client.responses.retrieve(id)).output_text).toBe('Echo: hi');
    } finally {
      await stop(server.child);
    }
  });

  it('refuses to start on a bad setting, naming the variable, without a stack trace', async () => {
    const { code, output } = await runToExit({ PORT: 'eighty', DATA_DIR: mkdtempSync(join(tmpdir(), 'rg-bad-')) });
    expect(code).toBe(1);
    expect(output).toContain('PORT');
    expect(output).not.toMatch(/\n\s+at /);
  });
});
