import type { IncomingMessage } from 'node:http';
import { HttpStatus, Injectable } from '@nestjs/common';
import type { Multipart } from '@fastify/multipart';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { invalidRequest, OpenAIError } from '../common/openai-error';
import type { Principal } from '../common/principal';
import { AppConfig } from '../config/app-config';
import { type FileObject, FilesService, type FormPart } from './files.service';

/** The multipart parser's limits (`@fastify/multipart`, registered in bootstrap): one file, a few short fields. */
export const multipartLimits = (config: AppConfig) => ({
  // One byte over the limit, so that FilesService sees the oversized file and refuses it itself.
  fileSize: config.filesMaxBytes + 1,
  files: 1,
  fields: 16,
  fieldSize: 1024,
  parts: 20,
  headerPairs: 100,
});

const uploadTimedOut = (ms: number) =>
  new OpenAIError(
    HttpStatus.REQUEST_TIMEOUT,
    `The upload took longer than ${ms} ms and was abandoned; nothing was stored.`,
    'invalid_request_error',
    'file',
    'timeout',
  );

/** The multipart parser's own refusals, in OpenAI's shape (its codes: `@fastify/multipart`'s errors). */
function formError(error: unknown): unknown {
  if (error instanceof OpenAIError) return error;
  const code = (error as { code?: unknown } | null)?.code;
  switch (code) {
    case 'FST_INVALID_MULTIPART_CONTENT_TYPE':
      return invalidRequest(`Send the file as multipart/form-data, with a 'file' part and a 'purpose' field.`, 'file');
    case 'FST_FILES_LIMIT':
      return invalidRequest(`Only one 'file' may be uploaded at a time.`, 'file');
    case 'FST_FIELDS_LIMIT':
    case 'FST_PARTS_LIMIT':
      return invalidRequest('The form has too many fields: send a file, a purpose and optionally expires_after.');
    case 'FST_PROTO_VIOLATION':
    case 'FST_INVALID_JSON_FIELD_ERROR':
      return invalidRequest('The form has a field that is not accepted.');
    case 'FST_MP_PREMATURE_CLOSE':
      return invalidRequest('The request ended before the form was complete.');
  }
  // busboy's parse errors ("Unexpected end of form", "Malformed part header", ...) carry no code.
  if (error instanceof Error && code === undefined && !(error as { statusCode?: unknown }).statusCode && /form|multipart|part|boundary/i.test(error.message)) {
    return invalidRequest(`The multipart/form-data body could not be parsed: ${error.message}.`);
  }
  return error;
}

/** The form's parts, as FilesService takes them; every wait ends when `signal` aborts (the upload deadline). */
async function* formParts(request: FastifyRequest, signal: AbortSignal): AsyncGenerator<FormPart> {
  const iterator = request.parts()[Symbol.asyncIterator]();
  const aborted = new Promise<never>((_, reject) => signal.addEventListener('abort', () => reject(signal.reason as Error), { once: true }));
  aborted.catch(() => undefined); // observed by the race below, or never needed
  for (;;) {
    let next: IteratorResult<Multipart>;
    try {
      next = await Promise.race([iterator.next(), aborted]);
    } catch (error) {
      throw formError(error);
    }
    if (next.done) return;
    const part = next.value;
    if (part.type === 'field') {
      const value = typeof part.value === 'string' ? part.value : JSON.stringify(part.value);
      yield { type: 'field', name: part.fieldname, value, truncated: part.valueTruncated };
      continue;
    }
    const file = part.file;
    const onAbort = () => file.destroy(signal.reason as Error);
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      yield { type: 'file', name: part.fieldname, filename: part.filename, mimetype: part.mimetype, content: guarded(file) };
    } finally {
      signal.removeEventListener('abort', onAbort);
    }
  }
}

async function* guarded(file: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
  try {
    yield* file;
  } catch (error) {
    throw formError(error);
  }
}

/** ASCII for `filename=`, the name itself in `filename*=` (RFC 6266). */
function contentDisposition(filename: string): string {
  const ascii = filename.replace(/[^\x20-\x7e]|["\\]/g, '_');
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(filename)}`;
}

/**
 * The HTTP side of the Files API that Fastify shapes: the multipart upload (parsed by
 * `@fastify/multipart`, streamed part by part to FilesService under a deadline) and the content
 * download (streamed, with headers that keep a browser from running it on this origin).
 */
/** What of a refused upload is read and thrown away before answering, at most. */
const DRAIN_BYTES = 16 * 1024 * 1024;
const DRAIN_MS = 5000;

/** Reads the rest of a request to its end, within DRAIN_BYTES and DRAIN_MS; false when it did not end. */
function drained(raw: IncomingMessage): Promise<boolean> {
  if (raw.readableEnded) return Promise.resolve(true);
  return new Promise((resolve) => {
    let seen = 0;
    const done = (ended: boolean) => {
      clearTimeout(timer);
      raw.off('data', onData);
      raw.off('end', onEnd);
      raw.off('error', onError);
      resolve(ended);
    };
    const onData = (chunk: Buffer) => {
      seen += chunk.length;
      if (seen > DRAIN_BYTES) done(false);
    };
    const onEnd = () => done(true);
    const onError = () => done(false);
    const timer = setTimeout(() => done(false), DRAIN_MS);
    raw.unpipe();
    raw.on('data', onData);
    raw.once('end', onEnd);
    raw.once('error', onError);
    raw.resume();
  });
}

@Injectable()
export class FilesHttp {
  constructor(
    private readonly files: FilesService,
    private readonly config: AppConfig,
  ) {}

  async upload(principal: Principal, request: FastifyRequest, reply: FastifyReply): Promise<FileObject> {
    if (!request.isMultipart()) throw formError({ code: 'FST_INVALID_MULTIPART_CONTENT_TYPE' });
    const ms = this.config.filesUploadTimeoutMs;
    const deadline = new AbortController();
    const timer = setTimeout(() => deadline.abort(uploadTimedOut(ms)), ms);
    try {
      return await this.files.upload(principal, formParts(request, deadline.signal));
    } catch (error) {
      // Refused before the whole body was read. Node's fetch (Node 24's undici) fails with EPIPE
      // instead of reading an answer sent while it still sends, so a short rest is read and thrown
      // away first; past DRAIN_BYTES or DRAIN_MS the connection is closed instead (an upload that
      // may be large, or never end, is not read).
      if (!(await drained(request.raw))) void reply.header('connection', 'close');
      throw error;
    } finally {
      clearTimeout(timer);
    }
  }

  async content(principal: Principal, id: string, reply: FastifyReply): Promise<void> {
    const { file, content } = await this.files.content(principal, id);
    await reply
      .header('content-type', file.contentType)
      .header('content-length', String(file.bytes))
      .header('content-disposition', contentDisposition(file.filename))
      // Tenant-supplied bytes: never sniffed, rendered or scripted on this origin (the Swagger UI's).
      .header('x-content-type-options', 'nosniff')
      .header('content-security-policy', "default-src 'none'; sandbox")
      .send(content);
  }
}
