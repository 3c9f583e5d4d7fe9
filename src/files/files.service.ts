import { listObject, type ListObject } from '../common/list-object';
import { readPage } from '../database/pagination';
import { HttpStatus, Injectable, Logger } from '@nestjs/common';
import { lookup } from 'mime-types';
import type { Readable } from 'node:stream';
import type { FileDeleted, FileObject as SdkFileObject } from 'openai/resources/files';
import { newId, unixSeconds } from '../common/ids';
import { invalidRequest, missingParameter, OpenAIError } from '../common/openai-error';
import type { Principal } from '../common/principal';
import { AppConfig } from '../config/app-config';
import type { ListFilesQueryDto } from './dto/list-files.dto';
import { FileContentStore } from './persistence/file-content.store';
import { FILE_PURPOSES, type FilePurpose, FilesStore, type StoredFile } from './persistence/files.store';

/** The File object; `purpose` as uploaded (the SDK's FileObject lists no `evals`, its FilePurpose does). */
export type FileObject = Omit<SdkFileObject, 'purpose'> & { purpose: SdkFileObject['purpose'] | FilePurpose };

export type FileList = ListObject<FileObject>;

/**
 * One part of a `multipart/form-data` upload, as the transport hands it over (no Fastify here). A
 * file part's content must be read (or abandoned by throwing) before the next part arrives.
 */
export type FormPart =
  | { type: 'field'; name: string; value: string; truncated: boolean }
  | { type: 'file'; name: string; filename: string; mimetype: string; content: AsyncIterable<Uint8Array> };

/** `expires_after.seconds`, as OpenAI bounds it: an hour to 30 days. */
export const EXPIRES_AFTER_MIN_SECONDS = 3600;
export const EXPIRES_AFTER_MAX_SECONDS = 2_592_000;
/** OpenAI's default for `purpose=batch`: 30 days; other files stay until deleted. */
const BATCH_EXPIRY_SECONDS = 2_592_000;
const MAX_FILENAME_CHARS = 255;
const MIME_TYPE = /^[\w.+-]{1,127}\/[\w.+-]{1,127}$/;

export const fileNotFound = (id: string) => new OpenAIError(HttpStatus.NOT_FOUND, `No such File object: ${id}`, 'invalid_request_error', 'id');

const fileTooLarge = (max: number) =>
  new OpenAIError(
    HttpStatus.PAYLOAD_TOO_LARGE,
    `The file is too large: this server accepts files of at most ${max} bytes.`,
    'invalid_request_error',
    'file',
    'file_too_large',
  );

const storageFull = (max: number, used: number) =>
  invalidRequest(
    `The file does not fit in your organization's file storage: at most ${max} bytes in all, ${used} bytes used. Delete files you no longer need and try again.`,
    'file',
    'storage_limit_exceeded',
  );

export function toFileObject(f: StoredFile): FileObject {
  return {
    id: f.id,
    object: 'file',
    bytes: f.bytes,
    created_at: unixSeconds(f.createdAt),
    // Absent rather than null when the file never expires (the SDK types it `expires_at?: number`).
    ...(f.expiresAt ? { expires_at: unixSeconds(f.expiresAt) } : {}),
    filename: f.filename,
    purpose: f.purpose,
    status: 'processed',
  };
}

function list(files: StoredFile[], hasMore: boolean): FileList {
  return listObject(files.map(toFileObject), hasMore);
}

function checkPurpose(value: string): FilePurpose {
  if (!(FILE_PURPOSES as readonly string[]).includes(value)) {
    throw invalidRequest(
      `Invalid value for 'purpose': '${value.slice(0, 64)}'. Supported values are: ${FILE_PURPOSES.map((p) => `'${p}'`).join(', ')}.`,
      'purpose',
    );
  }
  return value as FilePurpose;
}

function checkFilename(filename: string): string {
  if (!filename) throw invalidRequest(`The uploaded 'file' has no filename.`, 'file');
  if ([...filename].length > MAX_FILENAME_CHARS) throw invalidRequest(`The filename is longer than ${MAX_FILENAME_CHARS} characters.`, 'file');
  if (/[\u0000-\u001f\u007f]/.test(filename)) throw invalidRequest('The filename contains control characters.', 'file');
  return filename;
}

