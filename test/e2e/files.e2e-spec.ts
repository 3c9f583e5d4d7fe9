import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI, { toFile } from 'openai';
import type { FileObject } from 'openai/resources/files';
import { DataSource } from 'typeorm';
import { FilesSweeper } from '../../src/files/files-sweeper';
import { FilesService } from '../../src/files/files.service';
import { storeBackends } from '../support/backends';
import { type E2eBackend, useE2e } from '../support/e2e';
import { waitFor } from '../support/wait';

const MiB = 1024 * 1024;

/** Every file under `dir`, recursively (none when it does not exist). */
const filesUnder = (dir: string): string[] => {
  try {
    return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? filesUnder(join(dir, e.name)) : [join(dir, e.name)]));
  } catch {
    return [];
  }
};

/** The embedded default as a user runs it: PGlite in DATA_DIR, file content in DATA_DIR/files. */
function embeddedDefault(): E2eBackend & { name: string; filesDir?: string } {
  const backend: E2eBackend & { name: string; filesDir?: string } = {
    name: 'the embedded default (PGlite and file content in DATA_DIR)',
    setup() {
      const dataDir = mkdtempSync(join(tmpdir(), 'rg-files-e2e-'));
      backend.filesDir = join(dataDir, 'files');
      return Promise.resolve({ env: { DATA_DIR: dataDir }, teardown: () => Promise.resolve(rmSync(dataDir, { recursive: true, force: true })) });
    },
  };
  return backend;
}

const backends = storeBackends('files').map((b) =>
  b.name === 'pglite' ? embeddedDefault() : { ...b, name: 'Postgres (content in file_contents)', filesDir: undefined },
);

const caught = (promise: Promise<unknown>) =>
  promise.then(
    () => null,
    (error: unknown) => error,
  );

