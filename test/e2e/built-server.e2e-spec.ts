import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import { startFakeUpstream } from '../support/fake-upstream';
import { collect } from '../support/streams';
import { MAIN, runCli, runToExit, startProcess } from '../support/processes';
import { waitFor } from '../support/wait';

describe('the built server (node dist/main.js), as a user starts it', () => {
  // Real processes on fresh data directories: a first start migrates an empty PGlite (about 8 s on
  // this machine with every migration), and the key CLI test starts seven CLI runs and a server.
  jest.setTimeout(120_000);

  beforeAll(() => {
    if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: run \`npm run build\` first (\`npm test\` does).`);
  });

  it('serves /docs and the echo model on the embedded default, and keeps data across a restart', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'rg-built-'));
    let server = await startProcess({ DATA_DIR: dataDir });
    let id: string;
    try {
      const docs = await fetch(`${server.url}/docs`);
      expect(docs.status).toBe(200);
      expect(await docs.text()).toContain('swagger');
      const spec = (await fetch(`${server.url}/openapi.json`).then((r) => r.json())) as {
        paths: Record<string, unknown>;
        components: { securitySchemes: Record<string, unknown> };
      };
      expect(Object.keys(spec.paths)).toEqual(expect.arrayContaining(['/v1/responses', '/v1/responses/{id}', '/v1/responses/{id}/input_items', '/v1/models']));
      expect(spec.components.securitySchemes).toHaveProperty('bearer');
      const client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: 'anything', maxRetries: 0 });
      const response = await client.responses.create({ model: 'echo', input: 'hi' });
      expect(response.output_text).toBe('Echo: hi');
      id = response.id;
    } finally {
      // Nest closes the app on SIGTERM, then re-raises the signal.
      expect([0, 'SIGTERM']).toContain(await server.stop());
    }
    server = await startProcess({ DATA_DIR: dataDir });
    try {
      const client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: 'anything', maxRetries: 0 });
      expect((await client.responses.retrieve(id)).output_text).toBe('Echo: hi');
    } finally {
      await server.stop();
    }
  });

  it('picks up, after a restart, the background responses that were unfinished when the process was killed', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'rg-built-'));
    const upstream = await startFakeUpstream();
    upstream.setDefault({ hang: true }); // the first run hangs, the rest wait behind it
    const env = { DATA_DIR: dataDir, BACKGROUND_CONCURRENCY: '1', INFERENCE_BASE_URL: upstream.url };
    let server = await startProcess(env);
    const client = () => new OpenAI({ baseURL: `${server.url}/v1`, apiKey: 'anything', maxRetries: 0 });
    try {
      const ids: string[] = [];
      for (let i = 0; i < 5; i++) ids.push((await client().responses.create({ model: 'm', input: `job ${i}`, background: true })).id);
      await upstream.waitForRequests(1, 5000);
      const before = await Promise.all(ids.map((id) => client().responses.retrieve(id)));
      expect(before.map((r) => r.status)).toEqual(['in_progress', 'queued', 'queued', 'queued', 'queued']);
      await server.kill();
      upstream.setDefault({ text: 'finished after restart' });
      server = await startProcess(env);
      for (const id of ids) {
        const done = await waitFor(
          () => client().responses.retrieve(id),
          (r) => r.status !== 'queued' && r.status !== 'in_progress',
        );
        expect(done.status).toBe('completed');
        expect(done.output_text).toBe('finished after restart');
      }
    } finally {
      await server.stop();
      await upstream.close();
    }
  });

  // A streamed one: it is stored when it starts. (A non-streaming one is stored when it ends, so
  // a kill mid-run leaves no row at all — docs/architecture.md.)
  it('fails, after a restart, a streamed synchronous response whose process was killed mid-run (never left in_progress)', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'rg-built-'));
    const upstream = await startFakeUpstream();
    upstream.setDefault({ hang: true });
    const env = { DATA_DIR: dataDir, INFERENCE_BASE_URL: upstream.url };
    let server = await startProcess(env);
    const client = () => new OpenAI({ baseURL: `${server.url}/v1`, apiKey: 'anything', maxRetries: 0 });
    try {
      const stream = await client().responses.create({ model: 'm', input: 'x', stream: true });
      const pending = collect(stream).catch((e: unknown) => e);
      await upstream.waitForRequests(1, 5000);
      await server.kill();
      expect(await pending).toMatchObject({ message: expect.any(String) }); // the stream broke off
      server = await startProcess(env);
      const list = () =>
        fetch(`${server.url}/v1/responses?limit=1`).then((r) => r.json() as Promise<{ data: Array<{ status: string; error: { code: string } | null }> }>);
      const page = await waitFor(list, (p) => p.data[0]?.status === 'failed');
      expect(page.data[0].error).toMatchObject({ code: 'server_error' });
    } finally {
      await server.stop();
      await upstream.close();
    }
  });

  it('fails a response, with server_error, once its runs were interrupted BACKGROUND_MAX_ATTEMPTS times', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'rg-built-'));
    const upstream = await startFakeUpstream();
    upstream.setDefault({ hang: true });
    const env = { DATA_DIR: dataDir, INFERENCE_BASE_URL: upstream.url, BACKGROUND_MAX_ATTEMPTS: '1' };
    let server = await startProcess(env);
    const client = () => new OpenAI({ baseURL: `${server.url}/v1`, apiKey: 'anything', maxRetries: 0 });
    try {
      const { id } = await client().responses.create({ model: 'm', input: 'x', background: true });
      await upstream.waitForRequests(1, 5000);
      await server.kill(); // its one attempt dies with it
      server = await startProcess(env);
      const failed = await waitFor(
        () => client().responses.retrieve(id),
        (r) => r.status === 'failed',
      );
      expect(failed.error).toMatchObject({ code: 'server_error' });
      expect(upstream.requests).toHaveLength(1);
    } finally {
      await server.stop();
      await upstream.close();
    }
  });

  it('manages keys with the CLI; the server then accepts exactly the active keys, and logs neither keys nor prompts', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'rg-keys-'));
    const cli = (...args: string[]) => runCli(['dist/cli/keys.js', ...args], { DATA_DIR: dataDir });
    const created = await cli('create', '--tenant', 'acme', '--name', 'ci');
    expect(created.code).toBe(0);
    const { id, key, tenant } = JSON.parse(created.stdout.slice(0, created.stdout.lastIndexOf('}') + 1)) as { id: string; key: string; tenant: string };
    expect(tenant).toBe('acme');
    expect(key).toMatch(/^sk-rg-/);
    const second = JSON.parse((await cli('create', '--tenant', 'acme', '--name', 'other')).stdout.split('\nStore')[0]) as { id: string; key: string };
    const listed = await cli('list', '--tenant', 'acme');
    expect(listed.stdout).toContain(id);
    expect(listed.stdout).not.toContain(key); // secrets are never listed
    expect((await cli('revoke', second.id)).code).toBe(0);
    expect((await cli('revoke', second.id)).code).toBe(2);
    expect((await cli('frobnicate')).code).toBe(2);

    const server = await startProcess({ DATA_DIR: dataDir, AUTH_REQUIRED: 'true' });
    try {
      const client = (k: string) => new OpenAI({ baseURL: `${server.url}/v1`, apiKey: k, maxRetries: 0 });
      const secretPrompt = 'the-secret-prompt-text';
      const r = await client(key).responses.create({ model: 'echo', input: secretPrompt });
      expect(r.output_text).toBe(`Echo: ${secretPrompt}`);
      await expect(client(second.key).models.list()).rejects.toMatchObject({ status: 401 });
      await expect(client('sk-rg-made-up').models.list()).rejects.toMatchObject({ status: 401 });
      const logs = server.output();
      expect(logs).toContain('"reqId":"req_');
      expect(logs).not.toContain(key);
      expect(logs).not.toContain(second.key);
      expect(logs).not.toContain(secretPrompt);
      for (const line of logs.split('\n').filter((l) => l.startsWith('{'))) expect(() => JSON.parse(line) as unknown).not.toThrow();
    } finally {
      await server.stop();
    }
  });

  it('refuses a public interface without authentication, unless told it is fine', async () => {
    const refused = await runToExit({ HOST: '0.0.0.0', PORT: '0', DATA_DIR: mkdtempSync(join(tmpdir(), 'rg-public-')) });
    expect(refused.code).toBe(1);
    expect(refused.output).toMatch(/Refusing to listen on HOST=0\.0\.0\.0/);
    const allowed = await startProcess({ HOST: '0.0.0.0', DATA_DIR: mkdtempSync(join(tmpdir(), 'rg-public-')), ALLOW_UNAUTHENTICATED_PUBLIC: 'true' });
    await allowed.stop();
  });

  it('refuses to start on a bad setting, naming the variable, without a stack trace', async () => {
    const { code, output } = await runToExit({ PORT: 'eighty', DATA_DIR: mkdtempSync(join(tmpdir(), 'rg-bad-')) });
    expect(code).toBe(1);
    expect(output).toContain('PORT');
    expect(output).not.toMatch(/\n\s+at /);
  });
});
