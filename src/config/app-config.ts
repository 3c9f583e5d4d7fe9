import { SecretBox } from '../common/secrets';
import { dataDirKey } from './data-dir-key';
import type { LogLevel } from '../common/logging';
import { join } from 'node:path';
import { type Environment, type FileStorage, parseEnvironment, type Role, type WebSearchProviderName } from './environment';

/** An environment as the process has it: variable names to values. */
export type EnvironmentVariables = Record<string, string | undefined>;

/** The web_search tool's deployment settings (WEB_SEARCH_*, WEB_PAGE_*). */
export interface WebSearchSettings {
  provider: WebSearchProviderName;
  /** Base URL; unset: the provider's public API (brave, tavily). */
  url?: string;
  apiKey?: string;
  timeoutMs: number;
  maxResults: number;
  openPage: boolean;
  pageTimeoutMs: number;
  pageMaxBytes: number;
}

/** Typed, read-only access to the validated configuration. Injected wherever settings are needed. */
export class AppConfig {
  constructor(
    private readonly env: Environment,
    /** The raw environment, only for secrets that configuration files name by variable. */
    private readonly raw: Record<string, string | undefined> = {},
  ) {}

  /** A secret named by a configuration file (e.g. a provider's `apiKeyEnv`). */
  secret(name: string): string | undefined {
    return this.raw[name];
  }

