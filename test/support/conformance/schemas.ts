/**
 * The wire objects the server sends, as zod schemas written from the Open Responses spec
 * (openresponses/openresponses, public/openapi/openapi.json: ResponseResource, ItemField, the
 * content parts, the streaming events, the error) and the `openai` SDK's types. Where the two
 * differ the SDK wins (it is what clients parse), and the spec adds what the SDK leaves optional.
 *
 * Strict objects (unknown keys are violations) except where OpenAI itself sends or accepts
 * extras: echoed request objects (tools, tool_choice, prompt, reasoning) and MCP payloads.
 * The type ties at the end make a schema that drifts from the SDK types a compile error.
 */
import type { Conversation, ConversationDeletedResource } from 'openai/resources/conversations/conversations';
import type { ConversationItem } from 'openai/resources/conversations/items';
import type { FileDeleted, FileObject } from 'openai/resources/files';
import type { Model } from 'openai/resources/models';
import type {
  McpToolCallError,
  Response,
  ResponseInputItem,
  ResponseItem,
  ResponseOutputItem,
  ResponseStreamEvent,
  ResponseUsage,
  Tool,
  ToolChoiceAllowed,
  ToolChoiceCustom,
  ToolChoiceFunction,
  ToolChoiceMcp,
  ToolChoiceTypes,
} from 'openai/resources/responses/responses';
import type { Reasoning } from 'openai/resources/shared';
import { z } from 'zod';

const int = z.int();
const nonNegative = z.int().nonnegative();
const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
/** A value we check only for its `type` among the SDK's names: its own fields are the client's. */
const typed = <T>(types: readonly string[]) => z.custom<T>((v) => isRecord(v) && typeof v.type === 'string' && types.includes(v.type));
const itemStatus = z.enum(['in_progress', 'completed', 'incomplete']);

// --- content parts -------------------------------------------------------------------------

const topLogprob = z.strictObject({ token: z.string(), logprob: z.number(), bytes: z.array(int) });
const logprob = z.strictObject({ token: z.string(), logprob: z.number(), bytes: z.array(int), top_logprobs: z.array(topLogprob) });
const annotation = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('url_citation'), url: z.string(), start_index: int, end_index: int, title: z.string() }),
  z.strictObject({ type: z.literal('file_citation'), file_id: z.string(), filename: z.string(), index: int }),
  z.strictObject({ type: z.literal('file_path'), file_id: z.string(), index: int }),
  z.strictObject({
    type: z.literal('container_file_citation'),
    container_id: z.string(),
    file_id: z.string(),
    filename: z.string(),
    start_index: int,
    end_index: int,
  }),
]);
export const outputTextSchema = z.strictObject({
  type: z.literal('output_text'),
  text: z.string(),
  annotations: z.array(annotation),
  logprobs: z.array(logprob).optional(),
});
const refusal = z.strictObject({ type: z.literal('refusal'), refusal: z.string() });
const reasoningText = z.strictObject({ type: z.literal('reasoning_text'), text: z.string() });
const summaryText = z.strictObject({ type: z.literal('summary_text'), text: z.string() });
const cacheBreakpoint = z.strictObject({ mode: z.literal('explicit'), ttl: z.enum(['30m', '12h']).optional() }).optional();
const inputText = z.strictObject({ type: z.literal('input_text'), text: z.string(), prompt_cache_breakpoint: cacheBreakpoint });
const inputImage = z.strictObject({
  type: z.literal('input_image'),
  detail: z.enum(['low', 'high', 'auto', 'original']),
  image_url: z.string().nullable().optional(),
  file_id: z.string().nullable().optional(),
  prompt_cache_breakpoint: cacheBreakpoint,
});
const inputFile = z.strictObject({
  type: z.literal('input_file'),
  detail: z.enum(['auto', 'low', 'high']).optional(),
  file_data: z.string().optional(),
  file_id: z.string().nullable().optional(),
  file_url: z.string().optional(),
  filename: z.string().optional(),
  prompt_cache_breakpoint: cacheBreakpoint,
});
const inputContent = z.discriminatedUnion('type', [inputText, inputImage, inputFile]);
const toolOutputContent = z.discriminatedUnion('type', [inputText, inputImage, inputFile]);

