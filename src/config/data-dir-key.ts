import { randomBytes } from 'node:crypto';
import { linkSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';

/** The file in DATA_DIR that holds the generated key of an embedded server without SECRETS_KEY. */
export const DATA_DIR_KEY_FILE = 'secrets.key';

const generate = (): string => randomBytes(32).toString('base64url');

/**
 * The sealing key of an embedded server (no DATABASE_URL) that has no SECRETS_KEY: generated once
 * and kept in `DATA_DIR/secrets.key` (mode 0600), so what it sealed still opens after a restart.
 * With an in-memory DATA_DIR (`memory://`) nothing outlives the process anyway: a key for this process only.
 */
export function dataDirKey(dataDir: string): string {
  if (dataDir.startsWith('memory://')) return generate();
  const file = resolve(dataDir, DATA_DIR_KEY_FILE);
  try {
    return readKey(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  mkdirSync(dataDir, { recursive: true });
  // Written whole under a name of this process's, then linked into place: the key file is never
  // seen empty or half written, and when two processes start at once on one DATA_DIR the link of
  // the second fails (EEXIST) and it reads the first's key.
  const temp = `${file}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    writeFileSync(temp, `${generate()}\n`, { mode: 0o600, flag: 'wx' });
    linkSync(temp, file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  } finally {
    rmSync(temp, { force: true });
  }
  return readKey(file);
}

function readKey(file: string): string {
  const key = readFileSync(file, 'utf8').trim();
  if (key.length < 16) throw new Error(`${file} does not hold a key (at least 16 characters): remove it to have a new one generated.`);
  return key;
}
