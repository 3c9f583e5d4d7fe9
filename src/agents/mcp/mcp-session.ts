import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';

export interface McpToolInfo {
  name: string;
  description?: string;
  input_schema: Record<string, unknown>;
  annotations?: Record<string, unknown>;
}

export interface McpCallResult {
  output: string | null;
  error: string | null;
}

const CONNECT_TIMEOUT_MS = 10_000;
const CALL_TIMEOUT_MS = 120_000;

/** The text of a tool result's content blocks; other blocks are summarized by type. */
function textOf(content: unknown): string {
  if (!Array.isArray(content)) return JSON.stringify(content ?? '');
  return content
    .map((block: { type?: string; text?: string }) => (block.type === 'text' && typeof block.text === 'string' ? block.text : `[${block.type ?? 'content'}]`))
    .join('\n');
}

/**
 * One remote MCP server, for the length of one response: Streamable HTTP, falling back to the
 * older SSE transport. Secret headers live only in this object's memory.
 */
export class McpSession {
  private client?: Client;
  private tools?: McpToolInfo[];

  constructor(
    readonly label: string,
    private readonly url: string,
    private readonly headers: Record<string, string>,
  ) {}

  private async connect(signal: AbortSignal): Promise<Client> {
    if (this.client) return this.client;
    const requestInit = { headers: this.headers };
    const options = { signal, timeout: CONNECT_TIMEOUT_MS };
    const client = new Client({ name: 'responses-gateway', version: '0.1.0' });
    try {
      await client.connect(new StreamableHTTPClientTransport(new URL(this.url), { requestInit }), options);
    } catch (streamableError) {
      await client.close().catch(() => undefined);
      if (signal.aborted) throw streamableError;
      // Servers of the 2024-11-05 protocol speak SSE only.
      const fallback = new Client({ name: 'responses-gateway', version: '0.1.0' });
      try {
        await fallback.connect(new SSEClientTransport(new URL(this.url), { requestInit }), options);
      } catch (sseError) {
        // A failed EventSource would otherwise keep reconnecting, and keep the process alive.
        await fallback.close().catch(() => undefined);
        throw sseError;
      }
      this.client = fallback;
      return fallback;
    }
    this.client = client;
    return client;
  }

  /** The server's tools (listed once per response, then cached). */
  async listTools(signal: AbortSignal): Promise<McpToolInfo[]> {
    if (this.tools) return this.tools;
    const client = await this.connect(signal);
    const { tools } = await client.listTools(undefined, { signal, timeout: CONNECT_TIMEOUT_MS });
    this.tools = tools.map((t) => ({
      name: t.name,
      ...(t.description ? { description: t.description } : {}),
      input_schema: t.inputSchema,
      ...(t.annotations ? { annotations: t.annotations } : {}),
    }));
    return this.tools;
  }

  /** Calls a tool; a tool's own failure comes back as `error`, not as an exception. */
  async call(name: string, args: Record<string, unknown>, signal: AbortSignal): Promise<McpCallResult> {
    try {
      const client = await this.connect(signal);
      const result = await client.callTool({ name, arguments: args }, undefined, { signal, timeout: CALL_TIMEOUT_MS });
      const text = textOf(result.content);
      return result.isError ? { output: null, error: text || 'The tool reported an error.' } : { output: text, error: null };
    } catch (error) {
      if (signal.aborted) throw error;
      return { output: null, error: error instanceof Error ? error.message : String(error) };
    }
  }

  async close(): Promise<void> {
    await this.client?.close().catch(() => undefined);
  }
}
