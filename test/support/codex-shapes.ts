/**
 * Request shapes Codex CLI 0.171.0 sends, taken from captures of the real binary (issue #16): the
 * tools it offers and the items it replays, field for field (the namespace cut to two of its
 * functions, exec_command to two parameters). Tests of the Codex translations build requests from these.
 */

export const execCommandTool = {
  type: 'function',
  name: 'exec_command',
  description: 'Runs a command in a PTY, returning output or a session ID for ongoing interaction.',
  strict: false,
  parameters: {
    type: 'object',
    properties: {
      cmd: {
        type: 'string',
        description: 'Shell command to execute.',
      },
      workdir: {
        type: 'string',
        description: 'Working directory for the command. Defaults to the turn cwd.',
      },
    },
    required: ['cmd'],
    additionalProperties: false,
  },
};

/** The freeform tool: its input must follow the Lark grammar. */
export const applyPatchTool = {
  type: 'custom',
  name: 'apply_patch',
  description: 'The `apply_patch` tool can be used to edit files. This is a FREEFORM tool, so do not wrap the patch in JSON.',
  format: {
    type: 'grammar',
    syntax: 'lark',
    definition:
      'start: begin_patch hunk+ end_patch\nbegin_patch: "*** Begin Patch" LF\nend_patch: "*** End Patch" LF?\n\nhunk: add_hunk | delete_hunk | update_hunk\nadd_hunk: "*** Add File: " filename LF add_line+\ndelete_hunk: "*** Delete File: " filename LF\nupdate_hunk: "*** Update File: " filename LF change_move? change?\n\nfilename: /(.+)/\nadd_line: "+" /(.*)/ LF -> line\n\nchange_move: "*** Move to: " filename LF\nchange: (change_context | change_line)+ eof_line?\nchange_context: ("@@" | "@@ " /(.+)/) LF\nchange_line: ("+" | "-" | " ") /(.*)/ LF\neof_line: "*** End of File" LF\n\n%import common.LF\n',
  },
};

export const multiAgentNamespace = {
  type: 'namespace',
  name: 'multi_agent_v1',
  description: 'Tools for spawning and managing sub-agents.',
  tools: [
    {
      type: 'function',
      name: 'close_agent',
      description:
        "Close an agent and any open descendants when they are no longer needed, and return the target agent's previous status before shutdown was requested. Completed agents remain open and count toward the concurrency limit until closed. Don't keep agents open for too long if they are not needed anymore.",
      strict: false,
      parameters: {
        type: 'object',
        properties: {
          target: {
            type: 'string',
            description: 'Agent id to close (from spawn_agent).',
          },
        },
        required: ['target'],
        additionalProperties: false,
      },
    },
    {
      type: 'function',
      name: 'resume_agent',
      description: 'Resume a previously closed agent by id so it can receive send_input and wait_agent calls.',
      strict: false,
      parameters: {
        type: 'object',
        properties: {
          id: {
            type: 'string',
            description: 'Agent id to resume.',
          },
        },
        required: ['id'],
        additionalProperties: false,
      },
    },
  ],
};

/** Offered when the catalog entry has `supports_search_tool`. */
export const toolSearchTool = {
  type: 'tool_search',
  execution: 'client',
  description:
    '# Tool discovery\n\nSearches over deferred tool metadata with BM25 and exposes matching tools for the next model call.\n\nSome of the tools may not have been provided to you upfront, and you should use this tool (`tool_search`) to search for the required tools. For MCP tool discovery, always use `tool_search` instead of `list_mcp_resources` or `list_mcp_resource_templates`.',
  parameters: {
    type: 'object',
    properties: {
      limit: {
        type: 'number',
        description: 'Maximum number of tools to return. Defaults to 8.',
      },
      query: {
        type: 'string',
        description: 'Search query for deferred tools.',
      },
    },
    required: ['query'],
    additionalProperties: false,
  },
};

/** Codex's default; `web_search = "disabled"` in its config removes it. */
export const webSearchTool = {
  type: 'web_search',
  external_web_access: true,
  search_content_types: ['text', 'image'],
};

export const clientMetadata = {
  turn_id: '01a231d9-57c3-7ba2-bcfc-04770b04a4b8',
  'x-codex-installation-id': 'e7b537ca-de1b-4778-b98e-ef769d291a49',
  thread_id: '01a231d9-57ab-77a1-a34f-083515b24474',
  root_turn_id: '01a231d9-57c3-7ba2-bcfc-04770b04a4b8',
  'x-codex-turn-metadata':
    '{"installation_id":"e7b537ca-de1b-4778-b98e-ef769d291a49","session_id":"01a231d9-57ab-77a1-a34f-083515b24474","thread_id":"01a231d9-57ab-77a1-a34f-083515b24474","agent_name":"/root","turn_id":"01a231d9-57c3-7ba2-bcfc-04770b04a4b8","window_id":"01a231d9-57ab-77a1-a34f-083515b24474:0","window_number":0,"context_window_id":"01a231d9-57ac-7a81-9855-6821128199d1","request_kind":"turn","history_initialization":"new","root_turn_id":"01a231d9-57c3-7ba2-bcfc-04770b04a4b8","thread_source":"user","turn_trigger":"exec","sandbox":"none","sandbox_mode":"danger-full-access","auto_review_enabled":false,"node_repl_auto_review_required":false,"node_repl_disabled":false,"workspaces":{"/tmp/codex-lab/work-tools-json":{"latest_git_commit_hash":"8e5f19226ba4a93d6f4c310810b19d2c4566e74e","has_changes":false}},"turn_started_at_unix_ms":1796132657092,"analytics_enabled":false,"model":"m","reasoning_effort":"medium"}',
  session_id: '01a231d9-57ab-77a1-a34f-083515b24474',
  'x-codex-window-id': '01a231d9-57ab-77a1-a34f-083515b24474:0',
};

