// @ts-check
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: [
      'scripts/**',
      'dist/**',
      'node_modules/**',
      'test/clients/node_modules/**',
      'coverage/**',
      'data/**',
      'test-results/**',
      'jest.config.js',
      'test/jest-transformer.js',
      'eslint.config.mjs',
    ],
  },
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/require-await': 'error',
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      // Nest's decorators and class-validator's classes are not bugs of ours.
      '@typescript-eslint/no-extraneous-class': 'off',
    },
  },
  {
    // Settings are read and validated once, in src/config/ (loadConfig); everything else is given AppConfig.
    files: ['src/**/*.ts', 'ormconfig.ts'],
    ignores: ['src/config/**'],
    rules: {
      'no-restricted-properties': [
        'error',
        { object: 'process', property: 'env', message: 'Read settings through AppConfig (src/config/): add the variable to Environment.' },
      ],
    },
  },
  {
    // The database stays inside persistence: features' `persistence/` folders and `database/`.
    files: ['src/**/*.ts'],
    // src/data-source.ts: the composition root's list of every feature's entities.
    ignores: ['src/**/persistence/**', 'src/database/**', 'src/data-source.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: ['typeorm', '@nestjs/typeorm', 'pg', 'typeorm-pglite'].map((name) => ({
            name,
            message: 'Database access lives in <feature>/persistence/ or database/.',
          })),
          patterns: [{ group: ['typeorm/*', 'typeorm-pglite/*', 'pg/*'], message: 'Database access lives in <feature>/persistence/ or database/.' }],
        },
      ],
    },
  },
  {
    // Tests read loosely typed JSON off the wire on purpose.
    files: ['test/**/*.ts', 'src/**/*.spec.ts'],
    rules: {
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/unbound-method': 'off',
    },
  },
);