// --- items ---------------------------------------------------------------------------------

export const outputMessageSchema = z.strictObject({
  type: z.literal('message'),
  id: z.string(),
  role: z.literal('assistant'),
  status: itemStatus,
  content: z.array(z.discriminatedUnion('type', [outputTextSchema, refusal])),
  phase: z.enum(['commentary', 'final_answer']).nullable().optional(),
});
/** In output `id` and `status` are always there (the SDK leaves them optional for input). */
export const functionCallSchema = z.strictObject({
  type: z.literal('function_call'),
  id: z.string(),
  call_id: z.string(),
  name: z.string(),
  arguments: z.string(),
  status: itemStatus,
  namespace: z.string().optional(),
});
export const reasoningSchema = z.strictObject({
  type: z.literal('reasoning'),
  id: z.string(),
  summary: z.array(summaryText),
  content: z.array(reasoningText).optional(),
  encrypted_content: z.string().nullable().optional(),
  status: itemStatus.optional(),
});
export const mcpToolCallErrorSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('mcp_protocol_error'), code: int, message: z.string() }),
  z.strictObject({ type: z.literal('mcp_tool_execution_error'), content: z.unknown() }),
  z.strictObject({ type: z.literal('http_error'), code: int, message: z.string() }),
]);
export const mcpCallSchema = z.strictObject({
  type: z.literal('mcp_call'),
  id: z.string(),
  server_label: z.string(),
  name: z.string(),
  arguments: z.string(),
  approval_request_id: z.string().nullable().optional(),
  error: mcpToolCallErrorSchema.nullable().optional(),
  output: z.string().nullable().optional(),
  status: z.enum(['in_progress', 'completed', 'incomplete', 'calling', 'failed']).optional(),
});
/** The SDK's ResponseFunctionWebSearch (its `find_in_page` action is never produced here). */
export const webSearchCallSchema = z.strictObject({
  type: z.literal('web_search_call'),
  id: z.string(),
  status: z.enum(['in_progress', 'searching', 'completed', 'failed', 'incomplete']),
  action: z.discriminatedUnion('type', [
    z.strictObject({
      type: z.literal('search'),
      query: z.string().optional(),
      queries: z.array(z.string()).optional(),
      sources: z.array(z.strictObject({ type: z.literal('url'), url: z.string() })).optional(),
    }),
    z.strictObject({ type: z.literal('open_page'), url: z.string().nullable().optional() }),
    z.strictObject({ type: z.literal('find_in_page'), pattern: z.string(), url: z.string() }),
  ]),
});
/** The SDK's ResponseFileSearchToolCall. */
export const fileSearchCallSchema = z.strictObject({
  type: z.literal('file_search_call'),
  id: z.string(),
  queries: z.array(z.string()),
  status: z.enum(['in_progress', 'searching', 'completed', 'incomplete', 'failed']),
  results: z
    .array(
      z.strictObject({
        attributes: z
          .record(z.string(), z.union([z.string(), z.number(), z.boolean()]))
          .nullable()
          .optional(),
        file_id: z.string().optional(),
        filename: z.string().optional(),
        score: z.number().min(0).max(1).optional(),
        text: z.string().optional(),
      }),
    )
    .nullable()
    .optional(),
});
const mcpListedTool = z.strictObject({
  name: z.string(),
  input_schema: z.unknown(),
  annotations: z.unknown().nullable().optional(),
  description: z.string().nullable().optional(),
});
export const mcpListToolsSchema = z.strictObject({
  type: z.literal('mcp_list_tools'),
  id: z.string(),
  server_label: z.string(),
  tools: z.array(mcpListedTool),
  error: z.string().nullable().optional(),
});
export const mcpApprovalRequestSchema = z.strictObject({
  type: z.literal('mcp_approval_request'),
  id: z.string(),
  server_label: z.string(),
  name: z.string(),
  arguments: z.string(),
});

