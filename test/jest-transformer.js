// ts-jest, plus rewrites for Nest 12's ESM-only packages: `import.meta` has no CommonJS form in
// TypeScript's output, so `import.meta.url` becomes the compiled module's file URL and
// `import.meta.resolve(` becomes `require.resolve(`.
// Only files under node_modules are touched; our own code never uses import.meta.
const { createHash } = require('node:crypto');
const { TsJestTransformer } = require('ts-jest');
const ts = require('typescript');

const IMPORT_META_URL = /\bimport\.meta\.url\b/g;
// `const require = createRequire(import.meta.url)` would redeclare CommonJS's own `require`,
// which does the same job.
const OWN_REQUIRE = /^\s*const require = createRequire\(import\.meta\.url\);?\s*$/gm;
const FILE_URL = "require('node:url').pathToFileURL(__filename).href";
const IMPORT_META_RESOLVE = /\bimport\.meta\.resolve\(/g;

/**
 * Packages are compiled apart from our code, with their own class-field semantics: under ours
 * (useDefineForClassFields false), TypeScript moves field initializers before a `super()` written
 * inside a comma expression (as jose's error classes are), and constructing such a class throws.
 * ts-jest keeps one compiler per Jest project whatever the options, hence TypeScript directly.
 */
const DEPENDENCY_OPTIONS = {
  module: ts.ModuleKind.CommonJS,
  target: ts.ScriptTarget.ES2023,
  allowJs: true,
  esModuleInterop: true,
  useDefineForClassFields: true,
  inlineSourceMap: true,
};
const dependencyKey = (source, path) => createHash('sha1').update(`deps-1\0${ts.version}\0${path}\0`).update(source).digest('hex');

class EsmToCjsTransformer extends TsJestTransformer {
  rewrite(source, path) {
    if (!path.includes('/node_modules/')) return source;
    return source
      .replace(OWN_REQUIRE, '')
      .replace(IMPORT_META_URL, FILE_URL)
      .replace(IMPORT_META_RESOLVE, 'require.resolve(')
      .replace(/\bimport\.meta\.dirname\b/g, '__dirname')
      .replace(/\bimport\.meta\.filename\b/g, '__filename');
  }
  // Keyed on the rewritten source, so a change to the rewrites invalidates Jest's cache.
  getCacheKey(source, path, options) {
    if (path.includes('/node_modules/')) return dependencyKey(this.rewrite(source, path), `${path}\0${Boolean(options.supportsStaticESM)}`);
    return super.getCacheKey(this.rewrite(source, path), path, options);
  }
  async getCacheKeyAsync(source, path, options) {
    if (path.includes('/node_modules/')) return dependencyKey(this.rewrite(source, path), `${path}\0${Boolean(options.supportsStaticESM)}`);
    return super.getCacheKeyAsync(this.rewrite(source, path), path, options);
  }
  process(source, path, options) {
    // Loaded as ESM (Jest does so for `require(esm)` where Node supports it, 22+): as it is.
    if (path.includes('/node_modules/') && options.supportsStaticESM) return { code: source };
    if (path.includes('/node_modules/')) {
      return { code: ts.transpileModule(this.rewrite(source, path), { compilerOptions: DEPENDENCY_OPTIONS, fileName: path }).outputText };
    }
    return super.process(this.rewrite(source, path), path, options);
  }
  async processAsync(source, path, options) {
    if (path.includes('/node_modules/')) return this.process(source, path, options);
    return super.processAsync(this.rewrite(source, path), path, options);
  }
}

module.exports = { createTransformer: (config) => new EsmToCjsTransformer(config) };