describe.each(backends)('Files API on $name (openai SDK → gateway)', (backend) => {
  const e2e = useE2e({
    backend,
    upstream: false,
    env: {
      API_KEYS: 'sk-a:team-a,sk-b:team-b,sk-c:team-c',
      FILES_MAX_BYTES: String(2 * MiB),
      FILES_MAX_BYTES_PER_TENANT: String(3 * MiB),
      FILES_UPLOAD_TIMEOUT_MS: '5000',
    },
  });
  let alice: OpenAI;
  let bob: OpenAI;
  let carol: OpenAI;
  beforeAll(() => {
    alice = e2e.as('sk-a');
    bob = e2e.as('sk-b');
    carol = e2e.as('sk-c');
  });

  const text = (s: string, name = 'a.txt') => toFile(Buffer.from(s), name);
  /** What is stored at all: rows (ready or not) and pieces of content (table rows and files on disk). */
  async function stored(): Promise<{ rows: number; contents: number }> {
    const db = e2e.app.app.get(DataSource);
    const rows = Number((await db.query(`SELECT count(*) AS n FROM files`))[0].n);
    const parts = Number((await db.query(`SELECT count(*) AS n FROM file_contents`))[0].n);
    return { rows, contents: parts + (backend.filesDir ? filesUnder(backend.filesDir).length : 0) };
  }
  const post = (form: FormData, key = 'sk-a') => fetch(`${e2e.url}/v1/files`, { method: 'POST', body: form, headers: { authorization: `Bearer ${key}` } });

  it('uploads with files.create(toFile), and retrieves, downloads, lists and deletes the file', async () => {
    const before = Math.floor(Date.now() / 1000);
    const created = await alice.files.create({ file: await text('Our refund policy: 30 days.', 'policy.txt'), purpose: 'assistants' });
    expect(created).toEqual({
      id: expect.stringMatching(/^file-[0-9a-f]{48}$/),
      object: 'file',
      bytes: 27,
      created_at: expect.any(Number),
      filename: 'policy.txt',
      purpose: 'assistants',
      status: 'processed',
    });
    expect(created.created_at).toBeGreaterThanOrEqual(before);
    expect(await alice.files.retrieve(created.id)).toEqual(created);
    const content = await alice.files.content(created.id);
    expect(content.headers.get('content-type')).toBe('text/plain');
    expect(content.headers.get('content-disposition')).toContain('policy.txt');
    expect(content.headers.get('x-content-type-options')).toBe('nosniff');
    expect(await content.text()).toBe('Our refund policy: 30 days.');
    expect((await alice.files.list()).data).toContainEqual(created);

    expect(await alice.files.delete(created.id)).toEqual({ id: created.id, object: 'file', deleted: true });
    const notFound = { status: 404, param: 'id', message: expect.stringContaining(`No such File object: ${created.id}`) as unknown };
    await expect(alice.files.retrieve(created.id)).rejects.toMatchObject(notFound);
    await expect(alice.files.content(created.id)).rejects.toMatchObject(notFound);
    await expect(alice.files.delete(created.id)).rejects.toMatchObject(notFound);
    expect((await alice.files.list()).data.map((f) => f.id)).not.toContain(created.id);
  });

  it('keeps binary content of several storage parts byte for byte, typed by its name', async () => {
    const data = randomBytes(Math.floor(1.5 * MiB));
    const file = await alice.files.create({ file: await toFile(data, 'blob.bin'), purpose: 'user_data' });
    expect(file.bytes).toBe(data.length);
    const content = await alice.files.content(file.id);
    expect(content.headers.get('content-type')).toBe('application/octet-stream');
    expect(content.headers.get('content-length')).toBe(String(data.length));
    expect(Buffer.from(await content.arrayBuffer()).equals(data)).toBe(true);
    // The service the later stages use: by owner, null for anyone else.
    const files = e2e.app.app.get(FilesService);
    expect((await files.read('team-a', file.id))?.equals(data)).toBe(true);
    expect(await files.read('team-b', file.id)).toBeNull();
    expect(await files.get('team-a', file.id)).toEqual(file);
    expect(await files.get('team-b', file.id)).toBeNull();
    const json = await alice.files.create({ file: await text('{"a":1}', 'data.json'), purpose: 'user_data' });
    expect((await alice.files.content(json.id)).headers.get('content-type')).toBe('application/json');
    await alice.files.delete(file.id);
    await alice.files.delete(json.id);
    expect(await files.read('team-a', file.id)).toBeNull();
  });

  it('lists with pagination (SDK auto-paging), both orders, by purpose', async () => {
    const made: FileObject[] = [];
    for (let i = 0; i < 5; i++) made.push(await alice.files.create({ file: await text(`doc ${i}`, `doc-${i}.txt`), purpose: 'fine-tune' }));
    const other = await alice.files.create({ file: await text('other'), purpose: 'vision' });
    const ids = made.map((f) => f.id);

    const first = await alice.files.list({ purpose: 'fine-tune', limit: 2, order: 'asc' });
    expect(first.data.map((f) => f.id)).toEqual(ids.slice(0, 2));
    expect(first.has_more).toBe(true);
    const paged: string[] = [];
    for await (const f of alice.files.list({ purpose: 'fine-tune', limit: 2, order: 'asc' })) paged.push(f.id);
    expect(paged).toEqual(ids);
    const desc = await alice.files.list({ purpose: 'fine-tune', limit: 10, order: 'desc' });
    expect(desc.data.map((f) => f.id)).toEqual([...ids].reverse());
    expect(desc.has_more).toBe(false);
    // The default: newest first, up to 10,000.
    const all = await alice.files.list();
    expect(all.data.slice(0, 6).map((f) => f.id)).toEqual([other.id, ...[...ids].reverse()]);
    const raw = (await fetch(`${e2e.url}/v1/files?purpose=fine-tune&limit=2&order=asc`, { headers: { authorization: 'Bearer sk-a' } }).then((r) =>
      r.json(),
    )) as {
      first_id: string;
      last_id: string;
    };
    expect(raw).toMatchObject({ object: 'list', first_id: ids[0], last_id: ids[1], has_more: true });

    await expect(alice.files.list({ after: 'file-nope' })).rejects.toMatchObject({ status: 400, param: 'after' });
    await expect(alice.files.list({ limit: 0 })).rejects.toMatchObject({ status: 400, param: 'limit' });
    await expect(alice.files.list({ limit: 10_001 })).rejects.toMatchObject({ status: 400, param: 'limit' });
    await expect(alice.files.list({ purpose: 'nope' })).rejects.toMatchObject({ status: 400, param: 'purpose' });
    for (const f of [...made, other]) await alice.files.delete(f.id);
  });

  it('refuses a file over FILES_MAX_BYTES with a 413 naming file, and keeps nothing of it', async () => {
    const before = await stored();
    const error = await caught(alice.files.create({ file: await toFile(randomBytes(8 * MiB), 'big.bin'), purpose: 'assistants' }));
    expect(error).toBeInstanceOf(OpenAI.APIError);
    expect(error).toMatchObject({ status: 413, param: 'file', code: 'file_too_large', type: 'invalid_request_error' });
    // Just over the limit is refused too; exactly at it is accepted.
    await expect(alice.files.create({ file: await toFile(Buffer.alloc(2 * MiB + 1), 'over.bin'), purpose: 'assistants' })).rejects.toMatchObject({
      status: 413,
    });
    expect(await stored()).toEqual(before);
    const exact = await alice.files.create({ file: await toFile(Buffer.alloc(2 * MiB), 'exact.bin'), purpose: 'assistants' });
    expect(exact.bytes).toBe(2 * MiB);
    await alice.files.delete(exact.id);
    expect(await stored()).toEqual(before);
  });

  it('answers 400 naming the field for a bad or missing purpose, a missing file, a bad expires_after, and a body that is no form', async () => {
    const before = await stored();
    await expect(alice.files.create({ file: await text('x'), purpose: 'nope' as 'assistants' })).rejects.toMatchObject({ status: 400, param: 'purpose' });
    // Purpose first (refused before any byte is stored), and purpose missing.
    const purposeFirst = new FormData();
    purposeFirst.append('purpose', 'wrong');
    purposeFirst.append('file', new Blob(['x']), 'a.txt');
    const refused = await post(purposeFirst);
    expect(refused.status).toBe(400);
    expect(await refused.json()).toEqual({ error: expect.objectContaining({ param: 'purpose', type: 'invalid_request_error' }) });
    const noPurpose = new FormData();
    noPurpose.append('file', new Blob(['x']), 'a.txt');
    expect(await (await post(noPurpose)).json()).toEqual({ error: expect.objectContaining({ param: 'purpose', code: 'missing_required_parameter' }) });
    const noFile = new FormData();
    noFile.append('purpose', 'assistants');
    expect(await (await post(noFile)).json()).toEqual({ error: expect.objectContaining({ param: 'file', code: 'missing_required_parameter' }) });
    const fileAsText = new FormData();
    fileAsText.append('file', 'just text');
    fileAsText.append('purpose', 'assistants');
    expect(await (await post(fileAsText)).json()).toEqual({ error: expect.objectContaining({ param: 'file' }) });
    const twoFiles = new FormData();
    twoFiles.append('purpose', 'assistants');
    twoFiles.append('file', new Blob(['1']), '1.txt');
    twoFiles.append('file', new Blob(['2']), '2.txt');
    const two = await post(twoFiles);
    expect(two.status).toBe(400);
    expect(await two.json()).toEqual({ error: expect.objectContaining({ param: 'file' }) });

    for (const [seconds, anchor, param] of [
      [60, 'created_at', 'expires_after.seconds'],
      [2_592_001, 'created_at', 'expires_after.seconds'],
      [3600, 'last_active_at', 'expires_after.anchor'],
    ] as const) {
      await expect(
        alice.files.create({ file: await text('x'), purpose: 'assistants', expires_after: { anchor: anchor as 'created_at', seconds } }),
      ).rejects.toMatchObject({ status: 400, param });
    }
    const json = await fetch(`${e2e.url}/v1/files`, {
      method: 'POST',
      headers: { authorization: 'Bearer sk-a', 'content-type': 'application/json' },
      body: JSON.stringify({ purpose: 'assistants' }),
    });
    expect(json.status).toBe(400);
    expect(await json.json()).toEqual({ error: expect.objectContaining({ param: 'file', type: 'invalid_request_error' }) });
    expect(await stored()).toEqual(before);
  });

  it('expires files: expires_after sets expires_at, batch files default to 30 days, expired ones are hidden and then swept', async () => {
    const file = await alice.files.create({ file: await text('short-lived'), purpose: 'assistants', expires_after: { anchor: 'created_at', seconds: 3600 } });
    expect(file.expires_at).toBe(file.created_at + 3600);
    const batch = await alice.files.create({ file: await text('{}', 'batch.jsonl'), purpose: 'batch' });
    expect(batch.expires_at).toBe(batch.created_at + 30 * 86_400);
    const before = await stored();
    await e2e.app.app.get(DataSource).query(`UPDATE files SET expires_at = now() - interval '1 second' WHERE id = $1`, [file.id]);
    await expect(alice.files.retrieve(file.id)).rejects.toMatchObject({ status: 404 });
    await expect(alice.files.content(file.id)).rejects.toMatchObject({ status: 404 });
    expect((await alice.files.list()).data.map((f) => f.id)).not.toContain(file.id);
    expect(await e2e.app.app.get(FilesSweeper).sweep()).toBeGreaterThanOrEqual(1);
    expect(await stored()).toEqual({ rows: before.rows - 1, contents: before.contents - 1 });
    await alice.files.delete(batch.id);
  });

  it("treats another tenant's file as missing on every path", async () => {
    const file = await alice.files.create({ file: await text('alice only'), purpose: 'assistants' });
    const notFound = { status: 404, message: expect.stringContaining(`No such File object: ${file.id}`) as unknown };
    await expect(bob.files.retrieve(file.id)).rejects.toMatchObject(notFound);
    await expect(bob.files.content(file.id)).rejects.toMatchObject(notFound);
    await expect(bob.files.delete(file.id)).rejects.toMatchObject(notFound);
    expect((await bob.files.list()).data.map((f) => f.id)).not.toContain(file.id);
    await expect(bob.files.list({ after: file.id })).rejects.toMatchObject({ status: 400, param: 'after' });
    // The unknown-id answers are indistinguishable from another tenant's.
    await expect(bob.files.retrieve('file-does-not-exist')).rejects.toMatchObject({
      status: 404,
      message: expect.stringContaining('No such File object: file-does-not-exist') as unknown,
    });
    // Nothing changed for the owner.
    expect(await alice.files.retrieve(file.id)).toEqual(file);
    expect(await (await alice.files.content(file.id)).text()).toBe('alice only');
    await alice.files.delete(file.id);
  });

  it('holds each tenant to FILES_MAX_BYTES_PER_TENANT, before and while a file streams in', async () => {
    const a = await carol.files.create({ file: await toFile(Buffer.alloc(1.5 * MiB), 'a.bin'), purpose: 'assistants' });
    const b = await carol.files.create({ file: await toFile(Buffer.alloc(1.5 * MiB), 'b.bin'), purpose: 'assistants' });
    const before = await stored();
    // Full: refused before the upload is read.
    await expect(carol.files.create({ file: await text('x'), purpose: 'assistants' })).rejects.toMatchObject({
      status: 400,
      param: 'file',
      code: 'storage_limit_exceeded',
      message: expect.stringContaining(`${3 * MiB} bytes in all`),
    });
    await carol.files.delete(a.id);
    // 1.5 MiB free: a 2 MiB file is refused as it streams in; a 1 MiB one fits.
    await expect(carol.files.create({ file: await toFile(Buffer.alloc(2 * MiB), 'c.bin'), purpose: 'assistants' })).rejects.toMatchObject({
      status: 400,
      code: 'storage_limit_exceeded',
    });
    const d = await carol.files.create({ file: await toFile(Buffer.alloc(MiB), 'd.bin'), purpose: 'assistants' });
    // Other tenants have their own room.
    const other = await bob.files.create({ file: await toFile(Buffer.alloc(1.5 * MiB), 'bob.bin'), purpose: 'assistants' });
    await bob.files.delete(other.id);
    await carol.files.delete(b.id);
    await carol.files.delete(d.id);
    expect((await stored()).rows).toBe(before.rows - 2);
  });

  /** Sends the headers and the first part of a multipart upload, then what `then` does. */
  function partialUpload(then: (req: ReturnType<typeof httpRequest>) => void): Promise<{ status?: number; body: string; error?: Error }> {
    const boundary = 'rgboundary';
    const head = `--${boundary}\r\nContent-Disposition: form-data; name="purpose"\r\n\r\nassistants\r\n--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="slow.txt"\r\nContent-Type: text/plain\r\n\r\n`;
    return new Promise((resolve) => {
      const req = httpRequest(`${e2e.url}/v1/files`, {
        method: 'POST',
        headers: { authorization: 'Bearer sk-a', 'content-type': `multipart/form-data; boundary=${boundary}`, 'transfer-encoding': 'chunked' },
      });
      req.on('response', (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode, body }));
        res.on('error', (error) => resolve({ status: res.statusCode, body, error }));
      });
      req.on('error', (error) => resolve({ body: '', error }));
      req.write(head);
      req.write(randomBytes(256 * 1024), () => then(req));
    });
  }

  it('leaves nothing of an upload whose client goes away, or that outlasts FILES_UPLOAD_TIMEOUT_MS (408)', async () => {
    const before = await stored();
    await partialUpload((req) => req.destroy());
    await waitFor(stored, (now) => now.rows === before.rows && now.contents === before.contents);
    const slow = await partialUpload(() => undefined); // never finishes: the deadline ends it
    expect(slow.status).toBe(408);
    expect(JSON.parse(slow.body)).toEqual({ error: expect.objectContaining({ param: 'file', code: 'timeout' }) });
    expect(await stored()).toEqual(before);
  });
});
