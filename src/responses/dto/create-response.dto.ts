import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  IsArray,
  IsBoolean,
  IsDefined,
  IsIn,
  IsInt,
  IsNotEmpty,
  IsNumber,
  IsObject,
  IsOptional,
  IsString,
  Matches,
  Max,
  MaxLength,
  Min,
  ValidateIf,
  ValidateNested,
  ArrayMaxSize,
  ArrayMinSize,
  IsUrl,
} from 'class-validator';
import { INCLUDABLE } from '../../common/items/includable';
import { RankingOptionsDto } from '../../vector-stores/dto/vector-store.dto';
import { TOOL_NAME } from '../../common/items/input-items';
import { IsMetadata, IsMetadataLike } from '../../common/dto/validators';
import { IsConversationRef, IsStringOrArray, IsToolChoice } from './validators';

export const TOOL_TYPES = [
  'function',
  'file_search',
  'computer',
  'computer_use_preview',
  'web_search',
  'web_search_2025_08_26',
  'web_search_preview',
  'web_search_preview_2025_03_11',
  'mcp',
  'code_interpreter',
  'image_generation',
  'local_shell',
  'shell',
  'custom',
  'namespace',
  'tool_search',
  'apply_patch',
  'programmatic_tool_calling',
] as const;

export class TextFormatDto {
  /** `text`, `json_schema` (structured output) or `json_object`. */
  @IsIn(['text', 'json_schema', 'json_object'])
  type!: 'text' | 'json_schema' | 'json_object';

  /** Name of the schema (json_schema only). */
  @ValidateIf((o: TextFormatDto) => o.type === 'json_schema')
  @IsString()
  @Matches(TOOL_NAME, { message: 'must be 1-64 letters, digits, underscores or dashes' })
  name?: string;

  /** The JSON Schema the output must follow (json_schema only). */
  @ValidateIf((o: TextFormatDto) => o.type === 'json_schema')
  @IsObject()
  schema?: Record<string, unknown>;

  @IsOptional()
  @IsString()
  description?: string;

  @IsOptional()
  @IsBoolean()
  strict?: boolean | null;
}

export class TextConfigDto {
  @IsOptional()
  @ValidateNested()
  @Type(() => TextFormatDto)
  format?: TextFormatDto;

  @IsOptional()
  @IsIn(['low', 'medium', 'high'])
  verbosity?: 'low' | 'medium' | 'high' | null;
}

export class ReasoningDto {
  @IsOptional()
  @IsIn(['none', 'minimal', 'low', 'medium', 'high', 'xhigh', 'max'])
  effort?: 'none' | 'minimal' | 'low' | 'medium' | 'high' | 'xhigh' | 'max' | null;

  @IsOptional()
  @IsIn(['auto', 'concise', 'detailed'])
  summary?: 'auto' | 'concise' | 'detailed' | null;
}

/** A custom tool's input format: free text, or text that follows a grammar. */
export class CustomToolFormatDto {
  @IsIn(['text', 'grammar'])
  type!: 'text' | 'grammar';

  @ValidateIf((o: CustomToolFormatDto) => o.type === 'grammar')
  @IsIn(['lark', 'regex'])
  syntax?: 'lark' | 'regex';

  @ValidateIf((o: CustomToolFormatDto) => o.type === 'grammar')
  @IsString()
  definition?: string;
}

/** A function or custom tool inside a `namespace` tool. */
export class NamespaceMemberDto {
  @IsIn(['function', 'custom'])
  type!: 'function' | 'custom';

  @IsString()
  @Matches(TOOL_NAME, { message: 'must be 1-64 letters, digits, underscores or dashes' })
  name!: string;

  @IsOptional()
  @IsString()
  description?: string | null;

  @ValidateIf((o: NamespaceMemberDto) => o.type === 'function' && o.parameters !== null && o.parameters !== undefined)
  @IsObject()
  parameters?: Record<string, unknown> | null;

  @IsOptional()
  @IsBoolean()
  strict?: boolean | null;

  @IsOptional()
  @ValidateNested()
  @Type(() => CustomToolFormatDto)
  format?: CustomToolFormatDto;
}

/** The vector stores one file_search tool may search (ours: OpenAI's documents give no number). */
export const MAX_FILE_SEARCH_STORES = 10;

