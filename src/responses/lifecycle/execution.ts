import type { ResponseOutputItem } from 'openai/resources/responses/responses';
import type { Principal } from '../../common/principal';
import type { NormalizedRequest, StoredItem } from '../../common/response-types';
import type { ResolvedModel } from '../../inference/model-registry';

/** A validated create request, with its history loaded: nothing left that could be the client's fault. */
export interface PreparedResponse {
  principal: Principal;
  /** Secret headers of the request's MCP servers (never stored in clear). */
  mcpHeaders: Record<string, Record<string, string>>;
  request: NormalizedRequest;
  input: StoredItem[];
  history: StoredItem[];
  model: ResolvedModel;
}

/** Who a response is: enough to build its Response object, its row and its end. */
export interface ResponseIdentity {
  id: string;
  /** The owner's tenant. */
  owner: string;
  createdAt: Date;
  request: NormalizedRequest;
  /** This request's own input items (stored with an INSERT; appended to its conversation when it completes). */
  input: StoredItem[];
  /** The attempt that fences the final write. */
  attempt: number;
  /**
   * How it is stored: `row` — a row exists (in_progress), the end is a conditional update; `at-end`
   * — one INSERT of the finished response (a non-streaming synchronous one: nobody knows its id
   * before it ends, so nothing can read, cancel or delete it meanwhile); `none` — `store: false`.
   */
  persistence: 'row' | 'at-end' | 'none';
  /** The INSERT of a `row` response, when still in flight: its terminal write waits for it. */
  stored?: Promise<void>;
}

/** A response ready to run: its identity, parameters, full history and model. */
export interface Execution extends ResponseIdentity {
  /** History (the previous_response_id chain, or the conversation) followed by this request's input. */
  items: StoredItem[];
  model: ResolvedModel;
  /** Ask the upstream for a stream (someone follows the events, or progress is saved per item). */
  upstreamStreaming: boolean;
  /** Secret headers of the MCP servers, by label (in memory only). */
  mcpHeaders?: Record<string, Record<string, string>>;
  /** Upstream retries before any output; default: the provider's. */
  upstreamRetries?: number;
}

export interface ExecutionHooks {
  /** Each time an output item is complete. */
  itemDone?: (output: ResponseOutputItem[]) => void;
}
