// Installs test/clients/ (the client packages at their pinned current versions) when its lockfile
// is newer than what is installed: `npm test` runs it first, so a fresh clone needs nothing more.
const { execFileSync } = require('node:child_process');
const { existsSync, statSync } = require('node:fs');
const { join } = require('node:path');

const dir = join(__dirname, '..', 'test', 'clients');
const installed = join(dir, 'node_modules', '.package-lock.json');
const lock = join(dir, 'package-lock.json');
if (!existsSync(installed) || statSync(installed).mtimeMs < statSync(lock).mtimeMs) {
  execFileSync('npm', ['ci', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: dir, stdio: 'inherit' });
}