/** A call of a client custom tool (Codex's apply_patch); `status` as OpenAI sends it, though the SDK type lacks it. */
export const customToolCallSchema = z.strictObject({
  type: z.literal('custom_tool_call'),
  id: z.string(),
  call_id: z.string(),
  name: z.string(),
  input: z.string(),
  status: itemStatus,
  namespace: z.string().optional(),
});
/** A tool search the client runs (`execution: "client"`). */
export const toolSearchCallSchema = z.strictObject({
  type: z.literal('tool_search_call'),
  id: z.string(),
  call_id: z.string().nullable(),
  execution: z.literal('client'),
  arguments: z.record(z.string(), z.unknown()),
  status: itemStatus,
});

/** A compaction (issue 17): the summary of the window before it, sealed by the gateway. */
export const compactionItemSchema = z.strictObject({
  type: z.literal('compaction'),
  id: z.string(),
  // Empty on `output_item.added`: the summary is sealed once written.
  encrypted_content: z.string(),
  created_by: z.string().optional(),
});

/** The output items this server produces; any other type in `output` is a violation. */
export const outputItemSchema = z.discriminatedUnion('type', [
  compactionItemSchema,
  outputMessageSchema,
  functionCallSchema,
  customToolCallSchema,
  toolSearchCallSchema,
  reasoningSchema,
  mcpCallSchema,
  mcpListToolsSchema,
  mcpApprovalRequestSchema,
  fileSearchCallSchema,
  webSearchCallSchema,
]);

const inputMessageItem = z.strictObject({
  type: z.literal('message'),
  id: z.string(),
  role: z.enum(['user', 'system', 'developer']),
  content: z.array(inputContent),
  // Optional in the SDK's ResponseItem, required in its ConversationItem and in the spec.
  status: itemStatus,
});
const functionCallOutputItem = z.strictObject({
  type: z.literal('function_call_output'),
  id: z.string(),
  call_id: z.string(),
  output: z.union([z.string(), z.array(toolOutputContent)]),
  status: itemStatus,
});
const mcpApprovalResponseItem = z.strictObject({
  type: z.literal('mcp_approval_response'),
  id: z.string(),
  approval_request_id: z.string(),
  approve: z.boolean(),
  reason: z.string().nullable().optional(),
});
/** The item types a client may send that we store as given; checked for `id` and `type` only. */
const OTHER_ITEM_TYPES = ['custom_tool_call', 'custom_tool_call_output', 'tool_search_call', 'tool_search_output', 'compaction'] as const;
const otherItem = z.custom<Extract<ResponseItem, { type: (typeof OTHER_ITEM_TYPES)[number] }>>(
  (v) => isRecord(v) && typeof v.id === 'string' && (OTHER_ITEM_TYPES as readonly unknown[]).includes(v.type),
);

/** An item of `inputItems.list` or a conversation: the output items plus what only input has. */
const itemMessage = z.union([inputMessageItem, outputMessageSchema]);
export const storedItemSchema = z.union([
  itemMessage,
  z.discriminatedUnion('type', [
    functionCallSchema,
    functionCallOutputItem,
    reasoningSchema,
    mcpCallSchema,
    mcpListToolsSchema,
    mcpApprovalRequestSchema,
    mcpApprovalResponseItem,
    fileSearchCallSchema,
    webSearchCallSchema,
  ]),
  otherItem,
]);

// --- the Response --------------------------------------------------------------------------

export const usageSchema = z.strictObject({
  input_tokens: nonNegative,
  input_tokens_details: z.strictObject({ cached_tokens: nonNegative, cache_write_tokens: nonNegative }),
  output_tokens: nonNegative,
  output_tokens_details: z.strictObject({ reasoning_tokens: nonNegative }),
  total_tokens: nonNegative,
});
const responseErrorCodes = [
  'server_error',
  'rate_limit_exceeded',
  'invalid_prompt',
  'data_residency_mismatch',
  'bio_policy',
  'misalignment_policy_violation',
  'vector_store_timeout',
  'invalid_image',
  'invalid_image_format',
  'invalid_base64_image',
  'invalid_image_url',
  'image_too_large',
  'image_too_small',
  'image_parse_error',
  'image_content_policy_violation',
  'invalid_image_mode',
  'image_file_too_large',
  'unsupported_image_media_type',
  'empty_image_file',
  'failed_to_download_image',
  'image_file_not_found',
] as const;
const responseError = z.strictObject({
  code: z.enum(responseErrorCodes),
  message: z.string(),
  param: z.string().nullable().optional(),
  type: z.string().nullable().optional(),
});

