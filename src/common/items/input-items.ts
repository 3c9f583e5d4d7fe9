import { newId } from '../ids';
import { invalidRequest, missingParameter, unsupportedParameter } from '../openai-error';
import type { StoredItem } from '../response-types';

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Item types of the API that this server does not run (hosted tools and the like). */
const UNSUPPORTED_ITEM_TYPES = new Set([
  'file_search_call',
  'computer_call',
  'computer_call_output',
  'image_generation_call',
  'code_interpreter_call',
  'local_shell_call',
  'local_shell_call_output',
  'shell_call',
  'shell_call_output',
  'apply_patch_call',
  'apply_patch_call_output',
  'additional_tools',
  'program',
  'program_output',
]);

function requireString(item: Json, key: string, path: string): string {
  const value = item[key];
  if (value === undefined || value === null) throw missingParameter(`${path}.${key}`);
  if (typeof value !== 'string') throw invalidRequest(`Invalid type for '${path}.${key}': expected a string.`, `${path}.${key}`, 'invalid_type');
  return value;
}

function itemId(
  item: Json,
  path: string,
  prefix: 'msg' | 'ws' | 'fc' | 'fco' | 'rs' | 'mcp' | 'mcpl' | 'mcpr' | 'ctc' | 'ctco' | 'tsc' | 'tso' | 'cmp',
): string {
  if (item.id === undefined || item.id === null) return newId(prefix);
  if (typeof item.id !== 'string' || !item.id)
    throw invalidRequest(`Invalid type for '${path}.id': expected a non-empty string.`, `${path}.id`, 'invalid_type');
  return item.id;
}

/** Which content parts each place accepts: the API's rules, narrowed to what chat upstreams carry. */
type PartContext = 'user' | 'assistant' | 'system' | 'tool_output';
const OUTPUT_PARTS = new Set(['output_text', 'refusal']);
const INPUT_PARTS = new Set(['input_text', 'input_image', 'input_file', 'input_audio']);

function checkPartAllowed(type: string, context: PartContext, at: string): void {
  if (OUTPUT_PARTS.has(type) && context !== 'assistant') {
    throw invalidRequest(`Invalid value for '${at}.type': '${type}' parts belong to assistant messages only.`, `${at}.type`);
  }
  if (context === 'assistant' && INPUT_PARTS.has(type) && type !== 'input_text') {
    throw invalidRequest(`Invalid value for '${at}.type': assistant messages hold 'output_text' or 'refusal' parts.`, `${at}.type`);
  }
  // Chat upstreams take only text in system messages and tool results.
  if ((context === 'system' || context === 'tool_output') && INPUT_PARTS.has(type) && type !== 'input_text') {
    const where = context === 'system' ? 'system and developer messages' : 'function_call_output';
    throw unsupportedParameter(`${at}.type`, `Content part type '${type}' in ${where} is not supported by this server; only 'input_text' is.`);
  }
}

/** What an operator lets items carry. */
interface ItemRules {
  /** `http:` image URLs (the upstream may fetch them: by default only `https:` and `data:`). */
  allowHttpImages: boolean;
}

/**
 * An image URL the upstream may fetch: `https:` or `data:` (and `http:` when the operator allows
 * it), never `file:`, `ftp:` or anything else a fetching server would follow.
 */
function imageUrl(part: Json, at: string, rules: ItemRules): string {
  const url = requireString(part, 'image_url', at);
  let scheme: string;
  try {
    scheme = new URL(url).protocol;
  } catch {
    throw invalidRequest(`Invalid value for '${at}.image_url': expected an absolute https or data: URL.`, `${at}.image_url`, 'invalid_value');
  }
  if (scheme === 'https:' || scheme === 'data:' || (scheme === 'http:' && rules.allowHttpImages)) return url;
  const allowed = rules.allowHttpImages ? "'https:', 'http:' or 'data:'" : "'https:' or 'data:'";
  throw invalidRequest(
    `Invalid value for '${at}.image_url': URLs with scheme '${scheme}' are not accepted; use ${allowed}.`,
    `${at}.image_url`,
    'invalid_value',
  );
}

