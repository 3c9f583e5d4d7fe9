import type { FileSearchTool } from 'openai/resources/responses/responses';
import type { SealContext } from '../common/secrets';
import { unsupportedParameter, invalidRequest } from '../common/openai-error';
import type { NormalizedRequest } from '../common/response-types';
import type { CreateResponseDto, NamespaceMemberDto, ToolDto } from './dto/create-response.dto';
import { parseFilter } from '../vector-stores/retrieval/filters';
import { OPEN_PAGE_FUNCTION, WEB_SEARCH_FUNCTION, WEB_SEARCH_TYPES } from '../agents/web-search-tool';

/**
 * Hosted tools (the server would run them) that this deployment cannot serve. Offered without
 * being forced they are left out, so a client that adds them by default (Codex's `web_search`)
 * still works: the response's `tools` and the `x-omitted-tools` header say so. Forced, they are a 400.
 */
const HOSTED_TOOLS_WITHOUT_PROVIDER = new Set([...WEB_SEARCH_TYPES, 'code_interpreter', 'image_generation']);

/** What the deployment can run beyond client tools, MCP and file_search. */
export interface ServableTools {
  /** A web search provider is configured (WEB_SEARCH_PROVIDER): `web_search*` tools run. */
  webSearch: boolean;
}

/** The hosted tool types this deployment cannot run. */
const unservableTypes = (servable: ServableTools): Set<string> =>
  new Set([...HOSTED_TOOLS_WITHOUT_PROVIDER].filter((type) => !(servable.webSearch && WEB_SEARCH_TYPES.has(type))));

const notForceable = (type: string, param: string) =>
  unsupportedParameter(
    param,
    WEB_SEARCH_TYPES.has(type)
      ? `Tools of type '${type}' cannot be used on this server: no web search provider is configured (set WEB_SEARCH_PROVIDER, see docs/tools.md), so they cannot be forced with tool_choice.`
      : `Tools of type '${type}' cannot be used on this server (no provider is configured for them), so they cannot be forced with tool_choice.`,
  );

const CONTEXT_SIZES = ['low', 'medium', 'high'];
/** Domains one web_search tool may list (OpenAI's documents give 100). */
const MAX_ALLOWED_DOMAINS = 100;
const LOCATION_FIELDS = ['city', 'country', 'region', 'timezone'] as const;

/** A `web_search*` tool's options, checked (class-validator knows only its type). */
function webSearchTool(tool: ToolDto, i: number): NonNullable<NormalizedRequest['tools']>[number] {
  const raw = tool as unknown as Record<string, unknown>;
  const at = (field: string) => `tools[${i}].${field}`;
  const size = raw.search_context_size ?? 'medium';
  if (typeof size !== 'string' || !CONTEXT_SIZES.includes(size))
    throw invalidRequest(`'${at('search_context_size')}' must be 'low', 'medium' or 'high'.`, at('search_context_size'), 'invalid_value');
  const out: Record<string, unknown> = { type: tool.type, search_context_size: size };
  const filters = raw.filters;
  if (filters != null) {
    if (!tool.type.startsWith('web_search_2') && tool.type !== 'web_search') throw unsupportedParameter(at('filters'), `'${tool.type}' tools take no filters.`);
    const domains = (filters as { allowed_domains?: unknown }).allowed_domains;
    if (
      typeof filters !== 'object' ||
      Array.isArray(filters) ||
      (domains != null && !(Array.isArray(domains) && domains.every((d) => typeof d === 'string' && d.trim())))
    )
      throw invalidRequest(`'${at('filters')}' must be {"allowed_domains": ["example.com", …]}.`, at('filters.allowed_domains'));
    if (Array.isArray(domains) && domains.length > MAX_ALLOWED_DOMAINS)
      throw invalidRequest(
        `'${at('filters.allowed_domains')}' lists more than ${MAX_ALLOWED_DOMAINS} domains.`,
        at('filters.allowed_domains'),
        'array_above_max_length',
      );
    out.filters = { allowed_domains: (domains as string[] | null | undefined) ?? null };
  }
  const location = raw.user_location;
  if (location != null) {
    if (typeof location !== 'object' || Array.isArray(location))
      throw invalidRequest(`'${at('user_location')}' must be an object.`, at('user_location'), 'invalid_type');
    const fields = location as Record<string, unknown>;
    const kept: Record<string, unknown> = { type: 'approximate' };
    for (const key of LOCATION_FIELDS) {
      const value = fields[key];
      if (value != null && typeof value !== 'string')
        throw invalidRequest(`'${at(`user_location.${key}`)}' must be a string.`, at(`user_location.${key}`), 'invalid_type');
      if (value != null) kept[key] = value;
    }
    out.user_location = kept;
  }
  if (typeof raw.external_web_access === 'boolean') out.external_web_access = raw.external_web_access;
  if (Array.isArray(raw.search_content_types)) out.search_content_types = raw.search_content_types;
  return out as unknown as NonNullable<NormalizedRequest['tools']>[number];
}

