import { plainToInstance, Transform } from 'class-transformer';
import {
  getMetadataStorage,
  IsBoolean,
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  IsUrl,
  Matches,
  Max,
  Min,
  MinLength,
  validateSync,
  ValidationError,
} from 'class-validator';
import { LOG_LEVELS, type LogLevel } from '../common/logging';

/** Comma-separated `name=number` pairs. */
const PAIRS = /^\s*[^=,\s]+\s*=\s*\d+(\.\d+)?\s*(,\s*[^=,\s]+\s*=\s*\d+(\.\d+)?\s*)*$/;
/** `soonest=N` and/or `windowed=N`. */
const CLASS_PAIRS = /^\s*(soonest|windowed)\s*=\s*\d+\s*(,\s*(soonest|windowed)\s*=\s*\d+\s*)?$/;

export const ROLES = ['all', 'api', 'worker'] as const;
export type Role = (typeof ROLES)[number];
export const FILE_STORAGES = ['postgres', 'filesystem'] as const;
/** The search services the `web_search` tool can use (src/web-search). */
export const WEB_SEARCH_PROVIDERS = ['searxng', 'brave', 'tavily'] as const;
export type WebSearchProviderName = (typeof WEB_SEARCH_PROVIDERS)[number];
export type FileStorage = (typeof FILE_STORAGES)[number];

const toInt = ({ value }: { value: unknown }): unknown => (typeof value === 'string' && /^-?\d+$/.test(value.trim()) ? Number(value) : value);
const toBool = ({ value }: { value: unknown }): unknown =>
  typeof value === 'string' ? (({ true: true, '1': true, false: false, '0': false } as Record<string, boolean>)[value.trim().toLowerCase()] ?? value) : value;
const blankToUndefined = ({ value }: { value: unknown }): unknown => (typeof value === 'string' && value.trim() === '' ? undefined : value);

/**
 * The process environment, as the configuration contract in docs/configuration.md describes it.
 * Validated once at boot (loadConfig); nothing outside src/config/ reads `process.env`. The
 * properties are the list of variables: each has a validation decorator (an optional one at least
 * `@IsOptional()`), and those decorators are what parseEnvironment reads the names from.
 */
export class Environment {
  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(65535)
  PORT: number = 8321;

  @IsString()
  HOST: string = '127.0.0.1';

  @IsIn(ROLES)
  ROLE: Role = 'all';

