import type { StoredItem } from '../../common/response-types';
import { ConnectionCache } from './connection-cache';

const item = (text: string) => ({ id: `msg_${text}`, type: 'message', role: 'user', content: [{ type: 'input_text', text }] }) as unknown as StoredItem;

describe('ConnectionCache', () => {
  it('continues a chain: each entry holds its history and what it added', () => {
    const cache = new ConnectionCache(8, 1_000_000);
    cache.put('resp_1', [], [item('a'), item('b')]);
    cache.put('resp_2', cache.get('resp_1')!, [item('c')]);
    expect(cache.get('resp_2')!.map((i) => (i as { id: string }).id)).toEqual(['msg_a', 'msg_b', 'msg_c']);
  });

  it('drops the least recently used past its count, and never the newest', () => {
    const cache = new ConnectionCache(2, 1_000_000);
    cache.put('resp_1', [], [item('a')]);
    cache.put('resp_2', [], [item('b')]);
    cache.get('resp_1'); // now the most recently used
    cache.put('resp_3', [], [item('c')]);
    expect(cache.get('resp_2')).toBeUndefined();
    expect(cache.get('resp_1')).toBeDefined();
    expect(cache.get('resp_3')).toBeDefined();
  });

  it('drops the oldest past its bytes, but keeps the newest even when it alone is over', () => {
    const cache = new ConnectionCache(8, 200);
    cache.put('resp_1', [], [item('a'.repeat(100))]);
    cache.put('resp_2', [], [item('b'.repeat(300))]);
    expect(cache.get('resp_1')).toBeUndefined();
    expect(cache.get('resp_2')).toBeDefined();
    expect(cache.size).toBe(1);
  });

  it('evicts on demand', () => {
    const cache = new ConnectionCache(8, 1_000_000);
    cache.put('resp_1', [], [item('a')]);
    cache.evict('resp_1');
    expect(cache.get('resp_1')).toBeUndefined();
  });
});
