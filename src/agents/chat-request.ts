import type {
  ChatCompletionAssistantMessageParam,
  ChatCompletionContentPart,
  ChatCompletionCreateParamsBase,
  ChatCompletionMessageFunctionToolCall,
  ChatCompletionMessageParam,
  ChatCompletionTool,
  ChatCompletionToolChoiceOption,
} from 'openai/resources/chat/completions';
import type { McpToolCallError, ResponseInputContent, Tool } from 'openai/resources/responses/responses';
import type { NormalizedRequest, StoredItem } from '../common/response-types';
import type { ResolvedModel } from '../inference/model-registry';
import { ClientTools, CUSTOM_INPUT_ARG, type ClientTool } from './client-tools';
import type { ReasoningReplay } from '../inference/models-config';
import { mcpErrorText } from './mcp/mcp-errors';
import { FILE_SEARCH_FUNCTION } from './file-search-tool';
import { OPEN_PAGE_FUNCTION, WEB_SEARCH_FUNCTION, WEB_SEARCH_TYPES } from './web-search-tool';
import { chatNameOf } from './mcp/mcp-naming';
import { reasoningText } from './reasoning-seal';

type ChatParams = Omit<ChatCompletionCreateParamsBase, 'stream'>;

/** Text of an input message's content (string or parts), for roles whose chat form is text only. */
function textOf(content: string | ResponseInputContent[] | Array<{ type: string; text?: string; refusal?: string }>): string {
  if (typeof content === 'string') return content;
  return content.map((p) => ('text' in p && typeof p.text === 'string' ? p.text : 'refusal' in p && typeof p.refusal === 'string' ? p.refusal : '')).join('');
}

function userParts(content: string | ResponseInputContent[]): string | ChatCompletionContentPart[] {
  if (typeof content === 'string') return content;
  return content.map((part): ChatCompletionContentPart => {
    switch (part.type) {
      case 'input_text':
        return { type: 'text', text: part.text };
      case 'input_image':
        return {
          type: 'image_url',
          image_url: { url: part.image_url ?? '', detail: part.detail === 'original' ? 'high' : part.detail },
        };
      case 'input_file':
        return { type: 'file', file: { file_data: part.file_data, filename: part.filename } };
      default:
        // Unreachable: input validation admits only the part types above in user messages.
        return { type: 'text', text: '' };
    }
  });
}

/** An assistant message with earlier reasoning on it, in the field the upstream reads. */
type ReasoningAssistantMessage = ChatCompletionAssistantMessageParam & { reasoning?: string; reasoning_content?: string };

/** Where earlier reasoning goes when the model's configuration says nothing (see REASONING_REPLAY). */
export const DEFAULT_REASONING_REPLAY: ReasoningReplay = 'reasoning';

/** An assistant message that so far holds only reasoning: the start of an assistant turn. */
const isReasoningOnly = (message: ChatCompletionMessageParam): message is ReasoningAssistantMessage =>
  message.role === 'assistant' && message.content == null && !message.tool_calls?.length;

/**
 * A reasoning item starts the assistant turn it was produced in: its text rides on the assistant
 * message that the text and tool calls after it fill (appendAssistant). Consecutive reasoning
 * items join. Reasoning with no assistant item after it has nothing to go with and is dropped.
 */
function appendReasoning(messages: ChatCompletionMessageParam[], text: string, field: Exclude<ReasoningReplay, 'drop'>): void {
  if (!text) return;
  const last = messages[messages.length - 1];
  if (last && isReasoningOnly(last)) {
    last[field] = last[field] ? `${last[field]}\n\n${text}` : text;
    return;
  }
  const message: ReasoningAssistantMessage = { role: 'assistant', content: null, [field]: text };
  messages.push(message);
}

/**
 * Function calls join the assistant message right before them (its text, or earlier calls of the
 * same turn): one chat assistant turn. Each assistant message item starts a message of its own,
 * so two replies (say a `commentary` and a `final_answer`) never run together into one text;
 * only a message that holds just the reasoning before it (appendReasoning) is filled instead.
 */
