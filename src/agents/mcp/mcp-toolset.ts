import type { ChatCompletionTool } from 'openai/resources/chat/completions';
import { ErrorCode } from '@modelcontextprotocol/sdk/types.js';
import type { ResponseOutputItem, Tool } from 'openai/resources/responses/responses';
import { newId } from '../../common/ids';
import { mcpProtocolError } from './mcp-errors';
import { chatNameOf } from './mcp-naming';
import { UpstreamError } from '../../inference/upstream-error';
import type { OutputBuilder } from '../output-builder';
import { type McpCallResult, type McpNetwork, McpSession, type McpToolInfo } from './mcp-session';

type McpConfig = Tool.Mcp;
type ToolNames = { tool_names?: string[] } | null | undefined;

interface Offered {
  label: string;
  tool: McpToolInfo;
  config: McpConfig;
}

const names = (filter: ToolNames): string[] => filter?.tool_names ?? [];

/**
 * The MCP servers of one response: lists their tools once (as `mcp_list_tools` items), offers
 * them to the model as functions, runs the calls, and says which need the user's approval.
 */
export class McpToolset {
  private readonly sessions = new Map<string, McpSession>();
  private readonly offered = new Map<string, Offered>();

  constructor(
    private readonly configs: McpConfig[],
    headers: Record<string, Record<string, string>>,
    network: McpNetwork,
  ) {
    for (const c of configs) this.sessions.set(c.server_label, new McpSession(c.server_label, c.server_url ?? '', headers[c.server_label] ?? {}, network));
  }

  static from(tools: Tool[] | undefined, headers: Record<string, Record<string, string>> = {}, network: McpNetwork): McpToolset {
    return new McpToolset(
      (tools ?? []).filter((t): t is McpConfig => t.type === 'mcp'),
      headers,
      network,
    );
  }

  get empty(): boolean {
    return this.configs.length === 0;
  }

  /** Lists every server's tools, with the `mcp_list_tools` item and events. */
  async listAll(builder: OutputBuilder, signal: AbortSignal): Promise<void> {
    for (const config of this.configs) {
      const label = config.server_label;
      const item = { id: newId('mcpl'), type: 'mcp_list_tools' as const, server_label: label, tools: [] as McpToolInfo[], error: null as string | null };
      const index = builder.addItem(structuredClone(item));
      builder.event({ type: 'response.mcp_list_tools.in_progress', item_id: item.id, output_index: index });
      try {
        const all = await this.sessions.get(label)!.listTools(signal);
        const allowed = config.allowed_tools;
        const allowList = Array.isArray(allowed) ? allowed : allowed ? names(allowed) : null;
        item.tools = allowList ? all.filter((t) => allowList.includes(t.name)) : all;
        for (const tool of item.tools) this.offered.set(chatNameOf(label, tool.name), { label, tool, config });
        builder.event({ type: 'response.mcp_list_tools.completed', item_id: item.id, output_index: index });
        builder.doneItem(index, item);
      } catch (error) {
        if (signal.aborted) throw error;
        const message = error instanceof Error ? error.message : String(error);
        item.error = message;
        builder.event({ type: 'response.mcp_list_tools.failed', item_id: item.id, output_index: index });
        builder.doneItem(index, item);
        throw new UpstreamError(424, 'server_error', 'server_error', `Error retrieving tool list from MCP server '${label}': ${message}`);
      }
    }
  }

  chatTools(): ChatCompletionTool[] {
    return [...this.offered.entries()].map(([name, { tool }]) => ({
      type: 'function',
      function: { name, ...(tool.description ? { description: tool.description } : {}), parameters: tool.input_schema },
    }));
  }

  isServerTool(chatName: string): boolean {
    return this.offered.has(chatName);
  }

  resolve(chatName: string): { label: string; name: string } | undefined {
    const found = this.offered.get(chatName);
    return found && { label: found.label, name: found.tool.name };
  }

  /** OpenAI's default is to ask: `never`, or a `never` list naming the tool, lets it run. */
  needsApproval(label: string, tool: string): boolean {
    const policy = this.configs.find((c) => c.server_label === label)?.require_approval;
    if (policy === 'never') return false;
    if (policy === 'always' || policy == null) return true;
    if (names(policy.never).includes(tool)) return false;
    if (names(policy.always).includes(tool)) return true;
    return policy.always === undefined; // only a `never` list: everything else asks
  }

  /** Runs a call, with the `mcp_call` item and its events; returns the item. */
  async call(
    builder: OutputBuilder,
    label: string,
    name: string,
    args: string,
    signal: AbortSignal,
    approvalRequestId: string | null = null,
  ): Promise<McpCallResult> {
    const item = {
      id: newId('mcp'),
      type: 'mcp_call' as const,
      server_label: label,
      name,
      arguments: '',
      output: null as string | null,
      error: null,
      status: 'in_progress' as const,
      approval_request_id: approvalRequestId,
    };
    const index = builder.addItem(structuredClone(item));
    builder.event({ type: 'response.mcp_call_arguments.delta', item_id: item.id, output_index: index, delta: args });
    builder.event({ type: 'response.mcp_call_arguments.done', item_id: item.id, output_index: index, arguments: args });
    builder.event({ type: 'response.mcp_call.in_progress', item_id: item.id, output_index: index });
    let parsed: Record<string, unknown> = {};
    let result: McpCallResult;
    try {
      parsed = args.trim() ? (JSON.parse(args) as Record<string, unknown>) : {};
      result = await this.sessions.get(label)!.call(name, parsed, signal);
    } catch (error) {
      if (signal.aborted) throw error;
      const message = `Invalid arguments for MCP tool '${name}': ${error instanceof Error ? error.message : String(error)}`;
      result = { output: null, error: mcpProtocolError(ErrorCode.InvalidParams, message) };
    }
    const done: ResponseOutputItem = { ...item, arguments: args, output: result.output, error: result.error, status: result.error ? 'failed' : 'completed' };
    builder.event({ type: result.error ? 'response.mcp_call.failed' : 'response.mcp_call.completed', item_id: item.id, output_index: index });
    builder.doneItem(index, done);
    return result;
  }

  /** Asks the user: the `mcp_approval_request` item; the response then ends. */
  requestApproval(builder: OutputBuilder, label: string, name: string, args: string): void {
    const item = { id: newId('mcpr'), type: 'mcp_approval_request' as const, server_label: label, name, arguments: args };
    const index = builder.addItem(structuredClone(item));
    builder.doneItem(index, item);
  }

  async close(): Promise<void> {
    await Promise.all([...this.sessions.values()].map((s) => s.close()));
  }
}
