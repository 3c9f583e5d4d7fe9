import { Injectable } from '@nestjs/common';
import type { ChatCompletion, ChatCompletionCreateParamsBase, ChatCompletionMessageParam } from 'openai/resources/chat/completions';
import type { ResponseOutputItem, ResponseUsage } from 'openai/resources/responses/responses';
import type { NormalizedRequest, StoredItem, UnsequencedEvent } from '../common/response-types';
import { toChatRequest } from './chat-request';
import { ClientTools } from './client-tools';
import type { ResolvedModel } from '../inference/model-registry';
import { isAbort, UpstreamError } from '../inference/upstream-error';
import { Metrics } from '../metrics/metrics';
import { AppConfig } from '../config/app-config';
import { Outbound } from '../outbound/outbound.module';
import { mcpErrorText } from './mcp/mcp-errors';
import { chatNameOf } from './mcp/mcp-naming';
import type { McpNetwork } from './mcp/mcp-session';
import { McpToolset } from './mcp/mcp-toolset';
import { approvalRequests, unknownApprovalMessage } from './mcp/approvals';
import { OutputBuilder } from './output-builder';
import { sealReasoning, wantsEncryptedReasoning } from './reasoning-seal';
import { SchemaValidator, strictOutputFormat } from './schema-validator';
import { addUsage, toUsage } from './usage';
import { type Compacted, Compactor } from './compactor';
import { newId } from '../common/ids';
import { estimateMessageTokens, TokenCounter } from '../inference/token-counter';
import { replyReserve, truncateToFit } from './truncation';
import { retainedBudget } from './compaction';
import { FileSearchToolRun } from './file-search-tool';
import { VectorStoresService } from '../vector-stores/vector-stores.service';
import { WebSearch } from '../web-search/web-search.service';
import { WEB_SEARCH_TYPES, type WebSearchBackend, WebSearchToolRun } from './web-search-tool';

/** What the agent needs for one response: its parameters, its full history and the model. */
export interface AgentTurn {
  request: NormalizedRequest;
  /** The `previous_response_id` chain's items followed by this request's input. */
  items: StoredItem[];
  model: ResolvedModel;
  /** Stream from upstream (someone watches the events) or ask for one whole reply. */
  streaming: boolean;
  /** Secret headers of the request's MCP servers, by server label (never stored in clear). */
  mcpHeaders?: Record<string, Record<string, string>>;
  /** Upstream retries before any output (background runs, which no client retries); default: the provider's. */
  upstreamRetries?: number;
  /** The owner's tenant: sealed reasoning is bound to it. */
  tenant?: string;
}

export interface AgentSink {
  emit(event: UnsequencedEvent): void;
  /** Each time an output item is complete. */
  itemDone?: (output: ResponseOutputItem[]) => void;
}

/** OpenAI's two reasons, and ours for an agent stopped by `max_tool_calls` or the round bound. */
export type IncompleteReason = 'max_output_tokens' | 'content_filter' | 'max_tool_calls';

export type AgentOutcome =
  | { status: 'completed'; output: ResponseOutputItem[]; usage: ResponseUsage | null }
  | { status: 'incomplete'; output: ResponseOutputItem[]; usage: ResponseUsage | null; reason: IncompleteReason }
  | { status: 'failed'; output: ResponseOutputItem[]; usage: ResponseUsage | null; error: UpstreamError }
  | { status: 'aborted'; output: ResponseOutputItem[]; usage: ResponseUsage | null };

/**
 * The agent loop: turns a request and its history into upstream Chat Completions calls and the
 * Responses output and events. Knows nothing of HTTP, queues or SQL. Client-side function calls
 * end the turn (the client answers with `function_call_output` in its next request).
 * It never throws for upstream trouble: the outcome says what happened.
 */
/** Model calls one response may make: an agent that keeps calling tools ends `incomplete`. */
const MAX_ROUNDS = 10;

type ChatParams = Omit<ChatCompletionCreateParamsBase, 'stream'>;

/** Without `compact_threshold`: this share of the model's context window. */
const DEFAULT_THRESHOLD = 0.8;

/**
 * Which replica a turn's upstream calls prefer (ReplicaPicker): its `prompt_cache_key` (whether or
 * not the upstream is sent the field itself), else its `background_options.continuation_id`, so a
 * group of related background requests keeps hitting the replica that holds their prefix cache.
 */
function affinityKey(turn: AgentTurn): string | null | undefined {
  return turn.request.prompt_cache_key ?? turn.request.background_options?.continuation_id;
}

