import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ErrorCode, McpError } from '@modelcontextprotocol/sdk/types.js';
import type { McpToolCallError } from 'openai/resources/responses/responses';
import type { FetchLike, GuardedHttp } from '../../outbound/guarded-http';
import { UrlRefusedError } from '../../outbound/url-guard';
import { mcpHttpError, mcpProtocolError, mcpToolError } from './mcp-errors';

export interface McpToolInfo {
  name: string;
  description?: string;
  input_schema: Record<string, unknown>;
  annotations?: Record<string, unknown>;
}

export interface McpCallResult {
  output: string | null;
  error: McpToolCallError | null;
}

/** How MCP servers are reached, and how much of them is read. */
export interface McpNetwork {
  http: GuardedHttp;
  /** The most of a tool result (UTF-8 bytes) kept; the rest is cut with a marker. */
  maxOutputBytes: number;
  /** The most bytes read from one HTTP answer of the server. */
  maxResponseBytes: number;
}

/**
 * A failure whose message is safe to show the tenant: it never repeats what the far side answered.
 * `code`: the JSON-RPC error code when the failure is the MCP protocol's; without one the server
 * could not be reached or used.
 */
export class McpFailure extends Error {
  constructor(
    message: string,
    readonly code?: number,
  ) {
    super(message);
  }

  /** As an `mcp_call` item's error, with the message capitalized as a sentence. */
  toCallError(): McpToolCallError {
    const message = this.message.charAt(0).toUpperCase() + this.message.slice(1);
    return this.code === undefined ? mcpHttpError(message) : mcpProtocolError(this.code, message);
  }
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

/** `text` cut to at most `maxBytes` UTF-8 bytes (on a character boundary), with a marker saying so. */
export function capText(text: string, maxBytes: number): string {
  const size = Buffer.byteLength(text);
  if (size <= maxBytes) return text;
  const bytes = Buffer.from(text);
  let end = maxBytes;
  while (end > 0 && (bytes[end] & 0xc0) === 0x80) end--; // not inside a character
  return `${bytes.subarray(0, end).toString('utf8')}…[truncated: ${size - end} bytes omitted]`;
}

/**
 * One remote MCP server, for the length of one response: Streamable HTTP, falling back to the
 * older SSE transport. Secret headers live only in this object's memory. Every request goes
 * through the MCP guard (GuardedHttp), and errors say what went wrong on our side, never what
 * answered: a refusal says why, anything else is "could not connect" (no port scanner).
 */
export class McpSession {
  private client?: Client;
  private tools?: McpToolInfo[];
  private readonly fetch: FetchLike;
  private refusal?: UrlRefusedError;
  /** Aborted when an answer passes maxResponseBytes: the operation then fails at once. */
  private overflow = new AbortController();

  constructor(
    readonly label: string,
    private readonly url: string,
    private readonly headers: Record<string, string>,
    private readonly network: McpNetwork,
  ) {
    this.fetch = network.http.fetch({
      maxResponseBytes: network.maxResponseBytes,
      onRefused: (error) => (this.refusal ??= error),
      onTooLarge: () => this.overflow.abort(),
    });
  }

  /** The message for a failure; `connected`: the server has answered the handshake as an MCP server. */
  private failure(error: unknown, connected: boolean): McpFailure {
    if (this.refusal) return new McpFailure(`could not connect to the MCP server: the URL ${this.refusal.message}.`);
    if (this.overflow.signal.aborted)
      return new McpFailure(`the MCP server's answer is larger than ${this.network.maxResponseBytes} bytes (MCP_MAX_RESPONSE_BYTES).`, ErrorCode.InternalError);
    const code = error instanceof McpError ? (error.code as ErrorCode) : undefined;
    if (code === ErrorCode.RequestTimeout) return new McpFailure('the MCP server did not answer in time.', code);
    // A JSON-RPC error from a server that has completed the MCP handshake is its protocol's answer.
    if (connected && code !== undefined && code !== ErrorCode.ConnectionClosed) return new McpFailure((error as Error).message, code);
    return new McpFailure('could not connect to the MCP server.');
  }

