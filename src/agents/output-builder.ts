import type { ChatCompletionChunk } from 'openai/resources/chat/completions';
import type {
  ResponseCustomToolCall,
  ResponseFunctionToolCall,
  ResponseOutputItem,
  ResponseOutputMessage,
  ResponseOutputText,
  ResponseReasoningItem,
  ResponseToolSearchCall,
} from 'openai/resources/responses/responses';
import { newId } from '../common/ids';
import type { UnsequencedEvent } from '../common/response-types';
import { CUSTOM_INPUT_ARG, type ClientTool } from './client-tools';

type Emit = (event: UnsequencedEvent) => void;

/** A call of a server-run tool, as the model made it. */
export interface ServerToolCall {
  callId: string;
  name: string;
  arguments: string;
}
type ToolCallDelta = NonNullable<ChatCompletionChunk.Choice['delta']['tool_calls']>[number];

interface OpenMessage {
  kind: 'message';
  item: ResponseOutputMessage;
  index: number;
  part: 'output_text' | 'refusal';
  text: string;
}
interface OpenReasoning {
  kind: 'reasoning';
  item: ResponseReasoningItem;
  index: number;
  text: string;
}
type CallStatus = 'in_progress' | 'completed' | 'incomplete';
/** A client tool call being streamed: a function call, or a custom tool / tool_search call whose arguments arrive as chat JSON. */
type OpenCall =
  | { kind: 'function_call'; item: ResponseFunctionToolCall & { id: string }; index: number }
  | { kind: 'custom_tool_call'; item: ResponseCustomToolCall & { id: string; status: CallStatus }; index: number; args: string }
  | { kind: 'tool_search_call'; item: ResponseToolSearchCall; index: number; args: string };

const parseJson = (text: string): unknown => {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
};

/**
 * A custom tool's input from the chat arguments it was offered with (`{"input": "…"}`). Models
 * often write the freeform text itself (a patch) instead of wrapping it in JSON: anything that is
 * not JSON of that shape is taken as the input as it stands, and the client's tool judges it
 * (apply_patch reports a bad patch to the model), which beats dropping the call.
 */
export function customInputOf(args: string): string {
  const value = parseJson(args) as Record<string, unknown> | undefined;
  return value && typeof value === 'object' && typeof value[CUSTOM_INPUT_ARG] === 'string' ? value[CUSTOM_INPUT_ARG] : args;
}

/** tool_search arguments are an object in the item; a model's non-JSON text becomes the query. */
function searchArgumentsOf(args: string): unknown {
  const value = parseJson(args);
  return value && typeof value === 'object' && !Array.isArray(value) ? value : { query: args };
}

/**
 * Builds Responses output items from Chat Completions deltas and emits the stream events of the
 * contract, in its order: `output_item.added` → `content_part.added` → deltas → `*.done` →
 * `content_part.done` → `output_item.done`. Text and reasoning items close when another item
 * starts; function calls stay open until `finish()` (chat streams may interleave them).
 */
export class OutputBuilder {
  readonly output: ResponseOutputItem[] = [];
  private current: OpenMessage | OpenReasoning | null = null;
  private readonly calls = new Map<number, OpenCall>();
  /**
   * Calls whose deltas have not named the tool yet: what the name stands for (custom tool,
   * namespace, tool_search, a server tool) decides the item, so none is added before it is known.
   */
  private readonly unnamedCalls = new Map<number, { callId: string; args: string }>();
  /** Calls of tools the server runs itself (MCP): not client function calls, so not output items. */
  private readonly serverCalls = new Map<number, ServerToolCall>();
  private clientCallsSeen = false;
  /**
   * Seals a finished reasoning item for its `encrypted_content` (set when the request includes
   * `reasoning.encrypted_content`): the value is on `output_item.done` and in the final response.
   */
  sealReasoning?: (item: ResponseReasoningItem) => string;
  /** Annotations of a finished output_text (file_search citations), emitted before its `done` events. */
  annotate?: (text: string) => ResponseOutputText['annotations'];

