import { randomBytes } from 'node:crypto';

/** Object id prefixes, as OpenAI uses them. */
export type IdPrefix =
  | 'resp'
  /** A spare background job (docs/background.md#scheduling). */
  | 'job'
  | 'msg'
  | 'fc'
  | 'ws'
  | 'fco'
  | 'call'
  | 'rs'
  | 'req'
  | 'item'
  | 'key'
  | 'conv'
  | 'mcp'
  | 'mcpl'
  | 'mcpr'
  | 'we'
  | 'ctc'
  | 'ctco'
  | 'tsc'
  | 'tso'
  | 'cmp'
  | 'file'
  | 'vs'
  | 'vsfb'
  | 'fs';

const ID_BYTES = 24;
/** Random bytes for 256 ids at a time: one call into the CSPRNG instead of one per id (every byte used once). */
const POOL_BYTES = ID_BYTES * 256;
let pool = Buffer.alloc(0);
let offset = 0;

/**
 * An unguessable id: the prefix, a separator and 48 hex characters (192 random bits). The
 * separator is an underscore except where OpenAI uses a dash (`file-…`).
 */
export function newId(prefix: IdPrefix, separator: '_' | '-' = '_'): string {
  if (offset + ID_BYTES > pool.length) {
    pool = randomBytes(POOL_BYTES);
    offset = 0;
  }
  const random = pool.toString('hex', offset, offset + ID_BYTES);
  offset += ID_BYTES;
  return `${prefix}${separator}${random}`;
}

/** Unix time in whole seconds, as the API reports every timestamp. */
export function unixSeconds(date: Date = new Date()): number {
  return Math.floor(date.getTime() / 1000);
}