/** The tool's ranking options: the search endpoint's, plus OpenAI's `hybrid_search` weights. */
export class FileSearchRankingDto extends RankingOptionsDto {
  /** Accepted and echoed; the fusion is by rank (docs/file-search.md). */
  @IsOptional()
  @IsObject()
  hybrid_search?: { embedding_weight?: number; text_weight?: number };
}

export class ToolDto {
  @IsIn(TOOL_TYPES)
  type!: (typeof TOOL_TYPES)[number];

  /** The tool's name (function, custom and namespace tools; a namespace's functions are offered upstream as `<namespace>__<name>`). */
  @ValidateIf((o: ToolDto) => o.type === 'function' || o.type === 'custom' || o.type === 'namespace')
  @IsString()
  @Matches(TOOL_NAME, { message: 'must be 1-64 letters, digits, underscores or dashes' })
  name?: string;

  @ValidateIf((o: ToolDto) => (o.type === 'function' || o.type === 'tool_search') && o.parameters !== null && o.parameters !== undefined)
  @IsObject()
  parameters?: Record<string, unknown> | null;

  /** Namespace tools: the functions (and custom tools) of the group. */
  @ValidateIf((o: ToolDto) => o.type === 'namespace')
  @IsArray()
  @ArrayMaxSize(128)
  @ValidateNested({ each: true })
  @Type(() => NamespaceMemberDto)
  tools?: NamespaceMemberDto[];

  /** Custom tools: `{type: "text"}` (free text, the default) or `{type: "grammar", syntax, definition}`. */
  @IsOptional()
  @ValidateNested()
  @Type(() => CustomToolFormatDto)
  format?: CustomToolFormatDto;

  /** tool_search: `client` (the client searches and answers with `tool_search_output`) or `server`. */
  @IsOptional()
  @IsIn(['server', 'client'])
  execution?: 'server' | 'client';

  @IsOptional()
  @IsBoolean()
  strict?: boolean | null;

  @IsOptional()
  @IsString()
  description?: string | null;

  /** MCP tools: a label for the server, used in item and tool names. */
  @ValidateIf((o: ToolDto) => o.type === 'mcp')
  @IsString()
  @Matches(/^[a-zA-Z0-9_-]{1,40}$/, { message: 'must be 1-40 letters, digits, underscores or dashes' })
  server_label?: string;

  /** MCP tools: the server's Streamable HTTP (or SSE) URL. */
  @ValidateIf((o: ToolDto) => o.type === 'mcp')
  @IsUrl({ require_tld: false, require_protocol: true, protocols: ['http', 'https'] })
  server_url?: string;

  /** MCP tools: headers sent to the server (e.g. Authorization). Never stored in clear, never echoed. */
  @ValidateIf((o: ToolDto) => o.type === 'mcp' && o.headers != null)
  @IsMetadataLike()
  headers?: Record<string, string> | null;

  /** MCP tools: only these tools (`["a"]` or `{tool_names: ["a"]}`). */
  @IsOptional()
  allowed_tools?: string[] | { tool_names?: string[] } | null;

  /** MCP tools: `always` (default), `never`, or `{always: {tool_names}, never: {tool_names}}`. */
  @IsOptional()
  require_approval?: 'always' | 'never' | { always?: { tool_names?: string[] }; never?: { tool_names?: string[] } } | null;

  @IsOptional()
  @IsString()
  server_description?: string;

  /** file_search: the vector stores to search (the caller's; checked when the response is created). */
  @ValidateIf((o: ToolDto) => o.type === 'file_search')
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(MAX_FILE_SEARCH_STORES)
  @IsString({ each: true })
  vector_store_ids?: string[];

  /** file_search: results per search, 1 to 50 (default 10). */
  @ValidateIf((o: ToolDto) => o.type === 'file_search' && o.max_num_results != null)
  @IsInt()
  @Min(1)
  @Max(50)
  max_num_results?: number;

  /** file_search: a comparison or compound filter on file attributes (checked by normalizeRequest). */
  @IsOptional()
  filters?: unknown;

  /** file_search: `ranker` and `score_threshold` (0 to 1). */
  @ValidateIf((o: ToolDto) => o.type === 'file_search' && o.ranking_options != null)
  @ValidateNested()
  @Type(() => FileSearchRankingDto)
  ranking_options?: FileSearchRankingDto;
}

export class PromptCacheOptionsDto {
  /** `implicit` (default): one implicit cache breakpoint; `explicit`: only the content's own breakpoints. */
  @IsOptional()
  @IsIn(['implicit', 'explicit'])
  mode?: 'implicit' | 'explicit';

