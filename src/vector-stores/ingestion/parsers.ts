// The format readers, run inside the extraction worker (extract-worker.ts): the libraries load there,
// lazily (each only for its format), and a file that makes one spin or swell costs the worker only.
import { ExtractionError } from './extraction-error';
import type { FileFormat } from './file-format';
import { decodeText } from './text';

/** The formats read in the worker; text and Markdown are only decoded, in the caller's thread. */
export type WorkerFormat = Exclude<FileFormat, 'text' | 'markdown'>;

export interface ParseRequest {
  format: WorkerFormat;
  bytes: Uint8Array;
  filename: string;
  /** Readers stop once they have this many characters (the caller cuts the text to it). */
  maxChars: number;
}

export interface ParsedText {
  text: string;
  /** PDF: the document's page count. */
  pages?: number;
}

/** Library messages are for developers; a short one still helps the tenant tell a corrupt file from a truncated one. */
const reason = (error: unknown): string => (error instanceof Error ? error.message : String(error)).slice(0, 200);
const invalid = (request: ParseRequest, what: string, error: unknown) =>
  error instanceof ExtractionError
    ? error
    : new ExtractionError('invalid_file', `The file '${request.filename}' could not be read as ${what}: ${reason(error)}`);

export async function parse(request: ParseRequest): Promise<ParsedText> {
  switch (request.format) {
    case 'pdf':
      return parsePdf(request);
    case 'docx':
      return parseDocx(request);
    case 'html':
      return { text: await parseHtml(request) };
    case 'json':
      return { text: parseJson(decodeText(request.bytes, request.filename), request.maxChars) };
    case 'jsonl':
      return { text: parseJsonLines(decodeText(request.bytes, request.filename), request.maxChars) };
    case 'csv':
      return { text: await parseCsv(request) };
  }
}

async function parsePdf(request: ParseRequest): Promise<ParsedText> {
  // pdf.js ships ESM only; `import()` stays a real dynamic import in our CommonJS output.
  const pdfjs = await import('pdfjs-dist/legacy/build/pdf.mjs');
  const task = pdfjs.getDocument({
    data: request.bytes,
    // No code generated from the file (fonts compiled with eval were CVE-2024-4367), no fonts loaded.
    isEvalSupported: false,
    disableFontFace: true,
    useSystemFonts: false,
    verbosity: pdfjs.VerbosityLevel.ERRORS,
  });
  let doc: Awaited<typeof task.promise>;
  try {
    doc = await task.promise;
  } catch (error) {
    if (error instanceof Error && error.name === 'PasswordException') {
      throw new ExtractionError('invalid_file', `The PDF '${request.filename}' is encrypted with a password.`);
    }
    throw invalid(request, 'a PDF', error);
  }
  try {
    const pages: string[] = [];
    let length = 0;
    for (let number = 1; number <= doc.numPages && length < request.maxChars; number++) {
      const page = await doc.getPage(number);
      const content = await page.getTextContent();
      let text = '';
      let lastY: number | undefined;
      for (const item of content.items) {
        if (!('str' in item)) continue;
        // pdf.js marks line ends (often with an empty item on the next line); a move to another
        // baseline without the mark is a new line too.
        const y = item.transform[5] as number;
        const newLine = item.hasEOL || (lastY !== undefined && Math.abs(y - lastY) > 1);
        if (newLine && text && !text.endsWith('\n')) text += '\n';
        text += item.str;
        lastY = y;
      }
      page.cleanup();
      pages.push(text);
      length += text.length + 2;
    }
    const text = pages.join('\n\n');
    if (!text.trim() && doc.numPages > 0) {
      throw new ExtractionError('invalid_file', `The PDF '${request.filename}' has no text layer (a scanned document needs OCR first).`);
    }
    return { text, pages: doc.numPages };
  } catch (error) {
    throw invalid(request, 'a PDF', error);
  } finally {
    await doc.destroy();
  }
}

async function parseDocx(request: ParseRequest): Promise<ParsedText> {
  const mammoth = await import('mammoth');
  try {
    const { value } = await mammoth.extractRawText({ buffer: Buffer.from(request.bytes.buffer, request.bytes.byteOffset, request.bytes.byteLength) });
    return { text: value };
  } catch (error) {
    throw invalid(request, 'a Word document', error);
  }
}