const functionTool = z.looseObject({
  type: z.literal('function'),
  name: z.string(),
  // The spec requires all four (nullable); the SDK requires parameters and strict.
  description: z.string().nullable(),
  parameters: z.record(z.string(), z.unknown()).nullable(),
  strict: z.boolean().nullable(),
});
const OTHER_TOOL_TYPES = [
  'file_search',
  'computer',
  'computer_use_preview',
  'web_search',
  'web_search_2025_08_26',
  'mcp',
  'code_interpreter',
  'programmatic_tool_calling',
  'image_generation',
  'local_shell',
  'shell',
  'custom',
  'namespace',
  'tool_search',
  'web_search_preview',
  'web_search_preview_2025_03_11',
  'apply_patch',
];
const tool = z.union([functionTool, typed<Exclude<Tool, { type: 'function' }>>(OTHER_TOOL_TYPES)]);
const toolChoice = z.union([
  z.enum(['none', 'auto', 'required']),
  typed<ToolChoiceAllowed | ToolChoiceTypes | ToolChoiceFunction | ToolChoiceMcp | ToolChoiceCustom>([
    'allowed_tools',
    'function',
    'mcp',
    'custom',
    'file_search',
    'web_search_preview',
    'computer',
    'computer_use_preview',
    'computer_use',
    'web_search_preview_2025_03_11',
    'image_generation',
    'code_interpreter',
  ]),
]);
const textFormat = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('text') }),
  z.strictObject({ type: z.literal('json_object') }),
  z.strictObject({
    type: z.literal('json_schema'),
    name: z.string(),
    schema: z.record(z.string(), z.unknown()),
    description: z.string().optional(),
    strict: z.boolean().nullable().optional(),
  }),
]);
const reasoningConfig = z.custom<Reasoning>((v) => isRecord(v));
const echoed = z.custom<NonNullable<Response['prompt']>>((v) => isRecord(v) && typeof v.id === 'string');

const INCOMPLETE_REASONS = ['max_output_tokens', 'max_messages', 'content_filter', 'steered'] as const;
/**
 * Our one deliberate extension of an SDK enum: an agent stopped by its `max_tool_calls` bound
 * ends incomplete with this reason (the spec's reason is any string; the SDK lists four).
 */
const OUR_INCOMPLETE_REASON = 'max_tool_calls';

