// Nest 12 ships ESM only, and Jest on Node 20 cannot require() ESM: our transformer (ts-jest plus
// one rewrite) compiles those packages and our TypeScript to CommonJS. Type-checking is
// `npm run typecheck`'s job, so ts-jest only transpiles here.
const transform = {
  '^.+\\.(ts|js|mjs)$': ['<rootDir>/test/jest-transformer.js', { tsconfig: 'tsconfig.jest.json', diagnostics: false }],
};
const transformIgnorePatterns = ['/node_modules/(?!(@nestjs|load-esm)/)'];
const common = { testEnvironment: 'node', rootDir: '.', transform, transformIgnorePatterns };

/** @type {import('jest').Config} */
module.exports = {
  transform,
  transformIgnorePatterns,
  globalSetup: '<rootDir>/test/support/global-setup.ts',
  projects: [
    { ...common, displayName: 'unit', testMatch: ['<rootDir>/src/**/*.spec.ts', '<rootDir>/test/support/**/*.spec.ts'] },
    { ...common, displayName: 'store', testMatch: ['<rootDir>/test/store/**/*.spec.ts'] },
    { ...common, displayName: 'e2e', testMatch: ['<rootDir>/test/e2e/**/*.e2e-spec.ts'], testTimeout: 30_000 },
  ],
};
