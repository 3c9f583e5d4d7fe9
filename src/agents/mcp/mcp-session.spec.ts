import { capText } from './mcp-session';

describe('capText', () => {
  it('leaves a text within the limit as it is', () => {
    expect(capText('short', 5)).toBe('short');
  });

  it('cuts at the byte limit with a marker that says how much is gone', () => {
    expect(capText('x'.repeat(10_000), 1024)).toBe(`${'x'.repeat(1024)}…[truncated: 8976 bytes omitted]`);
  });

  it('never cuts inside a character', () => {
    const text = 'é'.repeat(10); // 2 bytes each
    const capped = capText(text, 5);
    expect(capped).toBe('éé…[truncated: 16 bytes omitted]');
    expect(capped).not.toContain('\ufffd');
  });
});