  constructor(
    private readonly emit: Emit,
    /** Told each time an item is complete: where a background run saves progress. */
    private readonly onItemDone: (output: ResponseOutputItem[]) => void = () => undefined,
    /** Whether a tool name belongs to a tool the server runs (MCP). */
    private readonly isServerTool: (name: string) => boolean = () => false,
    /** What an upstream function name stands for among the client's tools (namespace, custom, tool_search; see ClientTools). */
    private readonly clientTool: (name: string) => ClientTool | undefined = () => undefined,
  ) {}

  /** Adds an item the agent built itself (MCP items); returns its output index. */
  addItem(item: ResponseOutputItem): number {
    return this.add(item);
  }

  /** Ends an item added with addItem. */
  doneItem(index: number, item: ResponseOutputItem): void {
    this.output[index] = item;
    this.done(index, item);
  }

  /** Takes back the last item added with addItem, when it could not be finished (no `done` event follows). */
  discard(index: number): void {
    if (index === this.output.length - 1) this.output.pop();
  }

  /** An event about an item (e.g. `response.mcp_call.in_progress`). */
  event(event: UnsequencedEvent): void {
    this.emit(event);
  }

  /** The server-side tool calls of the last upstream reply, in order; clears them. */
  takeServerCalls(): ServerToolCall[] {
    const calls = [...this.serverCalls.entries()].sort(([a], [b]) => a - b).map(([, call]) => call);
    this.serverCalls.clear();
    return calls;
  }

  /** Whether the model asked the client to run a function (the turn then ends). */
  get clientCalled(): boolean {
    return this.clientCallsSeen;
  }

  private add(item: ResponseOutputItem): number {
    const index = this.output.length;
    this.output.push(item);
    // Events are serialized when emitted, so the item's later growth does not leak into them.
    this.emit({ type: 'response.output_item.added', output_index: index, item: structuredClone(item) });
    return index;
  }

  reasoning(delta: string): void {
    if (!delta) return;
    if (this.current?.kind !== 'reasoning') {
      this.closeCurrent('completed');
      const item: ResponseReasoningItem = { id: newId('rs'), type: 'reasoning', summary: [], content: [], status: 'in_progress' };
      const index = this.add(item);
      item.content = [{ type: 'reasoning_text', text: '' }];
      this.emit({ type: 'response.content_part.added', item_id: item.id, output_index: index, content_index: 0, part: { type: 'reasoning_text', text: '' } });
      this.current = { kind: 'reasoning', item, index, text: '' };
    }
    const open = this.current;
    open.text += delta;
    this.emit({ type: 'response.reasoning_text.delta', item_id: open.item.id, output_index: open.index, content_index: 0, delta });
  }

  text(delta: string, part: 'output_text' | 'refusal' = 'output_text'): void {
    if (!delta) return;
    if (this.current?.kind !== 'message' || this.current.part !== part) {
      this.closeCurrent('completed');
      const item: ResponseOutputMessage = { id: newId('msg'), type: 'message', role: 'assistant', status: 'in_progress', content: [] };
      const index = this.add(item);
      const empty =
        part === 'output_text' ? { type: 'output_text' as const, text: '', annotations: [], logprobs: [] } : { type: 'refusal' as const, refusal: '' };
      item.content.push(structuredClone(empty));
      this.emit({ type: 'response.content_part.added', item_id: item.id, output_index: index, content_index: 0, part: empty });
      this.current = { kind: 'message', item, index, part, text: '' };
    }
    const open = this.current;
    open.text += delta;
    if (part === 'output_text') {
      this.emit({ type: 'response.output_text.delta', item_id: open.item.id, output_index: open.index, content_index: 0, delta, logprobs: [] });
    } else {
      this.emit({ type: 'response.refusal.delta', item_id: open.item.id, output_index: open.index, content_index: 0, delta });
    }
  }

