import type { Readable } from 'node:stream';

/**
 * Where files' bytes are kept (port): a table (`PostgresFileContentStore`) or a directory
 * (`FilesystemFileContentStore`); object storage would be a third adapter (docs/files.md). The
 * content of a file id is written once, by the upload that begun its row; the caller bounds its
 * size (the source throws past the limit) and deletes what a failed write left.
 */
export abstract class FileContentStore {
  /** What the logs call this store, e.g. `filesystem (/data/files)`. */
  abstract readonly description: string;

  /** Writes the content of file `id` from `source`; rejects when the source or the storage fails. */
  abstract write(id: string, source: AsyncIterable<Uint8Array>): Promise<void>;

  /** The content, streamed; null when there is none. */
  abstract open(id: string): Promise<Readable | null>;

  /** Deletes the content of these files (also a partly written one); ids without content are ignored. */
  abstract delete(ids: string[]): Promise<void>;
}
