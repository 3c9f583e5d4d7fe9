import type { ChatCompletionMessageParam } from 'openai/resources/chat/completions';
import { replyReserve, truncateToFit } from './truncation';

const sys = (content: string): ChatCompletionMessageParam => ({ role: 'system', content });
const user = (content: string): ChatCompletionMessageParam => ({ role: 'user', content });
const reply = (content: string): ChatCompletionMessageParam => ({ role: 'assistant', content });
const call = (...ids: string[]): ChatCompletionMessageParam => ({
  role: 'assistant',
  content: null,
  tool_calls: ids.map((id) => ({ id, type: 'function', function: { name: 'f', arguments: '{}' } })),
});
const result = (id: string): ChatCompletionMessageParam => ({ role: 'tool', tool_call_id: id, content: 'r' });
/** Every message costs 10 in these tests. */
const measure = (messages: ChatCompletionMessageParam[]) => messages.length * 10;
const shape = (messages: ChatCompletionMessageParam[]) =>
  messages.map((m) => (m.role === 'tool' ? `tool:${m.tool_call_id}` : `${m.role}:${typeof m.content === 'string' ? m.content : 'calls'}`));

describe('truncateToFit (truncation: "auto")', () => {
  const history = [sys('instructions'), user('u1'), call('a', 'b'), result('a'), result('b'), reply('r1'), sys('dev'), user('u2'), reply('r2'), user('u3')];

  it('keeps a prompt that fits as it is', () => {
    expect(truncateToFit(history, 100, 100, measure)).toBe(history);
  });

  it('drops the oldest messages first, never a system message, until it fits', () => {
    expect(shape(truncateToFit(history, 100, 90, measure))).toEqual([
      'system:instructions',
      'assistant:calls',
      'tool:a',
      'tool:b',
      'assistant:r1',
      'system:dev',
      'user:u2',
      'assistant:r2',
      'user:u3',
    ]);
  });

  it('drops a tool call together with all of its results, never half of the pair', () => {
    const kept = truncateToFit(history, 100, 80, measure);
    expect(shape(kept)).toEqual(['system:instructions', 'assistant:r1', 'system:dev', 'user:u2', 'assistant:r2', 'user:u3']);
    for (const m of kept)
      if (m.role === 'tool') expect(kept.some((c) => c.role === 'assistant' && c.tool_calls?.some((t) => t.id === m.tool_call_id))).toBe(true);
  });

  it('always keeps the last turn, even when nothing else is left and it still does not fit', () => {
    expect(shape(truncateToFit(history, 1000, 10, measure))).toEqual(['system:instructions', 'system:dev', 'user:u3']);
    // In a tool loop the turn starts at the user's message: the task stays with its calls.
    const loop = [sys('i'), user('old'), reply('r'), user('task'), call('x'), result('x')];
    expect(shape(truncateToFit(loop, 1000, 10, measure))).toEqual(['system:i', 'user:task', 'assistant:calls', 'tool:x']);
  });

  it('reserves max_output_tokens for the reply, else an eighth of the window up to 4096', () => {
    expect(replyReserve(8192, 100)).toBe(100);
    expect(replyReserve(8192, null)).toBe(1024);
    expect(replyReserve(128_000, undefined)).toBe(4096);
  });
});