/** Replayed as the server sent it, with `content: null`. */
export const reasoningReplay = {
  type: 'reasoning',
  id: 'rs_mx4r0c380',
  summary: [
    {
      type: 'summary_text',
      text: 'thinking about it',
    },
  ],
  content: null,
  encrypted_content: 'ENC-c2VjcmV0LXJlYXNvbmluZw==',
};

export const commentaryReplay = {
  type: 'message',
  status: 'completed',
  id: 'msg_mx4r0c381',
  role: 'assistant',
  content: [
    {
      type: 'output_text',
      text: 'Reading the file first.',
      annotations: [],
    },
  ],
  phase: 'commentary',
};

export const execCall = {
  type: 'function_call',
  status: 'completed',
  id: 'fc_mx4r0c382',
  name: 'exec_command',
  arguments: '{"cmd":"cat hello.txt"}',
  call_id: 'call_mx4r0c383',
};

export const execOutput = {
  type: 'function_call_output',
  id: 'fco_01a231d9-5956-75e1-8c80-c5d09aa60ed3',
  call_id: 'call_mx4r0c383',
  output: 'Chunk ID: 626eeb\nWall time: 0.1027 seconds\nProcess exited with code 0\nOriginal token count: 2\nOutput:\nhello\n',
};

export const applyPatchCall = {
  type: 'custom_tool_call',
  id: 'ctc_mx4r0cce6',
  status: 'completed',
  call_id: 'call_mx4r0cce7',
  name: 'apply_patch',
  input: '*** Begin Patch\n*** Update File: hello.txt\n@@\n-hello\n+hello patched\n*** End Patch\n',
};

export const applyPatchOutput = {
  type: 'custom_tool_call_output',
  id: 'ctco_01a231d9-5998-7c63-9170-621fa238ba47',
  call_id: 'call_mx4r0cce7',
  output: 'Exit code: 0\nWall time: 0 seconds\nOutput:\nSuccess. Updated the following files:\nM hello.txt\n',
};

export const toolSearchCall = {
  type: 'tool_search_call',
  id: 'tsc_mx4r0p530',
  call_id: 'call_mx4r0p541',
  status: 'completed',
  execution: 'client',
  arguments: {
    query: 'close agent',
    limit: 2,
  },
};

/** The loaded tools travel only here: the next request's `tools` are unchanged. */
export const toolSearchOutput = {
  type: 'tool_search_output',
  id: 'tso_01a231d9-9a53-7f60-a5aa-75fd7180bd09',
  call_id: 'call_mx4r0p541',
  status: 'completed',
  execution: 'client',
  tools: [
    {
      type: 'namespace',
      name: 'multi_agent_v1',
      description: 'Tools for spawning and managing sub-agents.',
      tools: [
        {
          type: 'function',
          name: 'resume_agent',
          description: 'Resume a previously closed agent by id so it can receive send_input and wait_agent calls.',
          strict: false,
          defer_loading: true,
          parameters: {
            type: 'object',
            properties: {
              id: {
                type: 'string',
                description: 'Agent id to resume.',
              },
            },
            required: ['id'],
            additionalProperties: false,
          },
        },
        {
          type: 'function',
          name: 'close_agent',
          description:
            "Close an agent and any open descendants when they are no longer needed, and return the target agent's previous status before shutdown was requested. Completed agents remain open and count toward the concurrency limit until closed. Don't keep agents open for too long if they are not needed anymore.",
          strict: false,
          defer_loading: true,
          parameters: {
            type: 'object',
            properties: {
              target: {
                type: 'string',
                description: 'Agent id to close (from spawn_agent).',
              },
            },
            required: ['target'],
            additionalProperties: false,
          },
        },
      ],
    },
  ],
};

export const namespacedCall = {
  type: 'function_call',
  status: 'completed',
  id: 'fc_mx4r0p6a3',
  name: 'close_agent',
  namespace: 'multi_agent_v1',
  arguments: '{"target":"nonexistent"}',
  call_id: 'call_mx4r0p6a4',
};

export const namespacedOutput = {
  type: 'function_call_output',
  id: 'fco_01a231d9-9a77-7bd2-aa01-24e1ca19c2dd',
  call_id: 'call_mx4r0p6a4',
  output: "invalid agent id nonexistent: Error(ParseChar { character: 'n', index: 1 })",
};