async function parseHtml(request: ParseRequest): Promise<string> {
  const { convert } = await import('html-to-text');
  const skip = ['script', 'style', 'noscript', 'template', 'svg', 'canvas', 'iframe', 'object', 'img'].map((selector) => ({ selector, format: 'skip' }));
  return convert(decodeText(request.bytes, request.filename), {
    wordwrap: false,
    selectors: [
      ...skip,
      // Link targets and heading case are markup, not the page's text.
      { selector: 'a', options: { ignoreHref: true } },
      ...['h1', 'h2', 'h3', 'h4', 'h5', 'h6'].map((selector) => ({ selector, options: { uppercase: false } })),
    ],
  });
}

/** Below this depth a JSON value is written as JSON on its key's line. */
const JSON_DEPTH = 32;

/** A JSON document as `path: value` lines (`user.tags: a, b`): each line keeps its context when chunks split the file. Not JSON: its text as it is. */
export function parseJson(text: string, maxChars: number): string {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return text;
  }
  const lines: string[] = [];
  jsonLines(value, '', 0, lines, { left: maxChars });
  return lines.join('\n');
}

/** JSON Lines: each record as parseJson writes it, a blank line between records. */
export function parseJsonLines(text: string, maxChars: number): string {
  const records: string[] = [];
  let left = maxChars;
  for (const line of text.split(/\r?\n/)) {
    if (left <= 0) break;
    if (!line.trim()) continue;
    const record = parseJson(line, left);
    records.push(record);
    left -= record.length + 2;
  }
  return records.join('\n\n');
}

const scalar = (value: unknown): string => (typeof value === 'string' ? value : JSON.stringify(value));

function jsonLines(value: unknown, path: string, depth: number, lines: string[], budget: { left: number }): void {
  if (budget.left <= 0) return;
  const push = (line: string) => {
    lines.push(line);
    budget.left -= line.length + 1;
  };
  const label = (line: string) => (path ? `${path}: ${line}` : line);
  if (value === null || typeof value !== 'object') return push(label(scalar(value)));
  if (depth >= JSON_DEPTH) return push(label(JSON.stringify(value)));
  if (Array.isArray(value)) {
    if (value.length === 0) return push(label('[]'));
    if (value.every((entry) => entry === null || typeof entry !== 'object')) return push(label(value.map(scalar).join(', ')));
    value.forEach((entry, index) => jsonLines(entry, `${path}[${index}]`, depth + 1, lines, budget));
    return;
  }
  const entries = Object.entries(value);
  if (entries.length === 0) return push(label('{}'));
  for (const [key, entry] of entries) jsonLines(entry, path ? `${path}.${key}` : key, depth + 1, lines, budget);
}

const DELIMITERS = [',', ';', '\t', '|'];

/**
 * A table as one line per row, each cell named by its column (`Name: Ada; Role: engineer`): a
 * chunk cut from the middle of the file still says what its numbers are. The header is the first
 * row; the delimiter is the commonest of , ; tab | in it (tab for .tsv). Not parseable as CSV: its
 * text as it is.
 */
async function parseCsv(request: ParseRequest): Promise<string> {
  const text = decodeText(request.bytes, request.filename);
  const firstLine = text.slice(0, text.indexOf('\n') >>> 0);
  const delimiter = request.filename.toLowerCase().endsWith('.tsv')
    ? '\t'
    : DELIMITERS.reduce((best, candidate) => (firstLine.split(candidate).length > firstLine.split(best).length ? candidate : best));
  const { parse: parseCsvText } = await import('csv-parse/sync');
  let rows: string[][];
  try {
    rows = parseCsvText(text, { delimiter, relax_column_count: true, relax_quotes: true, skip_empty_lines: true, bom: true });
  } catch {
    return text;
  }
  const [header = [], ...body] = rows;
  const names = header.map((name, index) => name.trim() || `column ${index + 1}`);
  if (body.length === 0) return names.join('; ');
  const lines: string[] = [];
  let length = 0;
  for (const row of body) {
    if (length >= request.maxChars) break;
    const line = row
      .map((cell, index) => (cell.trim() ? `${names[index] ?? `column ${index + 1}`}: ${cell.trim()}` : ''))
      .filter(Boolean)
      .join('; ');
    if (!line) continue;
    lines.push(line);
    length += line.length + 1;
  }
  return lines.join('\n');
}
