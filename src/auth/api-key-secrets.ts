import { createHash, randomBytes } from 'node:crypto';

/** SHA-256 of a key's secret, hex: what is stored and looked up (keys are random, not passwords). */
export const digestOf = (secret: string): string => createHash('sha256').update(secret).digest('hex');

/** A new key: `sk-rg-` and 192 random bits; the secret leaves this function only to be shown once. */
export function generateApiKey(): { secret: string; digest: string; prefix: string } {
  const secret = `sk-rg-${randomBytes(24).toString('base64url')}`;
  return { secret, digest: digestOf(secret), prefix: secret.slice(0, 10) };
}
