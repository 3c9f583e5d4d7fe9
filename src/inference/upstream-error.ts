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
  // By name, not `instanceof Error`: Node's DOMException may come from another realm (vm, Jest).
  const name = typeof error === 'object' && error !== null && 'name' in error ? error.name : undefined;
  return name === 'AbortError';
}

/** The error an aborted upstream call throws: the signal's own reason when it is an abort, else an AbortError. */
export function abortError(signal: AbortSignal): Error {
  return isAbort(signal.reason) ? (signal.reason as Error) : new DOMException('The upstream call was aborted.', 'AbortError');
}

/** The upstream's own `error.message` from an error body, when it sent one. */
function upstreamMessage(body: string, status: number): string {
  try {
    const parsed: unknown = JSON.parse(body);
    const error = typeof parsed === 'object' && parsed !== null && 'error' in parsed ? parsed.error : undefined;
    if (typeof error === 'string') return error;
    const message = typeof error === 'object' && error !== null && 'message' in error ? error.message : undefined;
    if (typeof message === 'string') return message;
  } catch {
    // not JSON: fall through
  }
  return `HTTP ${status}`;
}

/** How vLLM, OpenAI, llama.cpp and Ollama word a prompt longer than the model's window. */
const CONTEXT_LENGTH =
  /context length|context window|maximum context|context_length_exceeded|too many tokens|prompt is too long|exceeds the available context/i;

/** An HTTP error answer of the upstream, classified for our clients. */
export function fromUpstreamStatus(status: number, body: string, retryAfter: string | undefined, provider: string): UpstreamError {
  const detail = upstreamMessage(body, status);
  if (status === 429) {
    return new UpstreamError(429, 'rate_limit_error', 'rate_limit_exceeded', `Upstream rate limit: ${detail}`, null, retryAfter);
  }
  if (status === 404) {
    return new UpstreamError(400, 'invalid_request_error', 'invalid_prompt', `The upstream model server does not know this model: ${detail}`, 'model');
  }
  if ((status === 400 || status === 413) && CONTEXT_LENGTH.test(detail)) {
    return new UpstreamError(
      400,
      'invalid_request_error',
      'invalid_prompt',
      `The input does not fit the model's context window (the upstream said: ${detail}). Send less, set truncation 'auto', or compact it (context_management, POST /v1/responses/compact).`,
      'input',
    );
  }
  if (status === 400 || status === 413 || status === 422) {
    return new UpstreamError(400, 'invalid_request_error', 'invalid_prompt', `The upstream model rejected the request: ${detail}`);
  }
  if (status === 401 || status === 403) {
    return new UpstreamError(502, 'server_error', 'server_error', `The upstream model server '${provider}' refused the gateway's credentials.`);
  }
  return new UpstreamError(502, 'server_error', 'server_error', `The upstream model server '${provider}' failed (HTTP ${status}).`);
}

export const upstreamTimedOut = (provider: string): UpstreamError =>
  new UpstreamError(504, 'server_error', 'server_error', `The upstream model server '${provider}' timed out.`);

/** The connection failed (refused, reset, DNS) after the retries: another replica may still answer. */
export class UpstreamUnreachable extends UpstreamError {}

export const upstreamUnreachable = (provider: string): UpstreamError =>
  new UpstreamUnreachable(502, 'server_error', 'server_error', `Could not reach the upstream model server '${provider}'.`);

export const upstreamMalformed = (provider: string): UpstreamError =>
  new UpstreamError(502, 'server_error', 'server_error', `The upstream model server '${provider}' sent a malformed or incomplete reply.`);

/** An error object sent inside a stream (`data: {"error": …}`), as vLLM and OpenAI do. */
export const upstreamStreamError = (provider: string, message: string): UpstreamError =>
  new UpstreamError(502, 'server_error', 'server_error', `The upstream model server '${provider}' failed mid-stream: ${message}`);
