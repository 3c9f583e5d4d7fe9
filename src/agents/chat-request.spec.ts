import type { FunctionTool } from 'openai/resources/responses/responses';
import type { NormalizedRequest, StoredItem } from '../common/response-types';
import { toChatMessages, toChatRequest } from './chat-request';
import type { ResolvedModel } from '../inference/model-registry';

const model: ResolvedModel = { id: 'm', upstreamModel: 'up', maxTokensParam: 'max_tokens', backend: {} as never };

function request(fields: Partial<NormalizedRequest> = {}): NormalizedRequest {
  return { model: 'm', store: true, background: false, stream: false, ...fields };
}

const user = (text: string): StoredItem => ({ id: 'msg_u', type: 'message', role: 'user', content: text });

function fn(name: string, fields: Partial<FunctionTool> = {}): FunctionTool {
  return { type: 'function', name, parameters: { type: 'object', properties: { q: { type: 'string' } } }, strict: true, ...fields };
}

const assistantReply = (text: string): StoredItem => ({
  id: 'msg_a',
  type: 'message',
  role: 'assistant',
  status: 'completed',
  content: [{ type: 'output_text', text, annotations: [] }],
});

const call = (callId: string, name: string, args: string): StoredItem => ({
  id: `fc_${callId}`,
  type: 'function_call',
  call_id: callId,
  name,
  arguments: args,
  status: 'completed',
});

const output = (callId: string, out: string): StoredItem => ({ id: `fco_${callId}`, type: 'function_call_output', call_id: callId, output: out });

