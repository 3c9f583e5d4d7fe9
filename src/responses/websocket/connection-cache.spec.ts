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

  it('drops the oldest past its bytes, and keeps no response whose history alone is past them', () => {
    const cache = new ConnectionCache(8, 500); // an item here is ~290 bytes of JSON
    cache.put('resp_1', [], [item('a'.repeat(100))]);
    cache.put('resp_2', [], [item('b'.repeat(120))]);
    expect(cache.get('resp_1')).toBeUndefined();
    expect(cache.get('resp_2')).toBeDefined();
    cache.put('resp_3', [], [item('c'.repeat(400))]);
    expect(cache.get('resp_3')).toBeUndefined();
    expect(cache.get('resp_2')).toBeDefined();
  });

  it('counts each entry with its whole history: a long chain cannot outgrow the bound once its ancestors are gone', () => {
    const cache = new ConnectionCache(2, 2000);
    let history: StoredItem[] = [];
    let longest = 0;
    for (let i = 0; i < 50; i++) {
      cache.put(`resp_${i}`, history, [item('x'.repeat(100))]);
      // Past the bound the continuation is not found, and the client starts over with its whole input.
      history = cache.get(`resp_${i}`) ?? [];
      longest = Math.max(longest, history.length);
    }
    // ~290 bytes an item: no held history passes 2000 bytes, however long the chain ran.
    expect(longest).toBe(6);
  });

  it('keeps no history longer than its item bound', () => {
    const cache = new ConnectionCache(8, 1_000_000, 2);
    cache.put('resp_1', [item('a')], [item('b'), item('c')]);
    expect(cache.get('resp_1')).toBeUndefined();
  });

  it('evicts on demand', () => {
    const cache = new ConnectionCache(8, 1_000_000);
    cache.put('resp_1', [], [item('a')]);
    cache.evict('resp_1');
    expect(cache.get('resp_1')).toBeUndefined();
  });
});
