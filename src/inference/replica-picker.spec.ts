import { ReplicaPicker, rendezvousScore } from './replica-picker';

const urls = (n: number) => Array.from({ length: n }, (_, i) => `http://10.0.0.${i + 1}:8000/v1`);
const keys = Array.from({ length: 3000 }, (_, i) => `thread-${i}`);
const firstFor = (picker: ReplicaPicker<string>, key: string) => picker.order(key)[0];

describe('ReplicaPicker (rendezvous hashing on prompt_cache_key)', () => {
  it('gives the same key the same replica, whatever the order of the list and across instances', () => {
    const a = new ReplicaPicker(urls(4), urls(4));
    const reversed = urls(4).reverse();
    const b = new ReplicaPicker(reversed, reversed);
    for (const key of keys.slice(0, 200)) {
      expect(firstFor(a, key)).toBe(firstFor(a, key));
      expect(firstFor(b, key)).toBe(firstFor(a, key));
    }
    // Pinned: the score is a published function of (replica, key), so processes on other hosts agree.
    expect(rendezvousScore('http://10.0.0.1:8000/v1', 'thread-0')).toBe(rendezvousScore('http://10.0.0.1:8000/v1', 'thread-0'));
    expect(rendezvousScore('ab', 'c')).not.toBe(rendezvousScore('a', 'bc'));
  });

  it('spreads keys about evenly', () => {
    const picker = new ReplicaPicker(urls(4), urls(4));
    const counts = new Map<string, number>();
    for (const key of keys) counts.set(firstFor(picker, key), (counts.get(firstFor(picker, key)) ?? 0) + 1);
    expect(counts.size).toBe(4);
    for (const count of counts.values()) expect(count).toBeGreaterThan((keys.length / 4) * 0.85);
  });

  it('moves only the keys of a removed replica, and about 1/n of the keys to an added one', () => {
    const four = new ReplicaPicker(urls(4), urls(4));
    const three = new ReplicaPicker(urls(3), urls(3)); // replica 4 removed
    let moved = 0;
    for (const key of keys) {
      const before = firstFor(four, key);
      const after = firstFor(three, key);
      if (before !== urls(4)[3]) expect(after).toBe(before);
      else moved++;
    }
    expect(moved).toBeGreaterThan(0);
    const five = new ReplicaPicker(urls(5), urls(5));
    const gained = keys.filter((key) => firstFor(five, key) !== firstFor(four, key));
    for (const key of gained) expect(firstFor(five, key)).toBe(urls(5)[4]);
    expect(gained.length).toBeGreaterThan(keys.length * 0.15);
    expect(gained.length).toBeLessThan(keys.length * 0.25);
  });

  it('lists every replica once, preferred first, so a caller can fail over', () => {
    const picker = new ReplicaPicker(urls(3), urls(3));
    const order = picker.order('thread-7');
    expect([...order].sort()).toEqual(urls(3));
    expect(order[0]).toBe(firstFor(picker, 'thread-7'));
  });

  it('goes round-robin without a key', () => {
    const picker = new ReplicaPicker(['a', 'b', 'c'], ['a', 'b', 'c']);
    expect([picker.order(), picker.order(null), picker.order(''), picker.order()].map((o) => o[0])).toEqual(['a', 'b', 'c', 'a']);
    expect(picker.order()).toEqual(['b', 'c', 'a']);
  });

  it('refuses an empty list or ids that do not match', () => {
    expect(() => new ReplicaPicker([], [])).toThrow();
    expect(() => new ReplicaPicker(['a'], ['a', 'b'])).toThrow();
  });
});
