import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import { startFakeUpstream } from '../support/fake-upstream';
import { MAIN, runToExit, startProcess } from '../support/processes';
import { waitFor } from '../support/wait';

describe('the built server (node dist/main.js), as a user starts it', () => {
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
      const spec = (await fetch(`${server.url}/openapi.json`).then((r) => r.json())) as { paths: Record<string, unknown>; components: { securitySchemes: Record<string, unknown> } };
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
        const done = await waitFor(() => client().responses.retrieve(id), (r) => r.status !== 'queued' && r.status !== 'in_progress');
        expect(done.status).toBe('completed');
        expect(done.output_text).toBe('finished after restart');
      }
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
      const failed = await waitFor(() => client().responses.retrieve(id), (r) => r.status === 'failed');
      expect(failed.error).toMatchObject({ code: 'server_error' });
      expect(upstream.requests).toHaveLength(1);
    } finally {
      await server.stop();
      await upstream.close();
    }
  });

  it('refuses to start on a bad setting, naming the variable, without a stack trace', async () => {
    const { code, output } = await runToExit({ PORT: 'eighty', DATA_DIR: mkdtempSync(join(tmpdir(), 'rg-bad-')) });
    expect(code).toBe(1);
    expect(output).toContain('PORT');
    expect(output).not.toMatch(/\n\s+at /);
  });
});
