import { readFileSync } from 'node:fs';
import { codexModelInfo, defaultCodexInstructions } from './codex-catalog';

/** Fields Codex 0.171 cannot do without (found against the real binary: docs/codex.md). */
const REQUIRED = [
  'slug',
  'display_name',
  'supported_reasoning_levels',
  'shell_type',
  'visibility',
  'supported_in_api',
  'priority',
  'support_verbosity',
  'truncation_policy',
  'experimental_supported_tools',
  'base_instructions',
];

describe('codexModelInfo (a Codex catalog entry from MODELS_CONFIG)', () => {
  it('defaults to an entry that makes Codex offer apply_patch and not tool_search, with only values 0.171 decodes', () => {
    const entry = codexModelInfo('qwen-coder');
    for (const field of REQUIRED) expect(entry).toHaveProperty(field);
    expect(entry).toMatchObject({
      slug: 'qwen-coder',
      display_name: 'qwen-coder',
      apply_patch_tool_type: 'freeform',
      supports_search_tool: false,
      shell_type: 'shell_command',
      visibility: 'list',
      supported_reasoning_levels: [],
      support_verbosity: false,
      default_verbosity: null,
      supports_parallel_tool_calls: true,
      input_modalities: ['text'],
      truncation_policy: { mode: 'tokens', limit: 10000 },
      prefer_websockets: false,
    });
    // null web_search_tool_type and an absent default level both break or change decoding: left out instead.
    expect(entry).not.toHaveProperty('web_search_tool_type');
    expect(entry).not.toHaveProperty('default_reasoning_level');
    expect(entry).not.toHaveProperty('context_window');
    expect(entry.base_instructions).toBe(defaultCodexInstructions(true));
    expect(entry.base_instructions).toContain('apply_patch');
  });

  it('carries what a model configures', () => {
    const entry = codexModelInfo(
      'm',
      {
        displayName: 'Internal Coder',
        description: 'on vLLM',
        contextWindow: 131072,
        autoCompactTokenLimit: 100000,
        reasoningLevels: ['low', 'high'],
        defaultReasoningLevel: 'high',
        reasoningSummaries: true,
        verbosity: 'low',
        applyPatch: 'none',
        searchTool: true,
        webSearch: 'text',
        parallelToolCalls: false,
        inputModalities: ['text', 'image'],
        instructions: 'Be terse.',
        toolOutputTokens: 4000,
        priority: 7,
        visibility: 'hide',
      },
      3,
    );
    expect(entry).toMatchObject({
      display_name: 'Internal Coder',
      description: 'on vLLM',
      context_window: 131072,
      auto_compact_token_limit: 100000,
      supported_reasoning_levels: [
        { effort: 'low', description: expect.any(String) },
        { effort: 'high', description: expect.any(String) },
      ],
      default_reasoning_level: 'high',
      supports_reasoning_summaries: true,
      default_reasoning_summary: 'auto',
      support_verbosity: true,
      default_verbosity: 'low',
      apply_patch_tool_type: null,
      supports_search_tool: true,
      web_search_tool_type: 'text',
      supports_parallel_tool_calls: false,
      input_modalities: ['text', 'image'],
      base_instructions: 'Be terse.',
      truncation_policy: { mode: 'tokens', limit: 4000 },
      priority: 7,
      visibility: 'hide',
    });
    expect(codexModelInfo('m', {}, 3).priority).toBe(3);
    expect(defaultCodexInstructions(false)).not.toContain('apply_patch');
  });

  it('has every field of the minimal entry the real Codex 0.171 accepted (test fixture from the research)', () => {
    const minimal = JSON.parse(readFileSync(`${__dirname}/__fixtures__/codex-catalog-minimal.json`, 'utf8')) as { models: Record<string, unknown>[] };
    const entry = codexModelInfo('m', { contextWindow: 32768 });
    for (const [field, value] of Object.entries(minimal.models[0])) {
      expect(entry).toHaveProperty(field);
      expect(typeof (entry as unknown as Record<string, unknown>)[field]).toBe(typeof value);
    }
  });
});
