import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { DataSource } from 'typeorm';
import { newId } from '../../src/common/ids';
import { dataSourceOptions } from '../../src/data-source';
import { CursorNotFoundError } from '../../src/database/page';
import type { FileContentStore } from '../../src/files/persistence/file-content.store';
import type { FilePurpose, NewUpload } from '../../src/files/persistence/files.store';
import { FilesystemFileContentStore } from '../../src/files/persistence/filesystem-file-content.store';
import { PostgresFileContentStore } from '../../src/files/persistence/postgres-file-content.store';
import { TypeOrmFilesStore } from '../../src/files/persistence/typeorm-files.store';
import { storeBackends } from '../support/backends';

const MiB = 1024 * 1024;

async function readAll(stream: AsyncIterable<Buffer> | null): Promise<Buffer | null> {
  if (!stream) return null;
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk);
  return Buffer.concat(chunks);
}

/** `data` in chunks of `size` bytes, as a request stream delivers it. */
function chunked(data: Buffer, size = 64 * 1024): AsyncIterable<Buffer> {
  const out: Buffer[] = [];
  for (let i = 0; i < data.length; i += size) out.push(data.subarray(i, i + size));
  return Readable.from(out);
}

/** `data`, then the error a request stream gives when its client goes away. */
function failingAfter(data: Buffer): AsyncIterable<Buffer> {
  const stream = new PassThrough();
  stream.write(data, () => stream.destroy(new Error('client went away')));
  return stream;
}

/** Every file under `dir`, recursively. */
const filesUnder = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? filesUnder(join(dir, e.name)) : [join(dir, e.name)]));

