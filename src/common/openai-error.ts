import { HttpException, HttpStatus } from '@nestjs/common';

export type OpenAIErrorType =
  'invalid_request_error' | 'authentication_error' | 'permission_error' | 'not_found_error' | 'rate_limit_error' | 'server_error' | 'service_unavailable';

/** The body every error answer carries: `{"error": {message, type, param, code}}`. */
export interface OpenAIErrorBody {
  error: { message: string; type: string; param: string | null; code: string | null };
}

/**
 * An error meant for the client, in OpenAI's shape. Throw it anywhere below a controller;
 * the global filter writes it as is.
 */
export class OpenAIError extends HttpException {
  constructor(
    status: number,
    message: string,
    /** One of OpenAIErrorType, or an upstream's own type passed through. */
    readonly type: string = 'invalid_request_error',
    readonly param: string | null = null,
    readonly code: string | null = null,
    /** Extra response headers, e.g. retry-after. */
    readonly headers: Record<string, string> = {},
  ) {
    super(message, status);
  }

  toBody(): OpenAIErrorBody {
    return { error: { message: this.message, type: this.type, param: this.param, code: this.code } };
  }
}

export const invalidRequest = (message: string, param: string | null = null, code: string | null = 'invalid_value') =>
  new OpenAIError(HttpStatus.BAD_REQUEST, message, 'invalid_request_error', param, code);

export const missingParameter = (param: string) =>
  new OpenAIError(HttpStatus.BAD_REQUEST, `Missing required parameter: '${param}'.`, 'invalid_request_error', param, 'missing_required_parameter');

export const unsupportedParameter = (param: string, message?: string) =>
  new OpenAIError(
    HttpStatus.BAD_REQUEST,
    message ?? `Unsupported parameter: '${param}' is not supported by this server.`,
    'invalid_request_error',
    param,
    'unsupported_parameter',
  );

export const responseNotFound = (id: string) => new OpenAIError(HttpStatus.NOT_FOUND, `Response with id '${id}' not found.`, 'invalid_request_error');
