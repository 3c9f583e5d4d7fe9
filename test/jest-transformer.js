// ts-jest, plus one rewrite for Nest 12's ESM-only packages: `import.meta.url` has no CommonJS
// form in TypeScript's output, so it becomes the equivalent file URL of the compiled module.
// Only files under node_modules are touched; our own code never uses import.meta.
const { TsJestTransformer } = require('ts-jest');

const IMPORT_META_URL = /\bimport\.meta\.url\b/g;
const FILE_URL = "require('node:url').pathToFileURL(__filename).href";

class EsmToCjsTransformer extends TsJestTransformer {
  rewrite(source, path) {
    return path.includes('/node_modules/') ? source.replace(IMPORT_META_URL, FILE_URL) : source;
  }
  process(source, path, options) {
    return super.process(this.rewrite(source, path), path, options);
  }
  processAsync(source, path, options) {
    return super.processAsync(this.rewrite(source, path), path, options);
  }
}

module.exports = { createTransformer: (config) => new EsmToCjsTransformer(config) };