function appendAssistant(messages: ChatCompletionMessageParam[], text: string | null, call?: ChatCompletionMessageFunctionToolCall): void {
  const last = messages[messages.length - 1];
  if (!call && last && isReasoningOnly(last)) {
    last.content = text;
    return;
  }
  if (call && last?.role === 'assistant') {
    last.tool_calls = [...(last.tool_calls ?? []), call];
    return;
  }
  const message: ChatCompletionAssistantMessageParam = { role: 'assistant', content: text };
  if (call) message.tool_calls = [call];
  messages.push(message);
}

/** Tool output (a string or input parts) as the text of a chat `tool` message. */
const toolText = (output: string | ResponseInputContent[]): string => (typeof output === 'string' ? output : textOf(output));

/** What a tool_search found, for the model: the names it can call from now on. */
function searchResultText(found: Tool[], tools: ClientTools): string {
  const names = found.flatMap((tool) => {
    if (tool.type === 'namespace') return tool.tools.map((member) => tools.upstreamName(member.type, member.name, tool.name));
    if (tool.type === 'function' || tool.type === 'custom') return [tools.upstreamName(tool.type, tool.name)];
    return [];
  });
  return names.length ? `Tools loaded, callable from now on: ${names.join(', ')}.` : 'No tools found.';
}

/**
 * Responses items (history, then this request's input) as chat messages. `tools` maps namespaced
 * and custom tool calls to the upstream names they are offered under (see ClientTools).
 */