/** Input content parts: user-side parts, or output text/refusal for assistant messages. */
function contentParts(content: unknown, context: PartContext, path: string, rules: ItemRules): Json[] {
  const role = context;
  if (typeof content === 'string') {
    return role === 'assistant' ? [{ type: 'output_text', text: content, annotations: [] }] : [{ type: 'input_text', text: content }];
  }
  if (!Array.isArray(content)) throw invalidRequest(`Invalid type for '${path}': expected a string or an array of content parts.`, path, 'invalid_type');
  return content.map((part: unknown, i) => {
    const at = `${path}[${i}]`;
    if (!isObject(part)) throw invalidRequest(`Invalid type for '${at}': expected an object.`, at, 'invalid_type');
    const type = requireString(part, 'type', at);
    checkPartAllowed(type, context, at);
    switch (type) {
      case 'input_text':
        return { type, text: requireString(part, 'text', at) };
      case 'output_text':
        return { type, text: requireString(part, 'text', at), annotations: [] };
      case 'refusal':
        return { type, refusal: requireString(part, 'refusal', at) };
      case 'input_image': {
        if (part.file_id != null)
          throw unsupportedParameter(
            `${at}.file_id`,
            `'${at}.file_id' is not supported: this server has no Files API; send 'image_url' (an https or data: URL).`,
          );
        const url = imageUrl(part, at, rules);
        const detail = part.detail ?? 'auto';
        if (!['low', 'high', 'auto', 'original'].includes(detail as string)) {
          throw invalidRequest(`Invalid value for '${at}.detail': expected one of 'low', 'high', 'auto', 'original'.`, `${at}.detail`);
        }
        return { type, image_url: url, detail };
      }
      case 'input_file': {
        if (part.file_id != null || part.file_url != null) {
          throw unsupportedParameter(`${at}.${part.file_id != null ? 'file_id' : 'file_url'}`, `'${at}': only inline 'file_data' is supported by this server.`);
        }
        const out: Json = { type, file_data: requireString(part, 'file_data', at) };
        if (typeof part.filename === 'string') out.filename = part.filename;
        return out;
      }
      case 'input_audio':
        throw unsupportedParameter(`${at}.type`, `Content part type 'input_audio' is not supported by this server.`);
      default:
        throw invalidRequest(`Invalid value for '${at}.type': unknown content part type '${type}'.`, `${at}.type`);
    }
  });
}

/**
 * An assistant message's `phase` (`commentary` or `final_answer`): kept on the stored item, since
 * clients are told to resend it on every later turn. Other roles have none (null is accepted).
 */
function messagePhase(item: Json, role: string, path: string): 'commentary' | 'final_answer' | undefined {
  const phase = item.phase;
  if (phase === undefined || phase === null) return undefined;
  if (role !== 'assistant') throw invalidRequest(`Invalid value for '${path}.phase': only assistant messages have a phase.`, `${path}.phase`);
  if (phase !== 'commentary' && phase !== 'final_answer') {
    throw invalidRequest(`Invalid value for '${path}.phase': expected one of 'commentary', 'final_answer'.`, `${path}.phase`);
  }
  return phase;
}

function message(item: Json, path: string, rules: ItemRules): StoredItem {
  const role = item.role;
  if (role === undefined) throw missingParameter(`${path}.role`);
  if (typeof role !== 'string' || !['user', 'assistant', 'system', 'developer'].includes(role)) {
    throw invalidRequest(`Invalid value for '${path}.role': expected one of 'user', 'assistant', 'system', 'developer'.`, `${path}.role`);
  }
  if (item.content === undefined || item.content === null) throw missingParameter(`${path}.content`);
  const context: PartContext = role === 'assistant' ? 'assistant' : role === 'user' ? 'user' : 'system';
  const content = contentParts(item.content, context, `${path}.content`, rules);
  const phase = messagePhase(item, role, path);
  return { id: itemId(item, path, 'msg'), type: 'message', role, content, status: 'completed', ...(phase ? { phase } : {}) } as unknown as StoredItem;
}

