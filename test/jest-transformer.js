// ts-jest, plus rewrites for Nest 12's ESM-only packages: `import.meta` has no CommonJS form in
// TypeScript's output, so `import.meta.url` becomes the compiled module's file URL and
// `import.meta.resolve(` becomes `require.resolve(`.
// Only files under node_modules are touched; our own code never uses import.meta.
const { TsJestTransformer } = require('ts-jest');

const IMPORT_META_URL = /\bimport\.meta\.url\b/g;
// `const require = createRequire(import.meta.url)` would redeclare CommonJS's own `require`,
// which does the same job.
const OWN_REQUIRE = /^\s*const require = createRequire\(import\.meta\.url\);?\s*$/gm;
const FILE_URL = "require('node:url').pathToFileURL(__filename).href";
const IMPORT_META_RESOLVE = /\bimport\.meta\.resolve\(/g;

class EsmToCjsTransformer extends TsJestTransformer {
  rewrite(source, path) {
    if (!path.includes('/node_modules/')) return source;
    return source.replace(OWN_REQUIRE, '').replace(IMPORT_META_URL, FILE_URL).replace(IMPORT_META_RESOLVE, 'require.resolve(')
      .replace(/\bimport\.meta\.dirname\b/g, '__dirname')
      .replace(/\bimport\.meta\.filename\b/g, '__filename');
  }
  // Keyed on the rewritten source, so a change to the rewrites invalidates Jest's cache.
  getCacheKey(source, path, options) {
    return super.getCacheKey(this.rewrite(source, path), path, options);
  }
  getCacheKeyAsync(source, path, options) {
    return super.getCacheKeyAsync(this.rewrite(source, path), path, options);
  }
  process(source, path, options) {
    return super.process(this.rewrite(source, path), path, options);
  }
  processAsync(source, path, options) {
    return super.processAsync(this.rewrite(source, path), path, options);
  }
}

module.exports = { createTransformer: (config) => new EsmToCjsTransformer(config) };