/** What `GET …/content` answers with: by the filename's extension, else what the client declared, else bytes. */
function contentTypeOf(filename: string, declared: string): string {
  const byName = lookup(filename);
  if (byName) return byName;
  return MIME_TYPE.test(declared) ? declared.toLowerCase() : 'application/octet-stream';
}

/** `expires_after[anchor]` and `expires_after[seconds]`, as the SDK sends the object in a form. */
function expiryOf(fields: Map<string, string>, purpose: FilePurpose, createdAt: Date): Date | null {
  const anchor = fields.get('expires_after[anchor]');
  const seconds = fields.get('expires_after[seconds]');
  if (anchor === undefined && seconds === undefined) {
    return purpose === 'batch' ? new Date(createdAt.getTime() + BATCH_EXPIRY_SECONDS * 1000) : null;
  }
  if (anchor === undefined) throw missingParameter('expires_after.anchor');
  if (seconds === undefined) throw missingParameter('expires_after.seconds');
  if (anchor !== 'created_at')
    throw invalidRequest(`Invalid value for 'expires_after.anchor': the only supported anchor is 'created_at'.`, 'expires_after.anchor');
  const n = /^\d{1,10}$/.test(seconds) ? Number(seconds) : NaN;
  if (!(n >= EXPIRES_AFTER_MIN_SECONDS && n <= EXPIRES_AFTER_MAX_SECONDS)) {
    throw invalidRequest(
      `Invalid value for 'expires_after.seconds': an integer from ${EXPIRES_AFTER_MIN_SECONDS} to ${EXPIRES_AFTER_MAX_SECONDS} is expected.`,
      'expires_after.seconds',
    );
  }
  return new Date(createdAt.getTime() + n * 1000);
}

/** Fields the upload reads; others are ignored, as unknown JSON fields are elsewhere. */
const KNOWN_FIELDS = new Set(['purpose', 'expires_after[anchor]', 'expires_after[seconds]']);

/**
 * The Files use cases: upload (streamed into the content store, bounded per file and per tenant),
 * list, retrieve, content, delete. For the later stages (vector stores, ingestion, file_search):
 * `get` and `read`, by owner, never throwing for a missing file.
 */
@Injectable()
export class FilesService {
  private readonly logger = new Logger('Files');

  constructor(
    private readonly store: FilesStore,
    private readonly contents: FileContentStore,
    private readonly config: AppConfig,
  ) {}

  /**
   * Stores the form's file: a row first (unseen), the content streamed into the content store,
   * then the row made ready with its purpose if the tenant's storage allows. Whatever fails on the
   * way — a refused field, a file over the limit, a client that goes away — leaves neither row nor content.
   */
  async upload(principal: Principal, form: AsyncIterable<FormPart>): Promise<FileObject> {
    const fields = new Map<string, string>();
    let upload: { id: string; filename: string; bytes: number; createdAt: Date } | undefined;
    try {
      for await (const part of form) {
        if (part.type === 'field') {
          if (part.name === 'file') throw invalidRequest(`'file' must be a file upload (a form part with a filename), not a text field.`, 'file');
          if (!KNOWN_FIELDS.has(part.name)) continue;
          if (part.truncated) throw invalidRequest(`The value of '${part.name}' is too long.`, part.name.replace(/\[(\w+)\]/, '.$1'));
          if (part.name === 'purpose') checkPurpose(part.value); // refused before any byte is stored, when it comes first
          fields.set(part.name, part.value);
        } else {
          if (part.name !== 'file') throw invalidRequest(`Unexpected file field '${part.name.slice(0, 64)}': send the file as 'file'.`, 'file');
          if (upload) throw invalidRequest(`Only one 'file' may be uploaded at a time.`, 'file');
          upload = await this.receive(principal.owner, part);
        }
      }
      if (!upload) throw missingParameter('file');
      const purposeValue = fields.get('purpose');
      if (purposeValue === undefined) throw missingParameter('purpose');
      const purpose = checkPurpose(purposeValue);
      const expiresAt = expiryOf(fields, purpose, upload.createdAt);
      const maxTenantBytes = this.config.filesMaxBytesPerTenant;
      const ready = await this.store.finish(upload.id, { purpose, bytes: upload.bytes, expiresAt, maxTenantBytes });
      if (!ready) throw storageFull(maxTenantBytes, await this.store.usage(principal.owner));
      return toFileObject(ready);
    } catch (error) {
      if (upload) await this.discard(upload.id);
      throw error;
    }
  }