const responseShape = {
  id: z.string().startsWith('resp_'),
  object: z.literal('response'),
  created_at: nonNegative,
  status: z.enum(['completed', 'failed', 'in_progress', 'cancelled', 'queued', 'incomplete']),
  background: z.boolean(),
  completed_at: nonNegative.nullable(),
  conversation: z.strictObject({ id: z.string() }).nullable().optional(),
  error: responseError.nullable(),
  incomplete_details: z.strictObject({ reason: z.enum([...INCOMPLETE_REASONS, OUR_INCOMPLETE_REASON]) }).nullable(),
  instructions: z.union([z.string(), z.array(z.custom<ResponseInputItem>((v) => isRecord(v)))]).nullable(),
  max_output_tokens: nonNegative.nullable(),
  max_tool_calls: nonNegative.nullable(),
  model: z.string(),
  output: z.array(outputItemSchema),
  parallel_tool_calls: z.boolean(),
  previous_response_id: z.string().nullable(),
  prompt: echoed.nullable().optional(),
  prompt_cache_key: z.string().nullable(),
  prompt_cache_retention: z.enum(['in_memory', '24h']).nullable().optional(),
  prompt_cache_options: z.custom<NonNullable<Response['prompt_cache_options']>>((v) => isRecord(v)).optional(),
  prompt_cache_diagnostics: z.custom<NonNullable<Response['prompt_cache_diagnostics']>>((v) => isRecord(v)).optional(),
  reasoning: reasoningConfig.nullable(),
  safety_identifier: z.string().nullable(),
  service_tier: z.enum(['auto', 'default', 'flex', 'scale', 'priority', 'fast', 'ultrafast']).nullable(),
  store: z.boolean(),
  temperature: z.number().nullable(),
  presence_penalty: z.number(),
  frequency_penalty: z.number(),
  text: z.strictObject({ format: textFormat, verbosity: z.enum(['low', 'medium', 'high']).nullable().optional() }),
  tool_choice: toolChoice,
  tools: z.array(tool),
  top_logprobs: nonNegative.nullable(),
  top_p: z.number().nullable(),
  truncation: z.enum(['auto', 'disabled']).nullable(),
  usage: usageSchema.nullable(),
  user: z.string().nullable(),
  metadata: z.record(z.string(), z.string()).nullable(),
  access_programs: z.strictObject({ cyber: z.enum(['standard', 'daybreak_blue', 'daybreak_red']) }).nullable(),
  background_options: z.record(z.string(), z.unknown()).nullable().optional(),
  // Ours (docs/background.md#scheduling): a queued background response's estimated start.
  estimated_start_at: z.number().int().nullable().optional(),
  image: z.strictObject({ context_compression: z.enum(['enabled', 'disabled']) }).optional(),
  input_transformations: z.array(z.custom<NonNullable<Response['input_transformations']>[number]>((v) => isRecord(v))).optional(),
  moderation: z
    .custom<NonNullable<Response['moderation']>>((v) => isRecord(v))
    .nullable()
    .optional(),
  tool_usage: z.custom<NonNullable<Response['tool_usage']>>((v) => isRecord(v)).optional(),
};

/** The Response as the spec requires it (`usage` null is ours for queued / in-progress / cancelled). */
export const responseSchema = z.strictObject(responseShape).superRefine((r, ctx) => {
  // Semantic rules of the spec and the SDK's contract beyond the shapes.
  if ((r.status === 'completed') !== (r.completed_at !== null))
    ctx.addIssue({ code: 'custom', path: ['completed_at'], message: `completed_at must be set exactly when status is completed (status ${r.status})` });
  if (r.status === 'failed' && r.error === null) ctx.addIssue({ code: 'custom', path: ['error'], message: 'a failed response carries its error' });
  if (r.status !== 'failed' && r.error !== null)
    ctx.addIssue({ code: 'custom', path: ['error'], message: `error is set only on failed responses (status ${r.status})` });
  if ((r.status === 'incomplete') !== (r.incomplete_details !== null))
    ctx.addIssue({
      code: 'custom',
      path: ['incomplete_details'],
      message: `incomplete_details is set exactly when status is incomplete (status ${r.status})`,
    });
});

export const deletedResponseSchema = z.strictObject({ id: z.string().startsWith('resp_'), object: z.literal('response'), deleted: z.literal(true) });

/** `POST /v1/responses/input_tokens` (InputTokenCountResponse). */
export const inputTokensSchema = z.strictObject({ object: z.literal('response.input_tokens'), input_tokens: nonNegative });

const listOf = <T extends z.ZodType>(item: T) =>
  z.strictObject({ object: z.literal('list'), data: z.array(item), first_id: z.string().nullable(), last_id: z.string().nullable(), has_more: z.boolean() });
export const responseListSchema = listOf(responseSchema);
export const itemListSchema = listOf(storedItemSchema);

export const conversationSchema = z.strictObject({
  id: z.string().startsWith('conv_'),
  object: z.literal('conversation'),
  created_at: nonNegative,
  metadata: z.record(z.string(), z.string()),
});
export const deletedConversationSchema = z.strictObject({ id: z.string(), object: z.literal('conversation.deleted'), deleted: z.boolean() });
export const modelSchema = z.strictObject({ id: z.string(), object: z.literal('model'), created: nonNegative, owned_by: z.string() });
/** `models` is the Codex CLI's catalog (ModelInfo entries), added only when Codex asks (`?client_version=`): docs/codex.md. */
export const modelListSchema = z.strictObject({
  object: z.literal('list'),
  data: z.array(modelSchema),
  models: z.array(z.looseObject({ slug: z.string(), display_name: z.string() })).optional(),
});