  /** Runs one operation with the caller's signal, cut short when an answer is too large. */
  private async guarded<T>(signal: AbortSignal, connected: boolean, run: (signal: AbortSignal) => Promise<T>): Promise<T> {
    if (this.overflow.signal.aborted) this.overflow = new AbortController();
    try {
      return await run(AbortSignal.any([signal, this.overflow.signal]));
    } catch (error) {
      if (signal.aborted) throw error;
      throw this.failure(error, connected);
    }
  }

  private async connect(signal: AbortSignal): Promise<Client> {
    if (this.client) return this.client;
    let url: URL;
    try {
      url = this.network.http.guard.target(this.url);
    } catch (error) {
      this.refusal = error as UrlRefusedError;
      throw this.failure(error, false);
    }
    return this.guarded(signal, false, (signal) => this.open(url, signal));
  }

  private async open(url: URL, signal: AbortSignal): Promise<Client> {
    const requestInit = { headers: this.headers };
    const transportOptions = { requestInit, fetch: this.fetch };
    const options = { signal, timeout: CONNECT_TIMEOUT_MS };
    const client = new Client({ name: 'responses-gateway', version: '0.1.0' });
    try {
      await client.connect(new StreamableHTTPClientTransport(url, transportOptions), options);
    } catch (streamableError) {
      await client.close().catch(() => undefined);
      // Refused or too large: the other transport would be no different.
      if (signal.aborted || this.refusal) throw streamableError;
      // Servers of the 2024-11-05 protocol speak SSE only.
      const fallback = new Client({ name: 'responses-gateway', version: '0.1.0' });
      try {
        await fallback.connect(new SSEClientTransport(url, transportOptions), options);
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

  /**
   * The server's tools (listed once per response, then cached). Throws McpFailure. The list is
   * stored in the `mcp_list_tools` item and sent upstream each round: bounded like a tool result.
   */
  async listTools(signal: AbortSignal): Promise<McpToolInfo[]> {
    if (this.tools) return this.tools;
    const client = await this.connect(signal);
    const { tools } = await this.guarded(signal, true, (signal) => client.listTools(undefined, { signal, timeout: CONNECT_TIMEOUT_MS }));
    const listed = tools.map((t) => ({
      name: t.name,
      ...(t.description ? { description: t.description } : {}),
      input_schema: t.inputSchema,
      ...(t.annotations ? { annotations: t.annotations } : {}),
    }));
    if (Buffer.byteLength(JSON.stringify(listed)) > this.network.maxOutputBytes) {
      throw new McpFailure(`the MCP server's tool list is larger than ${this.network.maxOutputBytes} bytes (MCP_MAX_OUTPUT_BYTES).`);
    }
    this.tools = listed;
    return listed;
  }

  /**
   * Calls a tool; a tool's own failure comes back as `error`, not as an exception. The text is
   * cut to maxOutputBytes, with a marker the model and the client see.
   */
  async call(name: string, args: Record<string, unknown>, signal: AbortSignal): Promise<McpCallResult> {
    try {
      const client = await this.connect(signal);
      const result = await this.guarded(signal, true, (signal) => client.callTool({ name, arguments: args }, undefined, { signal, timeout: CALL_TIMEOUT_MS }));
      const text = capText(textOf(result.content), this.network.maxOutputBytes);
      return result.isError ? { output: null, error: mcpToolError(text || 'The tool reported an error.') } : { output: text, error: null };
    } catch (error) {
      if (signal.aborted) throw error;
      const failure = error instanceof McpFailure ? error : new McpFailure('could not connect to the MCP server.');
      return { output: null, error: failure.toCallError() };
    }
  }

  async close(): Promise<void> {
    await this.client?.close().catch(() => undefined);
  }
}
