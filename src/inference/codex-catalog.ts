import type { CodexModelConfig, ReasoningEffort } from './models-config';

/**
 * One entry of the Codex CLI's model catalog (`ModelInfo` in codex-rs/protocol/src/openai_models.rs),
 * as Codex 0.171 decodes it. Only values 0.171 accepts are ever produced: `apply_patch_tool_type`
 * is `"freeform"` or null (`"function"` fails to decode there), `web_search_tool_type` is left out
 * rather than null (null fails too). Fields older versions required and 0.171 made optional
 * (`supports_reasoning_summaries`, `default_verbosity`, `supports_parallel_tool_calls`, `upgrade`…)
 * are always present, so one shape suits every client_version.
 */
export interface CodexModelInfo {
  slug: string;
  display_name: string;
  description: string | null;
  default_reasoning_level?: ReasoningEffort;
  supported_reasoning_levels: { effort: ReasoningEffort; description: string }[];
  shell_type: 'shell_command';
  visibility: 'list' | 'hide';
  supported_in_api: true;
  priority: number;
  upgrade: null;
  base_instructions: string;
  supports_reasoning_summaries: boolean;
  default_reasoning_summary: 'auto' | 'none';
  support_verbosity: boolean;
  default_verbosity: 'low' | 'medium' | 'high' | null;
  apply_patch_tool_type: 'freeform' | null;
  supports_search_tool: boolean;
  web_search_tool_type?: 'text' | 'text_and_image';
  truncation_policy: { mode: 'tokens'; limit: number };
  supports_parallel_tool_calls: boolean;
  context_window?: number;
  auto_compact_token_limit?: number;
  experimental_supported_tools: string[];
  input_modalities: ('text' | 'image')[];
  prefer_websockets: false;
}

const EFFORT_DESCRIPTIONS: Record<ReasoningEffort, string> = {
  none: 'No reasoning',
  minimal: 'Very little reasoning, fastest',
  low: 'Light reasoning, fast',
  medium: 'Balanced reasoning',
  high: 'Deep reasoning for hard problems',
  xhigh: 'Deepest reasoning, slowest',
};

/**
 * Codex's built-in instructions come with its fallback metadata only; a catalog entry must bring
 * its own. This is the gateway's, short and tool-agnostic beyond the two tools Codex always has.
 */
export function defaultCodexInstructions(applyPatch: boolean): string {
  return [
    "You are a coding agent working in a terminal, in the user's workspace, through the Codex CLI.",
    'Read the relevant code before changing it; run commands with the shell tool (search with `rg` when it is available).',
    applyPatch
      ? 'Edit files with the apply_patch tool, not with shell redirections or in-place editors.'
      : 'Edit files with shell commands, keeping each change small and reviewable.',
    'Keep changes focused on the task and in the style of the surrounding code; do not revert changes you did not make.',
    "Run the project's tests or checks when they exist and your change could affect them.",
    'Ask the user only when you cannot proceed. When you are done, say briefly what you changed and what is left.',
  ].join('\n');
}

/** The catalog entry of model `id`; `position` (0-based, in the catalog) orders the picker unless `codex.priority` is set. */
export function codexModelInfo(id: string, codex: CodexModelConfig = {}, position = 0): CodexModelInfo {
  const applyPatch = (codex.applyPatch ?? 'freeform') === 'freeform';
  const levels = codex.reasoningLevels ?? [];
  return {
    slug: id,
    display_name: codex.displayName ?? id,
    description: codex.description ?? null,
    ...(codex.defaultReasoningLevel ? { default_reasoning_level: codex.defaultReasoningLevel } : {}),
    supported_reasoning_levels: levels.map((effort) => ({ effort, description: EFFORT_DESCRIPTIONS[effort] })),
    // 0.171 maps shell_command (like default and local) to its unified exec_command tool.
    shell_type: 'shell_command',
    visibility: codex.visibility ?? 'list',
    supported_in_api: true,
    priority: codex.priority ?? position,
    upgrade: null,
    base_instructions: codex.instructions ?? defaultCodexInstructions(applyPatch),
    supports_reasoning_summaries: codex.reasoningSummaries ?? false,
    default_reasoning_summary: codex.reasoningSummaries ? 'auto' : 'none',
    support_verbosity: codex.verbosity !== undefined,
    default_verbosity: codex.verbosity ?? null,
    apply_patch_tool_type: applyPatch ? 'freeform' : null,
    supports_search_tool: codex.searchTool ?? false,
    ...(codex.webSearch ? { web_search_tool_type: codex.webSearch } : {}),
    truncation_policy: { mode: 'tokens', limit: codex.toolOutputTokens ?? 10_000 },
    supports_parallel_tool_calls: codex.parallelToolCalls ?? true,
    ...(codex.contextWindow ? { context_window: codex.contextWindow } : {}),
    ...(codex.autoCompactTokenLimit ? { auto_compact_token_limit: codex.autoCompactTokenLimit } : {}),
    experimental_supported_tools: [],
    input_modalities: codex.inputModalities ?? ['text'],
    // Codex would try WebSocket first; the custom provider form speaks HTTP unless `supports_websockets` is set.
    prefer_websockets: false,
  };
}
