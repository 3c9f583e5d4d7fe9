import { existsSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from './app-config';
import { DATA_DIR_KEY_FILE, dataDirKey } from './data-dir-key';

const context = { purpose: 'reasoning', tenant: 'acme', id: 'rs_1' };

describe('the sealing key of an embedded server', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'gw-key-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('is generated once in DATA_DIR, readable by its owner only, and the same after a restart', () => {
    const dataDir = join(dir, 'data'); // not there yet: created
    const key = dataDirKey(dataDir);
    expect(key.length).toBeGreaterThanOrEqual(32);
    expect(statSync(join(dataDir, DATA_DIR_KEY_FILE)).mode & 0o777).toBe(0o600);
    expect(dataDirKey(dataDir)).toBe(key);
    expect(readdirSync(dataDir)).toEqual([DATA_DIR_KEY_FILE]); // the file it was written under first is gone
    // Two processes on one DATA_DIR: what one seals, the other opens.
    const sealed = loadConfig({ DATA_DIR: dataDir }).clientSealBox!.seal('t', context);
    expect(loadConfig({ DATA_DIR: dataDir }).clientSealBox!.open(sealed, context)).toBe('t');
  });

  it('refuses a key file that holds no key, saying what to do', () => {
    writeFileSync(join(dir, DATA_DIR_KEY_FILE), '\n');
    expect(() => dataDirKey(dir)).toThrow(/remove it/);
  });

  it('is a key of this process only with an in-memory DATA_DIR', () => {
    expect(dataDirKey('memory://')).not.toBe(dataDirKey('memory://'));
    expect(loadConfig({ DATA_DIR: 'memory://' }).clientSealBox).toBeDefined();
  });

  it('gives way to SECRETS_KEY, and is not made for Postgres (its processes could not share it)', () => {
    const config = loadConfig({ DATA_DIR: dir, SECRETS_KEY: 'a-test-secret-key-of-enough-length' });
    expect(config.clientSealBox).toBe(config.secretBox);
    expect(loadConfig({ DATA_DIR: dir, DATABASE_URL: 'postgres://localhost/gw' }).clientSealBox).toBeUndefined();
    expect(existsSync(join(dir, DATA_DIR_KEY_FILE))).toBe(false);
  });
});