function optionalString(item: Json, key: string, path: string): string | undefined {
  return item[key] === undefined || item[key] === null ? undefined : requireString(item, key, path);
}

/** The tool kinds a `tool_search_output` may load that this server can offer upstream (see ClientTools). */
const LOADABLE_TOOLS = new Set(['function', 'custom', 'namespace']);

/**
 * A tool name as the request's `tools` take it (ToolDto and NamespaceMemberDto use it too): what Chat Completions
 * upstreams accept as a function name (OpenAI's rule; vLLM and others follow it), so mcp-naming tests against it.
 */
export const TOOL_NAME = /^[a-zA-Z0-9_-]{1,64}$/;
/** Tools one request's `tool_search_output` items may load in all, and members a loaded namespace may have (as `tools[].tools`). */
export const MAX_LOADED_TOOLS = 128;

function toolName(tool: Json, at: string): string {
  const name = requireString(tool, 'name', at);
  if (!TOOL_NAME.test(name)) {
    throw invalidRequest(`Invalid value for '${at}.name': must be 1-64 letters, digits, underscores or dashes.`, `${at}.name`, 'invalid_value');
  }
  return name;
}

function customFormat(tool: Json, at: string): Json | undefined {
  const format = tool.format;
  if (format === undefined || format === null) return undefined;
  if (!isObject(format)) throw invalidRequest(`Invalid type for '${at}.format': expected an object.`, `${at}.format`, 'invalid_type');
  if (format.type === 'text') return { type: 'text' };
  if (format.type !== 'grammar') throw invalidRequest(`Invalid value for '${at}.format.type': expected one of 'text', 'grammar'.`, `${at}.format.type`);
  if (format.syntax !== 'lark' && format.syntax !== 'regex') {
    throw invalidRequest(`Invalid value for '${at}.format.syntax': expected one of 'lark', 'regex'.`, `${at}.format.syntax`);
  }
  return { type: 'grammar', syntax: format.syntax, definition: requireString(format, 'definition', `${at}.format`) };
}

/**
 * A tool a `tool_search_output` loaded, checked by the rules of the request's `tools` (see
 * ToolDto) and kept in the form normalizeRequest stores them: it is offered upstream like them.
 */
function loadedTool(tool: unknown, at: string, member = false): Json {
  if (!isObject(tool)) throw invalidRequest(`Invalid type for '${at}': expected an object.`, at, 'invalid_type');
  const type = requireString(tool, 'type', at);
  if (type === 'namespace' && member) throw invalidRequest(`Invalid value for '${at}.type': namespaces do not nest.`, `${at}.type`);
  if (!LOADABLE_TOOLS.has(type)) throw unsupportedParameter(`${at}.type`, `Tools of type '${type}' in a tool_search_output are not supported by this server.`);
  const name = toolName(tool, at);
  const description = optionalString(tool, 'description', at);
  if (type === 'custom') {
    const format = customFormat(tool, at);
    return { type, name, ...(description ? { description } : {}), ...(format ? { format } : {}) };
  }
  if (type === 'function') {
    if (tool.parameters !== undefined && tool.parameters !== null && !isObject(tool.parameters)) {
      throw invalidRequest(`Invalid type for '${at}.parameters': expected an object.`, `${at}.parameters`, 'invalid_type');
    }
    if (tool.strict !== undefined && tool.strict !== null && typeof tool.strict !== 'boolean') {
      throw invalidRequest(`Invalid type for '${at}.strict': expected a boolean.`, `${at}.strict`, 'invalid_type');
    }
    return { type, name, description: description ?? null, parameters: tool.parameters ?? null, strict: tool.strict ?? null };
  }
  if (!Array.isArray(tool.tools)) throw invalidRequest(`Invalid type for '${at}.tools': expected an array of tools.`, `${at}.tools`, 'invalid_type');
  if (tool.tools.length > MAX_LOADED_TOOLS) {
    throw invalidRequest(`'${at}.tools' has ${tool.tools.length} tools; at most ${MAX_LOADED_TOOLS} are allowed.`, `${at}.tools`, 'array_above_max_length');
  }
  return { type, name, description: description ?? '', tools: tool.tools.map((m: unknown, j) => loadedTool(m, `${at}.tools[${j}]`, true)) };
}

