import { join } from 'node:path';
import { type ResourceLimits, Worker } from 'node:worker_threads';
import { ExtractionError } from './extraction-error';
import type { WorkerReply } from './extract-worker';
import { detectFormat, type FileFormat } from './file-format';
import type { ParsedText, ParseRequest, WorkerFormat } from './parsers';
import { decodeText, normalizeText, truncate } from './text';

export interface ExtractOptions {
  /** Characters kept at most; readers stop soon after and `truncated` says so. */
  maxChars?: number;
  /** Wall-clock limit of one extraction (PDF, DOCX, HTML, JSON, CSV run in a worker that is terminated then). */
  timeoutMs?: number;
  /** The worker's JS heap limit (worker_threads resourceLimits); a file that needs more fails as `invalid_file`. */
  maxMemoryMb?: number;
  /** Aborting terminates the worker; the promise rejects with the signal's reason. */
  signal?: AbortSignal;
}

export interface ExtractedText {
  /** Normalized: `\n` line ends, no control characters, at most one blank line in a row. */
  text: string;
  format: FileFormat;
  /** The file had more than `maxChars` characters of text: `text` is its beginning. */
  truncated: boolean;
  /** PDF: its page count. */
  pages?: number;
}

export const EXTRACTION_DEFAULTS = {
  /** ~500 k tokens of English: 10 times the largest documents people usually search, well under OpenAI's 5 M tokens per file. */
  maxChars: 2_000_000,
  timeoutMs: 60_000,
  maxMemoryMb: 512,
} as const satisfies Required<Omit<ExtractOptions, 'signal'>>;

/**
 * A file's text, for chunking. The format comes from the content where it announces itself (PDF,
 * DOCX) and otherwise from the extension (detectFormat). Text and Markdown are decoded here;
 * everything a library parses runs in a worker thread with a heap limit and a time limit, so a
 * hostile file costs one terminated worker. Throws ExtractionError, whose message is the
 * vector store file's `last_error.message`.
 */
export async function extractText(bytes: Uint8Array, filename: string, options: ExtractOptions = {}): Promise<ExtractedText> {
  const maxChars = positive(options.maxChars ?? EXTRACTION_DEFAULTS.maxChars, 'maxChars');
  const timeoutMs = positive(options.timeoutMs ?? EXTRACTION_DEFAULTS.timeoutMs, 'timeoutMs');
  const maxMemoryMb = positive(options.maxMemoryMb ?? EXTRACTION_DEFAULTS.maxMemoryMb, 'maxMemoryMb');
  options.signal?.throwIfAborted();
  const format = detectFormat(bytes, filename);
  const parsed: ParsedText =
    format === 'text' || format === 'markdown'
      ? { text: decodeText(bytes, filename, maxChars) }
      : await inWorker({ format, bytes, filename, maxChars }, timeoutMs, maxMemoryMb, options.signal);
  const { text, truncated } = truncate(normalizeText(parsed.text), maxChars);
  return { text, format, truncated, ...(parsed.pages !== undefined ? { pages: parsed.pages } : {}) };
}

function positive(value: number, name: string): number {
  if (!Number.isSafeInteger(value) || value <= 0) throw new RangeError(`extractText: ${name} must be a positive integer, got ${value}`);
  return value;
}

/** Runs one parse in a fresh worker, which is terminated whatever the outcome. */
function inWorker(request: ParseRequest & { format: WorkerFormat }, timeoutMs: number, maxMemoryMb: number, signal?: AbortSignal): Promise<ParsedText> {
  return new Promise((resolve, reject) => {
    let worker: Worker;
    try {
      worker = startWorker(request, {
        maxOldGenerationSizeMb: maxMemoryMb,
        maxYoungGenerationSizeMb: Math.min(64, Math.max(8, Math.floor(maxMemoryMb / 8))),
        stackSizeMb: 4,
      });
    } catch (error) {
      reject(new ExtractionError('server_error', 'The text extraction worker could not start.', { cause: error }));
      return;
    }
    let settled = false;
    const settle = (outcome: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      void worker.terminate();
      outcome();
    };
    const timer = setTimeout(
      () => settle(() => reject(new ExtractionError('invalid_file', `The file '${request.filename}' could not be read within ${timeoutMs / 1000} s.`))),
      timeoutMs,
    );
    // The caller's reason as is, as fetch and timers/promises reject on abort (an AbortError by default).
    const onAbort = () => settle(() => reject(signal?.reason as Error));
    signal?.addEventListener('abort', onAbort, { once: true });
    worker.once('message', (reply: WorkerReply) =>
      settle(() =>
        reply.ok
          ? resolve({ text: reply.text, ...(reply.pages !== undefined ? { pages: reply.pages } : {}) })
          : reject(new ExtractionError(reply.code, reply.message)),
      ),
    );
    worker.once('error', (error: Error & { code?: string }) =>
      settle(() =>
        reject(
          error.code === 'ERR_WORKER_OUT_OF_MEMORY'
            ? new ExtractionError('invalid_file', `Reading the file '${request.filename}' needs more than ${maxMemoryMb} MB of memory.`)
            : new ExtractionError('server_error', 'Text extraction failed in its worker.', { cause: error }),
        ),
      ),
    );
    worker.once('exit', (code) =>
      settle(() => reject(new ExtractionError('server_error', `The text extraction worker exited (code ${code}) without an answer.`))),
    );
  });
}

/**
 * The compiled worker next to this file; from TypeScript sources (jest), the source compiled by
 * ts-node (a dev dependency) inside the worker, where the libraries load as in production.
 */
function startWorker(request: ParseRequest, resourceLimits: ResourceLimits): Worker {
  const options = { workerData: request, resourceLimits };
  if (__filename.endsWith('.js')) return new Worker(join(__dirname, 'extract-worker.js'), options);
  const register = { transpileOnly: true, project: join(__dirname, '../../../tsconfig.json') };
  const code = `require(${JSON.stringify(require.resolve('ts-node'))}).register(${JSON.stringify(register)}); require(${JSON.stringify(join(__dirname, 'extract-worker.ts'))});`;
  return new Worker(code, { ...options, eval: true });
}
