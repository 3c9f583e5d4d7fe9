import { ArgumentsHost, Catch, ExceptionFilter, HttpException, HttpStatus, Logger } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { isUnavailableCode } from '../database/database-errors';
import { OpenAIError, OpenAIErrorBody } from '../common/openai-error';

/** Fastify's own client errors (bad JSON, body too large, unsupported media type) carry these. */
interface FrameworkError {
  statusCode?: number;
  code?: string;
  message?: string;
}

const TYPE_BY_STATUS: Record<number, string> = {
  400: 'invalid_request_error',
  401: 'authentication_error',
  403: 'permission_error',
  404: 'invalid_request_error',
  405: 'invalid_request_error',
  413: 'invalid_request_error',
  415: 'invalid_request_error',
  429: 'rate_limit_error',
};

/**
 * One filter for every error: writes OpenAI's error body with the right status through the
 * HTTP adapter (works on Fastify), and never lets a stack trace or internal message reach a client.
 */
@Catch()
export class AllExceptionsFilter implements ExceptionFilter {
  private readonly logger = new Logger('Errors');

  constructor(private readonly adapterHost: HttpAdapterHost) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const reply = http.getResponse<FastifyReply>();
    const request = http.getRequest<FastifyRequest>();
    const { status, body, headers } = describeError(exception, request);
    if (status >= 500) {
      this.logger.error(
        `${request.method} ${request.url} → ${status} (request ${String(request.id)})`,
        exception instanceof Error ? exception.stack : String(exception),
      );
    }
    if (reply.sent) return; // a stream already started; the stream writer reports errors itself
    for (const [name, value] of Object.entries(headers)) void reply.header(name, value);
    void reply.header('x-request-id', String(request.id));
    this.adapterHost.httpAdapter.reply(reply, body, status);
  }
}

export interface DescribedError {
  status: number;
  body: OpenAIErrorBody;
  headers: Record<string, string>;
}

/**
 * What a client is told about an error, whatever carries it (an HTTP reply, a WebSocket `error`
 * event): OpenAI's body, its status and headers; never a stack or an internal message.
 */
export function describeError(exception: unknown, request: { method: string; url: string }): DescribedError {
  if (exception instanceof OpenAIError) {
    return { status: exception.getStatus(), body: exception.toBody(), headers: exception.headers };
  }
  if (exception instanceof HttpException) {
    const status = exception.getStatus();
    const message =
      status === 404
        ? `Unknown request URL: ${request.method} ${request.url.split('?')[0]}.`
        : status === 413
          ? 'The request body is too large.'
          : status >= 500
            ? 'The server had an error while processing your request.'
            : exception.message;
    return { status, body: errorBody(status, message), headers: {} };
  }
  if (isUnavailable(exception)) {
    return {
      status: HttpStatus.SERVICE_UNAVAILABLE,
      body: {
        error: { message: 'The service is temporarily unavailable (storage). Try again shortly.', type: 'service_unavailable', param: null, code: null },
      },
      headers: { 'retry-after': '2' },
    };
  }
  const framework = exception as FrameworkError;
  if (typeof framework?.statusCode === 'number' && framework.statusCode >= 400 && framework.statusCode < 500) {
    return { status: framework.statusCode, body: errorBody(framework.statusCode, clientMessage(framework)), headers: {} };
  }
  return {
    status: HttpStatus.INTERNAL_SERVER_ERROR,
    body: errorBody(500, 'The server had an error while processing your request.'),
    headers: {},
  };
}

/**
 * The database (or Redis) is down or out of connections: a 503 the client may retry, not a 500.
 * Postgres SQLSTATE classes 08 (connection), 53 (insufficient resources), 57P (shutdown), and
 * socket errors.
 */
function isUnavailable(exception: unknown): boolean {
  if (isUnavailableCode(exception)) return true;
  const error = exception as { message?: unknown } | null;
  const message = typeof error?.message === 'string' ? error.message : '';
  // ioredis: a command given up on while Redis is away (offline queue off, or out of retries).
  return /Connection terminated|connection timeout|Client has encountered a connection error|Connection is closed|Stream isn't writeable|Reached the max retries per request/i.test(
    message,
  );
}

function errorBody(status: number, message: string, param: string | null = null, code: string | null = null): OpenAIErrorBody {
  return { error: { message, type: TYPE_BY_STATUS[status] ?? (status >= 500 ? 'server_error' : 'invalid_request_error'), param, code } };
}

function clientMessage(error: FrameworkError): string {
  switch (error.code) {
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return 'We could not parse the JSON body of your request. The body must be valid JSON.';
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return 'The request body is too large.';
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return 'Unsupported Content-Type: send application/json.';
    default:
      // Fastify's messages for client errors are short and safe (no stack, no internals).
      return error.message ?? 'Invalid request.';
  }
}
