import type { StoredItem } from '../../common/response-types';
import { toChatMessages } from '../chat-request';
import { mcpErrorText, mcpHttpError, mcpProtocolError, mcpToolError } from './mcp-errors';
import { McpFailure } from './mcp-session';

describe('mcp_call errors', () => {
  it('are the three shapes of openai 7 McpToolCallError', () => {
    expect(mcpProtocolError(-32602, 'bad args')).toEqual({ type: 'mcp_protocol_error', code: -32602, message: 'bad args' });
    expect(mcpHttpError('could not connect')).toEqual({ type: 'http_error', code: 424, message: 'could not connect' });
    expect(mcpToolError('it broke')).toEqual({ type: 'mcp_tool_execution_error', content: [{ type: 'text', text: 'it broke' }] });
  });

  it('come from a failure: a JSON-RPC code makes it a protocol error, none an HTTP-level one, as a sentence', () => {
    expect(new McpFailure('the MCP server did not answer in time.', -32001).toCallError()).toEqual({
      type: 'mcp_protocol_error',
      code: -32001,
      message: 'The MCP server did not answer in time.',
    });
    expect(new McpFailure('could not connect to the MCP server.').toCallError()).toEqual({
      type: 'http_error',
      code: 424,
      message: 'Could not connect to the MCP server.',
    });
  });

  it('read as text for the model: the message, or the text blocks of the tool content, or a legacy string', () => {
    expect(mcpErrorText(mcpProtocolError(-32603, 'too large'))).toBe('too large');
    expect(mcpErrorText({ type: 'mcp_tool_execution_error', content: [{ type: 'text', text: 'a' }, { type: 'image' }, { type: 'text', text: 'b' }] })).toBe(
      'a\n[image]\nb',
    );
    expect(mcpErrorText({ type: 'mcp_tool_execution_error', content: 'plain' })).toBe('plain');
    expect(mcpErrorText('stored before errors were objects')).toBe('stored before errors were objects');
  });

  it('reach the upstream in a replayed mcp_call as the tool message, object or legacy string', () => {
    const mcpCall = (error: unknown): StoredItem =>
      ({ id: 'mcp_1', type: 'mcp_call', server_label: 'calc', name: 'add', arguments: '{}', output: null, error, status: 'failed' }) as StoredItem;
    const toolMessage = (item: StoredItem) => toChatMessages(null, [item]).slice(-1)[0];
    expect(toolMessage(mcpCall(mcpToolError('the tool blew up')))).toEqual({ role: 'tool', tool_call_id: 'mcp_1', content: 'Error: the tool blew up' });
    expect(toolMessage(mcpCall('old message'))).toEqual({ role: 'tool', tool_call_id: 'mcp_1', content: 'Error: old message' });
  });
});