  /** Minimum lifetime of the cache breakpoints; Chat Completions upstreams accept only `30m`. */
  @IsOptional()
  @IsIn(['30m', '12h'])
  ttl?: '30m' | '12h';

  /** A response to compare for prompt cache diagnostics (echoed; this server produces no diagnostics). */
  @IsOptional()
  @IsString()
  @IsNotEmpty()
  comparison_response_id?: string | null;

  /** Warm the cache without output: not supported (a 400 when `true`). */
  @IsOptional()
  @IsBoolean()
  prewarm?: boolean;
}

export class ImageOptionsDto {
  /** `auto` (default) or `disabled`; `enabled` (require compression) is a 400: this server compresses no image context. */
  @IsOptional()
  @IsIn(['auto', 'enabled', 'disabled'])
  context_compression?: 'auto' | 'enabled' | 'disabled';
}

export class AccessProgramsDto {
  @IsOptional()
  @IsIn(['standard', 'daybreak_blue', 'daybreak_red'])
  cyber?: 'standard' | 'daybreak_blue' | 'daybreak_red';
}

export class BackgroundOptionsDto {
  /** `soonest` (default), `2h` or `8h` (these need `background: true` and no `stream`). Echoed; `2h`/`8h` run when no `soonest` response waits. */
  @IsOptional()
  @IsIn(['soonest', '2h', '8h'])
  completion_window?: 'soonest' | '2h' | '8h';

  /** An opaque id grouping related background requests; adds no history. */
  @IsOptional()
  @IsString()
  @IsNotEmpty()
  @MaxLength(256)
  continuation_id?: string;
}

export class ContextManagementDto {
  /** Only `compaction` exists. */
  @IsIn(['compaction'])
  type!: 'compaction';

  /** Compact before the model call when the input has more tokens than this; unset: 80 % of the model's `contextWindow`. */
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(Number.MAX_SAFE_INTEGER)
  compact_threshold?: number | null;
}

/**
 * `POST /v1/responses`. Unknown fields are ignored (newer SDKs add fields); known fields this
 * server cannot honour are a 400 `unsupported_parameter`.
 */
export class CreateResponseDto {
  /** Model id, as listed by `GET /v1/models` (`echo` is built in). */
  @ApiProperty({ example: 'echo' })
  @IsDefined()
  @IsString()
  @IsNotEmpty()
  model!: string;

  /** Text, or a list of input items (messages, function calls and their outputs). */
  @ApiProperty({
    oneOf: [{ type: 'string' }, { type: 'array', items: { type: 'object', additionalProperties: true } }],
    example: 'Say hello in three languages.',
  })
  @IsDefined()
  @IsStringOrArray()
  input!: string | unknown[];

  /** A system (developer) message. Not carried over to responses chained with `previous_response_id`. */
  @IsOptional()
  @IsString()
  instructions?: string | null;

  /** Run asynchronously: answer at once with `status: "queued"`, poll or stream it. */
  @IsOptional()
  @IsBoolean()
  background?: boolean | null;

  /** Answer with server-sent events. */
  @IsOptional()
  @IsBoolean()
  stream?: boolean | null;

  /** Keep the response for retrieval and chaining (default true). */
  @IsOptional()
  @IsBoolean()
  store?: boolean | null;

  /** Continue from a stored response: its input and output become this request's history. */
  @IsOptional()
  @IsString()
  @IsNotEmpty()
  previous_response_id?: string | null;

  @IsOptional()
  @IsNumber({ allowNaN: false, allowInfinity: false })
  @Min(0)
  @Max(2)
  temperature?: number | null;

  @IsOptional()
  @IsNumber({ allowNaN: false, allowInfinity: false })
  @Min(0)
  @Max(1)
  top_p?: number | null;

  /** Between -2 and 2: penalizes tokens that already appear in the text (sent upstream as is). */
  @IsOptional()
  @IsNumber({ allowNaN: false, allowInfinity: false })
  @Min(-2)
  @Max(2)
  presence_penalty?: number | null;

  /** Between -2 and 2: penalizes tokens by how often they already appear (sent upstream as is). */
  @IsOptional()
  @IsNumber({ allowNaN: false, allowInfinity: false })
  @Min(-2)
  @Max(2)
  frequency_penalty?: number | null;