  toolCall(delta: ToolCallDelta): void {
    const name = delta.function?.name;
    const unnamed = this.unnamedCalls.get(delta.index);
    if (unnamed) {
      unnamed.args += delta.function?.arguments ?? '';
      if (!name) return;
      this.unnamedCalls.delete(delta.index);
      this.toolCall({ index: delta.index, id: unnamed.callId, function: { name, arguments: unnamed.args } });
      return;
    }
    const server = this.serverCalls.get(delta.index);
    if (server || (!this.calls.has(delta.index) && name && this.isServerTool(name))) {
      const call = server ?? { callId: delta.id || newId('call'), name: name!, arguments: '' };
      call.arguments += delta.function?.arguments ?? '';
      this.serverCalls.set(delta.index, call);
      return;
    }
    let open = this.calls.get(delta.index);
    if (!open && !name) {
      this.unnamedCalls.set(delta.index, { callId: delta.id || newId('call'), args: delta.function?.arguments ?? '' });
      return;
    }
    this.clientCallsSeen = true;
    if (!open) {
      this.closeCurrent('completed');
      open = this.openCall(delta.id || newId('call'), name ?? '');
      this.calls.set(delta.index, open);
    }
    const args = delta.function?.arguments;
    if (!args) return;
    if (open.kind === 'function_call') {
      open.item.arguments += args;
      this.emit({ type: 'response.function_call_arguments.delta', item_id: open.item.id, output_index: open.index, delta: args });
    } else {
      // Custom input and search arguments are known once the JSON is whole (see finish()).
      open.args += args;
    }
  }

  /** The output item for a new client call, by what its upstream name stands for. */
  private openCall(callId: string, upstreamName: string): OpenCall {
    const tool = this.clientTool(upstreamName);
    if (tool?.kind === 'custom') {
      const item: Extract<OpenCall, { kind: 'custom_tool_call' }>['item'] = {
        id: newId('ctc'),
        type: 'custom_tool_call',
        status: 'in_progress',
        call_id: callId,
        name: tool.name,
        input: '',
        ...(tool.namespace ? { namespace: tool.namespace } : {}),
      };
      return { kind: 'custom_tool_call', item, index: this.add(item), args: '' };
    }
    if (tool?.kind === 'tool_search') {
      const item: ResponseToolSearchCall = {
        id: newId('tsc'),
        type: 'tool_search_call',
        status: 'in_progress',
        call_id: callId,
        execution: 'client',
        arguments: {},
      };
      return { kind: 'tool_search_call', item, index: this.add(item), args: '' };
    }
    const item: ResponseFunctionToolCall & { id: string } = {
      id: newId('fc'),
      type: 'function_call',
      status: 'in_progress',
      arguments: '',
      call_id: callId,
      name: tool?.kind === 'function' ? tool.name : upstreamName,
      ...(tool?.kind === 'function' && tool.namespace ? { namespace: tool.namespace } : {}),
    };
    return { kind: 'function_call', item, index: this.add(item) };
  }

  /** Feeds one streamed chunk. */
  chunk(chunk: ChatCompletionChunk): void {
    const delta = chunk.choices?.[0]?.delta as
      (ChatCompletionChunk.Choice['delta'] & { reasoning_content?: string | null; reasoning?: string | null }) | undefined;
    if (!delta) return;
    // vLLM and DeepSeek say `reasoning_content`; Ollama and others say `reasoning`.
    const reasoning = delta.reasoning_content ?? delta.reasoning;
    if (reasoning) this.reasoning(reasoning);
    if (delta.refusal) this.text(delta.refusal, 'refusal');
    if (delta.content) this.text(delta.content);
    for (const call of delta.tool_calls ?? []) this.toolCall(call);
  }

