import { readFileSync } from 'node:fs';
import { plainToInstance, Type } from 'class-transformer';
import { ArrayUnique, IsArray, IsIn, IsInt, IsOptional, IsString, IsUrl, Matches, Min, ValidateNested, validateSync, ValidationError } from 'class-validator';

/**
 * The assistant-message field that carries earlier reasoning back upstream: `reasoning` (vLLM since
 * it renamed the field, Ollama, OpenRouter), `reasoning_content` (DeepSeek's API, SGLang, older vLLM),
 * or `drop` (the upstream gets no reasoning back: for servers that refuse unknown message fields).
 */
export const REASONING_REPLAY = ['reasoning', 'reasoning_content', 'drop'] as const;
export type ReasoningReplay = (typeof REASONING_REPLAY)[number];

export class ProviderConfig {
  /** Referenced by models; appears in error messages. */
  @IsString()
  @Matches(/^[\w.-]+$/)
  name!: string;

  @IsUrl({ require_tld: false, require_protocol: true, protocols: ['http', 'https'] })
  baseUrl!: string;

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

  /** How reasoning items of the history go back to this model (default `reasoning`; see REASONING_REPLAY). */
  @IsOptional()
  @IsIn(REASONING_REPLAY)
  reasoningReplay?: ReasoningReplay;
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
  for (const m of config.models ?? []) {
    if (!names.has(m.provider)) problems.push(`models: '${m.id}' names unknown provider '${m.provider}'`);
  }
  if (config.passthrough && !names.has(config.passthrough)) problems.push(`passthrough: unknown provider '${config.passthrough}'`);
  if (problems.length) throw new Error(`MODELS_CONFIG=${path} is invalid:\n  ${problems.join('\n  ')}`);
  return config;
}