  // IsInt takes 1e300 (an integer to JavaScript); a count above MAX_SAFE_INTEGER is no count.
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(Number.MAX_SAFE_INTEGER)
  max_output_tokens?: number | null;

  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(Number.MAX_SAFE_INTEGER)
  max_tool_calls?: number | null;

  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(20)
  top_logprobs?: number | null;

  /** Up to 16 string pairs; keys up to 64 characters, values up to 512. */
  @ApiPropertyOptional({ type: 'object', additionalProperties: { type: 'string' }, example: { team: 'search' } })
  @IsOptional()
  @IsMetadata()
  metadata?: Record<string, string> | null;

  @IsOptional()
  @ValidateNested()
  @Type(() => TextConfigDto)
  text?: TextConfigDto | null;

  @IsOptional()
  @ValidateNested()
  @Type(() => ReasoningDto)
  reasoning?: ReasoningDto | null;

  @ApiPropertyOptional({ type: [ToolDto] })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(128)
  @ValidateNested({ each: true })
  @Type(() => ToolDto)
  tools?: ToolDto[];

  /** `none`, `auto`, `required`, `{type: "function", name}` or `{type: "allowed_tools", mode, tools}`. */
  @ApiPropertyOptional({
    oneOf: [
      { type: 'string', enum: ['none', 'auto', 'required'] },
      { type: 'object', additionalProperties: true },
    ],
  })
  @IsOptional()
  @IsToolChoice()
  tool_choice?: unknown;

  @IsOptional()
  @IsBoolean()
  parallel_tool_calls?: boolean | null;

  @IsOptional()
  @IsArray()
  @IsIn(INCLUDABLE, { each: true })
  include?: Array<(typeof INCLUDABLE)[number]> | null;

  @IsOptional()
  @IsIn(['auto', 'disabled'])
  truncation?: 'auto' | 'disabled' | null;

  @IsOptional()
  @IsIn(['auto', 'default', 'flex', 'scale', 'priority'])
  service_tier?: 'auto' | 'default' | 'flex' | 'scale' | 'priority' | null;

  @IsOptional()
  @IsString()
  @MaxLength(64)
  safety_identifier?: string | null;

  /** Deprecated by OpenAI in favour of `safety_identifier` and `prompt_cache_key`. */
  @IsOptional()
  @IsString()
  @MaxLength(256)
  user?: string | null;

  @IsOptional()
  @IsString()
  @MaxLength(256)
  prompt_cache_key?: string | null;

  /** Deprecated by OpenAI in favour of `prompt_cache_options.ttl`; sent upstream as is. */
  @IsOptional()
  @IsIn(['in_memory', '24h'])
  prompt_cache_retention?: 'in_memory' | '24h' | null;

  @IsOptional()
  @IsObject()
  @ValidateNested()
  @Type(() => PromptCacheOptionsDto)
  prompt_cache_options?: PromptCacheOptionsDto;

  /** `false`: store the input, instructions and tools without calling the model (output stays empty), to continue from with `previous_response_id`. */
  @IsOptional()
  @IsBoolean()
  generate?: boolean;

  @IsOptional()
  @IsObject()
  @ValidateNested()
  @Type(() => ImageOptionsDto)
  image?: ImageOptionsDto;

  @IsOptional()
  @IsObject()
  @ValidateNested()
  @Type(() => AccessProgramsDto)
  access_programs?: AccessProgramsDto;

  @IsOptional()
  @IsObject()
  @ValidateNested()
  @Type(() => BackgroundOptionsDto)
  background_options?: BackgroundOptionsDto;

  /** Automatic compaction (docs/compaction.md): the output then starts with a `compaction` item. */
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(1)
  @ValidateNested({ each: true })
  @Type(() => ContextManagementDto)
  context_management?: ContextManagementDto[] | null;

  @IsOptional()
  @IsObject()
  stream_options?: { include_obfuscation?: boolean } | null;

  /** A conversation (`conv_…` or `{id}`): its items come first, and this response's are appended when it completes. */
  @ApiPropertyOptional({ oneOf: [{ type: 'string' }, { type: 'object', properties: { id: { type: 'string' } } }] })
  @IsOptional()
  @IsConversationRef()
  conversation?: string | { id: string } | null;

  // Known to the API, not (yet) served here: each is a 400 `unsupported_parameter` when set.
  @ApiPropertyOptional({ description: 'Not supported by this server.' })
  prompt?: unknown;
  @ApiPropertyOptional({ description: 'Not supported by this server.' })
  moderation?: unknown;
}
