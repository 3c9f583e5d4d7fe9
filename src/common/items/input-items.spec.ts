import { thrownOpenAIError } from '../../../test/support/openai-error';
import type { OpenAIError } from '../openai-error';
import { normalizeInput } from './input-items';
import {
  applyPatchCall,
  applyPatchOutput,
  commentaryReplay,
  execCall,
  execOutput,
  namespacedCall,
  namespacedOutput,
  toolSearchCall,
  toolSearchOutput,
} from '../../../test/support/codex-shapes';

const thrown = thrownOpenAIError;

/** Asserts that normalizing `input` is a 400 invalid_request_error with this param and code. */
function expectRejected(input: unknown[], param: string, code: string): OpenAIError {
  const error = thrown(() => normalizeInput(input));
  expect(error.getStatus()).toBe(400);
  expect(error.toBody()).toEqual({ error: { message: expect.any(String), type: 'invalid_request_error', param, code } });
  return error;
}

const userMessage = (text = 'hi'): Record<string, unknown> => ({ role: 'user', content: text });

describe('normalizeInput', () => {
  describe('accepted input', () => {
    it('turns a string into one user message with a msg_ id and input_text content', () => {
      expect(normalizeInput('Hello')).toEqual([
        {
          id: expect.stringMatching(/^msg_[0-9a-f]{48}$/),
          type: 'message',
          role: 'user',
          content: [{ type: 'input_text', text: 'Hello' }],
          status: 'completed',
        },
      ]);
    });

    it('gives each item a fresh id', () => {
      const [a, b] = normalizeInput([userMessage('a'), userMessage('b')]);
      expect(a.id).not.toBe(b.id);
    });

    it('treats an item without type as a message and turns string content into a part', () => {
      expect(normalizeInput([{ role: 'developer', content: 'Be terse.' }])).toEqual([
        { id: expect.stringMatching(/^msg_/), type: 'message', role: 'developer', content: [{ type: 'input_text', text: 'Be terse.' }], status: 'completed' },
      ]);
    });

    it('turns assistant string content into output_text', () => {
      expect(normalizeInput([{ type: 'message', role: 'assistant', content: 'Hi!' }])[0]).toMatchObject({
        role: 'assistant',
        content: [{ type: 'output_text', text: 'Hi!', annotations: [] }],
      });
    });

    it('keeps the ids it is given', () => {
      const items = normalizeInput([
        { id: 'msg_given', role: 'user', content: 'q' },
        { id: 'fc_given', type: 'function_call', call_id: 'call_1', name: 'f', arguments: '{}' },
        { id: 'fco_given', type: 'function_call_output', call_id: 'call_1', output: 'r' },
        { id: 'rs_given', type: 'reasoning', summary: [] },
      ]);
      expect(items.map((i) => i.id)).toEqual(['msg_given', 'fc_given', 'fco_given', 'rs_given']);
    });

    it('normalizes function calls and their outputs', () => {
      const [fc, out] = normalizeInput([
        { type: 'function_call', call_id: 'call_1', name: 'get_weather', arguments: '{"city":"Paris"}' },
        { type: 'function_call_output', call_id: 'call_1', output: '21°C' },
      ]);
      expect(fc).toEqual({
        id: expect.stringMatching(/^fc_[0-9a-f]{48}$/),
        type: 'function_call',
        call_id: 'call_1',
        name: 'get_weather',
        arguments: '{"city":"Paris"}',
        status: 'completed',
      });
      expect(out).toEqual({ id: expect.any(String), type: 'function_call_output', call_id: 'call_1', output: '21°C', status: 'completed' });
    });

    it("keeps input_image parts, defaulting detail to 'auto'", () => {
      const [message] = normalizeInput([
        {
          role: 'user',
          content: [
            { type: 'input_text', text: 'What is it?' },
            { type: 'input_image', image_url: 'https://example.com/a.png' },
            { type: 'input_image', image_url: 'data:image/png;base64,AAAA', detail: 'high' },
          ],
        },
      ]);
      expect(message).toMatchObject({
        content: [
          { type: 'input_text', text: 'What is it?' },
          { type: 'input_image', image_url: 'https://example.com/a.png', detail: 'auto' },
          { type: 'input_image', image_url: 'data:image/png;base64,AAAA', detail: 'high' },
        ],
      });
    });

    it('replays an assistant output message with output_text parts', () => {
      const [message] = normalizeInput([
        {
          id: 'msg_prev',
          type: 'message',
          role: 'assistant',
          status: 'completed',
          content: [{ type: 'output_text', text: 'Earlier answer', annotations: [] }],
        },
      ]);
      expect(message).toEqual({
        id: 'msg_prev',
        type: 'message',
        role: 'assistant',
        status: 'completed',
        content: [{ type: 'output_text', text: 'Earlier answer', annotations: [] }],
      });
    });
  });

  describe('assistant phase', () => {
    it('keeps commentary and final_answer on assistant messages, and adds none when absent or null', () => {
      const items = normalizeInput([
        { role: 'assistant', content: 'Checking.', phase: 'commentary' },
        { type: 'message', role: 'assistant', content: [{ type: 'output_text', text: 'Done.' }], phase: 'final_answer' },
        { role: 'assistant', content: 'No phase.' },
        { role: 'assistant', content: 'Null phase.', phase: null },
        { role: 'user', content: 'hi', phase: null },
      ]);
      expect(items.map((item) => (item as { phase?: string }).phase)).toEqual(['commentary', 'final_answer', undefined, undefined, undefined]);
      expect(items[2]).not.toHaveProperty('phase');
    });

    it('names an unknown phase, and a phase on a message that is not the assistant’s', () => {
      expectRejected([{ role: 'assistant', content: 'x', phase: 'draft' }], 'input[0].phase', 'invalid_value');
      expectRejected([userMessage(), { role: 'user', content: 'x', phase: 'commentary' }], 'input[1].phase', 'invalid_value');
    });
  });

  describe('rejected input', () => {
    it('names a missing message role', () => {
      expectRejected([userMessage(), { content: 'no role' }], 'input[1].role', 'missing_required_parameter');
    });

    it('names an unknown message role', () => {
      expectRejected([userMessage(), { role: 'tool', content: 'x' }], 'input[1].role', 'invalid_value');
    });

    it('names missing message content', () => {
      expectRejected([{ role: 'user' }], 'input[0].content', 'missing_required_parameter');
    });

    it('names a content part of unknown type', () => {
      const error = expectRejected(
        [
          {
            role: 'user',
            content: [
              { type: 'input_text', text: 'ok' },
              { type: 'input_video', url: 'x' },
            ],
          },
        ],
        'input[0].content[1].type',
        'invalid_value',
      );
      expect(error.message).toContain('input_video');
    });

    it('names a content part without type', () => {
      expectRejected(
        [{ role: 'user', content: [{ type: 'input_text', text: 'ok' }, { text: 'no type' }] }],
        'input[0].content[1].type',
        'missing_required_parameter',
      );
    });

    it('names a content part missing its text', () => {
      expectRejected([userMessage(), { role: 'user', content: [{ type: 'input_text' }] }], 'input[1].content[0].text', 'missing_required_parameter');
    });

    it('refuses input_image by file_id as unsupported', () => {
      expectRejected(
        [{ role: 'user', content: [{ type: 'input_image', file_id: 'file-123', detail: 'auto' }] }],
        'input[0].content[0].file_id',
        'unsupported_parameter',
      );
    });

    it('names a bad image detail', () => {
      expectRejected(
        [{ role: 'user', content: [{ type: 'input_image', image_url: 'https://x/y.png', detail: 'ultra' }] }],
        'input[0].content[0].detail',
        'invalid_value',
      );
    });

    it('refuses input_audio parts as unsupported', () => {
      expectRejected(
        [{ role: 'user', content: [{ type: 'input_audio', input_audio: { data: 'AAAA', format: 'wav' } }] }],
        'input[0].content[0].type',
        'unsupported_parameter',
      );
    });

    it('names the missing call_id of a function_call_output', () => {
      const error = expectRejected(
        [userMessage(), { type: 'function_call', call_id: 'call_1', name: 'f', arguments: '{}' }, { type: 'function_call_output', output: 'r' }],
        'input[2].call_id',
        'missing_required_parameter',
      );
      expect(error.message).toContain('input[2].call_id');
    });

    it('names the missing output of a function_call_output', () => {
      expectRejected([{ type: 'function_call_output', call_id: 'call_1' }], 'input[0].output', 'missing_required_parameter');
    });

    it.each(['call_id', 'name', 'arguments'])('names the missing %s of a function_call', (field) => {
      const item: Record<string, unknown> = { type: 'function_call', call_id: 'call_1', name: 'f', arguments: '{}' };
      delete item[field];
      expectRejected([item], `input[0].${field}`, 'missing_required_parameter');
    });

    it('names a function_call field of the wrong type', () => {
      expectRejected([{ type: 'function_call', call_id: 'call_1', name: 'f', arguments: { a: 1 } }], 'input[0].arguments', 'invalid_type');
    });

    it('refuses hosted-tool items as unsupported, naming input[i].type', () => {
      expectRejected([userMessage(), { type: 'code_interpreter_call', id: 'x_1' }], 'input[1].type', 'unsupported_parameter');
    });

    it('keeps web_search_call items of earlier turns (their action checked, sources kept as URLs)', () => {
      const [item] = normalizeInput([
        {
          type: 'web_search_call',
          id: 'ws_1',
          status: 'completed',
          action: { type: 'search', query: 'q', sources: [{ type: 'url', url: 'https://a.example/' }] },
        },
      ]);
      expect(item).toEqual({
        id: 'ws_1',
        type: 'web_search_call',
        status: 'completed',
        action: { type: 'search', query: 'q', sources: [{ type: 'url', url: 'https://a.example/' }] },
      });
      expect(normalizeInput([{ type: 'web_search_call', action: { type: 'open_page', url: 'https://a.example/x' } }])[0]).toMatchObject({
        id: expect.stringMatching(/^ws_/),
        status: 'completed',
        action: { type: 'open_page', url: 'https://a.example/x' },
      });
      expectRejected([{ type: 'web_search_call', id: 'ws_1' }], 'input[0].action', 'missing_required_parameter');
      expectRejected([{ type: 'web_search_call', id: 'ws_1', action: { type: 'search', sources: ['x'] } }], 'input[0].action.sources', 'invalid_value');
      expectRejected([{ type: 'web_search_call', id: 'ws_1', action: { type: 'dig' } }], 'input[0].action.type', 'invalid_value');
    });

    // Contract §7 / SDK `ResponseInputItem.ItemReference {id, type?}`: an item with only an `id` is
    // an item reference (not a message missing its role); the service resolves it from the store.
    it('keeps item references, typed or typeless, for the service to resolve', () => {
      const items = normalizeInput([userMessage(), { id: 'msg_earlier' }, { type: 'item_reference', id: 'fc_1' }]);
      expect(items.slice(1)).toEqual([
        { type: 'item_reference', id: 'msg_earlier' },
        { type: 'item_reference', id: 'fc_1' },
      ]);
      expectRejected([{ type: 'item_reference' }], 'input[0].id', 'missing_required_parameter');
    });

    // Contract §7: output_text and refusal parts belong to assistant messages only; user, system
    // and developer content is ResponseInputContent (input_text, input_image, input_file, input_audio).
    it.each(['user', 'developer'])('refuses an output_text part in a %s message', (role) => {
      expectRejected([{ role, content: [{ type: 'output_text', text: 'x' }] }], 'input[0].content[0].type', 'invalid_value');
    });

    it('names an unknown item type as an invalid value', () => {
      const error = expectRejected([{ type: 'telepathy', content: 'x' }], 'input[0].type', 'invalid_value');
      expect(error.message).toContain('telepathy');
    });

    it('names an item that is not an object', () => {
      expectRejected([userMessage(), 'just a string'], 'input[1]', 'invalid_type');
    });

    it('refuses more items than allowed', () => {
      const error = thrown(() => normalizeInput([userMessage(), userMessage(), userMessage()], { maxItems: 2, maxChars: 1000 }));
      expect(error.getStatus()).toBe(400);
      expect(error.toBody().error).toMatchObject({ param: 'input', code: 'array_above_max_length' });
    });

    it('refuses more text than allowed, counted across items and parts', () => {
      expect(normalizeInput('x'.repeat(10), { maxItems: 10, maxChars: 10 })).toHaveLength(1);
      expect(
        normalizeInput(
          [
            { role: 'user', content: [{ type: 'input_text', text: 'x'.repeat(5) }] },
            { role: 'user', content: 'y'.repeat(5) },
          ],
          { maxItems: 10, maxChars: 10 },
        ),
      ).toHaveLength(2);
      const error = thrown(() =>
        normalizeInput(
          [
            { role: 'user', content: [{ type: 'input_text', text: 'x'.repeat(6) }] },
            { role: 'user', content: 'y'.repeat(5) },
          ],
          { maxItems: 10, maxChars: 10 },
        ),
      );
      expect(error.toBody().error).toMatchObject({ param: 'input', code: 'string_above_max_length' });
    });
  });

  describe('security bounds', () => {
    const image = (url: string) => [{ role: 'user', content: [{ type: 'input_image', image_url: url }] }];

    it.each(['file:///etc/passwd', 'http://169.254.169.254/latest/meta-data/', 'ftp://intranet/a.png', 'gopher://x', 'javascript:alert(1)', 'not a url'])(
      'refuses the image URL %s, naming the param',
      (url) => {
        const error = expectRejected(image(url), 'input[0].content[0].image_url', 'invalid_value');
        expect(error.message).not.toContain('passwd');
      },
    );

    it('accepts https and data: image URLs, and http only when the operator allows it', () => {
      expect(() => normalizeInput(image('https://example.com/a.png'))).not.toThrow();
      expect(() => normalizeInput(image('data:image/png;base64,AAAA'))).not.toThrow();
      expect(() => normalizeInput(image('http://images.internal/a.png'))).toThrow();
      expect(() => normalizeInput(image('http://images.internal/a.png'), { maxItems: 10, maxChars: 1e6, allowHttpImages: true })).not.toThrow();
    });

    it('bounds the item references of one request (400 naming input)', () => {
      const refs = Array.from({ length: 6 }, (_, i) => ({ type: 'item_reference', id: `msg_${i}` }));
      expect(normalizeInput(refs.slice(0, 5), { maxItems: 100, maxChars: 1e6, maxReferences: 5 })).toHaveLength(5);
      const error = thrown(() => normalizeInput(refs, { maxItems: 100, maxChars: 1e6, maxReferences: 5 }));
      expect(error.toBody()).toEqual({
        error: { message: expect.stringContaining('at most 5'), type: 'invalid_request_error', param: 'input', code: 'array_above_max_length' },
      });
    });
  });

  describe('what Codex 0.171 replays', () => {
    it('keeps the ids of replayed items and accepts status on them', () => {
      const items = normalizeInput([commentaryReplay, execCall, execOutput, applyPatchCall, applyPatchOutput, namespacedCall, namespacedOutput]);
      expect(items.map((i) => i.id)).toEqual([
        commentaryReplay.id,
        execCall.id,
        execOutput.id,
        applyPatchCall.id,
        applyPatchOutput.id,
        namespacedCall.id,
        namespacedOutput.id,
      ]);
    });

    it('accepts custom_tool_call and custom_tool_call_output, keeping call_id, name, input and output', () => {
      const [call, output] = normalizeInput([applyPatchCall, applyPatchOutput]);
      expect(call).toEqual({
        id: applyPatchCall.id,
        type: 'custom_tool_call',
        call_id: applyPatchCall.call_id,
        name: 'apply_patch',
        input: applyPatchCall.input,
        status: 'completed',
      });
      expect(output).toEqual({ id: applyPatchOutput.id, type: 'custom_tool_call_output', call_id: applyPatchCall.call_id, output: applyPatchOutput.output });
      expect(normalizeInput([{ type: 'custom_tool_call_output', call_id: 'c', output: [{ type: 'input_text', text: 'ok' }] }])[0]).toMatchObject({
        id: expect.stringMatching(/^ctco_/),
        output: [{ type: 'input_text', text: 'ok' }],
      });
      expectRejected([{ type: 'custom_tool_call', call_id: 'c', name: 'apply_patch' }], 'input[0].input', 'missing_required_parameter');
      expectRejected([{ type: 'custom_tool_call', call_id: 'c', name: 'apply_patch', input: { patch: 1 } }], 'input[0].input', 'invalid_type');
    });

    it('keeps the namespace of a function call', () => {
      expect(normalizeInput([namespacedCall])[0]).toMatchObject({ type: 'function_call', name: 'close_agent', namespace: 'multi_agent_v1' });
      expect(normalizeInput([execCall])[0]).not.toHaveProperty('namespace');
      expectRejected([{ ...namespacedCall, namespace: 7 }], 'input[0].namespace', 'invalid_type');
    });

    it('accepts a client tool_search_call and tool_search_output with the tools it loaded', () => {
      const [call, output] = normalizeInput([toolSearchCall, toolSearchOutput]);
      expect(call).toEqual({
        id: toolSearchCall.id,
        type: 'tool_search_call',
        call_id: toolSearchCall.call_id,
        execution: 'client',
        status: 'completed',
        arguments: toolSearchCall.arguments,
      });
      expect(output).toEqual({
        id: toolSearchOutput.id,
        type: 'tool_search_output',
        call_id: toolSearchCall.call_id,
        execution: 'client',
        status: 'completed',
        // Stored as the request's tools are (defer_loading, a Codex hint, is not kept).
        tools: [
          {
            ...toolSearchOutput.tools[0],
            tools: toolSearchOutput.tools[0].tools.map(({ type, name, description, strict, parameters }) => ({ type, name, description, strict, parameters })),
          },
        ],
      });
    });

    it('checks loaded tools by the rules of the request tools, and bounds them and their text', () => {
      const load = (tools: unknown[]) => [toolSearchCall, { ...toolSearchOutput, tools }];
      expectRejected(load([{ type: 'function', name: 'bad name' }]), 'input[1].tools[0].name', 'invalid_value');
      expectRejected(
        load([{ type: 'namespace', name: 'n', tools: [{ type: 'function', name: 'x'.repeat(65) }] }]),
        'input[1].tools[0].tools[0].name',
        'invalid_value',
      );
      expectRejected(load([{ type: 'function', name: 'f', description: 7 }]), 'input[1].tools[0].description', 'invalid_type');
      expectRejected(load([{ type: 'function', name: 'f', parameters: 'x' }]), 'input[1].tools[0].parameters', 'invalid_type');
      expectRejected(
        load([{ type: 'custom', name: 'c', format: { type: 'grammar', syntax: 'peg', definition: 'x' } }]),
        'input[1].tools[0].format.syntax',
        'invalid_value',
      );
      const fns = (n: number) => Array.from({ length: n }, (_, i) => ({ type: 'function', name: `f${i}` }));
      expect(normalizeInput(load(fns(128)))[1]).toMatchObject({
        tools: expect.arrayContaining([{ type: 'function', name: 'f127', description: null, parameters: null, strict: null }]),
      });
      expectRejected(load([{ type: 'namespace', name: 'n', tools: fns(129) }]), 'input[1].tools[0].tools', 'array_above_max_length');
      expectRejected([...load(fns(100)), { ...toolSearchOutput, tools: fns(29) }], 'input[2].tools', 'array_above_max_length');
      const long = load([{ type: 'function', name: 'f', description: 'd'.repeat(1000) }]);
      expect(thrown(() => normalizeInput(long, { maxItems: 10, maxChars: 900 })).toBody().error).toMatchObject({
        param: 'input',
        code: 'string_above_max_length',
      });
    });

    it('refuses a server-run tool search and loaded tools it could not offer upstream, naming them', () => {
      expectRejected([{ ...toolSearchCall, execution: 'server' }], 'input[0].execution', 'unsupported_parameter');
      expectRejected([{ ...toolSearchOutput, tools: [{ type: 'web_search' }] }], 'input[0].tools[0].type', 'unsupported_parameter');
      expectRejected(
        [{ ...toolSearchOutput, tools: [{ type: 'namespace', name: 'n', tools: [{ type: 'function' }] }] }],
        'input[0].tools[0].tools[0].name',
        'missing_required_parameter',
      );
      expectRejected([{ ...toolSearchOutput, tools: 'x' }], 'input[0].tools', 'invalid_type');
      expectRejected([{ ...toolSearchCall, arguments: 'close agent' }], 'input[0].arguments', 'invalid_type');
      // Without call_id neither could be paired upstream (the call's tool_call id and its tool message).
      expectRejected([{ ...toolSearchCall, call_id: undefined }], 'input[0].call_id', 'missing_required_parameter');
      expectRejected([toolSearchCall, { ...toolSearchOutput, call_id: null }], 'input[1].call_id', 'missing_required_parameter');
    });

    it('drops internal_chat_message_metadata_passthrough (openai_base_url form) from the items it rebuilds', () => {
      const passthrough = { turn_id: 't', create_time: 1, content_item_kinds: ['user.text'] };
      const [message, call] = normalizeInput([
        { ...commentaryReplay, internal_chat_message_metadata_passthrough: passthrough },
        { ...execCall, internal_chat_message_metadata_passthrough: passthrough },
      ]);
      expect(message).not.toHaveProperty('internal_chat_message_metadata_passthrough');
      expect(call).not.toHaveProperty('internal_chat_message_metadata_passthrough');
    });
  });
});
