import { createCipheriv, createHash, randomBytes } from 'node:crypto';
import { SealedValueError, SecretBox } from './secrets';

const KEY = 'a-test-secret-key-of-enough-length';
const context = { purpose: 'mcp-headers', tenant: 'team-a', id: 'resp_1' };

/** A value as the v1 SecretBox sealed it (SHA-256 of the key, no binding). */
function legacySeal(secret: string, plain: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', createHash('sha256').update(secret).digest(), iv);
  const data = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
  return ['v1', iv.toString('base64url'), cipher.getAuthTag().toString('base64url'), data.toString('base64url')].join('.');
}

describe('SecretBox', () => {
  it('opens what it sealed, for the same purpose, tenant and id', () => {
    const box = new SecretBox(KEY);
    const sealed = box.seal('{"authorization":"Bearer x"}', context);
    expect(sealed).toMatch(/^v2\.[\w-]{8}\.[\w-]+\.[\w-]+\.[\w-]+$/);
    expect(sealed).not.toContain('Bearer');
    expect(box.open(sealed, context)).toBe('{"authorization":"Bearer x"}');
  });

  it.each([
    ['another row', { ...context, id: 'resp_2' }],
    ['another tenant', { ...context, tenant: 'team-b' }],
    ['another purpose', { ...context, purpose: 'webhook-secret' }],
  ])('does not open a value moved to %s', (_, other) => {
    const box = new SecretBox(KEY);
    expect(() => box.open(box.seal('secret', context), other)).toThrow(SealedValueError);
  });

  it('does not open a tampered value, nor one of another key', () => {
    const box = new SecretBox(KEY);
    const sealed = box.seal('secret', context).split('.');
    const data = Buffer.from(sealed[4], 'base64url');
    data[0] ^= 1;
    expect(() => box.open([...sealed.slice(0, 4), data.toString('base64url')].join('.'), context)).toThrow(SealedValueError);
    expect(() => new SecretBox('another-key-of-enough-length').open(box.seal('secret', context), context)).toThrow(/key this server does not have/);
    expect(() => box.open('garbage', context)).toThrow(SealedValueError);
  });

  it('opens only full-length tags, and no v1 value where legacy is off (values clients bring back)', () => {
    const box = new SecretBox(KEY);
    const sealed = box.seal('secret', context).split('.');
    const short = Buffer.from(sealed[3], 'base64url').subarray(0, 4).toString('base64url');
    expect(() => box.open([...sealed.slice(0, 3), short, sealed[4]].join('.'), context)).toThrow(SealedValueError);
    const legacy = legacySeal(KEY, 'old');
    expect(box.open(legacy, context)).toBe('old');
    expect(() => box.open(legacy, context, { legacy: false })).toThrow(SealedValueError);
  });

  it('rotates: the previous key still opens what it sealed, new values are sealed with the new one', () => {
    const old = new SecretBox(KEY);
    const sealedBefore = old.seal('before', context);
    const rotated = new SecretBox('the-new-key-of-enough-length', [KEY]);
    expect(rotated.open(sealedBefore, context)).toBe('before');
    const sealedAfter = rotated.seal('after', context);
    expect(sealedAfter.split('.')[1]).not.toBe(sealedBefore.split('.')[1]);
    expect(() => old.open(sealedAfter, context)).toThrow(SealedValueError);
  });

  it('derives keys with HKDF per purpose and tenant: the v1 key (SHA-256 of SECRETS_KEY) does not open v2 values', () => {
    const sealed = new SecretBox(KEY).seal('secret', context).split('.');
    const v1Form = ['v1', sealed[2], sealed[3], sealed[4]].join('.');
    expect(() => new SecretBox(KEY).open(v1Form, context)).toThrow(SealedValueError);
  });

  it('still opens values sealed in the v1 form, under the current or a previous key', () => {
    expect(new SecretBox(KEY).open(legacySeal(KEY, 'old'), context)).toBe('old');
    expect(new SecretBox('the-new-key-of-enough-length', [KEY]).open(legacySeal(KEY, 'old'), context)).toBe('old');
  });
});
