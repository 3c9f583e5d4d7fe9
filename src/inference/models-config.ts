import { readFileSync } from 'node:fs';
import { plainToInstance, Type } from 'class-transformer';
import {
  ArrayNotEmpty,
  ArrayUnique,
  IsArray,
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
  ValidateNested,
  validateSync,
  ValidationError,
} from 'class-validator';

const UPSTREAM_URL = { require_tld: false, require_protocol: true, protocols: ['http', 'https'] };

/**
 * The assistant-message field that carries earlier reasoning back upstream: `reasoning` (vLLM since
 * it renamed the field, Ollama, OpenRouter), `reasoning_content` (DeepSeek's API, SGLang, older vLLM),
 * or `drop` (the upstream gets no reasoning back: for servers that refuse unknown message fields).
 */
export const REASONING_REPLAY = ['reasoning', 'reasoning_content', 'drop'] as const;
export type ReasoningReplay = (typeof REASONING_REPLAY)[number];

/** Where token counts come from: the upstream's vLLM `/tokenize`, or a local estimate (token-counter.ts). */
export const TOKENIZERS = ['vllm', 'estimate'] as const;
export type Tokenizer = (typeof TOKENIZERS)[number];

export class ProviderConfig {
  /** Referenced by models; appears in error messages. */
  @IsString()
  @Matches(/^[\w.-]+$/)
  name!: string;

  /** The upstream's `…/v1` URL; or give `baseUrls`. */
  @IsOptional()
  @IsUrl(UPSTREAM_URL)
  baseUrl?: string;

  /** Replicas serving the same models: a `prompt_cache_key` sticks to one of them, other calls spread. */
  @IsOptional()
  @IsArray()
  @ArrayNotEmpty()
  @ArrayUnique()
  @IsUrl(UPSTREAM_URL, { each: true })
  baseUrls?: string[];

  /** Name of the environment variable holding the upstream key (keys never live in this file). */
  @IsOptional()
  @IsString()
  apiKeyEnv?: string;

  @IsOptional()
  @IsInt()
  @Min(1)
  timeoutMs?: number;

  @IsOptional()
  @IsInt()
  @Min(0)
  maxRetries?: number;

  /** `max_tokens` (vLLM, Ollama, llama.cpp) or `max_completion_tokens` (OpenAI's reasoning models). */
  @IsOptional()
  @IsIn(['max_tokens', 'max_completion_tokens'])
  maxTokensParam?: 'max_tokens' | 'max_completion_tokens';

  /**
   * How input tokens are counted (`POST /v1/responses/input_tokens`, compaction): `vllm` asks the
   * upstream's own `POST /tokenize` (at the server root), `estimate` (default) counts locally.
   */
  @IsOptional()
  @IsIn(TOKENIZERS)
  tokenizer?: Tokenizer;
}

/** What a listed model does: chat (Responses over Chat Completions) or embedding (vectors for file_search). */
export const MODEL_TYPES = ['chat', 'embedding'] as const;
export type ModelType = (typeof MODEL_TYPES)[number];

export const REASONING_EFFORTS = ['none', 'minimal', 'low', 'medium', 'high', 'xhigh'] as const;
export type ReasoningEffort = (typeof REASONING_EFFORTS)[number];

/**
 * What the Codex CLI's model catalog (`GET /v1/models?client_version=…`) says about a model,
 * where it differs from the defaults (codex-catalog.ts). docs/codex.md#model-catalog.
 */
export class CodexModelConfig {
  @IsOptional()
  @IsString()
  displayName?: string;

  @IsOptional()
  @IsString()
  description?: string;

  /** The context length Codex is told; default: the model's `contextWindow`. Codex compacts at 90 % of it; unset (both): Codex never compacts on its own. */
  @IsOptional()
  @IsInt()
  @Min(1)
  contextWindow?: number;

  @IsOptional()
  @IsInt()
  @Min(1)
  autoCompactTokenLimit?: number;

  /** The `reasoning.effort` values Codex may offer (sent upstream as `reasoning_effort`); default none. */
  @IsOptional()
  @IsArray()
  @ArrayUnique()
  @IsIn(REASONING_EFFORTS, { each: true })
  reasoningLevels?: ReasoningEffort[];

