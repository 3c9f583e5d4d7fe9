// ts-jest, plus one rewrite for Nest 12's ESM-only packages: `import.meta.url` has no CommonJS
// form in TypeScript's output, so it becomes the equivalent file URL of the compiled module.
// Only files under node_modules are touched; our own code never uses import.meta.
const { TsJestTransformer } = require('ts-jest');

const IMPORT_META_URL = /\bimport\.meta\.url\b/g;
// `const require = createRequire(import.meta.url)` would redeclare CommonJS's own `require`,
// which does the same job.
const OWN_REQUIRE = /^\s*const require = createRequire\(import\.meta\.url\);?\s*$/gm;
const FILE_URL = "require('node:url').pathToFileURL(__filename).href";

class EsmToCjsTransformer extends TsJestTransformer {
  rewrite(source, path) {
    if (!path.includes('/node_modules/')) return source;
    return source.replace(OWN_REQUIRE, '').replace(IMPORT_META_URL, FILE_URL);
  }
  process(source, path, options) {
    return super.process(this.rewrite(source, path), path, options);
  }
  processAsync(source, path, options) {
    return super.processAsync(this.rewrite(source, path), path, options);
  }
}

module.exports = { createTransformer: (config) => new EsmToCjsTransformer(config) };
