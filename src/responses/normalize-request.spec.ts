import { thrownOpenAIError } from '../../test/support/openai-error';
import type { OpenAIError } from '../common/openai-error';
import type { CreateResponseDto } from './dto/create-response.dto';
import { normalizeRequest } from './normalize-request';
import { applyPatchTool, clientMetadata, execCommandTool, multiAgentNamespace, toolSearchTool, webSearchTool } from '../../test/support/codex-shapes';

/** A request body as the validation pipe hands it over (the DTO class adds no behaviour). */
const dto = (fields: Record<string, unknown> = {}): CreateResponseDto => ({ model: 'echo', input: 'hi', ...fields });

const fn = (name: string): Record<string, unknown> => ({ type: 'function', name, parameters: { type: 'object', properties: {} } });

const thrown = thrownOpenAIError;

function expectRejected(fields: Record<string, unknown>, param: string, code: string): OpenAIError {
  const error = thrown(() => normalizeRequest(dto(fields)));
  expect(error.getStatus()).toBe(400);
  expect(error.toBody()).toEqual({ error: { message: expect.any(String), type: 'invalid_request_error', param, code } });
  return error;
}

describe('normalizeRequest', () => {
  describe('defaults', () => {
    it('fills in the API defaults for a minimal request', () => {
      const request = normalizeRequest(dto());
      expect(request).toMatchObject({
        model: 'echo',
        store: true,
        background: false,
        stream: false,
        tool_choice: 'auto',
        parallel_tool_calls: true,
        truncation: 'disabled',
        metadata: {},
        tools: [],
        instructions: null,
        previous_response_id: null,
        temperature: null,
        top_p: null,
        max_output_tokens: null,
        service_tier: 'auto',
      });
    });

    it('treats explicit nulls as unset', () => {
      const request = normalizeRequest(
        dto({ store: null, tool_choice: null, parallel_tool_calls: null, truncation: null, metadata: null, background: null, stream: null }),
      );
      expect(request).toMatchObject({
        store: true,
        tool_choice: 'auto',
        parallel_tool_calls: true,
        truncation: 'disabled',
        metadata: {},
        background: false,
        stream: false,
      });
    });

    it('keeps values that are given, including false', () => {
      const request = normalizeRequest(
        dto({
          store: false,
          background: true,
          stream: true,
          parallel_tool_calls: false,
          truncation: 'disabled',
          metadata: { team: 'search' },
          temperature: 0,
          top_p: 0.5,
          max_output_tokens: 100,
          instructions: 'Be brief.',
          previous_response_id: 'resp_1',
          service_tier: 'flex',
        }),
      );
      expect(request).toMatchObject({
        store: false,
        background: true,
        stream: true,
        parallel_tool_calls: false,
        metadata: { team: 'search' },
        temperature: 0,
        top_p: 0.5,
        max_output_tokens: 100,
        instructions: 'Be brief.',
        previous_response_id: 'resp_1',
        service_tier: 'flex',
      });
    });

    // `strict` is left unset unless given: forced strictness would make strict-mode upstreams
    // reject schemas with optional properties (the AI SDK sends none).
    it('normalizes function tools, keeping strict unset unless given', () => {
      const request = normalizeRequest(
        dto({
          tools: [
            { type: 'function', name: 'f' },
            { ...fn('g'), description: 'G', strict: false },
          ],
        }),
      );
      expect(request.tools).toEqual([
        { type: 'function', name: 'f', description: null, parameters: null, strict: null },
        { type: 'function', name: 'g', description: 'G', parameters: { type: 'object', properties: {} }, strict: false },
      ]);
    });

    it('does not share the text config object with the DTO', () => {
      const text = { format: { type: 'json_schema', name: 'x', schema: { type: 'object' } } };
      const request = normalizeRequest(dto({ text }));
      expect(request.text).toEqual(text);
      expect(request.text).not.toBe(text);
    });
  });

  describe('unsupported parameters', () => {
    it.each([
      ['prompt', { id: 'pmpt_1' }],
      ['moderation', { model: 'omni-moderation-latest' }],
    ])('refuses %s = %j, naming it', (param, value) => {
      expectRejected({ [param]: value }, param, 'unsupported_parameter');
    });

    it('normalizes a conversation to its {id} form, and refuses it together with previous_response_id', () => {
      expect(normalizeRequest(dto({ conversation: 'conv_123' })).conversation).toEqual({ id: 'conv_123' });
      expect(normalizeRequest(dto({ conversation: { id: 'conv_123' } })).conversation).toEqual({ id: 'conv_123' });
      expectRejected({ conversation: 'conv_1', previous_response_id: 'resp_1' }, 'conversation', 'invalid_value');
    });

    it('accepts those parameters when null', () => {
      expect(() => normalizeRequest(dto({ conversation: null, prompt: null }))).not.toThrow();
    });

    it('refuses a client tool type it cannot offer upstream, naming its type by index', () => {
      const error = expectRejected({ tools: [fn('f'), { type: 'computer_use_preview' }] }, 'tools[1].type', 'unsupported_parameter');
      expect(error.message).toContain('computer_use_preview');
    });

    it("keeps truncation 'auto' and context_management (their threshold normalized to null when unset)", () => {
      const request = normalizeRequest(dto({ truncation: 'auto', context_management: [{ type: 'compaction' }] }));
      expect(request.truncation).toBe('auto');
      expect(request.context_management).toEqual([{ type: 'compaction', compact_threshold: null }]);
    });

    it('refuses top_logprobs', () => {
      expectRejected({ top_logprobs: 5 }, 'top_logprobs', 'unsupported_parameter');
    });

    it('refuses include values it cannot honour, and keeps reasoning.encrypted_content (sealed reasoning)', () => {
      expectRejected({ include: ['message.output_text.logprobs'] }, 'include', 'unsupported_parameter');
      expect(normalizeRequest(dto({ include: ['reasoning.encrypted_content'] })).include).toEqual(['reasoning.encrypted_content']);
    });

    it('refuses hosted-tool tool_choice', () => {
      expectRejected({ tools: [fn('f')], tool_choice: { type: 'web_search' } }, 'tool_choice', 'unsupported_parameter');
      expectRejected({ tools: [fn('f')], tool_choice: { type: 'file_search' } }, 'tool_choice', 'invalid_value'); // servable, but not in tools
    });
  });

  describe('newer create parameters (openai 7.59, Open Responses)', () => {
    it('keeps the penalties, 0 included, and leaves them null when unset', () => {
      expect(normalizeRequest(dto({ presence_penalty: 0, frequency_penalty: -1.5 }))).toMatchObject({ presence_penalty: 0, frequency_penalty: -1.5 });
      expect(normalizeRequest(dto())).toMatchObject({ presence_penalty: null, frequency_penalty: null });
    });

    it('keeps the sent keys of the option objects, and generate only when false', () => {
      const request = normalizeRequest(
        dto({
          prompt_cache_retention: 'in_memory',
          prompt_cache_options: { mode: 'explicit', prewarm: false },
          generate: false,
          image: { context_compression: 'auto' },
          access_programs: { cyber: 'standard' },
          background: true,
          background_options: { completion_window: '2h' },
        }),
      );
      expect(request).toMatchObject({
        prompt_cache_retention: 'in_memory',
        prompt_cache_options: { mode: 'explicit' },
        generate: false,
        image: { context_compression: 'auto' },
        access_programs: { cyber: 'standard' },
        background_options: { completion_window: '2h' },
      });
      expect(request.prompt_cache_options).not.toHaveProperty('prewarm');
      expect(normalizeRequest(dto({ generate: true }))).not.toHaveProperty('generate');
      expect(normalizeRequest(dto())).not.toHaveProperty('image');
    });

    it('refuses prompt_cache_options.prewarm and image.context_compression enabled, naming them', () => {
      expectRejected({ prompt_cache_options: { prewarm: true } }, 'prompt_cache_options.prewarm', 'unsupported_parameter');
      expectRejected({ image: { context_compression: 'enabled' } }, 'image.context_compression', 'unsupported_parameter');
    });

    it('refuses the discounted completion windows unless background and not streaming, as OpenAI documents', () => {
      expectRejected({ background_options: { completion_window: '8h' } }, 'background_options.completion_window', 'invalid_value');
      expectRejected(
        { background: true, stream: true, background_options: { completion_window: '2h' } },
        'background_options.completion_window',
        'invalid_value',
      );
      expect(() => normalizeRequest(dto({ background_options: { completion_window: 'soonest' } }))).not.toThrow();
    });
  });

  describe('tool_choice', () => {
    it('accepts a function choice that names one of the tools', () => {
      const request = normalizeRequest(dto({ tools: [fn('f'), fn('g')], tool_choice: { type: 'function', name: 'g' } }));
      expect(request.tool_choice).toEqual({ type: 'function', name: 'g' });
    });

    it('refuses a function choice naming an unknown function, with param tool_choice.name', () => {
      expectRejected({ tools: [fn('f')], tool_choice: { type: 'function', name: 'nope' } }, 'tool_choice.name', 'invalid_value');
    });

    it('refuses a function choice when there are no tools', () => {
      expectRejected({ tool_choice: { type: 'function', name: 'f' } }, 'tool_choice.name', 'invalid_value');
    });

    it('accepts allowed_tools with a valid mode', () => {
      const choice = { type: 'allowed_tools', mode: 'required', tools: [{ type: 'function', name: 'f' }] };
      expect(normalizeRequest(dto({ tools: [fn('f')], tool_choice: choice })).tool_choice).toEqual(choice);
    });

    it('refuses allowed_tools with a bad mode or without a tool list', () => {
      expectRejected({ tools: [fn('f')], tool_choice: { type: 'allowed_tools', mode: 'none', tools: [] } }, 'tool_choice.mode', 'invalid_value');
      expectRejected({ tools: [fn('f')], tool_choice: { type: 'allowed_tools', mode: 'auto' } }, 'tool_choice.tools', 'invalid_value');
    });

    it('passes string choices through', () => {
      expect(normalizeRequest(dto({ tool_choice: 'required', tools: [fn('f')] })).tool_choice).toBe('required');
      expect(normalizeRequest(dto({ tool_choice: 'none' })).tool_choice).toBe('none');
    });
  });

  describe('Codex 0.171 defaults', () => {
    const codex = (fields: Record<string, unknown> = {}) =>
      dto({
        stream: true,
        store: false,
        tools: [execCommandTool, multiAgentNamespace, applyPatchTool, toolSearchTool, webSearchTool],
        tool_choice: 'auto',
        parallel_tool_calls: true,
        reasoning: { effort: 'medium', summary: 'auto' },
        prompt_cache_key: '01a231d9-99f9-7993-9f4f-e08e2f968504',
        text: { verbosity: 'low' },
        client_metadata: clientMetadata,
        ...fields,
      });

    it('keeps function, namespace, custom and client tool_search tools, and leaves web_search out with a note', () => {
      const request = normalizeRequest(codex());
      expect(request.tools!.map((t) => t.type)).toEqual(['function', 'namespace', 'custom', 'tool_search']);
      expect(request.omitted_tools).toEqual(['web_search']);
      expect(request.tools![2]).toEqual({ type: 'custom', name: 'apply_patch', description: applyPatchTool.description, format: applyPatchTool.format });
      expect(request.tools![1]).toMatchObject({ type: 'namespace', name: 'multi_agent_v1', tools: [{ name: 'close_agent' }, { name: 'resume_agent' }] });
      expect(request.tools![3]).toEqual({
        type: 'tool_search',
        execution: 'client',
        description: toolSearchTool.description,
        parameters: toolSearchTool.parameters,
      });
      expect(request).toMatchObject({ text: { verbosity: 'low' }, reasoning: { effort: 'medium', summary: 'auto' } });
      expect(request).not.toHaveProperty('client_metadata'); // accepted and ignored: nothing to do with it upstream
    });

    it('keeps a file_search tool (it runs server-side), checks its filters and takes it as tool_choice', () => {
      const tool = {
        type: 'file_search',
        vector_store_ids: ['vs_1'],
        max_num_results: 5,
        filters: { type: 'eq', key: 'a', value: 1 },
        ranking_options: { score_threshold: 0.2 },
      };
      const request = normalizeRequest(dto({ tools: [tool], tool_choice: { type: 'file_search' } }));
      expect(request.tools).toEqual([tool]);
      expect(request).not.toHaveProperty('omitted_tools');
      expectRejected(
        { tools: [{ ...tool, filters: { type: 'and', filters: [{ type: 'near', key: 'a', value: 1 }] } }] },
        'tools[0].filters.filters[0].type',
        'invalid_value',
      );
      expectRejected({ tools: [tool, tool] }, 'tools[1]', 'invalid_value');
    });

    it('leaves out every unforced hosted tool it cannot run, a server-run tool_search among them', () => {
      const hosted = ['web_search_preview', 'image_generation', 'code_interpreter'].map((type) => ({ type }));
      const request = normalizeRequest(dto({ tools: [fn('f'), ...hosted, { type: 'tool_search' }, { type: 'web_search' }] }));
      expect(request.tools).toEqual([expect.objectContaining({ type: 'function', name: 'f' })]);
      expect(request.omitted_tools).toEqual(['web_search_preview', 'image_generation', 'code_interpreter', 'tool_search', 'web_search']);
      expect(normalizeRequest(dto({ tools: [fn('f')] }))).not.toHaveProperty('omitted_tools');
    });

    it('refuses a forced unservable hosted tool: named, the only allowed tools under required, or required with nothing else', () => {
      expectRejected({ tools: [fn('f'), webSearchTool], tool_choice: { type: 'web_search' } }, 'tool_choice', 'unsupported_parameter');
      const onlyHosted = { type: 'allowed_tools', mode: 'required', tools: [{ type: 'web_search' }] };
      expectRejected({ tools: [fn('f'), webSearchTool], tool_choice: onlyHosted }, 'tool_choice.tools[0]', 'unsupported_parameter');
      expectRejected({ tools: [webSearchTool], tool_choice: 'required' }, 'tool_choice', 'unsupported_parameter');
      // Not forced: allowed among others, or auto.
      const mixed = { type: 'allowed_tools', mode: 'required', tools: [{ type: 'web_search' }, { type: 'function', name: 'f' }] };
      expect(() => normalizeRequest(dto({ tools: [fn('f'), webSearchTool], tool_choice: mixed }))).not.toThrow();
      expect(() => normalizeRequest(dto({ tools: [webSearchTool], tool_choice: 'auto' }))).not.toThrow();
    });

    it('runs web_search tools when a provider is configured: options checked and echoed, forcing allowed', () => {
      const withProvider = (fields: Record<string, unknown>) => normalizeRequest(dto(fields), { webSearch: true });
      const request = withProvider({
        tools: [{ type: 'web_search', filters: { allowed_domains: ['example.com'] }, user_location: { type: 'approximate', city: 'Lyon', extra: 1 } }],
        tool_choice: { type: 'web_search' },
      });
      expect(request.tools).toEqual([
        {
          type: 'web_search',
          search_context_size: 'medium',
          filters: { allowed_domains: ['example.com'] },
          user_location: { type: 'approximate', city: 'Lyon' },
        },
      ]);
      expect(request).not.toHaveProperty('omitted_tools');
      expect(withProvider({ tools: [{ type: 'web_search_preview', search_context_size: 'high' }], tool_choice: 'required' }).tools).toEqual([
        { type: 'web_search_preview', search_context_size: 'high' },
      ]);
      const allowed = { type: 'allowed_tools', mode: 'required', tools: [{ type: 'web_search' }] };
      expect(() => withProvider({ tools: [{ type: 'web_search_2025_08_26' }], tool_choice: allowed })).not.toThrow();
      const rejected = (fields: Record<string, unknown>, param: string, code: string) => {
        const error = thrown(() => withProvider(fields));
        expect(error.toBody().error).toMatchObject({ param, code });
      };
      rejected({ tools: [{ type: 'web_search', search_context_size: 'huge' }] }, 'tools[0].search_context_size', 'invalid_value');
      rejected({ tools: [{ type: 'web_search', filters: { allowed_domains: [1] } }] }, 'tools[0].filters.allowed_domains', 'invalid_value');
      rejected({ tools: [{ type: 'web_search_preview', filters: { allowed_domains: ['a.com'] } }] }, 'tools[0].filters', 'unsupported_parameter');
      rejected({ tools: [{ type: 'web_search' }, { type: 'web_search_preview' }] }, 'tools[1]', 'invalid_value');
      rejected({ tools: [fn('f')], tool_choice: { type: 'web_search' } }, 'tool_choice', 'invalid_value');
      rejected({ tools: [{ type: 'web_search' }, fn('open_page')] }, 'tools[1].name', 'invalid_value');
      expect(() => normalizeRequest(dto({ tools: [{ type: 'web_search' }, fn('open_page')] }))).not.toThrow(); // left out: no clash
    });

    it('says which setting to configure when a web_search is forced without a provider', () => {
      const error = expectRejected({ tools: [webSearchTool], tool_choice: { type: 'web_search' } }, 'tool_choice', 'unsupported_parameter');
      expect(error.toBody().error.message).toContain('WEB_SEARCH_PROVIDER');
    });

    it('accepts a custom tool choice naming one of the custom tools, and allowed_tools naming custom, namespace and tool_search tools', () => {
      expect(normalizeRequest(codex({ tool_choice: { type: 'custom', name: 'apply_patch' } })).tool_choice).toEqual({ type: 'custom', name: 'apply_patch' });
      expectRejected({ tools: [applyPatchTool], tool_choice: { type: 'custom', name: 'nope' } }, 'tool_choice.name', 'invalid_value');
      const allowed = {
        type: 'allowed_tools',
        mode: 'auto',
        tools: [{ type: 'custom', name: 'apply_patch' }, { type: 'namespace', name: 'multi_agent_v1' }, { type: 'tool_search' }],
      };
      expect(() => normalizeRequest(codex({ tool_choice: allowed }))).not.toThrow();
      expectRejected({ tools: [fn('f')], tool_choice: { ...allowed, tools: [{ type: 'tool_search' }] } }, 'tool_choice.tools[0]', 'invalid_value');
    });
  });
});