const isNameList = (v: unknown): boolean => Array.isArray(v) && v.every((n) => typeof n === 'string');
const isFilter = (v: unknown): boolean =>
  v == null ||
  (typeof v === 'object' &&
    !Array.isArray(v) &&
    ((v as { tool_names?: unknown }).tool_names === undefined || isNameList((v as { tool_names?: unknown }).tool_names)));

function checkMcpTool(tool: ToolDto, i: number): void {
  const raw = tool as unknown as Record<string, unknown>;
  for (const param of ['connector_id', 'authorization'] as const) {
    if (raw[param] != null)
      throw unsupportedParameter(`tools[${i}].${param}`, `MCP '${param}' is not supported by this server: give 'server_url' and 'headers'.`);
  }
  if (tool.allowed_tools != null && !isNameList(tool.allowed_tools) && !isFilter(tool.allowed_tools)) {
    throw invalidRequest(`'tools[${i}].allowed_tools' must be a list of tool names or {"tool_names": [...]}.`, `tools[${i}].allowed_tools`);
  }
  const approval = tool.require_approval;
  const validApproval =
    approval == null ||
    approval === 'always' ||
    approval === 'never' ||
    (typeof approval === 'object' && !Array.isArray(approval) && isFilter(approval.always) && isFilter(approval.never));
  if (!validApproval) {
    throw invalidRequest(
      `'tools[${i}].require_approval' must be 'always', 'never' or {"always"|"never": {"tool_names": [...]}}.`,
      `tools[${i}].require_approval`,
    );
  }
}

/** The secret headers of the request's MCP servers, by server label. */
/** What a background response's sealed MCP headers are bound to: its tenant and its id. */
export const mcpHeadersContext = (owner: string, responseId: string): SealContext => ({ purpose: 'mcp-headers', tenant: owner, id: responseId });

export function mcpHeadersOf(dto: CreateResponseDto): Record<string, Record<string, string>> {
  return Object.fromEntries((dto.tools ?? []).filter((t) => t.type === 'mcp' && t.headers).map((t) => [t.server_label!, t.headers!]));
}

/** The object-valued options of OpenAI's newer create parameters: what class-validator cannot say about them. */
function checkOptions(dto: CreateResponseDto): void {
  if (dto.prompt_cache_options?.prewarm) {
    throw unsupportedParameter(
      'prompt_cache_options.prewarm',
      "'prompt_cache_options.prewarm' is not supported: a Chat Completions upstream has no way to warm its cache without generating. Use 'generate: false' to store state without output.",
    );
  }
  if (dto.image?.context_compression === 'enabled') {
    throw unsupportedParameter(
      'image.context_compression',
      "image.context_compression 'enabled' is not supported: this server does not compress image context.",
    );
  }
  const window = dto.background_options?.completion_window;
  if ((window === '2h' || window === '8h') && (dto.background !== true || dto.stream === true)) {
    throw invalidRequest(
      `background_options.completion_window '${window}' requires 'background: true' and no 'stream'.`,
      'background_options.completion_window',
      'invalid_value',
    );
  }
}

/** Tools the client runs, offered upstream as functions (see ClientTools). */
const CLIENT_TOOL_TYPES = new Set(['function', 'custom', 'namespace', 'tool_search']);

