/**
 * The codes of a vector store file's `last_error` that extraction can end with (OpenAI's):
 * `unsupported_file` — a type we do not read; `invalid_file` — a type we read, but this file
 * cannot be (corrupt, encrypted, too big for the memory or time limit); `server_error` — our fault
 * (the worker could not start), worth a retry.
 */
export type ExtractionErrorCode = 'unsupported_file' | 'invalid_file' | 'server_error';

/** A file that could not be turned into text; `message` is written for the tenant (it becomes `last_error.message`). */
export class ExtractionError extends Error {
  override readonly name = 'ExtractionError';

  constructor(
    readonly code: ExtractionErrorCode,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }

  /** Only our own failures are worth another attempt: the same file fails the same way again. */
  get retryable(): boolean {
    return this.code === 'server_error';
  }
}
