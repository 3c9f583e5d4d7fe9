import { createHash } from 'node:crypto';
import { TOOL_NAME as UPSTREAM_NAME } from '../../common/items/input-items';

/**
 * One upstream function name for a tool that lives inside a group (an MCP server, a `namespace`):
 * `<group>__<name>` when that is a valid name already; otherwise its valid characters, shortened,
 * plus a hash of the whole, so two long or exotic names never shorten to the same one. Pure, so a
 * call replayed in a later request maps to the name it was offered under.
 */
export function flatToolName(group: string, name: string): string {
  const joined = `${group}__${name}`;
  if (UPSTREAM_NAME.test(joined)) return joined;
  const hash = createHash('sha256').update(joined).digest('hex').slice(0, 8);
  return `${joined.replace(/[^a-zA-Z0-9_-]/g, '_').slice(0, 55)}_${hash}`;
}

/** Whether a name can be offered upstream as it is. */
export const isUpstreamName = (name: string): boolean => UPSTREAM_NAME.test(name);

/**
 * The function name the model sees for an MCP tool. The toolset offers tools under it, and history
 * (an `mcp_call` replayed to the model, an approved call) must use the same name.
 */
export const chatNameOf = (label: string, tool: string): string => flatToolName(label, tool);
