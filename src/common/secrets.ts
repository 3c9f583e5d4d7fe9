import { createCipheriv, createDecipheriv, createHash, hkdfSync, randomBytes } from 'node:crypto';

/** What a sealed value is for and whose it is: part of its key, and bound to it as associated data. */
export interface SealContext {
  /** What kind of secret (`webhook-secret`, `mcp-headers`, …): a value sealed for one purpose never opens for another. */
  purpose: string;
  /** The row or item the value belongs to: a sealed value copied onto another row does not open. */
  id: string;
  /** The tenant, when the value is a tenant's: its key is derived for that tenant alone. */
  tenant?: string;
}

/** A sealed value that cannot be opened: tampered with, sealed for another row, or under a key this server no longer has. */
export class SealedValueError extends Error {}

const VERSION = 'v2';
const SALT = Buffer.from('responses-gateway/secret-box/v2');

/** A master key: its id (named in every value it seals) and the HKDF input. */
interface MasterKey {
  id: string;
  material: Buffer;
  /** The v1 key (SHA-256 of the secret), for values sealed before v2. */
  legacy: Buffer;
}

function masterKey(secret: string): MasterKey {
  const material = Buffer.from(secret, 'utf8');
  const id = Buffer.from(hkdfSync('sha256', material, SALT, 'key-id', 6)).toString('base64url');
  return { id, material, legacy: createHash('sha256').update(secret).digest() };
}

const aad = (c: SealContext) => Buffer.from(`${c.purpose}\0${c.tenant ?? ''}\0${c.id}`, 'utf8');

/**
 * Seals small secrets (webhook endpoint secrets, MCP headers of background responses) with
 * AES-256-GCM. The key for each value is derived with HKDF-SHA256 from SECRETS_KEY, the purpose
 * and the tenant; the purpose, tenant and row id are the associated data. A sealed value is
 * `v2.<key id>.<iv>.<tag>.<data>`: the key id names which master key sealed it, so SECRETS_KEY can
 * be rotated (the old one moves to SECRETS_KEY_PREVIOUS; what it sealed still opens, new values use
 * the new one). `v1.<iv>.<tag>.<data>` values (SHA-256 key, no binding) from before still open.
 */
export class SecretBox {
  private readonly current: MasterKey;
  private readonly keys: Map<string, MasterKey>;

  constructor(secret: string, previous: readonly string[] = []) {
    this.current = masterKey(secret);
    this.keys = new Map([this.current, ...previous.map(masterKey)].map((k) => [k.id, k]));
  }

  private static derive(key: MasterKey, context: SealContext): Buffer {
    return Buffer.from(hkdfSync('sha256', key.material, SALT, `${context.purpose}\0${context.tenant ?? ''}`, 32));
  }

  seal(plain: string, context: SealContext): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', SecretBox.derive(this.current, context), iv);
    cipher.setAAD(aad(context));
    const data = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
    return [VERSION, this.current.id, iv.toString('base64url'), cipher.getAuthTag().toString('base64url'), data.toString('base64url')].join('.');
  }

  /** Throws SealedValueError unless `sealed` was sealed by one of our keys for exactly this context (and not as v1 with `legacy: false`). */
  open(sealed: string, context: SealContext, options: { legacy?: boolean } = {}): string {
    const parts = sealed.split('.');
    // Values a client brings back (`legacy: false`) never were v1: no v1 key is tried on them.
    if (parts[0] === 'v1' && options.legacy === false) throw new SealedValueError('not a sealed value');
    try {
      if (parts[0] === VERSION && parts.length === 5) {
        const key = this.keys.get(parts[1]);
        if (!key) throw new SealedValueError('sealed under a key this server does not have (see SECRETS_KEY_PREVIOUS)');
        return decrypt(SecretBox.derive(key, context), parts[2], parts[3], parts[4], aad(context));
      }
      if (parts[0] === 'v1' && parts.length === 4) {
        for (const key of this.keys.values()) {
          try {
            return decrypt(key.legacy, parts[1], parts[2], parts[3]);
          } catch {
            // another key's
          }
        }
        throw new SealedValueError('no key of this server opens it');
      }
    } catch (error) {
      if (error instanceof SealedValueError) throw error;
      throw new SealedValueError('it does not open (tampered with, or sealed for another row)');
    }
    throw new SealedValueError('not a sealed value');
  }
}

function decrypt(key: Buffer, iv: string, tag: string, data: string, associated?: Buffer): string {
  // Only full 16-byte tags: a shorter one given to setAuthTag would be checked on its bytes alone.
  const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'), { authTagLength: 16 });
  if (associated) decipher.setAAD(associated);
  decipher.setAuthTag(Buffer.from(tag, 'base64url'));
  return Buffer.concat([decipher.update(Buffer.from(data, 'base64url')), decipher.final()]).toString('utf8');
}
