import { plainToInstance, Transform } from 'class-transformer';
import {
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  IsUrl,
  Matches,
  Max,
  Min,
  validateSync,
  ValidationError,
} from 'class-validator';

export const ROLES = ['all', 'api', 'worker'] as const;
export type Role = (typeof ROLES)[number];
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

const toInt = ({ value }: { value: unknown }): unknown =>
  typeof value === 'string' && /^-?\d+$/.test(value.trim()) ? Number(value) : value;
const blankToUndefined = ({ value }: { value: unknown }): unknown =>
  typeof value === 'string' && value.trim() === '' ? undefined : value;

/**
 * The process environment, as the configuration contract in docs/configuration.md describes it.
 * Validated once at boot; nothing else in the code reads `process.env`.
 */
export class Environment {
  @Transform(toInt) @IsInt() @Min(0) @Max(65535)
  PORT: number = 8321;

  @IsString()
  HOST: string = '127.0.0.1';

  @IsIn(ROLES)
  ROLE: Role = 'all';

  @Transform(blankToUndefined) @IsOptional()
  @Matches(/^postgres(ql)?:\/\//, { message: 'must be a postgres:// or postgresql:// URL' })
  DATABASE_URL?: string;

  @IsString()
  DATA_DIR: string = './data';

  @Transform(blankToUndefined) @IsOptional()
  @Matches(/^rediss?:\/\//, { message: 'must be a redis:// or rediss:// URL' })
  REDIS_URL?: string;

  @Transform(blankToUndefined) @IsOptional()
  @IsUrl({ require_tld: false, require_protocol: true, protocols: ['http', 'https'] })
  INFERENCE_BASE_URL?: string;

  @Transform(blankToUndefined) @IsOptional() @IsString()
  INFERENCE_API_KEY?: string;

  /** Milliseconds before an upstream call is abandoned. */
  @Transform(toInt) @IsInt() @Min(1)
  INFERENCE_TIMEOUT_MS: number = 600_000;

  @Transform(blankToUndefined) @IsOptional() @IsString()
  MODELS_CONFIG?: string;

  /** Comma-separated `key` or `key:tenant` pairs. Unset: no authentication (loopback only). */
  @Transform(blankToUndefined) @IsOptional() @IsString()
  API_KEYS?: string;

  @IsIn(LOG_LEVELS)
  LOG_LEVEL: LogLevel = 'info';

  /** Largest accepted request body, in bytes. */
  @Transform(toInt) @IsInt() @Min(1024)
  BODY_LIMIT_BYTES: number = 10 * 1024 * 1024;

  /** How many `previous_response_id` links a request may walk back. */
  @Transform(toInt) @IsInt() @Min(1) @Max(10_000)
  MAX_CHAIN_DEPTH: number = 1000;
}

export class EnvironmentError extends Error {}

/** Variables whose values may hold credentials: never echoed in an error. */
const SECRET = /URL|KEY/;

function describe(errors: ValidationError[]): string {
  return errors
    .map((e) => {
      const constraints = Object.values(e.constraints ?? {}).join('; ');
      const value = SECRET.test(e.property) ? '(value hidden)' : JSON.stringify(e.value);
      return `${e.property}=${value}: ${constraints}`;
    })
    .join('\n  ');
}

/** Parses and validates an environment; throws an EnvironmentError naming every bad variable. */
export function parseEnvironment(env: Record<string, string | undefined>): Environment {
  // Only the keys we know; undefined values fall back to the class defaults.
  const known = Object.keys(new Environment()).concat([
    'DATABASE_URL',
    'REDIS_URL',
    'INFERENCE_BASE_URL',
    'INFERENCE_API_KEY',
    'MODELS_CONFIG',
    'API_KEYS',
  ]);
  const plain: Record<string, string> = {};
  for (const key of known) {
    const value = env[key];
    if (value !== undefined && value !== '') plain[key] = value;
  }
  const parsed = plainToInstance(Environment, plain);
  const errors = validateSync(parsed, { forbidUnknownValues: false });
  if (errors.length > 0) {
    throw new EnvironmentError(`Invalid configuration:\n  ${describe(errors)}`);
  }
  return parsed;
}