/**
 * A client-run tool search (`execution: "client"`, as Codex sends it) and its result: the tools
 * the result lists are offered upstream from then on. A server-run search would be a hosted tool.
 */
function toolSearchItem(raw: Json, type: 'tool_search_call' | 'tool_search_output', path: string): StoredItem {
  if (raw.execution !== undefined && raw.execution !== null && raw.execution !== 'client') {
    throw unsupportedParameter(
      `${path}.execution`,
      `Input items of type '${type}' with execution ${JSON.stringify(raw.execution)} are not supported by this server: only 'client' is.`,
    );
  }
  // The call and its output are matched upstream by call_id (a tool call id and its tool message).
  const callId = requireString(raw, 'call_id', path);
  const common = { type, call_id: callId, execution: 'client' as const, status: 'completed' as const };
  if (type === 'tool_search_call') {
    if (raw.arguments !== undefined && !isObject(raw.arguments)) {
      throw invalidRequest(`Invalid type for '${path}.arguments': expected an object.`, `${path}.arguments`, 'invalid_type');
    }
    return { id: itemId(raw, path, 'tsc'), ...common, arguments: raw.arguments ?? {} } as StoredItem;
  }
  if (!Array.isArray(raw.tools)) throw invalidRequest(`Invalid type for '${path}.tools': expected an array of tools.`, `${path}.tools`, 'invalid_type');
  const tools = raw.tools.map((tool: unknown, i) => loadedTool(tool, `${path}.tools[${i}]`));
  return { id: itemId(raw, path, 'tso'), ...common, tools } as unknown as StoredItem;
}

