import type {
  Response,
  ResponseCreateParams,
  ResponseInputItem,
  ResponseItem,
  ResponseStreamEvent,
  ResponseStatus as SdkResponseStatus,
} from 'openai/resources/responses/responses';

/** The wire objects are the `openai` SDK's own types: the SDK is the contract. */
/** `output_text` is computed by the SDK on the client; servers do not send it. */
export type ResponseObject = Omit<Response, 'output_text'>;
export type ResponseStatus = SdkResponseStatus;
export type InputItem = ResponseInputItem;
/** An item as `inputItems.list` returns it: always with an `id`. */
export type StoredItem = ResponseItem | (ResponseInputItem & { id: string });
/** Stream events as we send them: lifecycle events carry our ResponseObject (no `output_text`). */
export type StreamEvent = ResponseStreamEvent extends infer E
  ? E extends { response: Response }
    ? Omit<E, 'response'> & { response: ResponseObject }
    : E
  : never;

/** A stream event before the run assigns its `sequence_number`. */
export type UnsequencedEvent = StreamEvent extends infer E ? (E extends StreamEvent ? Omit<E, 'sequence_number'> : never) : never;

export const TERMINAL_STATUSES: readonly ResponseStatus[] = ['completed', 'incomplete', 'failed', 'cancelled'];
export const isTerminal = (status: ResponseStatus): boolean => TERMINAL_STATUSES.includes(status);

/**
 * The create parameters after validation: everything needed to run (or re-run) the response,
 * except the input items, which are stored as rows of their own.
 */
export type NormalizedRequest = Pick<
  ResponseCreateParams,
  | 'instructions'
  | 'max_output_tokens'
  | 'metadata'
  | 'parallel_tool_calls'
  | 'previous_response_id'
  | 'prompt_cache_key'
  | 'prompt_cache_retention'
  | 'prompt_cache_options'
  | 'image'
  | 'access_programs'
  | 'background_options'
  | 'reasoning'
  | 'safety_identifier'
  | 'service_tier'
  | 'temperature'
  | 'text'
  | 'tool_choice'
  | 'tools'
  | 'top_p'
  | 'truncation'
  | 'user'
  | 'include'
> & {
  /** Always the `{id}` form once normalized. */
  conversation?: { id: string } | null;
  model: string;
  store: boolean;
  background: boolean;
  stream: boolean;
  max_tool_calls?: number | null;
  top_logprobs?: number | null;
  /** Open Responses fields the `openai` types lack; absent on requests stored before they existed (read as 0). */
  presence_penalty?: number | null;
  frequency_penalty?: number | null;
  /** `false`: no model call, the response completes with empty output (absent means true). */
  generate?: boolean;
  /** Automatic compaction (not on OpenAI's Response: never echoed); absent means none. */
  context_management?: Array<{ type: 'compaction'; compact_threshold: number | null }>;
  /** Internal, never echoed: the input ended with a `compaction_trigger` item (taken off the stored input). */
  compaction_trigger?: boolean;
  /** Internal, never echoed: the id of the HTTP request that created it, for the worker's logs. */
  request_id?: string;
  /** Internal, never echoed: a background response's MCP headers, sealed with SECRETS_KEY. */
  mcp_headers_sealed?: string;
  /** Internal, never echoed: hosted tools the request offered that this server left out (see normalizeRequest). */
  omitted_tools?: string[];
};
