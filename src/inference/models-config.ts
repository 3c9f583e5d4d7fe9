import { readFileSync } from 'node:fs';
import { plainToInstance, Type } from 'class-transformer';
import {
  ArrayNotEmpty,
  ArrayUnique,
  IsArray,
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  IsUrl,
  Matches,
  Min,
  ValidateNested,
  validateSync,
  ValidationError,
} from 'class-validator';

const UPSTREAM_URL = { require_tld: false, require_protocol: true, protocols: ['http', 'https'] };

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
  (config.providers ?? []).forEach((p, i) => {
    if ((p.baseUrl === undefined) === (p.baseUrls === undefined))
      problems.push(`providers.${i}: give either baseUrl or baseUrls (replicas), not ${p.baseUrl ? 'both' : 'neither'}`);
  });
  for (const m of config.models ?? []) {
    if (!names.has(m.provider)) problems.push(`models: '${m.id}' names unknown provider '${m.provider}'`);
  }
  if (config.passthrough && !names.has(config.passthrough)) problems.push(`passthrough: unknown provider '${config.passthrough}'`);
  if (problems.length) throw new Error(`MODELS_CONFIG=${path} is invalid:\n  ${problems.join('\n  ')}`);
  return config;
}
