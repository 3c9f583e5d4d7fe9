import { randomBytes } from 'node:crypto';

/** Object id prefixes, as OpenAI uses them. */
export type IdPrefix = 'resp' | 'msg' | 'fc' | 'fco' | 'call' | 'rs' | 'req' | 'item' | 'key' | 'conv' | 'mcp' | 'mcpl' | 'mcpr';

/** An unguessable id: the prefix, an underscore and 48 hex characters (192 random bits). */
export function newId(prefix: IdPrefix): string {
  return `${prefix}_${randomBytes(24).toString('hex')}`;
}

/** Unix time in whole seconds, as the API reports every timestamp. */
export function unixSeconds(date: Date = new Date()): number {
  return Math.floor(date.getTime() / 1000);
}
