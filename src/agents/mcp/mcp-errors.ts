import type { McpToolCallError } from 'openai/resources/responses/responses';

/**
 * The `error` of an `mcp_call` item is an object in the API (openai 7's McpToolCallError): a
 * JSON-RPC error of the MCP protocol, the tool's own failure (its content), or an HTTP-level one.
 */
export const mcpProtocolError = (code: number, message: string): McpToolCallError => ({ type: 'mcp_protocol_error', code, message });

/** A server that could not be reached or used: 424 Failed Dependency, as OpenAI answers for an MCP server it cannot use. */
export const mcpHttpError = (message: string): McpToolCallError => ({ type: 'http_error', code: 424, message });

/** A tool that reported an error (`isError`): its text, as MCP content. */
export const mcpToolError = (text: string): McpToolCallError => ({ type: 'mcp_tool_execution_error', content: [{ type: 'text', text }] });

/**
 * The text the model reads for a failed call. Takes a string too: items stored before the error
 * was an object (and replayed from history) carry a plain message.
 */
export function mcpErrorText(error: McpToolCallError | string): string {
  if (typeof error === 'string') return error;
  if (error.type !== 'mcp_tool_execution_error') return error.message;
  const content = error.content;
  if (!Array.isArray(content)) return typeof content === 'string' ? content : JSON.stringify(content);
  return content
    .map((block: { type?: unknown; text?: unknown }) =>
      block.type === 'text' && typeof block.text === 'string' ? block.text : `[${typeof block.type === 'string' ? block.type : 'content'}]`,
    )
    .join('\n');
}