  /** Closes every open item with `status`; done events follow in output order. */
  finish(status: 'completed' | 'incomplete'): void {
    this.closeCurrent(status);
    // A call never named is still the model's call: the client sees it (and its empty name) rather than losing it.
    for (const [index, { callId, args }] of [...this.unnamedCalls.entries()].sort(([a], [b]) => a - b)) {
      this.clientCallsSeen = true;
      const open = this.openCall(callId, '');
      this.calls.set(index, open);
      if (open.kind === 'function_call' && args) {
        open.item.arguments = args;
        this.emit({ type: 'response.function_call_arguments.delta', item_id: open.item.id, output_index: open.index, delta: args });
      }
    }
    this.unnamedCalls.clear();
    const calls = [...this.calls.values()].sort((a, b) => a.index - b.index);
    for (const call of calls) {
      call.item.status = status;
      if (call.kind === 'custom_tool_call') {
        const input = customInputOf(call.args);
        call.item.input = input;
        if (input) this.emit({ type: 'response.custom_tool_call_input.delta', item_id: call.item.id, output_index: call.index, delta: input });
        this.emit({ type: 'response.custom_tool_call_input.done', item_id: call.item.id, output_index: call.index, input });
      } else if (call.kind === 'tool_search_call') {
        call.item.arguments = searchArgumentsOf(call.args);
      } else {
        // `name` is not in the openai 7 type but OpenAI sends it (as the Python SDK's type says): keep it.
        const { item, index } = call;
        const done = {
          type: 'response.function_call_arguments.done' as const,
          item_id: item.id,
          output_index: index,
          arguments: item.arguments,
          name: item.name,
        };
        this.emit(done);
      }
      this.done(call.index, call.item);
    }
    this.calls.clear();
  }

  private closeCurrent(status: 'completed' | 'incomplete'): void {
    const open = this.current;
    if (!open) return;
    this.current = null;
    const { index, text } = open;
    if (open.kind === 'reasoning') {
      const part = { type: 'reasoning_text' as const, text };
      open.item.content = [part];
      open.item.status = status;
      if (this.sealReasoning) open.item.encrypted_content = this.sealReasoning(open.item);
      this.emit({ type: 'response.reasoning_text.done', item_id: open.item.id, output_index: index, content_index: 0, text });
      this.emit({ type: 'response.content_part.done', item_id: open.item.id, output_index: index, content_index: 0, part });
      this.done(index, open.item);
      return;
    }
    const annotations = open.part === 'output_text' ? (this.annotate?.(text) ?? []) : [];
    const part = open.part === 'output_text' ? { type: 'output_text' as const, text, annotations, logprobs: [] } : { type: 'refusal' as const, refusal: text };
    open.item.content = [part];
    open.item.status = status;
    annotations.forEach((annotation, annotation_index) =>
      this.emit({ type: 'response.output_text.annotation.added', item_id: open.item.id, output_index: index, content_index: 0, annotation_index, annotation }),
    );
    if (part.type === 'output_text') {
      this.emit({ type: 'response.output_text.done', item_id: open.item.id, output_index: index, content_index: 0, text, logprobs: [] });
    } else {
      this.emit({ type: 'response.refusal.done', item_id: open.item.id, output_index: index, content_index: 0, refusal: text });
    }
    this.emit({ type: 'response.content_part.done', item_id: open.item.id, output_index: index, content_index: 0, part });
    this.done(index, open.item);
  }

  private done(index: number, item: ResponseOutputItem): void {
    this.emit({ type: 'response.output_item.done', output_index: index, item: structuredClone(item) });
    this.onItemDone(this.output);
  }

  /** The output as it stands, open items included (for a response that failed or was cancelled). */
  snapshot(): ResponseOutputItem[] {
    const current = this.current;
    if (current) {
      current.item.content =
        current.kind === 'reasoning'
          ? [{ type: 'reasoning_text', text: current.text }]
          : current.part === 'output_text'
            ? [{ type: 'output_text', text: current.text, annotations: [], logprobs: [] }]
            : [{ type: 'refusal', refusal: current.text }];
    }
    return structuredClone(this.output);
  }
}
