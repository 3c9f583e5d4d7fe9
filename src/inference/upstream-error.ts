import { APIConnectionError, APIConnectionTimeoutError, APIError, APIUserAbortError } from 'openai';

/** The `error.code` values a failed Response may carry (from OpenAI's ResponseError enum). */
export type ResponseErrorCode = 'server_error' | 'rate_limit_exceeded' | 'invalid_prompt';

/**
 * An upstream failure, already classified: the HTTP status a synchronous client gets, and the
 * `error` a stored or streamed Response gets. Messages are ours or the upstream's own error
 * message — never our internals, never the upstream's credentials.
 */
export class UpstreamError extends Error {
  constructor(
    readonly httpStatus: number,
    readonly type: string,
    readonly code: ResponseErrorCode,
    message: string,
    readonly param: string | null = null,
    readonly retryAfter?: string,
  ) {
    super(message);
  }
}

/** True for the error an aborted upstream call ends with (cancel, client gone, shutdown). */
export function isAbort(error: unknown): boolean {
  return (
    error instanceof APIUserAbortError ||
    (error instanceof Error && (error.name === 'AbortError' || error.name === 'APIUserAbortError'))
  );
}

function upstreamMessage(error: APIError): string {
  const body: unknown = error.error;
  const message = typeof body === 'object' && body !== null && 'message' in body ? body.message : undefined;
  return typeof message === 'string' ? message : error.message;
}

/** Classifies whatever the `openai` client (or a malformed stream) threw. */
export function toUpstreamError(error: unknown, provider: string): UpstreamError {
  if (error instanceof UpstreamError) return error;
  if (error instanceof APIConnectionTimeoutError) {
    return new UpstreamError(504, 'server_error', 'server_error', `The upstream model server '${provider}' timed out.`);
  }
  if (error instanceof APIConnectionError) {
    return new UpstreamError(502, 'server_error', 'server_error', `Could not reach the upstream model server '${provider}'.`);
  }
  if (error instanceof APIError && typeof error.status === 'number') {
    // `instanceof` narrows to APIError<any, …>; these are the SDK's documented field types.
    const apiError = error as APIError<number, Headers | undefined>;
    const status = apiError.status;
    const detail = upstreamMessage(apiError);
    if (status === 429) {
      const retryAfter = apiError.headers?.get('retry-after') ?? undefined;
      return new UpstreamError(429, 'rate_limit_error', 'rate_limit_exceeded', `Upstream rate limit: ${detail}`, null, retryAfter);
    }
    if (status === 404) {
      return new UpstreamError(400, 'invalid_request_error', 'invalid_prompt', `The upstream model server does not know this model: ${detail}`, 'model');
    }
    if (status === 400 || status === 413 || status === 422) {
      return new UpstreamError(400, 'invalid_request_error', 'invalid_prompt', `The upstream model rejected the request: ${detail}`);
    }
    if (status === 401 || status === 403) {
      return new UpstreamError(502, 'server_error', 'server_error', `The upstream model server '${provider}' refused the gateway's credentials.`);
    }
    return new UpstreamError(502, 'server_error', 'server_error', `The upstream model server '${provider}' failed (HTTP ${status}).`);
  }
  // Anything else comes from reading the reply: a malformed or truncated stream.
  return new UpstreamError(502, 'server_error', 'server_error', `The upstream model server '${provider}' sent a malformed or incomplete reply.`);
}
