import type { StoredItem } from '../../common/response-types';

/** The MCP approval requests among `items` (a response's history and input), by id. */
export function approvalRequests(items: readonly StoredItem[]): Map<string, { server_label: string; name: string; arguments: string }> {
  const requests = new Map<string, { server_label: string; name: string; arguments: string }>();
  for (const item of items) {
    const candidate = item as { type?: string; id?: string; server_label?: string; name?: string; arguments?: string };
    if (candidate.type === 'mcp_approval_request' && candidate.id)
      requests.set(candidate.id, candidate as { server_label: string; name: string; arguments: string });
  }
  return requests;
}

/** The position and id of the first `mcp_approval_response` that answers no approval request in `items`, if any. */
export function unknownApproval(items: readonly StoredItem[]): { index: number; id: string } | null {
  const requests = approvalRequests(items);
  for (const [index, item] of items.entries()) {
    const answer = item as { type?: string; approval_request_id?: string };
    if (answer.type === 'mcp_approval_response' && answer.approval_request_id && !requests.has(answer.approval_request_id))
      return { index, id: answer.approval_request_id };
  }
  return null;
}

export function unknownApprovalMessage(id: string): string {
  return `No MCP approval request with id '${id}' in this conversation.`;
}