const customFormat = (format: ToolDto['format']) =>
  format?.type === 'grammar'
    ? { type: 'grammar' as const, syntax: format.syntax!, definition: format.definition! }
    : format
      ? { type: 'text' as const }
      : undefined;

function normalizeMember(m: NamespaceMemberDto) {
  if (m.type === 'custom') {
    const format = customFormat(m.format);
    return { type: 'custom' as const, name: m.name, ...(m.description ? { description: m.description } : {}), ...(format ? { format } : {}) };
  }
  return { type: 'function' as const, name: m.name, description: m.description ?? null, parameters: m.parameters ?? null, strict: m.strict ?? null };
}

/** A tool as stored and echoed: the fields this server uses, nothing the client added beyond them. */
function normalizeTool(t: ToolDto, i: number): NonNullable<NormalizedRequest['tools']>[number] {
  switch (t.type) {
    case 'mcp':
      return {
        // Headers are secrets: kept out of the stored request and the echo (see mcpHeadersOf).
        type: 'mcp',
        server_label: t.server_label!,
        server_url: t.server_url!,
        allowed_tools: (t.allowed_tools ?? null) as string[] | null,
        require_approval: t.require_approval ?? 'always',
        headers: null,
        ...(t.server_description ? { server_description: t.server_description } : {}),
      };
    case 'custom': {
      const format = customFormat(t.format);
      return { type: 'custom', name: t.name!, ...(t.description ? { description: t.description } : {}), ...(format ? { format } : {}) };
    }
    case 'namespace':
      return { type: 'namespace', name: t.name!, description: t.description ?? '', tools: (t.tools ?? []).map(normalizeMember) };
    case 'tool_search':
      return { type: 'tool_search', execution: 'client', description: t.description ?? null, parameters: t.parameters ?? null };
    case 'file_search':
      return {
        type: 'file_search',
        vector_store_ids: t.vector_store_ids!,
        ...(t.max_num_results != null ? { max_num_results: t.max_num_results } : {}),
        ...(t.filters != null ? { filters: t.filters as FileSearchTool['filters'] } : {}),
        ...(t.ranking_options ? { ranking_options: { ...t.ranking_options } as FileSearchTool['ranking_options'] } : {}),
      };
    case 'web_search':
    case 'web_search_2025_08_26':
    case 'web_search_preview':
    case 'web_search_preview_2025_03_11':
      return webSearchTool(t, i);
    default:
      // `strict` stays unset unless the client set it: forcing it would make strict-mode
      // upstreams reject schemas that are not strict-compatible (optional properties).
      return { type: 'function', name: t.name!, description: t.description ?? null, parameters: t.parameters ?? null, strict: t.strict ?? null };
  }
}

/**
 * `tool_choice` must name a tool of the request. A hosted tool this server left out cannot be
 * forced (named, or the only tools under `required`): a 400 rather than an answer without it.
 */