/** The File object; `purpose` also `evals`, which the SDK's FilePurpose (uploads) has and its FileObject does not list. */
const FILE_OBJECT_PURPOSES = ['assistants', 'assistants_output', 'batch', 'batch_output', 'fine-tune', 'fine-tune-results', 'vision', 'user_data'] as const;
export const fileSchema = z.strictObject({
  id: z.string().startsWith('file-'),
  object: z.literal('file'),
  bytes: nonNegative,
  created_at: nonNegative,
  expires_at: nonNegative.optional(),
  filename: z.string().min(1),
  purpose: z.enum([...FILE_OBJECT_PURPOSES, 'evals']),
  status: z.literal('processed'),
  status_details: z.string().optional(),
});
export const fileListSchema = listOf(fileSchema);
export const deletedFileSchema = z.strictObject({ id: z.string().startsWith('file-'), object: z.literal('file'), deleted: z.literal(true) });

/** The error body of every 4xx/5xx: the SDK reads `error`, and copies code/param/type from it. */
export const errorBodySchema = z.strictObject({
  error: z.strictObject({ message: z.string().min(1), type: z.string().min(1), param: z.string().nullable(), code: z.string().nullable() }),
});

// --- stream events -------------------------------------------------------------------------

const seq = { sequence_number: nonNegative };
const lifecycle = <T extends string>(type: T) => z.strictObject({ type: z.literal(type), ...seq, response: responseSchema });
const at = { ...seq, item_id: z.string(), output_index: nonNegative };
const atContent = { ...at, content_index: nonNegative };
const contentPart = z.discriminatedUnion('type', [outputTextSchema, refusal, reasoningText]);
const itemEvent = <T extends string>(type: T) => z.strictObject({ type: z.literal(type), ...at });

export const streamEventSchema = z.discriminatedUnion('type', [
  lifecycle('response.created'),
  lifecycle('response.queued'),
  lifecycle('response.in_progress'),
  lifecycle('response.completed'),
  lifecycle('response.failed'),
  lifecycle('response.incomplete'),
  z.strictObject({ type: z.literal('response.output_item.added'), ...seq, output_index: nonNegative, item: outputItemSchema }),
  z.strictObject({ type: z.literal('response.output_item.done'), ...seq, output_index: nonNegative, item: outputItemSchema }),
  z.strictObject({ type: z.literal('response.content_part.added'), ...atContent, part: contentPart }),
  z.strictObject({ type: z.literal('response.content_part.done'), ...atContent, part: contentPart }),
  z.strictObject({
    type: z.literal('response.output_text.delta'),
    ...atContent,
    delta: z.string(),
    logprobs: z.array(logprob),
    obfuscation: z.string().optional(),
  }),
  z.strictObject({ type: z.literal('response.output_text.done'), ...atContent, text: z.string(), logprobs: z.array(logprob) }),
  z.strictObject({ type: z.literal('response.output_text.annotation.added'), ...atContent, annotation_index: nonNegative, annotation }),
  z.strictObject({ type: z.literal('response.refusal.delta'), ...atContent, delta: z.string() }),
  z.strictObject({ type: z.literal('response.refusal.done'), ...atContent, refusal: z.string() }),
  z.strictObject({ type: z.literal('response.reasoning_text.delta'), ...atContent, delta: z.string() }),
  z.strictObject({ type: z.literal('response.reasoning_text.done'), ...atContent, text: z.string() }),
  z.strictObject({ type: z.literal('response.function_call_arguments.delta'), ...at, delta: z.string(), obfuscation: z.string().optional() }),
  // `name` is not in the SDK type; OpenAI sends it and the spec does not forbid it (it lists no closed set).
  z.strictObject({ type: z.literal('response.function_call_arguments.done'), ...at, arguments: z.string(), name: z.string().optional() }),
  z.strictObject({ type: z.literal('response.custom_tool_call_input.delta'), ...at, delta: z.string() }),
  z.strictObject({ type: z.literal('response.custom_tool_call_input.done'), ...at, input: z.string() }),
  z.strictObject({ type: z.literal('response.mcp_call_arguments.delta'), ...at, delta: z.string() }),
  z.strictObject({ type: z.literal('response.mcp_call_arguments.done'), ...at, arguments: z.string() }),
  itemEvent('response.compaction.compacting'),
  itemEvent('response.mcp_call.in_progress'),
  itemEvent('response.mcp_call.completed'),
  itemEvent('response.mcp_call.failed'),
  itemEvent('response.file_search_call.in_progress'),
  itemEvent('response.file_search_call.searching'),
  itemEvent('response.file_search_call.completed'),
  itemEvent('response.web_search_call.in_progress'),
  itemEvent('response.web_search_call.searching'),
  itemEvent('response.web_search_call.completed'),
  itemEvent('response.mcp_list_tools.in_progress'),
  itemEvent('response.mcp_list_tools.completed'),
  itemEvent('response.mcp_list_tools.failed'),
  // The SDK's flat error event (the spec nests it under `error`, which the SDK would throw on).
  z.strictObject({ type: z.literal('error'), ...seq, code: z.string().nullable(), message: z.string(), param: z.string().nullable() }),
]);