  @IsOptional()
  @IsIn(REASONING_EFFORTS)
  defaultReasoningLevel?: ReasoningEffort;

  /** Whether Codex asks for reasoning summaries (`reasoning.summary`); default false. */
  @IsOptional()
  @IsBoolean()
  reasoningSummaries?: boolean;

  /** Codex sends `text.verbosity` with this default; unset: it sends none. */
  @IsOptional()
  @IsIn(['low', 'medium', 'high'])
  verbosity?: 'low' | 'medium' | 'high';

  /** `freeform` (default): Codex offers its `apply_patch` custom tool; `none`: it edits through the shell only. */
  @IsOptional()
  @IsIn(['freeform', 'none'])
  applyPatch?: 'freeform' | 'none';

  /** Codex offers client-side `tool_search` and defers namespaces behind it; default false. */
  @IsOptional()
  @IsBoolean()
  searchTool?: boolean;

  /** Which `web_search` variant Codex offers; unset: its default (`text`). It cannot switch web search off (see docs/codex.md). */
  @IsOptional()
  @IsIn(['text', 'text_and_image'])
  webSearch?: 'text' | 'text_and_image';

  /** Default true: Codex sends `parallel_tool_calls: true`. */
  @IsOptional()
  @IsBoolean()
  parallelToolCalls?: boolean;

  /** Default `["text"]`: add `image` for a vision model, so Codex attaches images. */
  @IsOptional()
  @IsArray()
  @ArrayNotEmpty()
  @ArrayUnique()
  @IsIn(['text', 'image'], { each: true })
  inputModalities?: ('text' | 'image')[];

  /** The base instructions Codex sends as its first developer message; default: the gateway's short coding-agent prompt. */
  @IsOptional()
  @IsString()
  @MinLength(1)
  instructions?: string;

  /** Codex keeps this many tokens of one tool output in the history; default 10000. */
  @IsOptional()
  @IsInt()
  @Min(1)
  toolOutputTokens?: number;

  /** Codex's picker order; default: the position in `models`. */
  @IsOptional()
  @IsInt()
  priority?: number;

  /** `hide`: usable by name but not shown in Codex's model picker. */
  @IsOptional()
  @IsIn(['list', 'hide'])
  visibility?: 'list' | 'hide';
}

export class ModelConfig {
  /** The name clients send as `model`. */
  @IsString()
  id!: string;

  @IsString()
  provider!: string;

  /** The model name the upstream expects; defaults to `id`. */
  @IsOptional()
  @IsString()
  upstreamModel?: string;

  /** The upstream's context length in tokens (vLLM `max_model_len`); unset: what its tokenizer reports, if anything. */
  @IsOptional()
  @IsInt()
  @Min(1)
  contextWindow?: number;

  /** Its entry in the Codex model catalog; defaults apply when absent. */
  @IsOptional()
  @ValidateNested()
  @Type(() => CodexModelConfig)
  codex?: CodexModelConfig;

  /**
   * How many of its responses the upstream takes at once: background responses of this model are
   * claimed only while fewer than this are in progress (stored ones, background or not).
   */
  @IsOptional()
  @IsInt()
  @Min(1)
  maxConcurrency?: number;

  /** How long before the end of a completion window its windowed responses start at the latest (default BACKGROUND_WINDOW_MARGIN_SECONDS). */
  @IsOptional()
  @IsInt()
  @Min(0)
  windowMarginSeconds?: number;

  /** How reasoning items of the history go back to this model (default `reasoning`; see REASONING_REPLAY). */
  @IsOptional()
  @IsIn(REASONING_REPLAY)
  reasoningReplay?: ReasoningReplay;

  /** `chat` (default): served on /v1/responses; `embedding`: turns text into vectors (`POST …/embeddings`), for vector stores. */
  @IsOptional()
  @IsIn(MODEL_TYPES)
  type?: ModelType;

  /** An embedding model's vector length (required for one; vector columns are sized by it). */
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(16_000)
  dimensions?: number;

  /** An embedding model: send `dimensions` upstream, so a Matryoshka model (OpenAI text-embedding-3) shortens its vectors to it. Default false. */
  @IsOptional()
  @IsBoolean()
  sendDimensions?: boolean;
}