function checkToolChoice(dto: CreateResponseDto, tools: ToolDto[], omitted: string[], unservable: Set<string>): void {
  const named = (type: string, name: unknown) => typeof name === 'string' && tools.some((t) => t.type === type && t.name === name);
  const choice = dto.tool_choice as { type?: string; name?: unknown; mode?: unknown; tools?: unknown } | string | undefined | null;
  if (choice === 'required' && omitted.length && !tools.length) throw notForceable(omitted[0], 'tool_choice');
  if (!choice || typeof choice !== 'object') return;
  if (choice.type === 'function' || choice.type === 'custom') {
    if (!named(choice.type, choice.name))
      throw invalidRequest(`'tool_choice.name' must name one of the ${choice.type} tools of this request.`, 'tool_choice.name');
  } else if (choice.type === 'allowed_tools') {
    if (choice.mode !== 'auto' && choice.mode !== 'required') throw invalidRequest(`'tool_choice.mode' must be 'auto' or 'required'.`, 'tool_choice.mode');
    if (!Array.isArray(choice.tools)) throw invalidRequest(`'tool_choice.tools' must be an array of tools.`, 'tool_choice.tools');
    const allowed = choice.tools as Array<{ type?: unknown; name?: unknown } | null>;
    const hosted = (t: { type?: unknown } | null) => typeof t?.type === 'string' && unservable.has(t.type);
    allowed.forEach((tool, i) => {
      if (hosted(tool)) return; // left out like the tool itself, unless it is all that is allowed (below)
      const type = typeof tool?.type === 'string' ? tool.type : 'function';
      const ok =
        type === 'tool_search' || type === 'file_search'
          ? tools.some((t) => t.type === type)
          : WEB_SEARCH_TYPES.has(type)
            ? tools.some((t) => WEB_SEARCH_TYPES.has(t.type))
            : named(type, tool?.name);
      if (!ok) throw invalidRequest(`'tool_choice.tools[${i}]' must name one of the tools of this request.`, `tool_choice.tools[${i}]`);
    });
    if (choice.mode === 'required' && allowed.length && allowed.every(hosted)) throw notForceable(String(allowed[0]!.type), 'tool_choice.tools[0]');
  } else if (choice.type === 'file_search') {
    if (!tools.some((t) => t.type === 'file_search'))
      throw invalidRequest(`'tool_choice' forces file_search, but 'tools' has no file_search tool.`, 'tool_choice');
  } else if (typeof choice.type === 'string' && WEB_SEARCH_TYPES.has(choice.type) && !unservable.has(choice.type)) {
    if (!tools.some((t) => WEB_SEARCH_TYPES.has(t.type)))
      throw invalidRequest(`'tool_choice' forces ${choice.type}, but 'tools' has no web_search tool.`, 'tool_choice');
  } else if (typeof choice.type === 'string' && (unservable.has(choice.type) || choice.type === 'tool_search')) {
    throw notForceable(choice.type, 'tool_choice');
  } else {
    throw unsupportedParameter('tool_choice', `tool_choice of type '${String(choice.type)}' is not supported by this server.`);
  }
}

/** Only the keys that were sent: an echo shows what the client chose, not what it left unset. */
const defined = <T extends object>(value: T): T => Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;

/**
 * The DTO, checked for what class-validator cannot express, as the parameters we store and run.
 * Known parameters this server cannot honour are refused here, never silently dropped.
 */
