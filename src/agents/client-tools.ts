import type { ChatCompletionTool } from 'openai/resources/chat/completions';
import type { CustomTool, FunctionTool, NamespaceTool, Tool, ToolSearchTool } from 'openai/resources/responses/responses';
import type { NormalizedRequest, StoredItem } from '../common/response-types';
import { flatToolName, isUpstreamName } from './mcp/mcp-naming';

/** What an upstream function name stands for on the Responses side. */
export type ClientTool =
  | { kind: 'function'; name: string; namespace?: string }
  | { kind: 'custom'; name: string; namespace?: string; format?: CustomTool['format'] }
  | { kind: 'tool_search' };

/** The one argument a custom tool is offered upstream with. */
export const CUSTOM_INPUT_ARG = 'input';

type Member = NamespaceTool['tools'][number] | FunctionTool;

const keyOf = (kind: 'function' | 'custom', name: string, namespace?: string): string => `${kind}:${namespace ?? ''}:${name}`;

function customDescription(tool: CustomTool): string {
  const intro = tool.description ? `${tool.description}\n\n` : '';
  const format = tool.format;
  const grammar = format?.type === 'grammar' ? ` It must follow this ${format.syntax} grammar:\n${format.definition}` : '';
  return `${intro}Call it with one argument, "${CUSTOM_INPUT_ARG}": the tool's raw input as a string (free text, not JSON).${grammar}`;
}

/**
 * The client-run tools of a request as upstream functions, and back: function tools as they are,
 * `namespace` tools flattened to `<namespace>__<name>`, custom tools as a function with one string
 * argument, a client `tool_search` as a function. The tools a `tool_search_output` in the history
 * loaded are offered too (Codex names them only there, never in `tools`). Built the same way for
 * every request from its tools and items, so a replayed call maps to the name it is offered under;
 * a name taken already (a function literally called `ns__f`) gets a numbered suffix.
 */
export class ClientTools {
  private readonly byUpstream = new Map<string, ClientTool>();
  private readonly upstreamByKey = new Map<string, string>();
  private readonly offered: Array<{ tool: ChatCompletionTool; entry: ClientTool }> = [];
  private searchName?: string;

  static of(request: Pick<NormalizedRequest, 'tools'>, items: readonly StoredItem[]): ClientTools {
    const tools = new ClientTools();
    const requested = request.tools ?? [];
    // Plain functions first: their names are the client's and must not move.
    for (const tool of requested) if (tool.type === 'function') tools.add(tool);
    for (const tool of requested) if (tool.type !== 'function') tools.add(tool);
    for (const item of items) {
      const output = item as { type?: string; tools?: unknown };
      if (output.type === 'tool_search_output' && Array.isArray(output.tools)) for (const tool of output.tools as Tool[]) tools.add(tool);
    }
    return tools;
  }

  /** What an upstream function name stands for; undefined for names this request did not offer. */
  resolve(upstreamName: string): ClientTool | undefined {
    return this.byUpstream.get(upstreamName);
  }

  /**
   * The upstream name of a function or custom tool, for a call replayed from history. A tool no
   * longer offered keeps the name it would have had, so the model still sees its earlier call.
   */
  upstreamName(kind: 'function' | 'custom', name: string, namespace?: string | null): string {
    return this.upstreamByKey.get(keyOf(kind, name, namespace ?? undefined)) ?? this.flatName(name, namespace ?? undefined);
  }

  /** The upstream name of the client tool_search function (`tool_search` unless a function has that name). */
  get toolSearchName(): string {
    return this.searchName ?? 'tool_search';
  }

  /** The tools to offer upstream; `keep` narrows them (`allowed_tools`). */
  chatTools(keep: (entry: ClientTool) => boolean = () => true): ChatCompletionTool[] {
    return this.offered.filter((o) => keep(o.entry)).map((o) => o.tool);
  }

  private flatName(name: string, namespace?: string): string {
    if (namespace) return flatToolName(namespace, name);
    return isUpstreamName(name) ? name : flatToolName('tool', name);
  }

  private add(tool: Tool): void {
    switch (tool.type) {
      case 'function':
        return this.addMember(tool);
      case 'custom':
        return this.addMember(tool);
      case 'namespace':
        for (const member of tool.tools) this.addMember(member, tool.name);
        return;
      case 'tool_search':
        if (tool.execution === 'client') this.addToolSearch(tool);
        return;
      default:
        return; // MCP tools are the toolset's; hosted tools are omitted or refused by normalizeRequest
    }
  }

  private addMember(tool: Member, namespace?: string): void {
    const key = keyOf(tool.type, tool.name, namespace);
    if (this.upstreamByKey.has(key)) return; // loaded twice (two searches found it): offered once
    const name = this.freeName(this.flatName(tool.name, namespace));
    this.upstreamByKey.set(key, name);
    if (tool.type === 'custom') {
      const entry: ClientTool = { kind: 'custom', name: tool.name, ...(namespace ? { namespace } : {}), ...(tool.format ? { format: tool.format } : {}) };
      this.register(name, entry, {
        type: 'function',
        function: {
          name,
          description: customDescription(tool),
          parameters: { type: 'object', properties: { [CUSTOM_INPUT_ARG]: { type: 'string' } }, required: [CUSTOM_INPUT_ARG], additionalProperties: false },
        },
      });
      return;
    }
    const description = namespace && !tool.description ? `A function of the '${namespace}' tools.` : tool.description;
    // `strict` stays unset unless the client set it: forcing it would make strict-mode upstreams
    // reject schemas that are not strict-compatible (optional properties).
    this.register(
      name,
      { kind: 'function', name: tool.name, ...(namespace ? { namespace } : {}) },
      {
        type: 'function',
        function: {
          name,
          ...(description ? { description } : {}),
          parameters: (tool.parameters as Record<string, unknown> | null | undefined) ?? { type: 'object', properties: {} },
          ...(tool.strict !== null && tool.strict !== undefined ? { strict: tool.strict } : {}),
        },
      },
    );
  }

  private addToolSearch(tool: ToolSearchTool): void {
    if (this.searchName) return;
    const name = this.freeName('tool_search');
    this.searchName = name;
    this.register(
      name,
      { kind: 'tool_search' },
      {
        type: 'function',
        function: {
          name,
          description: tool.description ?? 'Searches for more tools; the tools it finds are offered in the next model call.',
          parameters: (tool.parameters as Record<string, unknown> | null | undefined) ?? {
            type: 'object',
            properties: { query: { type: 'string' }, limit: { type: 'number' } },
            required: ['query'],
          },
        },
      },
    );
  }

  /** `name`, or `name_2`, `name_3`… (within 64 characters) when another tool has it already. */
  private freeName(name: string): string {
    if (!this.byUpstream.has(name)) return name;
    for (let n = 2; ; n++) {
      const candidate = `${name.slice(0, 64 - String(n).length - 1)}_${n}`;
      if (!this.byUpstream.has(candidate)) return candidate;
    }
  }

  private register(name: string, entry: ClientTool, tool: ChatCompletionTool): void {
    this.byUpstream.set(name, entry);
    this.offered.push({ tool, entry });
  }
}
