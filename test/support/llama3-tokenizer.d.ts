// llama3-tokenizer-js types only its ESM entry; the fake upstream loads its CommonJS bundle.
declare module 'llama3-tokenizer-js/bundle/commonjs-llama3-tokenizer-with-baked-data.cjs' {
  import type { Llama3Tokenizer } from 'llama3-tokenizer-js';
  export const llama3Tokenizer: Llama3Tokenizer;
}
