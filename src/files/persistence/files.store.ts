import type { Page } from '../../database/page';

/** The purposes a file may be uploaded for (the SDK's `FilePurpose`). */
export const FILE_PURPOSES = ['assistants', 'batch', 'fine-tune', 'vision', 'user_data', 'evals'] as const;
export type FilePurpose = (typeof FILE_PURPOSES)[number];

/** A ready file's metadata (its content is the FileContentStore's). */
export interface StoredFile {
  id: string;
  owner: string;
  filename: string;
  purpose: FilePurpose;
  contentType: string;
  bytes: number;
  createdAt: Date;
  expiresAt: Date | null;
}

/** What `begin` inserts: a file whose content is about to be written. */
export interface NewUpload {
  id: string;
  owner: string;
  filename: string;
  contentType: string;
  createdAt: Date;
}

export interface FinishedUpload {
  purpose: FilePurpose;
  bytes: number;
  expiresAt: Date | null;
  /** The tenant's limit in bytes (0: none): the file becomes ready only if its usage stays within it. */
  maxTenantBytes: number;
}

export interface FileListOptions {
  purpose?: string;
  /** A file id: list the files after it in this order. */
  after?: string;
  limit: number;
  order: 'asc' | 'desc';
}

/**
 * The files' metadata (port). A file is first `begin`-ed (a row the API never shows), its content
 * written, then `finish`-ed or `discard`-ed: every piece of content has a row that names it, so
 * nothing a failed upload or a dead process wrote is left unnamed (`sweep` finds it). Reads see
 * ready, unexpired files of their owner only (another owner's id is the same as a missing one).
 * Every write is one statement: atomic on Postgres and on the single-connection PGlite alike.
 */
export abstract class FilesStore {
  abstract begin(upload: NewUpload): Promise<void>;

  /**
   * Makes a begun file ready, adding its bytes to its owner's usage in the same statement (so
   * concurrent uploads cannot pass the limit together); null when that would exceed
   * `maxTenantBytes` (nothing changed: the caller discards the upload).
   */
  abstract finish(id: string, finished: FinishedUpload): Promise<StoredFile | null>;

  /** Deletes a begun (not ready) file's row. */
  abstract discard(id: string): Promise<void>;

  abstract get(owner: string, id: string): Promise<StoredFile | null>;

  /** Oldest or newest first. @throws CursorNotFoundError for an `after` that is not one of the owner's files. */
  abstract list(owner: string, options: FileListOptions): Promise<Page<StoredFile>>;

  /** Deletes a ready file's row (its usage given back); false when there was none. The content is the caller's to delete. */
  abstract delete(owner: string, id: string): Promise<boolean>;

  /** The bytes of the owner's ready files (expired ones count until they are swept). */
  abstract usage(owner: string): Promise<number>;

  /**
   * Deletes up to `limit` rows of expired files and of uploads begun before `staleBefore` (left by
   * a process that died), in one statement; returns their ids, whose content the caller deletes.
   */
  abstract sweep(staleBefore: Date, limit: number): Promise<string[]>;
}