function normalizeItem(raw: unknown, path: string, rules: ItemRules): StoredItem {
  if (!isObject(raw)) throw invalidRequest(`Invalid type for '${path}': expected an object.`, path, 'invalid_type');
  // `{id}` alone is an item reference (its `type` is optional in the API): resolved later, from
  // the store (ResponsesService.resolveReferences).
  const typeless = raw.type === undefined || raw.type === null;
  if ((typeless && raw.role === undefined && raw.content === undefined && raw.id !== undefined) || raw.type === 'item_reference') {
    return { type: 'item_reference', id: requireString(raw, 'id', path) } as unknown as StoredItem;
  }
  const type = raw.type ?? 'message';
  if (typeof type !== 'string') throw invalidRequest(`Invalid type for '${path}.type': expected a string.`, `${path}.type`, 'invalid_type');
  switch (type) {
    case 'message':
      return message(raw, path, rules);
    case 'function_call': {
      const namespace = optionalString(raw, 'namespace', path);
      return {
        id: itemId(raw, path, 'fc'),
        type,
        call_id: requireString(raw, 'call_id', path),
        name: requireString(raw, 'name', path),
        arguments: requireString(raw, 'arguments', path),
        status: 'completed',
        ...(namespace ? { namespace } : {}),
      };
    }
    case 'custom_tool_call': {
      const namespace = optionalString(raw, 'namespace', path);
      return {
        id: itemId(raw, path, 'ctc'),
        type,
        call_id: requireString(raw, 'call_id', path),
        name: requireString(raw, 'name', path),
        input: requireString(raw, 'input', path),
        status: 'completed',
        ...(namespace ? { namespace } : {}),
      };
    }
    case 'function_call_output':
    case 'custom_tool_call_output': {
      const output = raw.output;
      if (output === undefined || output === null) throw missingParameter(`${path}.output`);
      const normalized = typeof output === 'string' ? output : contentParts(output, 'tool_output', `${path}.output`, rules);
      return {
        id: itemId(raw, path, type === 'function_call_output' ? 'fco' : 'ctco'),
        type,
        call_id: requireString(raw, 'call_id', path),
        output: normalized,
        ...(type === 'function_call_output' ? { status: 'completed' } : {}),
      } as unknown as StoredItem;
    }
    case 'tool_search_call':
    case 'tool_search_output':
      return toolSearchItem(raw, type, path);
    case 'mcp_approval_response': {
      if (typeof raw.approve !== 'boolean') throw invalidRequest(`Invalid type for '${path}.approve': expected a boolean.`, `${path}.approve`, 'invalid_type');
      return {
        id: itemId(raw, path, 'mcpr'),
        type,
        approval_request_id: requireString(raw, 'approval_request_id', path),
        approve: raw.approve,
        ...(typeof raw.reason === 'string' ? { reason: raw.reason } : {}),
      };
    }
    case 'mcp_call':
    case 'mcp_list_tools':
    case 'mcp_approval_request':
      // Items of an earlier response, replayed by a client that keeps its own history.
      requireString(raw, 'server_label', path);
      return { ...raw, id: itemId(raw, path, type === 'mcp_call' ? 'mcp' : type === 'mcp_list_tools' ? 'mcpl' : 'mcpr'), type } as unknown as StoredItem;
    case 'web_search_call':
      return webSearchCall(raw, path);
    case 'reasoning': {
      const item: Json = { ...raw, id: itemId(raw, path, 'rs'), type, summary: Array.isArray(raw.summary) ? raw.summary : [] };
      return item as unknown as StoredItem;
    }
    case 'compaction':
      // Opened (and refused when it does not open) by the compaction code; stored as it came.
      return { id: itemId(raw, path, 'cmp'), type, encrypted_content: requireString(raw, 'encrypted_content', path) };
    case 'compaction_trigger':
      // A request to compact (Codex's remote compaction): taken off the input by prepare(), never stored.
      return { id: itemId(raw, path, 'cmp'), type };
    default:
      if (UNSUPPORTED_ITEM_TYPES.has(type)) {
        throw unsupportedParameter(`${path}.type`, `Input items of type '${type}' are not supported by this server.`);
      }
      throw invalidRequest(`Invalid value for '${path}.type': unknown input item type '${type}'.`, `${path}.type`);
  }
}

/** A `web_search_call` of an earlier turn (history the client keeps): replayed to the model as its call and the sources. */
function webSearchCall(raw: Json, path: string): StoredItem {
  const action = raw.action;
  if (!isObject(action)) throw missingParameter(`${path}.action`);
  const kind = requireString(action, 'type', `${path}.action`);
  let kept: Json;
  if (kind === 'search') {
    const query = action.query ?? null;
    if (query !== null && typeof query !== 'string')
      throw invalidRequest(`Invalid type for '${path}.action.query': expected a string.`, `${path}.action.query`, 'invalid_type');
    const sources = action.sources ?? null;
    if (sources !== null && !(Array.isArray(sources) && sources.every((s) => isObject(s) && typeof s.url === 'string')))
      throw invalidRequest(`Invalid value for '${path}.action.sources': expected [{"type": "url", "url": "…"}].`, `${path}.action.sources`);
    kept = {
      type: 'search',
      ...(query !== null ? { query } : {}),
      ...(sources ? { sources: (sources as Json[]).map((s) => ({ type: 'url', url: s.url })) } : {}),
    };
  } else if (kind === 'open_page') {
    const url = action.url ?? null;
    if (url !== null && typeof url !== 'string')
      throw invalidRequest(`Invalid type for '${path}.action.url': expected a string.`, `${path}.action.url`, 'invalid_type');
    kept = { type: 'open_page', url };
  } else if (kind === 'find_in_page') {
    kept = { type: 'find_in_page', pattern: requireString(action, 'pattern', `${path}.action`), url: requireString(action, 'url', `${path}.action`) };
  } else {
    throw invalidRequest(`Invalid value for '${path}.action.type': expected 'search', 'open_page' or 'find_in_page'.`, `${path}.action.type`);
  }
  const status = raw.status ?? 'completed';
  if (typeof status !== 'string' || !['in_progress', 'searching', 'completed', 'failed', 'incomplete'].includes(status))
    throw invalidRequest(`Invalid value for '${path}.status'.`, `${path}.status`);
  return { id: itemId(raw, path, 'ws'), type: 'web_search_call', status, action: kept } as unknown as StoredItem;
}