/** The token count past which a response compacts first (`context_management`), or null for none. */
function compactThreshold(turn: AgentTurn): number | null {
  const entry = turn.request.context_management?.find((c) => c.type === 'compaction');
  if (!entry) return null;
  // prepare() refused a missing threshold for a model without a known window.
  return entry.compact_threshold ?? (turn.model.contextWindow ? Math.floor(turn.model.contextWindow * DEFAULT_THRESHOLD) : null);
}

@Injectable()
export class AgentRunner {
  private readonly mcp: McpNetwork;

  constructor(
    private readonly metrics: Metrics,
    private readonly schemas: SchemaValidator,
    outbound: Outbound,
    private readonly config: AppConfig,
    private readonly compactor: Compactor,
    private readonly tokens: TokenCounter,
    private readonly vectorStores: VectorStoresService,
    webSearch: WebSearch,
  ) {
    this.mcp = { http: outbound.mcp, maxOutputBytes: config.mcpMaxOutputBytes, maxResponseBytes: config.mcpMaxResponseBytes };
    this.webSearch = webSearch.available
      ? { search: (q) => webSearch.search(q), pages: webSearch.pages, maxResults: webSearch.settings!.maxResults }
      : undefined;
  }

  private readonly webSearch: WebSearchBackend | undefined;

  async run(turn: AgentTurn, signal: AbortSignal, sink: AgentSink): Promise<AgentOutcome> {
    const started = performance.now();
    const outcome = await this.call(turn, signal, sink);
    const provider = turn.model.backend.name;
    this.metrics.upstreamDuration.observe({ provider, outcome: outcome.status }, (performance.now() - started) / 1000);
    if (outcome.status === 'failed') this.metrics.upstreamErrors.inc({ provider, status: String(outcome.error.httpStatus) });
    return outcome;
  }