// --- type ties to the SDK ------------------------------------------------------------------

type Assignable<Sub, Super> = [Sub] extends [Super] ? true : false;
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const assert = <T extends true>(): T => true as T;

/**
 * The SDK's Response as OpenAI sends it: the SDK types `usage` and `user` as optional, but the
 * API (and the spec) send `null` for them — usage while queued or in progress, user when unset.
 */
type ResponseObject = Omit<Response, 'output_text' | 'usage' | 'user'> & { usage?: ResponseUsage | null; user?: string | null };
type Parsed = z.infer<typeof responseSchema>;
type WithSdkReasons<T> = Omit<T, 'incomplete_details'> & { incomplete_details: { reason: (typeof INCOMPLETE_REASONS)[number] } | null };
/** Every object the schemas accept is an SDK object (so no enum or field drifts beyond the SDK's)... */
assert<Assignable<WithSdkReasons<Parsed>, ResponseObject>>();
assert<Same<(typeof INCOMPLETE_REASONS)[number], NonNullable<NonNullable<Response['incomplete_details']>['reason']>>>();
assert<Assignable<z.infer<typeof outputItemSchema>, ResponseOutputItem>>();
assert<Assignable<z.infer<typeof storedItemSchema>, ResponseItem>>();
assert<Assignable<z.infer<typeof storedItemSchema>, ConversationItem>>();
assert<Assignable<z.infer<typeof usageSchema>, ResponseUsage>>();
assert<Assignable<z.infer<typeof conversationSchema>, Conversation>>();
assert<Assignable<z.infer<typeof deletedConversationSchema>, ConversationDeletedResource>>();
assert<Assignable<z.infer<typeof modelSchema>, Model>>();
assert<Same<(typeof FILE_OBJECT_PURPOSES)[number], FileObject['purpose']>>();
assert<Assignable<Omit<z.infer<typeof fileSchema>, 'purpose'>, Omit<FileObject, 'purpose'>>>();
assert<Same<Exclude<keyof FileObject, keyof z.infer<typeof fileSchema>>, never>>();
assert<Assignable<z.infer<typeof deletedFileSchema>, FileDeleted>>();
assert<Same<z.infer<typeof mcpToolCallErrorSchema>, McpToolCallError>>();
/** ...every SDK field of the Response is known to the schema (a new SDK field shows up here)... */
assert<Same<Exclude<keyof ResponseObject, keyof Parsed>, never>>();
assert<Same<Parsed['status'], NonNullable<Response['status']>>>();
/** ...and every event type we check is one the SDK's union has, with an SDK-shaped payload. */
type Event = z.infer<typeof streamEventSchema>;
type SdkEvent<T> = Extract<ResponseStreamEvent, { type: T }>;
type EventsFit = { [T in Event['type']]: Assignable<Omit<Extract<Event, { type: T }>, 'response'>, Omit<SdkEvent<T>, 'response'>> }[Event['type']];
assert<Same<EventsFit, true>>();
assert<Assignable<WithSdkReasons<Extract<Event, { type: 'response.completed' }>['response']>, ResponseObject>>();