export function toChatMessages(
  instructions: string | null | undefined,
  items: StoredItem[],
  tools: ClientTools = ClientTools.of({ tools: [] }, items),
  reasoningReplay: ReasoningReplay = DEFAULT_REASONING_REPLAY,
): ChatCompletionMessageParam[] {
  const messages: ChatCompletionMessageParam[] = [];
  if (instructions) messages.push({ role: 'system', content: instructions });
  for (const item of items) {
    const type = 'type' in item && item.type ? item.type : 'message';
    if (type === 'reasoning' && reasoningReplay !== 'drop') {
      appendReasoning(messages, reasoningText(item), reasoningReplay);
    } else if (type === 'message' && 'role' in item) {
      const { role, content } = item as { role: string; content: string | ResponseInputContent[] };
      if (role === 'assistant') appendAssistant(messages, textOf(content));
      // Many open servers know no `developer` role; `system` means the same to them.
      else if (role === 'system' || role === 'developer') messages.push({ role: 'system', content: textOf(content) });
      else messages.push({ role: 'user', content: userParts(content) });
    } else if (type === 'function_call' && 'call_id' in item && 'arguments' in item) {
      const call = item as { call_id: string; name: string; namespace?: string | null; arguments: string };
      appendAssistant(messages, null, {
        id: call.call_id,
        type: 'function',
        function: { name: tools.upstreamName('function', call.name, call.namespace), arguments: call.arguments },
      });
    } else if (type === 'custom_tool_call') {
      const call = item as { call_id: string; name: string; namespace?: string | null; input: string };
      appendAssistant(messages, null, {
        id: call.call_id,
        type: 'function',
        function: { name: tools.upstreamName('custom', call.name, call.namespace), arguments: JSON.stringify({ [CUSTOM_INPUT_ARG]: call.input }) },
      });
    } else if (type === 'tool_search_call') {
      const call = item as { call_id: string; arguments?: unknown };
      appendAssistant(messages, null, {
        id: call.call_id,
        type: 'function',
        function: { name: tools.toolSearchName, arguments: JSON.stringify(call.arguments ?? {}) },
      });
    } else if (type === 'tool_search_output') {
      const output = item as { call_id: string; tools?: Tool[] };
      messages.push({ role: 'tool', tool_call_id: output.call_id, content: searchResultText(output.tools ?? [], tools) });
    } else if (type === 'mcp_call' && 'server_label' in item) {
      // A call the server ran: the model sees it as its own tool call and the tool's answer.
      const call = item as {
        id: string;
        server_label: string;
        name: string;
        arguments: string;
        output?: string | null;
        error?: McpToolCallError | string | null;
      };
      appendAssistant(messages, null, {
        id: call.id,
        type: 'function',
        function: { name: chatNameOf(call.server_label, call.name), arguments: call.arguments },
      });
      messages.push({ role: 'tool', tool_call_id: call.id, content: call.error ? `Error: ${mcpErrorText(call.error)}` : (call.output ?? '') });
    } else if (type === 'file_search_call') {
      // A search the server ran: the model sees its call and what it returned (when the results were kept).
      const call = item as { id: string; queries?: string[]; results?: Array<{ file_id?: string; filename?: string; text?: string }> | null };
      appendAssistant(messages, null, {
        id: call.id,
        type: 'function',
        function: { name: FILE_SEARCH_FUNCTION, arguments: JSON.stringify({ queries: call.queries ?? [] }) },
      });
      const results = call.results?.map((r) => `<result file_id="${r.file_id}" filename="${r.filename}">\n${r.text ?? ''}\n</result>`).join('\n');
      messages.push({
        role: 'tool',
        tool_call_id: call.id,
        content: results || 'The results of this search were not kept (include file_search_call.results to keep them).',
      });
    } else if (type === 'web_search_call') {
      // A search or page the server ran: the model sees its call, and the sources when they were kept.
      const call = item as {
        id: string;
        status?: string;
        action?: { type?: string; query?: string; queries?: string[]; url?: string | null; sources?: Array<{ url?: string }> };
      };
      const action = call.action ?? {};
      const page = action.type === 'open_page' || action.type === 'find_in_page'; // a find is in a page the model opened
      appendAssistant(messages, null, {
        id: call.id,
        type: 'function',
        function: {
          name: page ? OPEN_PAGE_FUNCTION : WEB_SEARCH_FUNCTION,
          arguments: JSON.stringify(page ? { url: action.url ?? '' } : { query: action.query ?? action.queries?.join(' ') ?? '' }),
        },
      });
      const sources = action.sources?.map((s, i) => `<result ref="[${i + 1}]" url="${s.url ?? ''}"></result>`).join('\n');
      const content =
        call.status === 'failed'
          ? 'Error: this call failed.'
          : page
            ? 'The text of this page was not kept.'
            : sources || 'The results of this search were not kept (include web_search_call.action.sources to keep their URLs).';
      messages.push({ role: 'tool', tool_call_id: call.id, content });
    } else if ((type === 'function_call_output' || type === 'custom_tool_call_output') && 'call_id' in item && 'output' in item) {
      messages.push({ role: 'tool', tool_call_id: String(item.call_id), content: toolText(item.output as string | ResponseInputContent[]) });
    }
    // MCP tool lists and approval requests/answers are the agent's business (see AgentRunner): left out.
  }
  return messages.filter((m) => !isReasoningOnly(m));
}

/** Whether an offered tool is among `allowed_tools` (by type and name; a namespace's name allows all its functions). */
function allowedBy(allowed: ReadonlyArray<{ type?: string; name?: string }>): (entry: ClientTool) => boolean {
  return (entry) =>
    allowed.some((t) =>
      entry.kind === 'tool_search'
        ? t.type === 'tool_search'
        : (t.type === 'namespace' && t.name === entry.namespace) || ((t.type ?? 'function') === entry.kind && t.name === entry.name && !entry.namespace),
    );
}

/**
 * `tools` and `tool_choice` in chat form; `allowed_tools` narrows the tool list itself. `extra`
 * are tools the server runs (MCP), offered to the model as functions too.
 */
