// Nest 12 ships ESM only, and Jest on Node 20 cannot require() ESM: ts-jest compiles those
// packages (and our TypeScript) to CommonJS. Type-checking is `npm run typecheck`'s job.
const transform = {
  '^.+\\.(ts|js|mjs)$': ['<rootDir>/test/jest-transformer.js', { tsconfig: 'tsconfig.jest.json', diagnostics: false }],
};
const transformIgnorePatterns = ['/node_modules/(?!(@nestjs|load-esm)/)'];
const common = { testEnvironment: 'node', rootDir: '.', transform, transformIgnorePatterns };

/** @type {import('jest').Config} */
module.exports = {
  projects: [
    { ...common, displayName: 'unit', testMatch: ['<rootDir>/src/**/*.spec.ts', '<rootDir>/test/support/**/*.spec.ts'] },
  ],
};
