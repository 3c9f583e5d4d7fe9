import { extname } from 'node:path';
import { ExtractionError } from './extraction-error';

/** What extraction reads a file as. */
export type FileFormat = 'text' | 'markdown' | 'html' | 'json' | 'jsonl' | 'csv' | 'pdf' | 'docx';

const TEXT_EXTENSIONS = [
  'txt',
  'text',
  'log',
  'rst',
  'tex',
  'xml',
  'yaml',
  'yml',
  'toml',
  'ini',
  'cfg',
  'conf',
  'env',
  'properties',
  'sql',
  'graphql',
  'c',
  'h',
  'cc',
  'cpp',
  'hpp',
  'cs',
  'css',
  'scss',
  'go',
  'java',
  'kt',
  'scala',
  'swift',
  'js',
  'mjs',
  'cjs',
  'jsx',
  'ts',
  'tsx',
  'py',
  'rb',
  'php',
  'pl',
  'lua',
  'r',
  'rs',
  'sh',
  'bash',
  'ps1',
  'bat',
  'vue',
  'svelte',
];
const BY_EXTENSION: ReadonlyMap<string, FileFormat> = new Map<string, FileFormat>([
  ...TEXT_EXTENSIONS.map((ext): [string, FileFormat] => [ext, 'text']),
  ['md', 'markdown'],
  ['markdown', 'markdown'],
  ['mdx', 'markdown'],
  ['html', 'html'],
  ['htm', 'html'],
  ['xhtml', 'html'],
  ['json', 'json'],
  ['jsonl', 'jsonl'],
  ['ndjson', 'jsonl'],
  ['csv', 'csv'],
  ['tsv', 'csv'],
  ['pdf', 'pdf'],
  ['docx', 'docx'],
]);

/** The formats, for messages and docs. */
export const SUPPORTED_EXTENSIONS: readonly string[] = [...BY_EXTENSION.keys()];

/** Binary containers recognised by their first bytes, to name them in a refusal. */
const OTHER_BINARIES: ReadonlyArray<{ magic: number[]; what: string }> = [
  { magic: [0xd0, 0xcf, 0x11, 0xe0], what: 'a legacy or password-protected Office document (save it as .docx, unprotected)' },
  { magic: [0x89, 0x50, 0x4e, 0x47], what: 'a PNG image' },
  { magic: [0xff, 0xd8, 0xff], what: 'a JPEG image' },
  { magic: [0x47, 0x49, 0x46, 0x38], what: 'a GIF image' },
  { magic: [0x1f, 0x8b], what: 'a gzip archive' },
  { magic: [0x37, 0x7a, 0xbc, 0xaf], what: 'a 7z archive' },
  { magic: [0x7f, 0x45, 0x4c, 0x46], what: 'an executable' },
  { magic: [0x4d, 0x5a], what: 'an executable' },
];

const startsWith = (bytes: Uint8Array, magic: readonly number[]): boolean => magic.every((byte, i) => bytes[i] === byte);
const asBuffer = (bytes: Uint8Array): Buffer => (Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));

/** PDF readers accept the header anywhere in the first 1024 bytes (PDF 32000-1, annex H). */
const isPdf = (bytes: Uint8Array): boolean => asBuffer(bytes).subarray(0, 1024).includes('%PDF-');
/** A ZIP archive: local file header, or the end record of an empty one. */
const isZip = (bytes: Uint8Array): boolean => startsWith(bytes, [0x50, 0x4b, 0x03, 0x04]) || startsWith(bytes, [0x50, 0x4b, 0x05, 0x06]);
/** ZIP entry names are stored uncompressed: a Word document has its main part under word/. */
const isDocx = (bytes: Uint8Array): boolean => isZip(bytes) && asBuffer(bytes).includes('word/document.xml');

const HTML_START = /^\s*(<!--[\s\S]*?-->\s*)*<(!doctype\s+html|html[\s>])/i;

export const extensionOf = (filename: string): string => extname(filename).slice(1).toLowerCase();

/**
 * The format to read a file as. The content decides for what announces itself (a PDF, a Word
 * document, another binary container), whatever its name; otherwise the extension does, and a file
 * with no known extension is read as text if it is text (HTML if it starts like HTML).
 */
export function detectFormat(bytes: Uint8Array, filename: string): FileFormat {
  const ext = extensionOf(filename);
  const named = BY_EXTENSION.get(ext);
  if (isPdf(bytes)) return 'pdf';
  if (isDocx(bytes)) return 'docx';
  if (named === 'pdf') throw new ExtractionError('invalid_file', `The file '${filename}' is not a PDF (it has no %PDF- header).`);
  if (named === 'docx')
    throw new ExtractionError('invalid_file', `The file '${filename}' is not a Word document (.docx is a ZIP archive with word/document.xml).`);
  if (isZip(bytes)) throw unsupported(filename, 'a ZIP archive that is not a Word document');
  const binary = OTHER_BINARIES.find(({ magic }) => startsWith(bytes, magic));
  if (binary) throw unsupported(filename, binary.what);
  if (named) return named;
  return HTML_START.test(asBuffer(bytes).subarray(0, 1024).toString('latin1')) ? 'html' : 'text';
}

export const unsupported = (filename: string, what: string): ExtractionError =>
  new ExtractionError(
    'unsupported_file',
    `The file '${filename}' is ${what}, which file_search cannot read. Supported: text, Markdown, HTML, JSON, CSV, PDF and DOCX files (and source code as text).`,
  );