export interface InputBounds extends Partial<ItemRules> {
  maxItems: number;
  /** Characters of text across all items (and the instructions, which the caller subtracts). */
  maxChars: number;
  /** `item_reference`s: each is a store lookup (unbounded when absent). */
  maxReferences?: number;
}

/** Fields that carry text or data (not structure like `role` or `type`). */
const TEXT_FIELDS = ['text', 'refusal', 'arguments', 'input', 'image_url', 'file_data', 'content', 'output', 'summary', 'encrypted_content'];

/** The characters of text an input carries, for the size bound (data URLs and file data count too). */
function textLength(value: unknown): number {
  if (typeof value === 'string') return value.length;
  if (Array.isArray(value)) return value.reduce((n: number, v) => n + textLength(v), 0);
  if (value && typeof value === 'object') {
    const fields = value as Record<string, unknown>;
    // Loaded tools reach the upstream whole (descriptions and schemas): their JSON counts.
    const loaded = fields.type === 'tool_search_output' && fields.tools !== undefined ? (JSON.stringify(fields.tools)?.length ?? 0) : 0;
    return TEXT_FIELDS.reduce((n, key) => n + textLength(fields[key]), loaded);
  }
  return 0;
}

/** Validates `input` and gives every item an id, as `inputItems.list` shows them. */
export function normalizeInput(input: string | unknown[], bounds: InputBounds = { maxItems: 10_000, maxChars: Number.MAX_SAFE_INTEGER }): StoredItem[] {
  const chars = textLength(input);
  if (chars > bounds.maxChars) {
    throw invalidRequest(
      `'input' (with 'instructions') holds ${chars} characters; at most ${Math.max(0, bounds.maxChars)} are allowed.`,
      'input',
      'string_above_max_length',
    );
  }
  if (typeof input === 'string') {
    return [{ id: newId('msg'), type: 'message', role: 'user', content: [{ type: 'input_text', text: input }], status: 'completed' }];
  }
  if (input.length > bounds.maxItems) {
    throw invalidRequest(`'input' has ${input.length} items; at most ${bounds.maxItems} are allowed.`, 'input', 'array_above_max_length');
  }
  const rules: ItemRules = { allowHttpImages: bounds.allowHttpImages ?? false };
  const items = input.map((item, i) => normalizeItem(item, `input[${i}]`, rules));
  const trigger = items.findIndex((item) => (item as { type?: string }).type === 'compaction_trigger');
  if (trigger >= 0 && trigger !== items.length - 1) {
    throw invalidRequest(`'input[${trigger}]': a compaction_trigger item must be the last input item.`, `input[${trigger}]`, 'invalid_value');
  }
  const references = items.filter((item) => (item as { type?: string }).type === 'item_reference').length;
  if (bounds.maxReferences !== undefined && references > bounds.maxReferences) {
    throw invalidRequest(`'input' has ${references} item references; at most ${bounds.maxReferences} are allowed.`, 'input', 'array_above_max_length');
  }
  // Every loaded tool (a namespace's members each) is offered upstream on every turn: bounded per request.
  let loaded = 0;
  items.forEach((item, i) => {
    if (item.type !== 'tool_search_output') return;
    for (const tool of item.tools as unknown as Json[]) loaded += Array.isArray(tool.tools) ? tool.tools.length : 1;
    if (loaded > MAX_LOADED_TOOLS) {
      throw invalidRequest(
        `'input' loads more than ${MAX_LOADED_TOOLS} tools through tool_search_output items (reached at 'input[${i}].tools').`,
        `input[${i}].tools`,
        'array_above_max_length',
      );
    }
  });
  return items;
}
