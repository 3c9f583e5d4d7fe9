// Nest 12 and some of its dependencies ship ESM only, and Jest on Node 20 cannot require() ESM:
// our transformer (ts-jest plus a few rewrites) compiles those packages and our TypeScript to
// CommonJS. Type-checking is `npm run typecheck`'s job, so ts-jest only transpiles here.
const { existsSync, readdirSync, readFileSync } = require('node:fs');
const { join } = require('node:path');

/** Every installed package whose package.json says "type": "module". */
function esmPackages(root = join(__dirname, 'node_modules')) {
  const names = [];
  for (const entry of readdirSync(root)) {
    if (entry.startsWith('.')) continue;
    const scoped = entry.startsWith('@') ? readdirSync(join(root, entry)).map((n) => `${entry}/${n}`) : [entry];
    for (const name of scoped) {
      try {
        if (JSON.parse(readFileSync(join(root, name, 'package.json'), 'utf8')).type === 'module') names.push(name);
      } catch {
        // not a package
      }
    }
  }
  return names;
}

const escape = (s) => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
const transform = {
  '^.+\\.(ts|js|mjs)$': ['<rootDir>/test/jest-transformer.js', { tsconfig: 'tsconfig.jest.json', diagnostics: false }],
};
const clientsModules = join(__dirname, 'test/clients/node_modules');
const esm = [...new Set([...esmPackages(), ...(existsSync(clientsModules) ? esmPackages(clientsModules) : [])])];
const transformIgnorePatterns = [`/node_modules/(?!(${esm.map(escape).join('|')})/)`];
// The clients users run today (test/clients/package.json) need Node 22 or later.
const clientsRun = Number(process.versions.node.split('.')[0]) >= 22;
const common = { testEnvironment: 'node', rootDir: '.', transform, transformIgnorePatterns };

/** @type {import('jest').Config} */
module.exports = {
  transform,
  transformIgnorePatterns,
  globalSetup: '<rootDir>/test/support/global-setup.ts',
  // Global in Jest (not per project): e2e tests start servers and PGlite.
  testTimeout: 30_000,
  projects: [
    { ...common, displayName: 'unit', testMatch: ['<rootDir>/src/**/*.spec.ts', '<rootDir>/test/support/**/*.spec.ts'] },
    { ...common, displayName: 'store', testMatch: ['<rootDir>/test/store/**/*.spec.ts'] },
    { ...common, displayName: 'e2e', testMatch: ['<rootDir>/test/e2e/**/*.e2e-spec.ts'] },
    { ...common, displayName: 'browser', testMatch: ['<rootDir>/test/browser/**/*.browser-spec.ts'] },
    // Real processes, our own Postgres and Redis, faults injected for real (docs/reliability.md).
    { ...common, displayName: 'faults', testMatch: ['<rootDir>/test/faults/**/*.fault-spec.ts'] },
    // Current client packages (their own pinned package, test/clients/) against the real app.
    ...(clientsRun ? [{ ...common, displayName: 'clients', testMatch: ['<rootDir>/test/clients/**/*.client-spec.ts'] }] : []),
  ],
};