export function normalizeRequest(dto: CreateResponseDto, servable: ServableTools = { webSearch: false }): NormalizedRequest {
  const unservable = unservableTypes(servable);
  // A hosted tool this server leaves out when it is not forced (a `tool_search` the server would run is one).
  const isUnservable = (tool: { type?: unknown; execution?: unknown }): boolean =>
    typeof tool.type === 'string' && (unservable.has(tool.type) || (tool.type === 'tool_search' && tool.execution !== 'client'));
  if (dto.conversation != null && dto.previous_response_id != null) {
    throw invalidRequest("'conversation' and 'previous_response_id' cannot be used together.", 'conversation', 'invalid_value');
  }
  for (const param of ['prompt', 'moderation'] as const) {
    if (dto[param] !== undefined && dto[param] !== null) throw unsupportedParameter(param);
  }
  if (dto.top_logprobs) throw unsupportedParameter('top_logprobs');
  checkOptions(dto);
  if (dto.include?.length) {
    // `reasoning.encrypted_content` is honoured: reasoning items are sealed (see agents/reasoning-seal).
    const unsupported = dto.include.find((v) => v === 'message.output_text.logprobs');
    if (unsupported) throw unsupportedParameter('include', `include '${unsupported}' is not supported by this server.`);
  }
  const labels = new Set<string>();
  const tools: ToolDto[] = [];
  const omitted: string[] = [];
  (dto.tools ?? []).forEach((tool, i) => {
    if (tool.type === 'mcp') {
      checkMcpTool(tool, i);
      if (labels.has(tool.server_label!)) throw invalidRequest(`Two MCP tools share the server_label '${tool.server_label}'.`, `tools[${i}].server_label`);
      labels.add(tool.server_label!);
    } else if (tool.type === 'file_search') {
      if (tools.some((t) => t.type === 'file_search'))
        throw invalidRequest('Only one file_search tool may be given: list every vector store in its vector_store_ids.', `tools[${i}]`);
      if (tool.filters != null) parseFilter(tool.filters, `tools[${i}].filters`);
    } else if (WEB_SEARCH_TYPES.has(tool.type) && servable.webSearch) {
      if (tools.some((t) => WEB_SEARCH_TYPES.has(t.type))) throw invalidRequest('Only one web_search tool may be given.', `tools[${i}]`);
    } else if (isUnservable(tool)) {
      omitted.push(tool.type);
      return;
    } else if (!CLIENT_TOOL_TYPES.has(tool.type)) {
      throw unsupportedParameter(`tools[${i}].type`, `Tools of type '${tool.type}' are not supported by this server.`);
    }
    tools.push(tool);
  });
  if (tools.some((t) => WEB_SEARCH_TYPES.has(t.type))) {
    // The server offers the model these functions for the web_search tool: a client tool of the same name would be unreachable.
    const clash = (dto.tools ?? []).findIndex(
      (t) => (t.type === 'function' || t.type === 'custom') && (t.name === WEB_SEARCH_FUNCTION || t.name === OPEN_PAGE_FUNCTION),
    );
    if (clash >= 0)
      throw invalidRequest(
        `'tools[${clash}].name' '${dto.tools![clash].name}' is taken by the web_search tool, which offers the model functions named '${WEB_SEARCH_FUNCTION}' and '${OPEN_PAGE_FUNCTION}': rename it.`,
        `tools[${clash}].name`,
      );
  }
  checkToolChoice(dto, tools, omitted, unservable);
  return {
    model: dto.model,
    instructions: dto.instructions ?? null,
    background: dto.background ?? false,
    stream: dto.stream ?? false,
    store: dto.store ?? true,
    previous_response_id: dto.previous_response_id ?? null,
    conversation: dto.conversation == null ? null : { id: typeof dto.conversation === 'string' ? dto.conversation : dto.conversation.id },
    temperature: dto.temperature ?? null,
    top_p: dto.top_p ?? null,
    max_output_tokens: dto.max_output_tokens ?? null,
    max_tool_calls: dto.max_tool_calls ?? null,
    top_logprobs: dto.top_logprobs ?? null,
    presence_penalty: dto.presence_penalty ?? null,
    frequency_penalty: dto.frequency_penalty ?? null,
    metadata: dto.metadata ?? {},
    text: dto.text ? (structuredClone(dto.text) as NormalizedRequest['text']) : undefined,
    reasoning: dto.reasoning ? { effort: dto.reasoning.effort ?? null, summary: dto.reasoning.summary ?? null } : null,
    tools: tools.map((t) => normalizeTool(t, (dto.tools ?? []).indexOf(t))),
    ...(omitted.length ? { omitted_tools: [...new Set(omitted)] } : {}),
    tool_choice: (dto.tool_choice ?? 'auto') as NormalizedRequest['tool_choice'],
    parallel_tool_calls: dto.parallel_tool_calls ?? true,
    include: dto.include ?? null,
    truncation: dto.truncation ?? 'disabled',
    service_tier: dto.service_tier ?? 'auto',
    safety_identifier: dto.safety_identifier ?? null,
    user: dto.user ?? null,
    prompt_cache_key: dto.prompt_cache_key ?? null,
    prompt_cache_retention: dto.prompt_cache_retention ?? null,
    ...(dto.prompt_cache_options
      ? {
          prompt_cache_options: defined({
            mode: dto.prompt_cache_options.mode,
            ttl: dto.prompt_cache_options.ttl,
            comparison_response_id: dto.prompt_cache_options.comparison_response_id ?? undefined,
          }),
        }
      : {}),
    ...(dto.generate === false ? { generate: false } : {}),
    ...(dto.context_management?.length
      ? { context_management: dto.context_management.map((c) => ({ type: c.type, compact_threshold: c.compact_threshold ?? null })) }
      : {}),
    ...(dto.image ? { image: defined({ context_compression: dto.image.context_compression }) } : {}),
    ...(dto.access_programs ? { access_programs: defined({ cyber: dto.access_programs.cyber }) } : {}),
    ...(dto.background_options
      ? {
          background_options: defined({ completion_window: dto.background_options.completion_window, continuation_id: dto.background_options.continuation_id }),
        }
      : {}),
  } as NormalizedRequest;
}