/** The deployment's embeddings: which embedding model vector stores use, and how its requests are cut. */
export class EmbeddingsConfig {
  /** The `id` of a `type: "embedding"` model in `models`. */
  @IsString()
  model!: string;

  /** Texts per request at most (default EMBEDDING_BATCH_SIZE, 32). */
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(2048)
  batchSize?: number;

  /** Estimated tokens per request at most (default EMBEDDING_BATCH_TOKENS, 16384); a longer text goes alone. */
  @IsOptional()
  @IsInt()
  @Min(1)
  batchTokens?: number;

  /** Requests one embedding call keeps in flight (default EMBEDDING_CONCURRENCY, 4). */
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(64)
  concurrency?: number;
}

export class ModelsConfigFile {
  @IsArray()
  @ValidateNested({ each: true })
  @Type(() => ProviderConfig)
  providers!: ProviderConfig[];

  @IsArray()
  @ValidateNested({ each: true })
  @Type(() => ModelConfig)
  @ArrayUnique((m: ModelConfig) => m.id)
  models!: ModelConfig[];

  /** The embedding model file_search and vector stores use; absent: none (keyword search only). */
  @IsOptional()
  @ValidateNested()
  @Type(() => EmbeddingsConfig)
  embeddings?: EmbeddingsConfig;

  /** A provider that receives any model name not listed in `models`, unchanged. */
  @IsOptional()
  @IsString()
  passthrough?: string;
}

function flatten(errors: ValidationError[], path = ''): string[] {
  return errors.flatMap((e) => {
    const here = path ? `${path}.${e.property}` : e.property;
    return [...Object.values(e.constraints ?? {}).map((c) => `${here}: ${c}`), ...flatten(e.children ?? [], here)];
  });
}

/** Reads and validates a MODELS_CONFIG file; throws an Error naming the file and each problem. */
export function loadModelsConfig(path: string): ModelsConfigFile {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new Error(`MODELS_CONFIG=${path}: cannot read it as JSON (${(error as Error).message})`);
  }
  const config = plainToInstance(ModelsConfigFile, raw);
  const problems = flatten(validateSync(config, { forbidUnknownValues: false }));
  const names = new Set((config.providers ?? []).map((p) => p.name));
  (config.providers ?? []).forEach((p, i) => {
    if ((p.baseUrl === undefined) === (p.baseUrls === undefined))
      problems.push(`providers.${i}: give either baseUrl or baseUrls (replicas), not ${p.baseUrl ? 'both' : 'neither'}`);
  });
  for (const m of config.models ?? []) {
    if (!names.has(m.provider)) problems.push(`models: '${m.id}' names unknown provider '${m.provider}'`);
  }
  for (const m of config.models ?? []) {
    const c = m.codex;
    if (c?.defaultReasoningLevel && !(c.reasoningLevels ?? []).includes(c.defaultReasoningLevel)) {
      problems.push(`models: '${m.id}' codex.defaultReasoningLevel '${c.defaultReasoningLevel}' is not in codex.reasoningLevels`);
    }
  }
  for (const m of config.models ?? []) {
    const embedding = m.type === 'embedding';
    if (embedding && m.dimensions === undefined) problems.push(`models: embedding model '${m.id}' needs dimensions (the length of its vectors)`);
    if (!embedding && (m.dimensions !== undefined || m.sendDimensions !== undefined))
      problems.push(`models: '${m.id}' has dimensions/sendDimensions but is not type "embedding"`);
    if (embedding && (m.codex || m.reasoningReplay)) problems.push(`models: embedding model '${m.id}' takes no codex or reasoningReplay`);
  }
  const wanted = config.embeddings?.model;
  if (wanted !== undefined && (config.models ?? []).find((m) => m.id === wanted)?.type !== 'embedding')
    problems.push(`embeddings.model: '${wanted}' is not a model of type "embedding" in models`);
  if (config.passthrough && !names.has(config.passthrough)) problems.push(`passthrough: unknown provider '${config.passthrough}'`);
  if (problems.length) throw new Error(`MODELS_CONFIG=${path} is invalid:\n  ${problems.join('\n  ')}`);
  return config;
}
