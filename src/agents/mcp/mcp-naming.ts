/**
 * The function name the model sees for an MCP tool: `<server_label>__<tool>`, within 64 characters.
 * The toolset offers tools under it, and history (an `mcp_call` replayed to the model, an approved
 * call) must use the same name, so there is one definition.
 */
export const chatNameOf = (label: string, tool: string): string => `${label}__${tool}`.replace(/[^a-zA-Z0-9_-]/g, '_').slice(0, 64);