describe.each(storeBackends('files store'))('files on $name', (backend) => {
  let dataSource: DataSource;
  let store: TypeOrmFilesStore;
  let teardown: () => Promise<void>;
  let dir: string;
  const count = async (table: string): Promise<number> => Number((await dataSource.query(`SELECT count(*) AS n FROM ${table}`))[0].n);

  beforeAll(async () => {
    const { env, teardown: down } = await backend.setup();
    teardown = down;
    dataSource = new DataSource(dataSourceOptions({ databaseUrl: env.DATABASE_URL, dataDir: env.DATA_DIR ?? '' }));
    await dataSource.initialize();
    store = new TypeOrmFilesStore(dataSource);
    dir = mkdtempSync(join(tmpdir(), 'rg-files-'));
  });

  afterAll(async () => {
    await dataSource?.destroy();
    await teardown?.();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const upload = (owner: string, over: Partial<NewUpload> = {}): NewUpload => ({
    id: newId('file', '-'),
    owner,
    filename: 'notes.txt',
    contentType: 'text/plain',
    createdAt: new Date(),
    ...over,
  });
  /** A ready file of `bytes` (metadata only). */
  async function readyFile(owner: string, bytes = 10, purpose: FilePurpose = 'assistants', expiresAt: Date | null = null) {
    const u = upload(owner);
    await store.begin(u);
    const ready = await store.finish(u.id, { purpose, bytes, expiresAt, maxTenantBytes: 0 });
    if (!ready) throw new Error('not finished');
    return ready;
  }

  describe('FilesStore', () => {
    it('shows a file only once it is finished, to its owner only', async () => {
      const u = upload('fs-a');
      await store.begin(u);
      expect(await store.get('fs-a', u.id)).toBeNull();
      expect((await store.list('fs-a', { limit: 10, order: 'asc' })).data).toEqual([]);
      const expiresAt = new Date(Math.floor(Date.now() / 1000) * 1000 + 3_600_000);
      const ready = await store.finish(u.id, { purpose: 'user_data', bytes: 42, expiresAt, maxTenantBytes: 0 });
      expect(ready).toEqual({
        id: u.id,
        owner: 'fs-a',
        filename: 'notes.txt',
        purpose: 'user_data',
        contentType: 'text/plain',
        bytes: 42,
        createdAt: u.createdAt,
        expiresAt,
      });
      expect(await store.get('fs-a', u.id)).toEqual(ready);
      expect(await store.get('fs-b', u.id)).toBeNull();
      expect(await store.delete('fs-b', u.id)).toBe(false);
      expect(await store.usage('fs-a')).toBe(42);
      // Finished once: a second finish changes nothing.
      expect(await store.finish(u.id, { purpose: 'batch', bytes: 1, expiresAt: null, maxTenantBytes: 0 })).toBeNull();
      expect(await store.delete('fs-a', u.id)).toBe(true);
      expect(await store.get('fs-a', u.id)).toBeNull();
      expect(await store.usage('fs-a')).toBe(0);
    });

    it('lists in creation order both ways, by purpose, with a cursor that must be one of the owner’s files', async () => {
      const ids: string[] = [];
      for (let i = 0; i < 5; i++) ids.push((await readyFile('fs-list', 1, i % 2 ? 'batch' : 'assistants')).id);
      const other = await readyFile('fs-list-other');
      const asc = await store.list('fs-list', { limit: 2, order: 'asc' });
      expect(asc.data.map((f) => f.id)).toEqual(ids.slice(0, 2));
      expect(asc.hasMore).toBe(true);
      const rest = await store.list('fs-list', { limit: 10, order: 'asc', after: ids[1] });
      expect(rest).toMatchObject({ hasMore: false });
      expect(rest.data.map((f) => f.id)).toEqual(ids.slice(2));
      expect((await store.list('fs-list', { limit: 10, order: 'desc', after: ids[2] })).data.map((f) => f.id)).toEqual([ids[1], ids[0]]);
      expect((await store.list('fs-list', { limit: 10, order: 'asc', purpose: 'batch' })).data.map((f) => f.id)).toEqual([ids[1], ids[3]]);
      await expect(store.list('fs-list', { limit: 10, order: 'asc', after: other.id })).rejects.toBeInstanceOf(CursorNotFoundError);
    });

    it('refuses to finish past the tenant limit, and holds it under concurrent finishes', async () => {
      const owner = 'fs-quota';
      const begun = Array.from({ length: 8 }, () => upload(owner));
      for (const u of begun) await store.begin(u);
      // 8 uploads of 30 bytes against a limit of 100: exactly 3 may pass, whatever the interleaving.
      const results = await Promise.all(begun.map((u) => store.finish(u.id, { purpose: 'assistants', bytes: 30, expiresAt: null, maxTenantBytes: 100 })));
      expect(results.filter(Boolean)).toHaveLength(3);
      expect(await store.usage(owner)).toBe(90);
      // A refused upload is still begun (unseen) until discarded.
      const refused = begun.filter((_, i) => !results[i]);
      for (const u of refused) await store.discard(u.id);
      expect((await store.list(owner, { limit: 100, order: 'asc' })).data).toHaveLength(3);
      expect(Number((await dataSource.query(`SELECT count(*) AS n FROM files WHERE owner = $1`, [owner]))[0].n)).toBe(3);
      // A first file larger than the limit is refused too (no usage row to compare with).
      const big = upload('fs-quota-first');
      await store.begin(big);
      expect(await store.finish(big.id, { purpose: 'assistants', bytes: 101, expiresAt: null, maxTenantBytes: 100 })).toBeNull();
      expect(await store.usage('fs-quota-first')).toBe(0);
    });

    it('hides expired files, and sweeps them and abandoned uploads (giving their bytes back)', async () => {
      const owner = 'fs-sweep';
      const expired = await readyFile(owner, 7, 'assistants', new Date(Date.now() + 3_600_000));
      await dataSource.query(`UPDATE files SET expires_at = now() - interval '1 second' WHERE id = $1`, [expired.id]);
      const kept = await readyFile(owner, 5, 'assistants', new Date(Date.now() + 3_600_000));
      const abandoned = upload(owner, { createdAt: new Date(Date.now() - 3_600_000) });
      await store.begin(abandoned);
      const writing = upload(owner);
      await store.begin(writing);
      expect(await store.get(owner, expired.id)).toBeNull();
      expect((await store.list(owner, { limit: 10, order: 'asc' })).data.map((f) => f.id)).toEqual([kept.id]);
      expect(await store.delete(owner, expired.id)).toBe(false);
      expect(await store.usage(owner)).toBe(12); // counted until swept
      const swept = await store.sweep(new Date(Date.now() - 60_000), 100);
      expect(swept).toEqual(expect.arrayContaining([expired.id, abandoned.id]));
      expect(swept).not.toContain(kept.id);
      expect(swept).not.toContain(writing.id);
      expect(await store.usage(owner)).toBe(5);
      expect(await store.sweep(new Date(Date.now() - 60_000), 100)).toEqual([]);
    });
  });

  const adapters: Array<[string, () => FileContentStore, () => Promise<number>]> = [
    ['PostgresFileContentStore', () => new PostgresFileContentStore(dataSource), () => count('file_contents')],
    ['FilesystemFileContentStore', () => new FilesystemFileContentStore(join(dir, 'content')), () => Promise.resolve(filesUnder(join(dir, 'content')).length)],
  ];

  describe.each(adapters)('%s', (_name, make, stored) => {
    let contents: FileContentStore;
    beforeAll(() => {
      contents = make();
    });
    /** A begun row, which the Postgres adapter's rows reference. */
    const begun = async () => {
      const u = upload('fs-content');
      await store.begin(u);
      return u.id;
    };

    it('writes and reads back content of several parts, an empty file, and nothing for an unknown id', async () => {
      const data = randomBytes(2 * MiB + 12_345);
      const id = await begun();
      await contents.write(id, chunked(data, 70_001));
      expect((await readAll(await contents.open(id)))?.equals(data)).toBe(true);
      const empty = await begun();
      await contents.write(empty, chunked(Buffer.alloc(0)));
      expect(await readAll(await contents.open(empty))).toEqual(Buffer.alloc(0));
      expect(await contents.open(newId('file', '-'))).toBeNull();
      const before = await stored();
      await contents.delete([id, empty, newId('file', '-')]);
      expect(await contents.open(id)).toBeNull();
      expect(await contents.open(empty)).toBeNull();
      expect(await stored()).toBeLessThan(before);
    });

    it('rejects when the source fails, and delete removes what it had written', async () => {
      const before = await stored();
      const id = await begun();
      await expect(contents.write(id, failingAfter(randomBytes(MiB + 1)))).rejects.toThrow('client went away');
      await contents.delete([id]);
      expect(await contents.open(id)).toBeNull();
      expect(await stored()).toBe(before);
    });

    it('never writes one id twice', async () => {
      const id = await begun();
      await contents.write(id, chunked(Buffer.from('first')));
      await expect(contents.write(id, chunked(Buffer.from('second')))).rejects.toThrow();
      expect((await readAll(await contents.open(id)))?.toString()).toBe('first');
      await contents.delete([id]);
    });
  });

  it('deletes a file’s Postgres content with its row', async () => {
    const contents = new PostgresFileContentStore(dataSource);
    const ready = await readyFile('fs-cascade');
    await contents.write(ready.id, chunked(randomBytes(1000)));
    expect(await store.delete('fs-cascade', ready.id)).toBe(true);
    expect(await contents.open(ready.id)).toBeNull();
  });
});