  private async call(turn: AgentTurn, signal: AbortSignal, sink: AgentSink): Promise<AgentOutcome> {
    const toolset = McpToolset.from(turn.request.tools, turn.mcpHeaders, this.mcp);
    const clientTools = ClientTools.of(turn.request, turn.items);
    const fileSearch = FileSearchToolRun.from(turn.request, turn.tenant, (r) => this.vectorStores.searchForTool(r));
    const webSearch = WebSearchToolRun.from(turn.request, this.webSearch);
    const builder = new OutputBuilder(
      (e) => sink.emit(e),
      (output) => sink.itemDone?.(output),
      (name) => toolset.isServerTool(name) || (fileSearch?.owns(name) ?? false) || (webSearch?.owns(name) ?? false),
      (name) => clientTools.resolve(name),
    );
    if (fileSearch || webSearch) builder.annotate = (text) => [...(fileSearch?.annotate(text) ?? []), ...(webSearch?.annotate(text) ?? [])];
    // Functions of the tools the server runs: MCP servers' tools, file_search and web_search.
    const serverTools = () => [...toolset.chatTools(), ...(fileSearch ? [fileSearch.chatTool] : []), ...(webSearch?.chatTools ?? [])];
    // Read only for the include (it may read a key file); without a box prepare() has refused the include already.
    const box = wantsEncryptedReasoning(turn.request) ? this.config.clientSealBox : undefined;
    const tenant = turn.tenant;
    if (box && tenant) builder.sealReasoning = (item) => sealReasoning(box, tenant, item);
    let usage: ResponseUsage | null = null;
    try {
      // Earlier compaction items stand for what came before them (compaction.ts).
      const threshold = compactThreshold(turn);
      const retainedTokens = retainedBudget(turn.model.contextWindow, threshold);
      let items = this.compactor.window(turn.items, turn.tenant ?? '', retainedTokens);
      if (turn.request.compaction_trigger) {
        // Codex's remote compaction: the output is the compaction item alone, no answer.
        const compacted = await this.compactInto(turn, items, retainedTokens, builder, signal);
        return { status: 'completed', output: builder.output, usage: compacted.usage };
      }
      if (!toolset.empty) await toolset.listAll(builder, signal);
      if (threshold !== null) {
        const upstream = toChatRequest(turn.request, items, turn.model, serverTools(), clientTools);
        if ((await this.tokens.count(turn.model, upstream, signal)).tokens > threshold) {
          const compacted = await this.compactInto(turn, items, retainedTokens, builder, signal);
          usage = compacted.usage;
          items = compacted.window;
        }
      }
      // What this response adds to the conversation as it goes: MCP calls and their results.
      const added: ChatCompletionMessageParam[] = [];
      await this.resolveApprovals(turn, toolset, builder, added, signal);
      let serverCallsMade = 0;
      for (let round = 0; ; round++) {
        if (round >= MAX_ROUNDS) {
          builder.finish('incomplete');
          return { status: 'incomplete', output: builder.output, usage, reason: 'max_tool_calls' };
        }
        const base = toChatRequest(turn.request, items, turn.model, serverTools(), clientTools);
        let params = { ...base, messages: [...base.messages, ...added] };
        // A forced file_search or web_search is forced once: after its results the model answers.
        const forced = typeof turn.request.tool_choice === 'object' ? turn.request.tool_choice?.type : undefined;
        if (round > 0 && (forced === 'file_search' || (forced !== undefined && WEB_SEARCH_TYPES.has(forced)))) params.tool_choice = 'auto';
        if (turn.request.truncation === 'auto') params = await this.fit(turn, params, signal);
        const finish = await this.ask(turn, params, builder, signal, (u) => (usage = addUsage(usage, u)));
        if (finish === 'length' || finish === 'content_filter') {
          builder.finish('incomplete');
          return { status: 'incomplete', output: builder.output, usage, reason: finish === 'length' ? 'max_output_tokens' : 'content_filter' };
        }
        const serverCalls = builder.takeServerCalls();
        builder.finish('completed');
        if (!serverCalls.length) break;
        added.push({
          role: 'assistant',
          content: null,
          tool_calls: serverCalls.map((c) => ({ id: c.callId, type: 'function', function: { name: c.name, arguments: c.arguments } })),
        });
        let waitsForUser = builder.clientCalled;
        for (const call of serverCalls) {
          if (fileSearch?.owns(call.name) || webSearch?.owns(call.name)) {
            if (turn.request.max_tool_calls != null && serverCallsMade >= turn.request.max_tool_calls) {
              return { status: 'incomplete', output: builder.output, usage, reason: 'max_tool_calls' };
            }
            serverCallsMade++;
            const content = fileSearch?.owns(call.name)
              ? await fileSearch.call(builder, call.arguments, signal)
              : await webSearch!.call(builder, call.name, call.arguments, signal);
            added.push({ role: 'tool', tool_call_id: call.callId, content });
            continue;
          }
          const target = toolset.resolve(call.name)!;
          if (toolset.needsApproval(target.label, target.name)) {
            toolset.requestApproval(builder, target.label, target.name, call.arguments);
            added.push({ role: 'tool', tool_call_id: call.callId, content: 'Waiting for the user to approve this call.' });
            waitsForUser = true;
            continue;
          }
          if (turn.request.max_tool_calls != null && serverCallsMade >= turn.request.max_tool_calls) {
            return { status: 'incomplete', output: builder.output, usage, reason: 'max_tool_calls' };
          }
          serverCallsMade++;
          const result = await toolset.call(builder, target.label, target.name, call.arguments, signal);
          added.push({ role: 'tool', tool_call_id: call.callId, content: result.error ? `Error: ${mcpErrorText(result.error)}` : (result.output ?? '') });
        }
        // A client function call or an approval ends the turn: the client answers in its next request.
        if (waitsForUser) break;
      }
      const violation = this.checkStructuredOutput(turn, builder.output);
      if (violation) return { status: 'failed', output: builder.output, usage, error: violation };
      return { status: 'completed', output: builder.output, usage };
    } catch (error) {
      if (signal.aborted || isAbort(error)) return { status: 'aborted', output: builder.snapshot(), usage };
      if (error instanceof UpstreamError) return { status: 'failed', output: builder.snapshot(), usage, error };
      throw error; // a bug of ours: let the caller's error handling log it
    } finally {
      await toolset.close();
    }
  }

  /** Compacts the window before the model call: the compaction item is the next output item. */
  private async compactInto(turn: AgentTurn, items: StoredItem[], retainedTokens: number, builder: OutputBuilder, signal: AbortSignal): Promise<Compacted> {
    // Added before the summary exists (as OpenAI streams it): its sealed content comes with `done`.
    const id = newId('cmp');
    const index = builder.addItem({ type: 'compaction', id, encrypted_content: '' });
    builder.event({ type: 'response.compaction.compacting', item_id: id, output_index: index });
    try {
      const compacted = await this.compactor.compact({
        id,
        model: turn.model,
        instructions: turn.request.instructions,
        items,
        tenant: turn.tenant ?? '',
        retainedTokens,
        signal,
        upstreamRetries: turn.upstreamRetries,
        affinityKey: affinityKey(turn),
      });
      builder.doneItem(index, compacted.item);
      return compacted;
    } catch (error) {
      builder.discard(index); // an unsealed item is nothing a client could bring back
      throw error;
    }
  }

  /** `truncation: "auto"`: the oldest messages go until the prompt fits the window, less the reply's reserve. */
  private async fit(turn: AgentTurn, params: ChatParams, signal: AbortSignal): Promise<ChatParams> {
    const count = await this.tokens.count(turn.model, params, signal);
    if (!count.contextWindow) return params; // prepare() refused `auto` for a model of unknown window
    const budget = count.contextWindow - replyReserve(count.contextWindow, turn.request.max_output_tokens);
    return { ...params, messages: truncateToFit(params.messages, count.tokens, budget, estimateMessageTokens) };
  }

