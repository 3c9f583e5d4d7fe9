import { countTokens } from 'gpt-tokenizer/encoding/o200k_base';
import { OpenAIError } from '../../common/openai-error';
import { chunkText, type TextChunk, validateStaticChunking } from './chunk-text';

const count = (text: string) => countTokens(text, { disallowedSpecial: new Set() });

/**
 * Every chunk slices back out of the source, starts with text (at most the one space the tokenizer
 * attaches to a word), and together they cover all of the source's non-blank text in order.
 */
function expectWellFormed(source: string, chunks: TextChunk[], max: number): void {
  let covered = 0;
  for (const chunk of chunks) {
    expect(source.slice(chunk.start, chunk.end)).toBe(chunk.text);
    expect(chunk.tokens).toBeLessThanOrEqual(max);
    expect(chunk.text).toMatch(/^[ \t]?\S/);
    expect(source.slice(covered, chunk.start).trim()).toBe('');
    expect(chunk.start).toBeLessThan(chunk.end);
    covered = Math.max(covered, chunk.end);
  }
  expect(source.slice(covered).trim()).toBe('');
}

/** Sentences of varied words, some ending paragraphs. */
function prose(sentences: number): string {
  const words = [
    'retrieval',
    'gateway',
    'tenant',
    'vector',
    'store',
    'quarterly',
    'revenue',
    'policy',
    'travel',
    'the',
    'of',
    'and',
    'a',
    'document',
    'search',
  ];
  let text = '';
  for (let i = 0; i < sentences; i++) {
    const length = 6 + ((i * 7) % 11);
    const sentence = Array.from({ length }, (_, j) => words[(i * 3 + j * 5) % words.length]).join(' ');
    text += sentence[0].toUpperCase() + sentence.slice(1) + (i % 5 === 4 ? '.\n\n' : '. ');
  }
  return text;
}

describe('chunkText', () => {
  it('cuts windows of exactly max tokens that overlap by exactly the overlap where text has no boundaries', () => {
    // One token per word, no sentence or line ends: nothing to prefer, so sizes are exact.
    const words = ['alpha', 'beta', 'gamma', 'delta', 'omega'];
    for (const word of words) expect(count(` ${word}`)).toBe(1);
    const source = Array.from({ length: 1000 }, (_, i) => words[i % words.length]).join(' ');
    const { chunks, truncated } = chunkText(source, { maxChunkSizeTokens: 100, chunkOverlapTokens: 30 });
    expect(truncated).toBe(false);
    // 1000 tokens, a window of 100 every 70: starts 0, 70, …, 910 (the last ends at the text's end).
    expect(chunks).toHaveLength(14);
    chunks.forEach((chunk, i) => {
      expect(chunk.tokens).toBe(i < chunks.length - 1 ? 100 : 90);
      expect(count(chunk.text)).toBe(chunk.tokens);
      if (i > 0) expect(count(source.slice(chunk.start, chunks[i - 1].end))).toBe(30);
    });
    expectWellFormed(source, chunks, 100);
  });

  it("uses OpenAI's defaults, 800 tokens with 400 overlap", () => {
    const source = Array.from({ length: 2000 }, () => 'alpha').join(' ');
    const { chunks } = chunkText(source);
    expect(chunks.map((c) => c.tokens)).toEqual([800, 800, 800, 800]);
    // Word n starts at 6n; a later window starts at the space before its first word.
    expect(chunks.map((c) => c.start)).toEqual([0, 400 * 6 - 1, 800 * 6 - 1, 1200 * 6 - 1]);
  });

  it('ends chunks at paragraph and sentence ends within a tenth of the window', () => {
    const source = prose(400);
    const { chunks } = chunkText(source, { maxChunkSizeTokens: 200, chunkOverlapTokens: 50 });
    expectWellFormed(source, chunks, 200);
    for (const chunk of chunks.slice(0, -1)) {
      expect(chunk.tokens).toBeGreaterThanOrEqual(180);
      expect(chunk.text).toMatch(/\.\s*$/);
    }
    chunks.forEach((chunk, i) => {
      expect(count(chunk.text)).toBe(chunk.tokens);
      if (i > 0) expect(count(source.slice(chunk.start, chunks[i - 1].end))).toBeLessThanOrEqual(50);
    });
  });

  it('takes no overlap when told so', () => {
    const source = prose(100);
    const { chunks } = chunkText(source, { maxChunkSizeTokens: 100, chunkOverlapTokens: 0 });
    expectWellFormed(source, chunks, 100);
    for (let i = 1; i < chunks.length; i++) expect(chunks[i].start).toBeGreaterThanOrEqual(chunks[i - 1].end);
  });

  it('cuts runs with no whitespace, CJK and emoji without splitting a character', () => {
    const source = `${'QUJD'.repeat(3000)} 東京都の天気は晴れです。${'😀'.repeat(500)} end`;
    const { chunks } = chunkText(source, { maxChunkSizeTokens: 100, chunkOverlapTokens: 50 });
    expectWellFormed(source, chunks, 100);
    for (const chunk of chunks) expect(chunk.text).toBe(chunk.text.replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '?'));
  });

  it('makes one chunk of a short text and none of a blank one', () => {
    // The tokenizer's pieces: '  Hello' is ' ' + ' Hello', and '.\n' is one piece.
    expect(chunkText('  Hello world.\n')).toEqual({
      chunks: [{ text: ' Hello world.\n', tokens: count(' Hello world.\n'), start: 1, end: 15 }],
      truncated: false,
    });
    expect(chunkText(' \n\n\t ')).toEqual({ chunks: [], truncated: false });
    expect(chunkText('')).toEqual({ chunks: [], truncated: false });
  });

  it('counts special-token look-alikes as text', () => {
    const { chunks } = chunkText('quote <|endoftext|> here');
    expect(chunks[0].tokens).toBe(count('quote <|endoftext|> here'));
  });

  it('stops at maxChunks and says so', () => {
    const source = Array.from({ length: 1000 }, () => 'alpha').join(' ');
    const { chunks, truncated } = chunkText(source, { maxChunkSizeTokens: 100, chunkOverlapTokens: 0, maxChunks: 3 });
    expect(chunks).toHaveLength(3);
    expect(truncated).toBe(true);
    expect(chunkText(source, { maxChunkSizeTokens: 100, chunkOverlapTokens: 0, maxChunks: 10 }).truncated).toBe(false);
  });

  it('refuses options outside the static strategy', () => {
    expect(() => chunkText('x', { maxChunkSizeTokens: 99 })).toThrow(RangeError);
    expect(() => chunkText('x', { maxChunkSizeTokens: 200, chunkOverlapTokens: 101 })).toThrow(RangeError);
  });
});

