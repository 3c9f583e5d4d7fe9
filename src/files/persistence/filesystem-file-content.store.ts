import { createWriteStream, mkdirSync } from 'node:fs';
import { open, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { FileContentStore } from './file-content.store';

/** Only ids this server makes name a path: nothing a client sends can reach outside the directory. */
const FILE_ID = /^file-[0-9a-f]{48}$/;

/**
 * File content in a directory (the embedded default's `DATA_DIR/files`, or a volume every process
 * mounts): one file per id, under a subdirectory named by two of its hex digits so that no
 * directory grows past a few thousand entries. Written with `flush` (fsync before close): a file
 * whose row turns ready has all its bytes on disk.
 */
export class FilesystemFileContentStore extends FileContentStore {
  readonly description: string;
  private readonly root: string;

  constructor(dir: string) {
    super();
    this.root = resolve(dir);
    mkdirSync(this.root, { recursive: true });
    this.description = `filesystem (${this.root})`;
  }

  async write(id: string, source: AsyncIterable<Uint8Array>): Promise<void> {
    const path = this.path(id);
    mkdirSync(join(path, '..'), { recursive: true });
    // `wx`: an id is written once; never over another file's content.
    await pipeline(Readable.from(source, { objectMode: false }), createWriteStream(path, { flags: 'wx', flush: true }));
  }

  async open(id: string): Promise<Readable | null> {
    const path = this.path(id);
    // Opened first, so that a missing file is a null here instead of an error mid-stream.
    try {
      return (await open(path, 'r')).createReadStream();
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw error;
    }
  }

  async delete(ids: string[]): Promise<void> {
    await Promise.all(ids.map((id) => rm(this.path(id), { force: true })));
  }

  private path(id: string): string {
    if (!FILE_ID.test(id)) throw new Error(`not a file id: ${JSON.stringify(id)}`);
    return join(this.root, id.slice(5, 7), id);
  }
}