  @Transform(blankToUndefined)
  @IsOptional()
  @Matches(/^postgres(ql)?:\/\//, { message: 'must be a postgres:// or postgresql:// URL' })
  DATABASE_URL?: string;

  @IsString()
  DATA_DIR: string = './data';

  @Transform(blankToUndefined)
  @IsOptional()
  @Matches(/^rediss?:\/\//, { message: 'must be a redis:// or rediss:// URL' })
  REDIS_URL?: string;

  @Transform(blankToUndefined)
  @IsOptional()
  @IsUrl({ require_tld: false, require_protocol: true, protocols: ['http', 'https'] })
  INFERENCE_BASE_URL?: string;

  @Transform(blankToUndefined)
  @IsOptional()
  @IsString()
  INFERENCE_API_KEY?: string;

  /** Milliseconds before an upstream call is abandoned. */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  INFERENCE_TIMEOUT_MS: number = 600_000;

  @Transform(blankToUndefined)
  @IsOptional()
  @IsString()
  MODELS_CONFIG?: string;

  /**
   * Embeddings (file_search, vector stores) without MODELS_CONFIG: the model name sent to
   * EMBEDDING_BASE_URL (default INFERENCE_BASE_URL). Unset: no embeddings, vector stores are keyword-only.
   */
  @Transform(blankToUndefined)
  @IsOptional()
  @IsString()
  EMBEDDING_MODEL?: string;

  /** The length of EMBEDDING_MODEL's vectors (required with it: vector columns are sized by it). */
  @Transform(toInt)
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(16_000)
  EMBEDDING_DIMENSIONS?: number;

  /** Where EMBEDDING_MODEL is served (`…/v1`); default INFERENCE_BASE_URL. */
  @Transform(blankToUndefined)
  @IsOptional()
  @IsUrl({ require_tld: false, require_protocol: true, protocols: ['http', 'https'] })
  EMBEDDING_BASE_URL?: string;

  /** Its key; default INFERENCE_API_KEY when EMBEDDING_BASE_URL is unset. */
  @Transform(blankToUndefined)
  @IsOptional()
  @IsString()
  EMBEDDING_API_KEY?: string;

  /** Send `dimensions` upstream (Matryoshka models such as OpenAI text-embedding-3): the model shortens its vectors to EMBEDDING_DIMENSIONS. */
  @Transform(toBool)
  @IsBoolean()
  EMBEDDING_SEND_DIMENSIONS: boolean = false;

  /** Texts per embeddings request at most (TEI refuses more than 32 by default: its --max-client-batch-size). */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(2048)
  EMBEDDING_BATCH_SIZE: number = 32;

  /** Estimated tokens per embeddings request at most (a longer text goes alone). */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(1_000_000)
  EMBEDDING_BATCH_TOKENS: number = 16_384;

  /** Embeddings requests one `embed` call keeps in flight at once. */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(64)
  EMBEDDING_CONCURRENCY: number = 4;

  /** Bootstrap API keys: comma-separated `key` or `key:tenant` pairs. */
  @Transform(blankToUndefined)
  @IsOptional()
  @IsString()
  API_KEYS?: string;

  /** Require a bearer credential on /v1. Default: on when API_KEYS or AUTH_JWKS_URL is set. */
  @Transform(toBool)
  @IsOptional()
  @IsBoolean()
  AUTH_REQUIRED?: boolean;

  /** JWTs signed by the keys at this JWKS URL are accepted as credentials. */
  @Transform(blankToUndefined)
  @IsOptional()
  @IsUrl({ require_tld: false, require_protocol: true, protocols: ['http', 'https'] })
  AUTH_JWKS_URL?: string;

  @Transform(blankToUndefined)
  @IsOptional()
  @IsString()
  AUTH_JWT_ISSUER?: string;

  @Transform(blankToUndefined)
  @IsOptional()
  @IsString()
  AUTH_JWT_AUDIENCE?: string;

  /** The JWT claim that names the tenant. */
  @IsString()
  AUTH_TENANT_CLAIM: string = 'tenant';

  /** Listen on a non-loopback HOST without authentication (off: the server refuses). */
  @Transform(toBool)
  @IsBoolean()
  ALLOW_UNAUTHENTICATED_PUBLIC: boolean = false;

  /**
   * Key for sealed values: secrets stored with background responses (MCP server headers), webhook
   * secrets, and the `encrypted_content` of reasoning items handed to clients. The same on every process.
   */
  @Transform(blankToUndefined)
  @IsOptional()
  @IsString()
  @MinLength(16)
  SECRETS_KEY?: string;

  /** Requests per minute per credential; 0 means no limit. */
  @Transform(toInt)
  @IsInt()
  @Min(0)
  RATE_LIMIT_PER_MINUTE: number = 0;

  /** Unfinished background responses per tenant; 0 means no limit. */
  @Transform(toInt)
  @IsInt()
  @Min(0)
  MAX_BACKGROUND_PER_TENANT: number = 0;

  /**
   * Shares of the background queue (docs/background.md#scheduling): comma-separated
   * `tenant=weight` pairs (weight > 0, default 1). A tenant of weight 2 gets twice the runs of a
   * tenant of weight 1 while both have work waiting.
   */
  @Transform(blankToUndefined)
  @IsOptional()
  @Matches(PAIRS, { message: 'must be comma-separated tenant=weight pairs, e.g. "team-a=2,team-b=1"' })
  BACKGROUND_TENANT_WEIGHTS?: string;

  /**
   * Background responses that may wait, per class: `soonest=N,windowed=M` (either may be left
   * out; 0 or unset: no limit). Past it, a create is a 429 with `retry-after`.
   */
  @Transform(blankToUndefined)
  @IsOptional()
  @Matches(CLASS_PAIRS, { message: 'must be soonest=N and/or windowed=N, comma-separated' })
  BACKGROUND_MAX_QUEUED?: string;

  /** The same, per tenant: `soonest=N,windowed=M`. */
  @Transform(blankToUndefined)
  @IsOptional()
  @Matches(CLASS_PAIRS, { message: 'must be soonest=N and/or windowed=N, comma-separated' })
  BACKGROUND_MAX_QUEUED_PER_TENANT?: string;

  /**
   * How long before the end of its completion window a windowed response is started at the latest
   * (it then goes ahead of `soonest` work): the time it may need to run. A model's
   * `windowMarginSeconds` in MODELS_CONFIG overrides it.
   */
  @Transform(toInt)
  @IsInt()
  @Min(0)
  BACKGROUND_WINDOW_MARGIN_SECONDS: number = 900;

  /**
   * Streams (SSE creates and `GET …?stream=true` followers) one tenant may have open at once on
   * one process; 0 means no limit.
   */
  @Transform(toInt)
  @IsInt()
  @Min(0)
  MAX_STREAMS_PER_TENANT: number = 100;

  /** Bytes an SSE client may leave unread in this process before it is dropped. */
  @Transform(toInt)
  @IsInt()
  @Min(16_384)
  STREAM_MAX_BUFFERED_BYTES: number = 1_048_576;

  /** How long an SSE client may stay behind (its socket not drained) before it is dropped, in ms. */
  @Transform(toInt)
  @IsInt()
  @Min(100)
  STREAM_MAX_BEHIND_MS: number = 30_000;

  /** WebSocket connections (`GET /v1/responses` upgrades) one tenant may have open at once on one process; 0 means no limit. */
  @Transform(toInt)
  @IsInt()
  @Min(0)
  MAX_WS_CONNECTIONS_PER_TENANT: number = 50;

  /** How long a WebSocket connection may stay open (OpenAI: 60 minutes), in ms. */
  @Transform(toInt)
  @IsInt()
  @Min(1000)
  WS_MAX_CONNECTION_MS: number = 3_600_000;

  /** How often a WebSocket peer is pinged; one that has not answered the previous ping is dropped, in ms. */
  @Transform(toInt)
  @IsInt()
  @Min(100)
  WS_PING_INTERVAL_MS: number = 30_000;

  /** `store: false` responses a WebSocket connection keeps for `previous_response_id` (the newest ones). */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  WS_CACHED_RESPONSES: number = 16;

  /** Bytes (JSON) of the items a WebSocket connection's cache may hold, each response counted with its whole history; the oldest go first, and a history alone past it is not kept. */
  @Transform(toInt)
  @IsInt()
  @Min(65_536)
  WS_CACHE_MAX_BYTES: number = 16_777_216;

  /** Most input items in one request. */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  MAX_INPUT_ITEMS: number = 2000;

  /** Most characters of text (input and instructions) in one request. */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  MAX_INPUT_CHARS: number = 2_000_000;

  /** `item_reference` inputs one request may carry (each is an indexed lookup; more is a 400 naming `input`). */
  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(100_000)
  MAX_ITEM_REFERENCES: number = 200;

  /** Accept `http:` image URLs in `input_image` (default: only `https:` and `data:`; the upstream may fetch them). */
  @Transform(toBool)
  @IsBoolean()
  INPUT_IMAGE_ALLOW_HTTP: boolean = false;

  /** JWTs: the oldest `iat` accepted, in seconds (0: no limit). Every JWT must also carry `exp`. */
  @Transform(toInt)
  @IsInt()
  @Min(0)
  AUTH_JWT_MAX_AGE_SECONDS: number = 86_400;

  /** Failed authentications one client address may make per minute before it gets 429s (0: no limit). */
  @Transform(toInt)
  @IsInt()
  @Min(0)
  AUTH_FAILURES_PER_MINUTE: number = 60;

  /** Older SECRETS_KEY values, comma-separated: what they sealed still opens; new seals use SECRETS_KEY. */
  @Transform(blankToUndefined)
  @IsOptional()
  @IsString()
  SECRETS_KEY_PREVIOUS?: string;

  /** Largest strict `text.format.schema` (JSON text, bytes); compiling costs time on the event loop. */
  @Transform(toInt)
  @IsInt()
  @Min(1024)
  @Max(10 * 1024 * 1024)
  MAX_SCHEMA_BYTES: number = 65_536;

  /** Deepest nesting of a strict `text.format.schema` (JSON levels; ajv compiles and checks by recursion). */
  @Transform(toInt)
  @IsInt()
  @Min(2)
  @Max(1000)
  MAX_SCHEMA_DEPTH: number = 64;

  /** Compiled output schemas kept per process (0: compile for every use). */
  @Transform(toInt)
  @IsInt()
  @Min(0)
  SCHEMA_CACHE_ENTRIES: number = 256;

  /** Total JSON bytes of the schemas in that cache (a compiled validator holds about 40 times its JSON). */
  @Transform(toInt)
  @IsInt()
  @Min(0)
  SCHEMA_CACHE_BYTES: number = 1024 * 1024;

  @IsIn(LOG_LEVELS)
  LOG_LEVEL: LogLevel = 'info';

  /** Largest accepted request body, in bytes. */
  @Transform(toInt)
  @IsInt()
  @Min(1024)
  BODY_LIMIT_BYTES: number = 10 * 1024 * 1024;

  /** Bull key prefix: separate deployments (or test runs) sharing one Redis. */
  @IsString()
  @Matches(/^[\w:.-]+$/)
  QUEUE_PREFIX: string = 'rg';

  /** Background responses one process runs at once. */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(10_000)
  BACKGROUND_CONCURRENCY: number = 16;

  /** Runs of one background response before it is failed (a run ends early when its worker dies). */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(100)
  BACKGROUND_MAX_ATTEMPTS: number = 3;

  /**
   * Retries of an upstream call that failed before any output (refused, reset, 429, 5xx) in a
   * background run: nobody is there to retry it. Synchronous calls use the provider's maxRetries.
   */
  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(20)
  BACKGROUND_UPSTREAM_RETRIES: number = 3;

  /** Wall-clock limit of one background run, in ms; 0 means none. */
  @Transform(toInt)
  @IsInt()
  @Min(0)
  BACKGROUND_TIMEOUT_MS: number = 0;

  /** A worker that has not renewed its job lock for this long is presumed dead (Bull lockDuration). */
  @Transform(toInt)
  @IsInt()
  @Min(500)
  STALL_TIMEOUT_MS: number = 30_000;

  /** How often unfinished background responses are checked for a live job. */
  @Transform(toInt)
  @IsInt()
  @Min(100)
  RECONCILE_INTERVAL_MS: number = 5_000;

  /** Seconds a background stream's events stay replayable after its terminal event. */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  EVENT_RETENTION_SECONDS: number = 3600;

  /** On SIGTERM, how long running jobs may take to finish before they go back to the queue. */
  @Transform(toInt)
  @IsInt()
  @Min(0)
  SHUTDOWN_GRACE_MS: number = 30_000;

  /** Webhooks: how long a delivery is retried before it is given up (and its endpoint, failing all along, disabled). */
  @Transform(toInt)
  @IsInt()
  @Min(1000)
  WEBHOOK_RETRY_WINDOW_MS: number = 86_400_000;

  /** Webhooks: the first retry's delay; each further one doubles (with ±20 % jitter) up to WEBHOOK_BACKOFF_MAX_MS. */
  @Transform(toInt)
  @IsInt()
  @Min(10)
  WEBHOOK_BACKOFF_BASE_MS: number = 5_000;

  @Transform(toInt)
  @IsInt()
  @Min(10)
  WEBHOOK_BACKOFF_MAX_MS: number = 3_600_000;

  /** Webhooks: time limit of one delivery attempt (connect to last byte). */
  @Transform(toInt)
  @IsInt()
  @Min(100)
  @Max(300_000)
  WEBHOOK_TIMEOUT_MS: number = 10_000;

  /** Webhooks: how long a rotated-out secret keeps signing alongside the new one, by default. */
  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(30 * 86_400)
  WEBHOOK_ROTATION_GRACE_SECONDS: number = 86_400;

  /** Webhooks: how often a worker looks for due deliveries. */
  @Transform(toInt)
  @IsInt()
  @Min(10)
  WEBHOOK_RELAY_INTERVAL_MS: number = 500;

  /** Webhooks: how long a claimed delivery is a worker's; a dead worker's claim expires after it. At least the attempt timeout plus a second. */
  @Transform(toInt)
  @IsInt()
  @Min(500)
  WEBHOOK_LEASE_MS: number = 60_000;

  /** File search: vector store files one process ingests at once (extract, chunk, embed, index). */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(256)
  INGESTION_CONCURRENCY: number = 4;

  /** File search: runs of one file's ingestion before it is failed (a run ends early when its worker dies or the embeddings upstream fails). */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(100)
  INGESTION_MAX_ATTEMPTS: number = 3;

  /** File search: the most chunks one file may make (a larger file fails with `invalid_file`). */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  FILE_SEARCH_MAX_CHUNKS_PER_FILE: number = 20_000;

  /**
   * File search: the most chunks one search compares by vector exactly (without pgvector every
   * chunk in scope is compared, ~50 ms per 1,000 on Postgres): larger scopes are searched by
   * keyword only, so one tenant's big store cannot hold the shared database for seconds.
   */
  @Transform(toInt)
  @IsInt()
  @Min(0)
  FILE_SEARCH_EXACT_MAX_CHUNKS: number = 50_000;

  /** Webhooks: deliveries one process makes at once. */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(1000)
  WEBHOOK_CONCURRENCY: number = 16;

  /** Webhooks: days events and their delivery log are kept. */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  WEBHOOK_RETENTION_DAYS: number = 30;

  /** Webhooks: endpoints one tenant may have (every terminal response is sent to each subscribed one). */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(10_000)
  WEBHOOK_MAX_ENDPOINTS_PER_TENANT: number = 20;

  /** Webhooks: accept `http://` endpoint URLs (default: https only). */
  @Transform(toBool)
  @IsBoolean()
  WEBHOOK_ALLOW_HTTP: boolean = false;

  /** Webhooks: comma-separated hostnames, IPs and CIDRs that endpoints may use although private, loopback or link-local. */
  @IsString()
  WEBHOOK_ALLOWED_HOSTS: string = '';

  /** MCP: accept `http://` server URLs (default: https only). */
  @Transform(toBool)
  @IsBoolean()
  MCP_ALLOW_HTTP: boolean = false;

  /** MCP: comma-separated hostnames, IPs and CIDRs that server URLs may use although private, loopback or link-local. */
  @IsString()
  MCP_ALLOWED_HOSTS: string = '';

  /** MCP: the most of a tool's result (UTF-8 bytes) given to the model and stored; the rest is cut with a marker. */
  @Transform(toInt)
  @IsInt()
  @Min(1024)
  @Max(64 * 1024 * 1024)
  MCP_MAX_OUTPUT_BYTES: number = 1024 * 1024;

  /** MCP: the most bytes read from one HTTP answer of an MCP server; a longer one fails the call. */
  @Transform(toInt)
  @IsInt()
  @Min(4096)
  @Max(256 * 1024 * 1024)
  MCP_MAX_RESPONSE_BYTES: number = 8 * 1024 * 1024;

  /** Web search: the search service the `web_search` tool uses; unset: the tool is not served (docs/tools.md). */
  @Transform(blankToUndefined)
  @IsOptional()
  @IsIn(WEB_SEARCH_PROVIDERS)
  WEB_SEARCH_PROVIDER?: WebSearchProviderName;

  /** Web search: the provider's base URL (required for searxng; brave and tavily default to their public APIs). */
  @Transform(blankToUndefined)
  @IsOptional()
  @IsString()
  WEB_SEARCH_URL?: string;

  /** Web search: the provider's API key (brave, tavily; optional for searxng). Never logged, never sent to clients. */
  @Transform(blankToUndefined)
  @IsOptional()
  @IsString()
  WEB_SEARCH_API_KEY?: string;

  /** Web search: the longest one provider call may take, in ms (a slower one fails the search). */
  @Transform(toInt)
  @IsInt()
  @Min(100)
  @Max(120_000)
  WEB_SEARCH_TIMEOUT_MS: number = 10_000;

  /** Web search: the most results one search gives the model (`search_context_size` asks for fewer at `low`/`medium`). */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(50)
  WEB_SEARCH_MAX_RESULTS: number = 10;

  /** Web search: offer the model `open_page` (fetch a page's text through the SSRF guard). */
  @Transform(toBool)
  @IsBoolean()
  WEB_SEARCH_OPEN_PAGE: boolean = true;

  /** Web search pages: the longest one page fetch may take, in ms. */
  @Transform(toInt)
  @IsInt()
  @Min(100)
  @Max(120_000)
  WEB_PAGE_TIMEOUT_MS: number = 10_000;

  /** Web search pages: the most bytes read of one page; a larger one fails the open_page call. */
  @Transform(toInt)
  @IsInt()
  @Min(4096)
  @Max(64 * 1024 * 1024)
  WEB_PAGE_MAX_BYTES: number = 2 * 1024 * 1024;

  /** Web search pages: accept `http://` page URLs (default: yes, the public web has them; addresses are guarded either way). */
  @Transform(toBool)
  @IsBoolean()
  WEB_PAGE_ALLOW_HTTP: boolean = true;

  /** Web search pages: comma-separated hostnames, IPs and CIDRs that pages may use although private, loopback or link-local. */
  @IsString()
  WEB_PAGE_ALLOWED_HOSTS: string = '';

  /** Files: the largest file one upload may carry, in bytes (a larger one is a 413 naming `file`). */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(4 * 1024 * 1024 * 1024)
  FILES_MAX_BYTES: number = 64 * 1024 * 1024;

  /** Files: the bytes of all the files one tenant may keep (0: no limit). */
  @Transform(toInt)
  @IsInt()
  @Min(0)
  FILES_MAX_BYTES_PER_TENANT: number = 1024 * 1024 * 1024;

  /**
   * Files: where their content is kept, `postgres` (a table) or `filesystem` (FILES_DIR). Default:
   * `filesystem` for the embedded server with a data directory, `postgres` otherwise (with
   * DATABASE_URL every process must see the same content; a directory is shared only when mounted so).
   */
  @Transform(blankToUndefined)
  @IsOptional()
  @IsIn(FILE_STORAGES)
  FILES_STORAGE?: FileStorage;

  /** Files: the directory of FILES_STORAGE=filesystem (default: DATA_DIR/files). */
  @Transform(blankToUndefined)
  @IsOptional()
  @IsString()
  FILES_DIR?: string;

  /** Files: the longest an upload may take, in ms (a slower one is abandoned and leaves nothing). */
  @Transform(toInt)
  @IsInt()
  @Min(1000)
  FILES_UPLOAD_TIMEOUT_MS: number = 600_000;

  /** Files: how often expired files (and uploads abandoned by a dead process) are deleted, in ms. */
  @Transform(toInt)
  @IsInt()
  @Min(100)
  FILES_SWEEP_INTERVAL_MS: number = 60_000;

  /** How many `previous_response_id` links a request may walk back. */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(10_000)
  MAX_CHAIN_DEPTH: number = 1000;
}

export class EnvironmentError extends Error {}

/** 127.0.0.0/8, ::1 and localhost: reachable from this machine only. */
export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127(\.\d{1,3}){3}$/.test(host);
}

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

/**
 * The variables a configuration class declares: every property with a class-validator decorator
 * (inherited ones included). Optional variables have no initializer, so an instance does not
 * show them; the decorators' metadata does.
 */
export function variablesOf(schema: new () => object): string[] {
  const metadata = getMetadataStorage().getTargetValidationMetadatas(schema, '', true, false);
  return [...new Set(metadata.map((m) => m.propertyName))];
}

/**
 * Reads the variables `schema` declares from `env` and validates them; throws an EnvironmentError
 * naming every bad variable. Unset and empty values fall back to the class defaults; variables
 * the class does not declare are ignored.
 */
export function readVariables<T extends object>(schema: new () => T, env: Record<string, string | undefined>): T {
  const plain: Record<string, string> = {};
  for (const key of variablesOf(schema)) {
    const value = env[key];
    if (value !== undefined && value !== '') plain[key] = value;
  }
  const parsed = plainToInstance(schema, plain);
  const errors = validateSync(parsed, { forbidUnknownValues: false });
  if (errors.length > 0) {
    throw new EnvironmentError(`Invalid configuration:\n  ${describe(errors)}`);
  }
  return parsed;
}

/** Parses and validates an environment; throws an EnvironmentError naming every bad variable. */
export function parseEnvironment(env: Record<string, string | undefined>): Environment {
  const parsed = readVariables(Environment, env);
  if (parsed.ROLE !== 'all' && !parsed.REDIS_URL) {
    throw new EnvironmentError(`Invalid configuration:\n  ROLE=${parsed.ROLE} needs REDIS_URL: API and worker processes hand jobs over through Redis.`);
  }
  if (parsed.EMBEDDING_MODEL && parsed.MODELS_CONFIG) {
    throw new EnvironmentError(
      `Invalid configuration:\n  EMBEDDING_MODEL is the form without MODELS_CONFIG: with MODELS_CONFIG, name the embedding model in its "embeddings" block.`,
    );
  }
  if (parsed.EMBEDDING_MODEL && !parsed.EMBEDDING_DIMENSIONS) {
    throw new EnvironmentError(
      `Invalid configuration:\n  EMBEDDING_MODEL needs EMBEDDING_DIMENSIONS, the length of its vectors (e.g. 384 for bge-small-en-v1.5, 768 for nomic-embed-text, 1024 for bge-m3).`,
    );
  }
  if (parsed.EMBEDDING_MODEL && !parsed.EMBEDDING_BASE_URL && !parsed.INFERENCE_BASE_URL) {
    throw new EnvironmentError(`Invalid configuration:\n  EMBEDDING_MODEL needs EMBEDDING_BASE_URL (or INFERENCE_BASE_URL): where the model is served.`);
  }
  if (parsed.WEB_SEARCH_PROVIDER === 'searxng' && !parsed.WEB_SEARCH_URL) {
    throw new EnvironmentError(`Invalid configuration:\n  WEB_SEARCH_PROVIDER=searxng needs WEB_SEARCH_URL: the SearXNG instance (its JSON format enabled).`);
  }
  if ((parsed.WEB_SEARCH_PROVIDER === 'brave' || parsed.WEB_SEARCH_PROVIDER === 'tavily') && !parsed.WEB_SEARCH_API_KEY) {
    throw new EnvironmentError(`Invalid configuration:\n  WEB_SEARCH_PROVIDER=${parsed.WEB_SEARCH_PROVIDER} needs WEB_SEARCH_API_KEY.`);
  }
  if (parsed.WEB_SEARCH_URL) {
    let protocol = '';
    try {
      protocol = new URL(parsed.WEB_SEARCH_URL).protocol;
    } catch {
      // reported below
    }
    if (protocol !== 'http:' && protocol !== 'https:') throw new EnvironmentError(`Invalid configuration:\n  WEB_SEARCH_URL must be an http or https URL.`);
  }
  if (parsed.FILES_STORAGE === 'filesystem' && !parsed.FILES_DIR && parsed.DATA_DIR.startsWith('memory://')) {
    throw new EnvironmentError(
      `Invalid configuration:\n  FILES_STORAGE=filesystem needs FILES_DIR when DATA_DIR=${parsed.DATA_DIR} (nothing is kept on disk there).`,
    );
  }
  return parsed;
}