  async list(principal: Principal, query: ListFilesQueryDto): Promise<FileList> {
    const page = await readPage(() =>
      this.store.list(principal.owner, { purpose: query.purpose, after: query.after, limit: query.limit ?? 10_000, order: query.order ?? 'desc' }),
    );
    return list(page.data, page.hasMore);
  }

  async retrieve(principal: Principal, id: string): Promise<FileObject> {
    const file = await this.get(principal.owner, id);
    if (!file) throw fileNotFound(id);
    return file;
  }

  /** The file and its content, streamed. */
  async content(principal: Principal, id: string): Promise<{ file: StoredFile; content: Readable }> {
    const file = await this.store.get(principal.owner, id);
    const content = file && (await this.contents.open(id));
    if (!file || !content) throw fileNotFound(id);
    return { file, content };
  }

  async delete(principal: Principal, id: string): Promise<FileDeleted & { deleted: true }> {
    if (!(await this.store.delete(principal.owner, id))) throw fileNotFound(id);
    await this.contents.delete([id]).catch((error: unknown) => this.logger.warn(`content of deleted file ${id} not deleted: ${String(error)}`));
    return { id, object: 'file', deleted: true };
  }

  /** The owner's file, or null (missing, expired, another owner's). */
  async get(owner: string, id: string): Promise<FileObject | null> {
    const file = await this.store.get(owner, id);
    return file && toFileObject(file);
  }

  /**
   * The owner's file's content, whole, or null (missing, expired, another owner's, deleted while
   * read). At most FILES_MAX_BYTES: a larger file (stored before the limit was lowered) is a 400.
   */
  async read(owner: string, id: string): Promise<Buffer | null> {
    const file = await this.store.get(owner, id);
    if (!file) return null;
    if (file.bytes > this.config.filesMaxBytes) {
      throw invalidRequest(
        `File '${id}' is larger (${file.bytes} bytes) than this server reads (${this.config.filesMaxBytes} bytes).`,
        'file_id',
        'file_too_large',
      );
    }
    const content = await this.contents.open(id);
    if (!content) return null;
    const chunks: Buffer[] = [];
    let bytes = 0;
    for await (const chunk of content as AsyncIterable<Buffer>) {
      bytes += chunk.length;
      if (bytes > file.bytes) {
        content.destroy();
        return null; // not the content the row describes
      }
      chunks.push(chunk);
    }
    return bytes === file.bytes ? Buffer.concat(chunks, bytes) : null;
  }

  /** Streams a file part into the content store, under a row nobody sees yet; bounded per file and by the tenant's room. */
  private async receive(owner: string, part: Extract<FormPart, { type: 'file' }>): Promise<{ id: string; filename: string; bytes: number; createdAt: Date }> {
    const filename = checkFilename(part.filename);
    const maxFile = this.config.filesMaxBytes;
    const maxTenant = this.config.filesMaxBytesPerTenant;
    const used = maxTenant ? await this.store.usage(owner) : 0;
    if (maxTenant && used >= maxTenant) throw storageFull(maxTenant, used);
    const room = maxTenant ? maxTenant - used : Infinity;
    const upload = { id: newId('file', '-'), filename, bytes: 0, createdAt: new Date() };
    await this.store.begin({ id: upload.id, owner, filename, contentType: contentTypeOf(filename, part.mimetype), createdAt: upload.createdAt });
    try {
      await this.contents.write(
        upload.id,
        (async function* counted() {
          for await (const chunk of part.content) {
            upload.bytes += chunk.byteLength;
            if (upload.bytes > maxFile) throw fileTooLarge(maxFile);
            if (upload.bytes > room) throw storageFull(maxTenant, used);
            yield chunk;
          }
        })(),
      );
    } catch (error) {
      await this.discard(upload.id);
      throw error;
    }
    return upload;
  }

  /** Removes a failed upload: content first, then its row (a row left behind is swept with its content). */
  private async discard(id: string): Promise<void> {
    try {
      await this.contents.delete([id]);
      await this.store.discard(id);
    } catch (error) {
      this.logger.warn(`failed upload ${id} not cleaned up (the sweep will): ${error instanceof Error ? error.message : String(error)}`);
    }
  }
}
