'use strict';
/* eslint-disable @typescript-eslint/no-require-imports -- CommonJS on purpose: `node bench/run.js` runs as is, with no build step */
/**
 * Loads one of the tests' TypeScript modules into the benchmark (the fake upstream, which tests and
 * bench share): transpiled in memory with the project's own `typescript` (no type check: that is
 * `npm run typecheck`'s job), once, at start-up. Only for modules that import nothing but Node's
 * built-ins and packages: their relative imports would not be transpiled.
 */
const { readFileSync } = require('node:fs');
const Module = require('node:module');
const ts = require('typescript');

/** @param {string} file an absolute path to a .ts file @returns {unknown} its exports */
function requireTs(file) {
  const { outputText } = ts.transpileModule(readFileSync(file, 'utf8'), {
    fileName: file,
    compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2023, esModuleInterop: true, sourceMap: false },
  });
  const loaded = new Module(file, module);
  loaded.filename = file;
  loaded.paths = /** @type {{ _nodeModulePaths(dir: string): string[] }} */ (/** @type {unknown} */ (Module))._nodeModulePaths(
    require('node:path').dirname(file),
  );
  // The hook ts-node and Jest's require use as well: compile source text as a CommonJS module.
  /** @type {{ _compile(code: string, file: string): void }} */ (/** @type {unknown} */ (loaded))._compile(outputText, file);
  return loaded.exports;
}

module.exports = { requireTs };
