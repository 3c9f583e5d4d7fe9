import { newId } from './ids';

describe('newId', () => {
  it('gives prefixed ids of 48 hex characters, never the same twice across pool refills', () => {
    const ids = Array.from({ length: 2_000 }, () => newId('resp'));
    for (const id of ids) expect(id).toMatch(/^resp_[0-9a-f]{48}$/);
    expect(new Set(ids).size).toBe(ids.length);
  });
});