  /** One upstream call, fed into the builder; returns the finish reason. */
  private async ask(
    turn: AgentTurn,
    params: ChatParams,
    builder: OutputBuilder,
    signal: AbortSignal,
    onUsage: (u: ResponseUsage | null) => void,
  ): Promise<string | null> {
    const settings = { retries: turn.upstreamRetries, affinityKey: affinityKey(turn) };
    if (turn.streaming) {
      let finish: string | null = null;
      for await (const chunk of turn.model.backend.stream({ ...params, stream: true, stream_options: { include_usage: true } }, signal, settings)) {
        builder.chunk(chunk);
        finish = chunk.choices?.[0]?.finish_reason ?? finish;
        if (chunk.usage) onUsage(toUsage(chunk.usage));
      }
      return finish;
    }
    const completion = await turn.model.backend.complete({ ...params, stream: false }, signal, settings);
    this.replay(completion, builder);
    onUsage(toUsage(completion.usage));
    return completion.choices[0]?.finish_reason ?? null;
  }

  /**
   * `mcp_approval_response` items of this request answer approval requests of the previous
   * response: an approved call runs now, a denied one is reported to the model as denied.
   */
  private async resolveApprovals(
    turn: AgentTurn,
    toolset: McpToolset,
    builder: OutputBuilder,
    added: ChatCompletionMessageParam[],
    signal: AbortSignal,
  ): Promise<void> {
    const requests = approvalRequests(turn.items);
    for (const item of turn.items) {
      const answer = item as { type?: string; approval_request_id?: string; approve?: boolean; reason?: string };
      if (answer.type !== 'mcp_approval_response' || !answer.approval_request_id) continue;
      const request = requests.get(answer.approval_request_id);
      if (!request) {
        // Refused by prepare() already (a 400 before anything is stored); kept for callers that skip it.
        throw new UpstreamError(400, 'invalid_request_error', 'invalid_prompt', unknownApprovalMessage(answer.approval_request_id), 'input');
      }
      const callId = answer.approval_request_id;
      const chatName = chatNameOf(request.server_label, request.name);
      added.push({
        role: 'assistant',
        content: null,
        tool_calls: [{ id: callId, type: 'function', function: { name: chatName, arguments: request.arguments } }],
      });
      if (!answer.approve) {
        added.push({ role: 'tool', tool_call_id: callId, content: `The user declined this call${answer.reason ? `: ${answer.reason}` : '.'}` });
        continue;
      }
      const result = await toolset.call(builder, request.server_label, request.name, request.arguments, signal, callId);
      added.push({ role: 'tool', tool_call_id: callId, content: result.error ? `Error: ${mcpErrorText(result.error)}` : (result.output ?? '') });
    }
  }

  /** With a strict json_schema format, the final text must follow the schema: a violation fails the response. */
  private checkStructuredOutput(turn: AgentTurn, output: ResponseOutputItem[]): UpstreamError | null {
    const format = strictOutputFormat(turn.request);
    if (!format) return null;
    const message = [...output].reverse().find((i) => i.type === 'message');
    if (!message || message.type !== 'message') return null; // a tool call, not an answer
    const text = message.content.map((c) => (c.type === 'output_text' ? c.text : '')).join('');
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      return new UpstreamError(
        502,
        'server_error',
        'server_error',
        `The model's output is not valid JSON, but the strict json_schema format '${format.name}' requires it.`,
      );
    }
    const problem = this.schemas.violation(format.schema, value);
    return problem
      ? new UpstreamError(502, 'server_error', 'server_error', `The model's output does not match the strict json_schema format '${format.name}': ${problem}`)
      : null;
  }

  /** A whole reply goes through the same builder as a stream, as one delta per part. */
  private replay(completion: ChatCompletion, builder: OutputBuilder): void {
    const message = completion.choices[0]?.message as
      (ChatCompletion.Choice['message'] & { reasoning_content?: string | null; reasoning?: string | null }) | undefined;
    if (!message) return;
    const reasoning = message.reasoning_content ?? message.reasoning;
    if (reasoning) builder.reasoning(reasoning);
    if (message.refusal) builder.text(message.refusal, 'refusal');
    if (message.content) builder.text(message.content);
    (message.tool_calls ?? []).forEach((call, index) => {
      if (call.type !== 'function') return;
      builder.toolCall({ index, id: call.id, type: 'function', function: { name: call.function.name, arguments: call.function.arguments } });
    });
  }
}