  get port(): number {
    return this.env.PORT;
  }
  get host(): string {
    return this.env.HOST;
  }
  get role(): Role {
    return this.env.ROLE;
  }
  get servesHttp(): boolean {
    return this.env.ROLE !== 'worker';
  }
  get runsJobs(): boolean {
    return this.env.ROLE !== 'api';
  }
  get databaseUrl(): string | undefined {
    return this.env.DATABASE_URL;
  }
  get dataDir(): string {
    return this.env.DATA_DIR;
  }
  get redisUrl(): string | undefined {
    return this.env.REDIS_URL;
  }
  get inferenceBaseUrl(): string | undefined {
    return this.env.INFERENCE_BASE_URL;
  }
  get inferenceApiKey(): string | undefined {
    return this.env.INFERENCE_API_KEY;
  }
  get inferenceTimeoutMs(): number {
    return this.env.INFERENCE_TIMEOUT_MS;
  }
  get modelsConfigPath(): string | undefined {
    return this.env.MODELS_CONFIG;
  }
  /** The embedding model of the form without MODELS_CONFIG (EMBEDDING_*); undefined when EMBEDDING_MODEL is unset. */
  get embeddingModel(): { model: string; dimensions: number; baseUrl: string; apiKey?: string; sendDimensions: boolean } | undefined {
    const { EMBEDDING_MODEL: model, EMBEDDING_DIMENSIONS: dimensions, EMBEDDING_BASE_URL: own } = this.env;
    const baseUrl = own ?? this.env.INFERENCE_BASE_URL;
    if (!model || !dimensions || !baseUrl) return undefined; // parseEnvironment refuses a partial form
    const apiKey = own ? this.env.EMBEDDING_API_KEY : (this.env.EMBEDDING_API_KEY ?? this.env.INFERENCE_API_KEY);
    return { model, dimensions, baseUrl, ...(apiKey ? { apiKey } : {}), sendDimensions: this.env.EMBEDDING_SEND_DIMENSIONS };
  }
  /** How embeddings requests are cut and run (MODELS_CONFIG's `embeddings` block overrides each). */
  get embeddingBatching(): { batchSize: number; batchTokens: number; concurrency: number } {
    return { batchSize: this.env.EMBEDDING_BATCH_SIZE, batchTokens: this.env.EMBEDDING_BATCH_TOKENS, concurrency: this.env.EMBEDDING_CONCURRENCY };
  }
  get apiKeys(): string | undefined {
    return this.env.API_KEYS;
  }
  /** Whether /v1 requires a credential (explicit, or implied by a configured credential source). */
  get authRequired(): boolean {
    return this.env.AUTH_REQUIRED ?? Boolean(this.env.API_KEYS || this.env.AUTH_JWKS_URL);
  }
  get jwksUrl(): string | undefined {
    return this.env.AUTH_JWKS_URL;
  }
  get jwtIssuer(): string | undefined {
    return this.env.AUTH_JWT_ISSUER;
  }
  get jwtAudience(): string | undefined {
    return this.env.AUTH_JWT_AUDIENCE;
  }
  get tenantClaim(): string {
    return this.env.AUTH_TENANT_CLAIM;
  }
  get allowUnauthenticatedPublic(): boolean {
    return this.env.ALLOW_UNAUTHENTICATED_PUBLIC;
  }
  get secretsKey(): string | undefined {
    return this.env.SECRETS_KEY;
  }
  private box?: SecretBox;
  /** The sealer for secrets at rest (SECRETS_KEY, with SECRETS_KEY_PREVIOUS for rotation); undefined without SECRETS_KEY. */
  get secretBox(): SecretBox | undefined {
    if (!this.env.SECRETS_KEY) return undefined;
    return (this.box ??= new SecretBox(this.env.SECRETS_KEY, this.previousSecretsKeys));
  }
  private clientBox?: SecretBox | null;
  private weights?: Map<string, number>;
  /**
   * The sealer for values handed to clients and brought back by them (encrypted reasoning): every
   * API process must open what any other sealed. SECRETS_KEY when set; an embedded server (no
   * DATABASE_URL) without it uses a key generated once in DATA_DIR; a Postgres deployment without
   * SECRETS_KEY has none (its processes would not share a generated key).
   */
  get clientSealBox(): SecretBox | undefined {
    if (this.clientBox === undefined) {
      this.clientBox = this.secretBox ?? (this.env.DATABASE_URL ? null : new SecretBox(dataDirKey(this.env.DATA_DIR), this.previousSecretsKeys));
    }
    return this.clientBox ?? undefined;
  }
  get rateLimitPerMinute(): number {
    return this.env.RATE_LIMIT_PER_MINUTE;
  }
  get maxBackgroundPerTenant(): number {
    return this.env.MAX_BACKGROUND_PER_TENANT;
  }
  /** A tenant's share of the background queue (BACKGROUND_TENANT_WEIGHTS; 1 unless set). */
  backgroundWeight(owner: string): number {
    this.weights ??= pairs(this.env.BACKGROUND_TENANT_WEIGHTS);
    const weight = this.weights.get(owner);
    return weight && weight > 0 ? weight : 1;
  }
  /** How many background responses of a class may wait, in all and per tenant (0: no limit). */
  backgroundQueueLimit(cls: 'soonest' | 'windowed', scope: 'all' | 'tenant'): number {
    return pairs(scope === 'all' ? this.env.BACKGROUND_MAX_QUEUED : this.env.BACKGROUND_MAX_QUEUED_PER_TENANT).get(cls) ?? 0;
  }
  get backgroundWindowMarginSeconds(): number {
    return this.env.BACKGROUND_WINDOW_MARGIN_SECONDS;
  }
  get maxStreamsPerTenant(): number {
    return this.env.MAX_STREAMS_PER_TENANT;
  }
  get streamMaxBufferedBytes(): number {
    return this.env.STREAM_MAX_BUFFERED_BYTES;
  }
  get streamMaxBehindMs(): number {
    return this.env.STREAM_MAX_BEHIND_MS;
  }
  get maxWsConnectionsPerTenant(): number {
    return this.env.MAX_WS_CONNECTIONS_PER_TENANT;
  }
  get wsMaxConnectionMs(): number {
    return this.env.WS_MAX_CONNECTION_MS;
  }
  get wsPingIntervalMs(): number {
    return this.env.WS_PING_INTERVAL_MS;
  }
  get wsCachedResponses(): number {
    return this.env.WS_CACHED_RESPONSES;
  }
  get wsCacheMaxBytes(): number {
    return this.env.WS_CACHE_MAX_BYTES;
  }
  get maxInputItems(): number {
    return this.env.MAX_INPUT_ITEMS;
  }
  get maxInputChars(): number {
    return this.env.MAX_INPUT_CHARS;
  }
  get maxItemReferences(): number {
    return this.env.MAX_ITEM_REFERENCES;
  }
  get inputImageAllowHttp(): boolean {
    return this.env.INPUT_IMAGE_ALLOW_HTTP;
  }
  get jwtMaxAgeSeconds(): number {
    return this.env.AUTH_JWT_MAX_AGE_SECONDS;
  }
  get authFailuresPerMinute(): number {
    return this.env.AUTH_FAILURES_PER_MINUTE;
  }
  /** Older keys whose seals still open (rotation). */
  get previousSecretsKeys(): string[] {
    return (this.env.SECRETS_KEY_PREVIOUS ?? '')
      .split(',')
      .map((k) => k.trim())
      .filter(Boolean);
  }
  get logLevel(): LogLevel {
    return this.env.LOG_LEVEL;
  }
  get bodyLimitBytes(): number {
    return this.env.BODY_LIMIT_BYTES;
  }
  get maxChainDepth(): number {
    return this.env.MAX_CHAIN_DEPTH;
  }
  get maxSchemaBytes(): number {
    return this.env.MAX_SCHEMA_BYTES;
  }
  get maxSchemaDepth(): number {
    return this.env.MAX_SCHEMA_DEPTH;
  }
  get schemaCacheEntries(): number {
    return this.env.SCHEMA_CACHE_ENTRIES;
  }
  get schemaCacheBytes(): number {
    return this.env.SCHEMA_CACHE_BYTES;
  }
  get queuePrefix(): string {
    return this.env.QUEUE_PREFIX;
  }
  get backgroundConcurrency(): number {
    return this.env.BACKGROUND_CONCURRENCY;
  }
  get backgroundMaxAttempts(): number {
    return this.env.BACKGROUND_MAX_ATTEMPTS;
  }
  get backgroundUpstreamRetries(): number {
    return this.env.BACKGROUND_UPSTREAM_RETRIES;
  }
  get backgroundTimeoutMs(): number {
    return this.env.BACKGROUND_TIMEOUT_MS;
  }
  get stallTimeoutMs(): number {
    return this.env.STALL_TIMEOUT_MS;
  }
  get reconcileIntervalMs(): number {
    return this.env.RECONCILE_INTERVAL_MS;
  }
  get eventRetentionSeconds(): number {
    return this.env.EVENT_RETENTION_SECONDS;
  }
  get shutdownGraceMs(): number {
    return this.env.SHUTDOWN_GRACE_MS;
  }
  get webhookRetryWindowMs(): number {
    return this.env.WEBHOOK_RETRY_WINDOW_MS;
  }
  get webhookBackoffBaseMs(): number {
    return this.env.WEBHOOK_BACKOFF_BASE_MS;
  }
  get webhookBackoffMaxMs(): number {
    return this.env.WEBHOOK_BACKOFF_MAX_MS;
  }
  get webhookTimeoutMs(): number {
    return this.env.WEBHOOK_TIMEOUT_MS;
  }
  get webhookRotationGraceSeconds(): number {
    return this.env.WEBHOOK_ROTATION_GRACE_SECONDS;
  }
  get webhookRelayIntervalMs(): number {
    return this.env.WEBHOOK_RELAY_INTERVAL_MS;
  }
  /** Never shorter than an attempt: a claim must outlive the attempt it covers. */
  get webhookLeaseMs(): number {
    return Math.max(this.env.WEBHOOK_LEASE_MS, this.env.WEBHOOK_TIMEOUT_MS + 1000);
  }
  get ingestionConcurrency(): number {
    return this.env.INGESTION_CONCURRENCY;
  }
  get ingestionMaxAttempts(): number {
    return this.env.INGESTION_MAX_ATTEMPTS;
  }
  get maxChunksPerFile(): number {
    return this.env.FILE_SEARCH_MAX_CHUNKS_PER_FILE;
  }
  get exactSearchMaxChunks(): number {
    return this.env.FILE_SEARCH_EXACT_MAX_CHUNKS;
  }
  get webhookConcurrency(): number {
    return this.env.WEBHOOK_CONCURRENCY;
  }
  get webhookRetentionDays(): number {
    return this.env.WEBHOOK_RETENTION_DAYS;
  }
  get webhookMaxEndpointsPerTenant(): number {
    return this.env.WEBHOOK_MAX_ENDPOINTS_PER_TENANT;
  }
  get webhookAllowHttp(): boolean {
    return this.env.WEBHOOK_ALLOW_HTTP;
  }
  get webhookAllowedHosts(): string[] {
    return this.env.WEBHOOK_ALLOWED_HOSTS.split(',')
      .map((h) => h.trim())
      .filter(Boolean);
  }
  get filesMaxBytes(): number {
    return this.env.FILES_MAX_BYTES;
  }
  /** 0: no limit. */
  get filesMaxBytesPerTenant(): number {
    return this.env.FILES_MAX_BYTES_PER_TENANT;
  }
  /** Explicit, or `filesystem` for an embedded server with a data directory, else `postgres`. */
  get filesStorage(): FileStorage {
    return this.env.FILES_STORAGE ?? (this.env.DATABASE_URL || this.env.DATA_DIR.startsWith('memory://') ? 'postgres' : 'filesystem');
  }
  get filesDir(): string {
    return this.env.FILES_DIR ?? join(this.env.DATA_DIR, 'files');
  }
  get filesUploadTimeoutMs(): number {
    return this.env.FILES_UPLOAD_TIMEOUT_MS;
  }
  get filesSweepIntervalMs(): number {
    return this.env.FILES_SWEEP_INTERVAL_MS;
  }
  get mcpAllowHttp(): boolean {
    return this.env.MCP_ALLOW_HTTP;
  }
  get mcpAllowedHosts(): string[] {
    return this.env.MCP_ALLOWED_HOSTS.split(',')
      .map((h) => h.trim())
      .filter(Boolean);
  }
  get mcpMaxOutputBytes(): number {
    return this.env.MCP_MAX_OUTPUT_BYTES;
  }
  get mcpMaxResponseBytes(): number {
    return this.env.MCP_MAX_RESPONSE_BYTES;
  }
  /** The `web_search` tool's settings, or null when no provider is configured (the tool is then left out). */
  get webSearch(): WebSearchSettings | null {
    const provider = this.env.WEB_SEARCH_PROVIDER;
    if (!provider) return null;
    return {
      provider,
      url: this.env.WEB_SEARCH_URL,
      apiKey: this.env.WEB_SEARCH_API_KEY,
      timeoutMs: this.env.WEB_SEARCH_TIMEOUT_MS,
      maxResults: this.env.WEB_SEARCH_MAX_RESULTS,
      openPage: this.env.WEB_SEARCH_OPEN_PAGE,
      pageTimeoutMs: this.env.WEB_PAGE_TIMEOUT_MS,
      pageMaxBytes: this.env.WEB_PAGE_MAX_BYTES,
    };
  }
  get webPageAllowHttp(): boolean {
    return this.env.WEB_PAGE_ALLOW_HTTP;
  }
  get webPageAllowedHosts(): string[] {
    return this.env.WEB_PAGE_ALLOWED_HOSTS.split(',')
      .map((h) => h.trim())
      .filter(Boolean);
  }
}

/**
 * The configuration of this process, validated once: the one place that reads `process.env`
 * (tests, scripts and the CLIs' callers may pass an environment of their own instead). Throws an
 * EnvironmentError naming every bad variable.
 */
export function loadConfig(env: EnvironmentVariables = process.env): AppConfig {
  return new AppConfig(parseEnvironment(env), env);
}

/** `a=1,b=2` (validated by the environment) as a map. */
function pairs(value: string | undefined): Map<string, number> {
  return new Map(
    (value ?? '')
      .split(',')
      .filter((pair) => pair.includes('='))
      .map((pair) => pair.split('=').map((part) => part.trim()))
      .map(([name, number]): [string, number] => [name, Number(number)]),
  );
}