describe('toChatMessages', () => {
  it('puts the instructions first, as a system message', () => {
    expect(toChatMessages('Be brief.', [user('hi')])).toEqual([
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'hi' },
    ]);
  });

  it('adds no system message without instructions', () => {
    expect(toChatMessages(null, [user('hi')])).toEqual([{ role: 'user', content: 'hi' }]);
    expect(toChatMessages(undefined, [user('hi')])).toEqual([{ role: 'user', content: 'hi' }]);
  });

  it('turns input_text and input_image parts into chat text and image_url parts, keeping detail', () => {
    const item: StoredItem = {
      id: 'msg_1',
      type: 'message',
      role: 'user',
      content: [
        { type: 'input_text', text: 'What is this?' },
        { type: 'input_image', image_url: 'https://example.com/a.png', detail: 'low' },
        { type: 'input_image', image_url: 'data:image/png;base64,AAAA', detail: 'auto' },
      ],
    };
    expect(toChatMessages(null, [item])).toEqual([
      {
        role: 'user',
        content: [
          { type: 'text', text: 'What is this?' },
          { type: 'image_url', image_url: { url: 'https://example.com/a.png', detail: 'low' } },
          { type: 'image_url', image_url: { url: 'data:image/png;base64,AAAA', detail: 'auto' } },
        ],
      },
    ]);
  });

  it("maps the Responses-only image detail 'original' to chat's 'high'", () => {
    const item: StoredItem = {
      id: 'msg_1',
      type: 'message',
      role: 'user',
      content: [{ type: 'input_image', image_url: 'https://x/y.png', detail: 'original' }],
    };
    expect(toChatMessages(null, [item])).toEqual([{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'https://x/y.png', detail: 'high' } }] }]);
  });

  it('sends developer and system messages as system, with their text', () => {
    const developer: StoredItem = {
      id: 'msg_d',
      type: 'message',
      role: 'developer',
      content: [
        { type: 'input_text', text: 'Use ' },
        { type: 'input_text', text: 'French.' },
      ],
    };
    const system: StoredItem = { id: 'msg_s', type: 'message', role: 'system', content: 'No emojis.' };
    expect(toChatMessages(null, [developer, system, user('hi')])).toEqual([
      { role: 'system', content: 'Use French.' },
      { role: 'system', content: 'No emojis.' },
      { role: 'user', content: 'hi' },
    ]);
  });

  it('replays an assistant output message as an assistant message with its text', () => {
    expect(toChatMessages(null, [user('hi'), assistantReply('Hello!'), user('again')])).toEqual([
      { role: 'user', content: 'hi' },
      { role: 'assistant', content: 'Hello!' },
      { role: 'user', content: 'again' },
    ]);
  });

  it('replays an easy assistant message (string content, no type)', () => {
    const easy: StoredItem = { id: 'msg_e', role: 'assistant', content: 'Hi there' };
    expect(toChatMessages(null, [easy])).toEqual([{ role: 'assistant', content: 'Hi there' }]);
  });

  it('merges function calls that follow an assistant message into it, as tool_calls', () => {
    const messages = toChatMessages(null, [
      user('weather and time?'),
      assistantReply('Checking.'),
      call('call_1', 'get_weather', '{"city":"Paris"}'),
      call('call_2', 'get_time', '{"tz":"UTC"}'),
    ]);
    expect(messages).toEqual([
      { role: 'user', content: 'weather and time?' },
      {
        role: 'assistant',
        content: 'Checking.',
        tool_calls: [
          { id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } },
          { id: 'call_2', type: 'function', function: { name: 'get_time', arguments: '{"tz":"UTC"}' } },
        ],
      },
    ]);
  });

  it('opens an assistant message with null content for calls that no text precedes', () => {
    expect(toChatMessages(null, [user('q'), call('call_1', 'f', '{}')])).toEqual([
      { role: 'user', content: 'q' },
      { role: 'assistant', content: null, tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'f', arguments: '{}' } }] },
    ]);
  });

  it('turns function_call_output into a tool message with the tool_call_id', () => {
    const messages = toChatMessages(null, [user('q'), call('call_1', 'f', '{}'), call('call_2', 'g', '{}'), output('call_1', 'one'), output('call_2', 'two')]);
    expect(messages.slice(2)).toEqual([
      { role: 'tool', tool_call_id: 'call_1', content: 'one' },
      { role: 'tool', tool_call_id: 'call_2', content: 'two' },
    ]);
    expect(messages[1]).toMatchObject({ role: 'assistant', tool_calls: [{ id: 'call_1' }, { id: 'call_2' }] });
  });

  it('gives a tool message the text of a content-part output', () => {
    const item: StoredItem = {
      id: 'fco_1',
      type: 'function_call_output',
      call_id: 'call_1',
      output: [
        { type: 'input_text', text: '21' },
        { type: 'input_text', text: '°C' },
      ],
    };
    expect(toChatMessages(null, [item])).toEqual([{ role: 'tool', tool_call_id: 'call_1', content: '21°C' }]);
  });

  it('keeps consecutive assistant messages apart: each is a chat message of its own', () => {
    const commentary: StoredItem = { ...assistantReply('Let me think.'), id: 'msg_c', phase: 'commentary' } as StoredItem;
    const answer: StoredItem = { ...assistantReply('It is 4.'), id: 'msg_f', phase: 'final_answer' } as StoredItem;
    expect(toChatMessages(null, [user('2+2?'), commentary, answer, user('thanks')])).toEqual([
      { role: 'user', content: '2+2?' },
      { role: 'assistant', content: 'Let me think.' },
      { role: 'assistant', content: 'It is 4.' },
      { role: 'user', content: 'thanks' },
    ]);
  });

  it('joins calls to the last of two assistant messages, the one right before them', () => {
    const messages = toChatMessages(null, [user('q'), assistantReply('One.'), assistantReply('Two.'), call('call_1', 'f', '{}')]);
    expect(messages.slice(1)).toEqual([
      { role: 'assistant', content: 'One.' },
      { role: 'assistant', content: 'Two.', tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'f', arguments: '{}' } }] },
    ]);
  });

  it('starts a new assistant message for text after a tool round, and for calls after a tool message', () => {
    const messages = toChatMessages(null, [
      user('q'),
      call('call_1', 'f', '{}'),
      output('call_1', 'r1'),
      call('call_2', 'g', '{}'),
      output('call_2', 'r2'),
      assistantReply('Done.'),
    ]);
    expect(messages.map((m) => m.role)).toEqual(['user', 'assistant', 'tool', 'assistant', 'tool', 'assistant']);
    expect(messages[3]).toMatchObject({ tool_calls: [{ id: 'call_2' }] });
    expect(messages[5]).toEqual({ role: 'assistant', content: 'Done.' });
  });

  it('leaves out reasoning items without reasoning text (a summary is not what the model thought)', () => {
    const reasoning: StoredItem = { id: 'rs_1', type: 'reasoning', summary: [{ type: 'summary_text', text: 'thought' }] };
    expect(toChatMessages(null, [user('q'), reasoning, assistantReply('a')])).toEqual([
      { role: 'user', content: 'q' },
      { role: 'assistant', content: 'a' },
    ]);
  });

  describe('reasoning replay', () => {
    // As Codex replays them once opened: `content` with the text (it was `null`, with encrypted_content).
    const thought = (id: string, text: string): StoredItem => ({ id, type: 'reasoning', summary: [], content: [{ type: 'reasoning_text', text }] });
    /** One Codex turn: thought, a commentary, a tool call and its result; thought, a tool call; thought, the answer. */
    const codexTurn = [
      user('read hello.txt and patch it'),
      thought('rs_1', 'I should read the file.'),
      assistantReply('Reading the file first.'),
      call('call_1', 'exec_command', '{"cmd":"cat hello.txt"}'),
      output('call_1', 'hello'),
      thought('rs_2', 'Now patch it.'),
      call('call_2', 'apply_patch', '{}'),
      output('call_2', 'Success.'),
      thought('rs_3', 'Done.'),
      assistantReply('Patched.'),
    ];

    it("puts the reasoning on the assistant message of its turn, as `reasoning` by default (vLLM's field)", () => {
      expect(toChatMessages(null, codexTurn)).toEqual([
        { role: 'user', content: 'read hello.txt and patch it' },
        {
          role: 'assistant',
          content: 'Reading the file first.',
          reasoning: 'I should read the file.',
          tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'exec_command', arguments: '{"cmd":"cat hello.txt"}' } }],
        },
        { role: 'tool', tool_call_id: 'call_1', content: 'hello' },
        {
          role: 'assistant',
          content: null,
          reasoning: 'Now patch it.',
          tool_calls: [{ id: 'call_2', type: 'function', function: { name: 'apply_patch', arguments: '{}' } }],
        },
        { role: 'tool', tool_call_id: 'call_2', content: 'Success.' },
        { role: 'assistant', content: 'Patched.', reasoning: 'Done.' },
      ]);
    });

    it('uses `reasoning_content` when the model is set so (DeepSeek, SGLang)', () => {
      const messages = toChatMessages(null, codexTurn, undefined, 'reasoning_content');
      expect(messages.filter((m) => m.role === 'assistant').map((m) => (m as { reasoning_content?: string }).reasoning_content)).toEqual([
        'I should read the file.',
        'Now patch it.',
        'Done.',
      ]);
      expect(messages.some((m) => 'reasoning' in m)).toBe(false);
    });

    it("sends none with 'drop': the messages are those of a history without reasoning", () => {
      const without = codexTurn.filter((i) => (i as { type?: string }).type !== 'reasoning');
      expect(toChatMessages(null, codexTurn, undefined, 'drop')).toEqual(toChatMessages(null, without));
    });

    it('starts a new assistant message: reasoning after an answer belongs to the next upstream turn', () => {
      const messages = toChatMessages(null, [user('q'), assistantReply('First.'), thought('rs_1', 'Then a call.'), call('call_1', 'f', '{}')]);
      expect(messages.slice(1)).toEqual([
        { role: 'assistant', content: 'First.' },
        {
          role: 'assistant',
          content: null,
          reasoning: 'Then a call.',
          tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'f', arguments: '{}' } }],
        },
      ]);
    });

    it('joins consecutive reasoning items and drops reasoning that no assistant item follows', () => {
      expect(toChatMessages(null, [user('q'), thought('rs_1', 'One.'), thought('rs_2', 'Two.'), assistantReply('a')])).toEqual([
        { role: 'user', content: 'q' },
        { role: 'assistant', content: 'a', reasoning: 'One.\n\nTwo.' },
      ]);
      expect(toChatMessages(null, [user('q'), thought('rs_1', 'Lost.'), user('again')])).toEqual([
        { role: 'user', content: 'q' },
        { role: 'user', content: 'again' },
      ]);
    });

    it("takes the model's setting in toChatRequest", () => {
      const params = toChatRequest(request(), [user('q'), thought('rs_1', 'T.'), assistantReply('a')], { ...model, reasoningReplay: 'reasoning_content' });
      expect(params.messages[1]).toEqual({ role: 'assistant', content: 'a', reasoning_content: 'T.' });
    });
  });
});

