import type { StoredItem } from '../common/response-types';
import { SealedValueError, SecretBox } from '../common/secrets';
import { compactedWindow, openCompaction, retainedBudget, retainedUserMessages, sealCompaction, SUMMARY_PREFIX } from './compaction';

const box = new SecretBox('a-unit-test-secret-key-of-enough-length');
const msg = (id: string, role: string, text = id): StoredItem =>
  ({ type: 'message', id, role, content: [{ type: role === 'assistant' ? 'output_text' : 'input_text', text }] }) as StoredItem;
const call = (id: string): StoredItem => ({ type: 'function_call', id, call_id: id, name: 'f', arguments: '{}' });
const ids = (items: StoredItem[]) => items.map((i) => i.id);
const one = () => 1;

describe('compaction items', () => {
  it('seal for the tenant: open for it alone, never when tampered', () => {
    const item = sealCompaction(box, 'team-a', 'cmp_1', 'the summary') as unknown as StoredItem;
    expect(openCompaction(box, 'team-a', item)).toBe('the summary');
    expect(openCompaction(box, 'team-a', { ...item, id: 'cmp_other' })).toBe('the summary'); // Codex drops ids
    expect(() => openCompaction(box, 'team-b', item)).toThrow(SealedValueError);
    const sealed = (item as { encrypted_content: string }).encrypted_content;
    expect(() => openCompaction(box, 'team-a', { ...item, encrypted_content: `${sealed.slice(0, -2)}xx` } as StoredItem)).toThrow(SealedValueError);
    expect(() => openCompaction(undefined, 'team-a', item)).toThrow(SealedValueError);
  });

  it('retain at most 64k tokens of user messages, half the threshold and a quarter of the window (so a compacted window stays under the threshold)', () => {
    expect(retainedBudget()).toBe(64_000);
    expect(retainedBudget(undefined, 8000)).toBe(4000);
    expect(retainedBudget(8192)).toBe(2048);
    expect(retainedBudget(1_000_000, 300_000)).toBe(64_000);
  });

  it('retain the newest user messages within the budget (the newest always), in order', () => {
    const items = [msg('u1', 'user'), msg('a1', 'assistant'), msg('u2', 'user'), msg('u3', 'user')];
    expect(ids(retainedUserMessages(items, 2, one))).toEqual(['u2', 'u3']);
    expect(ids(retainedUserMessages(items, 0, one))).toEqual(['u3']);
  });

  it('stand upstream for what came before the latest one: system, developer and retained user messages stay, the summary takes its place', () => {
    const first = { type: 'compaction', id: 'cmp_1', encrypted_content: 'x' } as unknown as StoredItem;
    const latest = { type: 'compaction', id: 'cmp_2', encrypted_content: 'y' } as unknown as StoredItem;
    const items = [
      msg('s', 'system'),
      msg('u1', 'user'),
      call('c1'),
      first,
      msg('d', 'developer'),
      msg('a1', 'assistant'),
      msg('u2', 'user'),
      latest,
      msg('a2', 'assistant'),
      msg('u3', 'user'),
    ];
    const window = compactedWindow(items, (item) => `summary of ${item.id}`, 10, one);
    expect(ids(window)).toEqual(['s', 'u1', 'd', 'u2', 'cmp_2', 'a2', 'u3']);
    expect(window[4]).toMatchObject({ role: 'user', content: [{ type: 'input_text', text: `${SUMMARY_PREFIX}summary of cmp_2` }] });
    // A summary message is not the user's: a later compaction does not keep it.
    expect(ids(retainedUserMessages(window, 10, one))).toEqual(['u1', 'u2', 'u3']);
    expect(compactedWindow([msg('u', 'user')], () => 'never', 10, one)).toHaveLength(1);
  });
});
