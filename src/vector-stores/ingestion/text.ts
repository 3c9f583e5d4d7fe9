import { ExtractionError } from './extraction-error';

/** How far decoding looks for NUL bytes, which text never has and binary nearly always does early. */
const SNIFF_BYTES = 8192;
/** The most bytes a UTF-16 code unit of text can take in UTF-8 (astral characters: 4 bytes, 2 units). */
const MAX_BYTES_PER_CHAR = 3;

/**
 * The text of a file's bytes: UTF-8 (BOM or not) or UTF-16 with a BOM; bytes that are not UTF-8
 * are read as Windows-1252 (legacy Western text). NUL bytes mean binary, which is refused.
 * `maxChars`: at most the bytes that many characters can take are decoded.
 */
export function decodeText(bytes: Uint8Array, filename: string, maxChars = Infinity): string {
  const cut = (body: Uint8Array, perChar: number) => (Number.isFinite(maxChars) ? body.subarray(0, maxChars * perChar) : body);
  if (bytes[0] === 0xff && bytes[1] === 0xfe) return new TextDecoder('utf-16le').decode(cut(bytes.subarray(2), 2));
  if (bytes[0] === 0xfe && bytes[1] === 0xff) return new TextDecoder('utf-16be').decode(cut(bytes.subarray(2), 2));
  const body = bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? bytes.subarray(3) : bytes;
  if (body.subarray(0, SNIFF_BYTES).includes(0)) {
    throw new ExtractionError('unsupported_file', `The file '${filename}' is binary, not text, and of no type file_search can read.`);
  }
  const head = cut(body, MAX_BYTES_PER_CHAR);
  try {
    // A cut may split the last character: `stream` keeps its bytes pending instead of failing on them.
    return new TextDecoder('utf-8', { fatal: true }).decode(head, { stream: head.length < body.length });
  } catch {
    return decodeWindows1252(head);
  }
}

/** Windows-1252's 0x80–0x9f (Node's TextDecoder reads 'windows-1252' as Latin-1, which has C1 controls there). */
const CP1252_HIGH = '€\u0081‚ƒ„…†‡ˆ‰Š‹Œ\u008dŽ\u008f\u0090‘’“”•–—˜™š›œ\u009džŸ';

function decodeWindows1252(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
    .toString('latin1')
    .replace(/[\u0080-\u009f]/g, (c) => CP1252_HIGH[c.charCodeAt(0) - 0x80] ?? c);
}

const CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/g;

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/** One form for every format: `\n` line ends, no control characters, no trailing blanks, at most one empty line in a row, no lone surrogates. */
export function normalizeText(text: string): string {
  return text
    .replace(/\r\n?/g, '\n')
    .replace(CONTROL, '')
    .replace(/[ \t\u00a0]+\n/g, '\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim()
    .replace(LONE_SURROGATE, '\ufffd');
}

/** The text cut to `maxChars`, never between the halves of a surrogate pair. */
export function truncate(text: string, maxChars: number): { text: string; truncated: boolean } {
  if (text.length <= maxChars) return { text, truncated: false };
  const end = /[\ud800-\udbff]/.test(text[maxChars - 1] ?? '') ? maxChars - 1 : maxChars;
  return { text: text.slice(0, end), truncated: true };
}