describe('toChatRequest', () => {
  it('sends the upstream model name and the messages', () => {
    const params = toChatRequest(request({ instructions: 'Be brief.' }), [user('hi')], model);
    expect(params.model).toBe('up');
    expect(params.messages).toEqual([
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'hi' },
    ]);
  });

  it('leaves unset and null parameters out', () => {
    const params = toChatRequest(
      request({ temperature: null, top_p: null, max_output_tokens: null, reasoning: { effort: null }, tools: [] }),
      [user('hi')],
      model,
    );
    expect(Object.keys(params).sort()).toEqual(['messages', 'model']);
  });

  it('maps temperature and top_p, including 0', () => {
    expect(toChatRequest(request({ temperature: 0.2, top_p: 0.9 }), [], model)).toMatchObject({ temperature: 0.2, top_p: 0.9 });
    expect(toChatRequest(request({ temperature: 0, top_p: 0 }), [], model)).toMatchObject({ temperature: 0, top_p: 0 });
  });

  it("sends max_output_tokens as the model's max tokens parameter", () => {
    const legacy = toChatRequest(request({ max_output_tokens: 256 }), [], model);
    expect(legacy.max_tokens).toBe(256);
    expect(legacy).not.toHaveProperty('max_completion_tokens');

    const modern = toChatRequest(request({ max_output_tokens: 256 }), [], { ...model, maxTokensParam: 'max_completion_tokens' });
    expect(modern.max_completion_tokens).toBe(256);
    expect(modern).not.toHaveProperty('max_tokens');
  });

  it('sends safety_identifier, or else user, as the chat user', () => {
    expect(toChatRequest(request({ safety_identifier: 'sid', user: 'u' }), [], model).user).toBe('sid');
    expect(toChatRequest(request({ user: 'u' }), [], model).user).toBe('u');
    // normalizeRequest stores null for unset fields, which the SDK's types do not allow here.
    const unset = { safety_identifier: null, user: null } as unknown as Partial<NormalizedRequest>;
    expect(toChatRequest(request(unset), [], model)).not.toHaveProperty('user');
  });

  it('maps reasoning.effort to reasoning_effort', () => {
    expect(toChatRequest(request({ reasoning: { effort: 'high', summary: null } }), [], model).reasoning_effort).toBe('high');
  });

  it('maps a json_schema text format to a json_schema response_format', () => {
    const schema = { type: 'object', properties: { a: { type: 'string' } }, required: ['a'], additionalProperties: false };
    const params = toChatRequest(request({ text: { format: { type: 'json_schema', name: 'thing', schema, strict: true } } }), [], model);
    expect(params.response_format).toEqual({ type: 'json_schema', json_schema: { name: 'thing', schema, strict: true } });

    const described = toChatRequest(
      request({ text: { format: { type: 'json_schema', name: 'thing', schema, description: 'A thing', strict: false } } }),
      [],
      model,
    );
    expect(described.response_format).toEqual({ type: 'json_schema', json_schema: { name: 'thing', schema, description: 'A thing', strict: false } });
  });

  it('maps json_object, and sends no response_format for plain text', () => {
    expect(toChatRequest(request({ text: { format: { type: 'json_object' } } }), [], model).response_format).toEqual({ type: 'json_object' });
    expect(toChatRequest(request({ text: { format: { type: 'text' } } }), [], model)).not.toHaveProperty('response_format');
  });

  it('maps function tools to chat tools', () => {
    const params = toChatRequest(
      request({ tools: [fn('get_weather', { description: 'Weather now' }), fn('noop', { parameters: null, strict: null })], tool_choice: 'auto' }),
      [],
      model,
    );
    expect(params.tools).toEqual([
      {
        type: 'function',
        function: { name: 'get_weather', description: 'Weather now', parameters: { type: 'object', properties: { q: { type: 'string' } } }, strict: true },
      },
      { type: 'function', function: { name: 'noop', parameters: { type: 'object', properties: {} } } },
    ]);
    expect(params.tool_choice).toBe('auto');
  });

  it('sends no tools and no tool_choice when there are no tools', () => {
    const params = toChatRequest(request({ tools: [], tool_choice: 'auto' }), [], model);
    expect(params).not.toHaveProperty('tools');
    expect(params).not.toHaveProperty('tool_choice');
  });

  it('passes string tool_choice values through', () => {
    for (const choice of ['none', 'auto', 'required'] as const) {
      expect(toChatRequest(request({ tools: [fn('f')], tool_choice: choice }), [], model).tool_choice).toBe(choice);
    }
  });

  it("maps {type:'function', name} to chat's {type:'function', function:{name}}", () => {
    const params = toChatRequest(request({ tools: [fn('f'), fn('g')], tool_choice: { type: 'function', name: 'g' } }), [], model);
    expect(params.tool_choice).toEqual({ type: 'function', function: { name: 'g' } });
    expect(params.tools).toHaveLength(2);
  });

  it('narrows the tool list to allowed_tools and uses its mode', () => {
    const params = toChatRequest(
      request({
        tools: [fn('a'), fn('b'), fn('c')],
        tool_choice: {
          type: 'allowed_tools',
          mode: 'required',
          tools: [
            { type: 'function', name: 'a' },
            { type: 'function', name: 'c' },
          ],
        },
      }),
      [],
      model,
    );
    expect(params.tools?.map((t) => (t.type === 'function' ? t.function.name : t.type))).toEqual(['a', 'c']);
    expect(params.tool_choice).toBe('required');
  });

  it('sends the penalties, 0 included, and nothing when unset', () => {
    expect(toChatRequest(request({ presence_penalty: 0, frequency_penalty: 1.5 }), [], model)).toMatchObject({ presence_penalty: 0, frequency_penalty: 1.5 });
    const plain = toChatRequest(request({ presence_penalty: null }), [], model);
    expect(plain).not.toHaveProperty('presence_penalty');
    expect(plain).not.toHaveProperty('frequency_penalty');
  });

  it('sends the prompt cache fields Chat Completions has: key, retention, options.mode and a 30m ttl', () => {
    const params = toChatRequest(
      request({
        prompt_cache_key: 'k1',
        prompt_cache_retention: '24h',
        prompt_cache_options: { mode: 'explicit', ttl: '30m', comparison_response_id: 'resp_1' },
      }),
      [],
      model,
    );
    expect(params).toMatchObject({ prompt_cache_key: 'k1', prompt_cache_retention: '24h', prompt_cache_options: { mode: 'explicit', ttl: '30m' } });
    expect(params.prompt_cache_options).not.toHaveProperty('comparison_response_id');
    // Chat Completions knows no 12h ttl: mode alone goes on, and nothing when that was all.
    expect(toChatRequest(request({ prompt_cache_options: { mode: 'implicit', ttl: '12h' } }), [], model).prompt_cache_options).toEqual({ mode: 'implicit' });
    expect(toChatRequest(request({ prompt_cache_options: { ttl: '12h' } }), [], model)).not.toHaveProperty('prompt_cache_options');
    const plain = toChatRequest(request({ prompt_cache_key: null, prompt_cache_retention: null }), [], model);
    expect(Object.keys(plain).filter((k) => k.startsWith('prompt_cache'))).toEqual([]);
  });

  it('sends parallel_tool_calls only when it is false', () => {
    expect(toChatRequest(request({ tools: [fn('f')], parallel_tool_calls: false }), [], model).parallel_tool_calls).toBe(false);
    expect(toChatRequest(request({ tools: [fn('f')], parallel_tool_calls: true }), [], model)).not.toHaveProperty('parallel_tool_calls');
  });
});