function toolsAndChoice(
  request: NormalizedRequest,
  tools: ClientTools,
  extra: ChatCompletionTool[],
): Pick<ChatParams, 'tools' | 'tool_choice' | 'parallel_tool_calls'> {
  let choice: ChatCompletionToolChoiceOption | undefined;
  let keep: ((entry: ClientTool) => boolean) | undefined;
  const requested = request.tool_choice;
  if (typeof requested === 'string') choice = requested;
  else if (requested?.type === 'function') choice = { type: 'function', function: { name: tools.upstreamName('function', requested.name) } };
  else if (requested?.type === 'custom') choice = { type: 'function', function: { name: tools.upstreamName('custom', requested.name) } };
  else if (requested?.type === 'file_search') choice = { type: 'function', function: { name: FILE_SEARCH_FUNCTION } };
  else if (requested && WEB_SEARCH_TYPES.has(requested.type)) choice = { type: 'function', function: { name: WEB_SEARCH_FUNCTION } };
  else if (requested?.type === 'allowed_tools') {
    keep = allowedBy(requested.tools);
    choice = requested.mode;
  }
  const offered = [...tools.chatTools(keep), ...extra];
  if (!offered.length) return {};
  return {
    tools: offered,
    ...(choice ? { tool_choice: choice } : {}),
    ...(request.parallel_tool_calls === false ? { parallel_tool_calls: false } : {}),
  };
}

/**
 * The prompt-cache fields Chat Completions has, when the client sent them. Its
 * `prompt_cache_options` knows `mode` and a `ttl` of `30m` only: a `12h` ttl and
 * `comparison_response_id` (diagnostics) stay with us (see docs/api-fields.md).
 */
function promptCacheParams(request: NormalizedRequest): Pick<ChatParams, 'prompt_cache_key' | 'prompt_cache_retention' | 'prompt_cache_options'> {
  const params: Pick<ChatParams, 'prompt_cache_key' | 'prompt_cache_retention' | 'prompt_cache_options'> = {};
  if (request.prompt_cache_key) params.prompt_cache_key = request.prompt_cache_key;
  if (request.prompt_cache_retention) params.prompt_cache_retention = request.prompt_cache_retention;
  const options = request.prompt_cache_options;
  if (options && (options.mode || options.ttl === '30m')) {
    params.prompt_cache_options = { ...(options.mode ? { mode: options.mode } : {}), ...(options.ttl === '30m' ? { ttl: '30m' } : {}) };
  }
  return params;
}

/** The Chat Completions request for one upstream call of a response. */
export function toChatRequest(
  request: NormalizedRequest,
  items: StoredItem[],
  model: ResolvedModel,
  extraTools: ChatCompletionTool[] = [],
  tools: ClientTools = ClientTools.of(request, items),
): ChatParams {
  const params: ChatParams = { model: model.upstreamModel, messages: toChatMessages(request.instructions, items, tools, model.reasoningReplay) };
  if (request.temperature != null) params.temperature = request.temperature;
  if (request.top_p != null) params.top_p = request.top_p;
  if (request.presence_penalty != null) params.presence_penalty = request.presence_penalty;
  if (request.frequency_penalty != null) params.frequency_penalty = request.frequency_penalty;
  Object.assign(params, promptCacheParams(request));
  if (request.max_output_tokens != null) params[model.maxTokensParam] = request.max_output_tokens;
  if (request.top_logprobs) {
    params.logprobs = true;
    params.top_logprobs = request.top_logprobs;
  }
  const user = request.safety_identifier ?? request.user;
  if (user) params.user = user;
  if (request.reasoning?.effort) params.reasoning_effort = request.reasoning.effort;
  const format = request.text?.format;
  if (format?.type === 'json_schema') {
    params.response_format = {
      type: 'json_schema',
      json_schema: {
        name: format.name,
        schema: format.schema,
        ...(format.description ? { description: format.description } : {}),
        ...(format.strict != null ? { strict: format.strict } : {}),
      },
    };
  } else if (format?.type === 'json_object') {
    params.response_format = { type: 'json_object' };
  }
  return { ...params, ...toolsAndChoice(request, tools, extraTools) };
}