describe('validateStaticChunking', () => {
  const error = (strategy: Parameters<typeof validateStaticChunking>[0]) => {
    try {
      validateStaticChunking(strategy);
    } catch (e) {
      if (e instanceof OpenAIError) return { status: e.getStatus(), ...e.toBody().error };
      throw e;
    }
    throw new Error('expected a 400');
  };

  it('accepts the bounds OpenAI accepts', () => {
    expect(validateStaticChunking({ max_chunk_size_tokens: 800, chunk_overlap_tokens: 400 })).toEqual({ maxChunkSizeTokens: 800, chunkOverlapTokens: 400 });
    expect(validateStaticChunking({ max_chunk_size_tokens: 100, chunk_overlap_tokens: 0 })).toEqual({ maxChunkSizeTokens: 100, chunkOverlapTokens: 0 });
    expect(validateStaticChunking({ max_chunk_size_tokens: 4096, chunk_overlap_tokens: 2048 })).toEqual({ maxChunkSizeTokens: 4096, chunkOverlapTokens: 2048 });
  });

  it('answers 400 naming the field for anything else', () => {
    const param = (field: string) => `chunking_strategy.static.${field}`;
    expect(error({ max_chunk_size_tokens: 99, chunk_overlap_tokens: 0 })).toMatchObject({
      status: 400,
      type: 'invalid_request_error',
      param: param('max_chunk_size_tokens'),
      message: "Invalid 'chunking_strategy.static.max_chunk_size_tokens': must be an integer between 100 and 4096, got 99.",
    });
    expect(error({ max_chunk_size_tokens: 4097, chunk_overlap_tokens: 0 })).toMatchObject({ param: param('max_chunk_size_tokens') });
    expect(error({ max_chunk_size_tokens: 800.5, chunk_overlap_tokens: 0 })).toMatchObject({ param: param('max_chunk_size_tokens') });
    expect(error({ max_chunk_size_tokens: 800, chunk_overlap_tokens: 401 })).toMatchObject({
      param: param('chunk_overlap_tokens'),
      message: "Invalid 'chunking_strategy.static.chunk_overlap_tokens': must not exceed half of max_chunk_size_tokens (400), got 401.",
    });
    expect(error({ max_chunk_size_tokens: 800, chunk_overlap_tokens: -1 })).toMatchObject({ param: param('chunk_overlap_tokens') });
    expect(error({ max_chunk_size_tokens: '800', chunk_overlap_tokens: 1 })).toMatchObject({ param: param('max_chunk_size_tokens'), code: 'invalid_type' });
    expect(error({ max_chunk_size_tokens: 800 })).toMatchObject({ param: param('chunk_overlap_tokens') });
    expect(error(undefined)).toMatchObject({ param: 'chunking_strategy.static' });
  });
});
