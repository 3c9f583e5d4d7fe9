import { makeDocx, makePdf } from '../../../test/support/documents';
import { ExtractionError } from './extraction-error';
import { extractText } from './extract-text';

/** The ExtractionError a promise rejects with. */
async function failure(promise: Promise<unknown>): Promise<ExtractionError> {
  const error: unknown = await promise.then(
    () => new Error('expected a rejection'),
    (e: unknown) => e,
  );
  if (!(error instanceof ExtractionError)) throw error;
  return error;
}

describe('extractText', () => {
  describe('text and Markdown', () => {
    it('decodes UTF-8 with a BOM and normalizes line ends, control characters and blank runs', async () => {
      const bytes = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('Café\r\nline two  \r\n\r\n\r\n\r\nthird\u0007 line\n')]);
      await expect(extractText(bytes, 'notes.txt')).resolves.toEqual({ text: 'Café\nline two\n\nthird line', format: 'text', truncated: false });
    });

    it('reads UTF-16 with a BOM and legacy Windows-1252 bytes', async () => {
      const utf16 = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('naïve ∑ text', 'utf16le')]);
      expect((await extractText(utf16, 'a.txt')).text).toBe('naïve ∑ text');
      const latin = Buffer.from([0x63, 0x61, 0x66, 0xe9, 0x20, 0x80]); // "café €" in Windows-1252
      expect((await extractText(latin, 'a.txt')).text).toBe('café €');
    });

    it('keeps Markdown as written', async () => {
      const md = '# Title\n\nSome *emphasis* and a [link](https://example.com).\n\n- item';
      await expect(extractText(Buffer.from(md), 'README.md')).resolves.toMatchObject({ text: md, format: 'markdown' });
    });

    it('reads source code and extensionless text as text', async () => {
      expect(await extractText(Buffer.from('def f():\n    return 1\n'), 'f.py')).toMatchObject({ format: 'text', text: 'def f():\n    return 1' });
      expect(await extractText(Buffer.from('plain words'), 'NOTES')).toMatchObject({ format: 'text', text: 'plain words' });
    });

    it('cuts at maxChars and says so', async () => {
      const result = await extractText(Buffer.from('a'.repeat(50) + '😀' + 'b'.repeat(50)), 'long.txt', { maxChars: 51 });
      // The emoji's second half would be char 52: the cut falls before the pair.
      expect(result).toEqual({ text: 'a'.repeat(50), format: 'text', truncated: true });
    });
  });

  describe('HTML', () => {
    it('keeps the visible text and drops scripts, styles, link targets and images', async () => {
      const html = `<!DOCTYPE html><html><head><title>T</title><style>body { color: red }</style>
        <script>window.secret = "do not index"</script></head>
        <body><h1>Quarterly report</h1><p>Revenue grew <b>12%</b>. See <a href="https://internal.example/x">the appendix</a>.</p>
        <noscript>enable JS</noscript><img src="a.png" alt="chart"><script type="module">import "evil"</script>
        <ul><li>North</li><li>South</li></ul></body></html>`;
      const { text, format } = await extractText(Buffer.from(html), 'report.html');
      expect(format).toBe('html');
      expect(text).toContain('Quarterly report');
      expect(text).toContain('Revenue grew 12%. See the appendix.');
      expect(text).toMatch(/North\n.*South/);
      for (const hidden of ['secret', 'do not index', 'color: red', 'evil', 'internal.example', 'enable JS', 'a.png']) expect(text).not.toContain(hidden);
    });

    it('recognizes HTML without an extension by its start', async () => {
      expect(await extractText(Buffer.from('<!-- x --><html><body><p>Hello</p><script>no()</script></body></html>'), 'page')).toMatchObject({
        format: 'html',
        text: 'Hello',
      });
    });
  });

  describe('JSON and CSV', () => {
    it('writes JSON as path: value lines', async () => {
      const json = JSON.stringify({
        user: { name: 'Ada', tags: ['math', 'engines'], address: { city: 'London' } },
        items: [{ id: 1 }, { id: 2, ok: true }],
        empty: {},
      });
      const { text, format } = await extractText(Buffer.from(json), 'data.json');
      expect(format).toBe('json');
      expect(text.split('\n')).toEqual([
        'user.name: Ada',
        'user.tags: math, engines',
        'user.address.city: London',
        'items[0].id: 1',
        'items[1].id: 2',
        'items[1].ok: true',
        'empty: {}',
      ]);
    });

    it('keeps a file that is not valid JSON as its text', async () => {
      expect((await extractText(Buffer.from('{"a": 1,, oops'), 'broken.json')).text).toBe('{"a": 1,, oops');
    });

    it('writes JSON Lines record by record', async () => {
      const jsonl = '{"q":"What is X?","a":"A thing"}\n\n{"q":"Why?"}\n';
      expect((await extractText(Buffer.from(jsonl), 'faq.jsonl')).text).toBe('q: What is X?\na: A thing\n\nq: Why?');
    });

    it('writes each CSV row with its column names, quoted delimiters kept', async () => {
      const csv = 'Name,Role,Note\r\nAda,engineer,"first, and best"\r\nGrace,,admiral\r\n';
      const { text, format } = await extractText(Buffer.from(csv), 'people.csv');
      expect(format).toBe('csv');
      expect(text).toBe('Name: Ada; Role: engineer; Note: first, and best\nName: Grace; Note: admiral');
    });

    it('finds a semicolon delimiter and reads .tsv with tabs', async () => {
      expect((await extractText(Buffer.from('city;price\nParis;3,50\n'), 'prices.csv')).text).toBe('city: Paris; price: 3,50');
      expect((await extractText(Buffer.from('a\tb\n1\t2,3\n'), 'x.tsv')).text).toBe('a: 1; b: 2,3');
    });
  });

  describe('PDF', () => {
    it('reads the text of every page, pages apart', async () => {
      const pdf = await makePdf([['Hello from page one.', 'Second line here.'], ['Page two speaks.']]);
      const result = await extractText(pdf, 'doc.pdf');
      expect(result).toEqual({ text: 'Hello from page one.\nSecond line here.\n\nPage two speaks.', format: 'pdf', truncated: false, pages: 2 });
    });

    it('stops at maxChars', async () => {
      const pdf = await makePdf(Array.from({ length: 5 }, (_, i) => [`Page ${i + 1} ${'x'.repeat(40)}`]));
      const result = await extractText(pdf, 'doc.pdf', { maxChars: 60 });
      expect(result.truncated).toBe(true);
      expect(result.text).toHaveLength(60);
      expect(result.text.startsWith('Page 1 ')).toBe(true);
    });

    it('fails an unreadable PDF as invalid_file', async () => {
      const error = await failure(extractText(Buffer.from('%PDF-1.7\n1 0 obj << /Type /Catalog /Pages 9 0 R >>\ngarbage without xref\n'), 'broken.pdf'));
      expect(error.code).toBe('invalid_file');
      expect(error.message).toMatch(/^The file 'broken.pdf' could not be read as a PDF: /);
    });

    it('fails a PDF without a text layer as invalid_file', async () => {
      const error = await failure(extractText(await makePdf([[]]), 'scan.pdf'));
      expect(error).toMatchObject({ code: 'invalid_file', message: "The PDF 'scan.pdf' has no text layer (a scanned document needs OCR first)." });
    });
  });

  describe('DOCX', () => {
    it('reads paragraphs and table cells', async () => {
      const docx = await makeDocx(
        ['Policy on travel.', 'Book economy class.'],
        [
          ['Region', 'Limit'],
          ['EU', '150 EUR'],
        ],
      );
      const { text, format } = await extractText(docx, 'policy.docx');
      expect(format).toBe('docx');
      expect(text).toMatch(/^Policy on travel\.\n\nBook economy class\.\n\n/);
      for (const cell of ['Region', 'Limit', 'EU', '150 EUR']) expect(text).toContain(cell);
    });

    it('fails a damaged Word document as invalid_file', async () => {
      const docx = await makeDocx(['Some text.']);
      const error = await failure(extractText(docx.subarray(0, Math.floor(docx.length / 2)), 'half.docx'));
      expect(error.code).toBe('invalid_file');
      expect(error.message).toMatch(/^The file 'half.docx' could not be read as a Word document: /);
    });
  });

  describe('types from content and extension', () => {
    it('reads a PDF or a Word document by its content whatever its name', async () => {
      expect(await extractText(await makePdf([['Misnamed PDF.']]), 'notes.txt')).toMatchObject({ format: 'pdf', text: 'Misnamed PDF.' });
      expect(await extractText(await makeDocx(['Misnamed DOCX.']), 'upload.bin')).toMatchObject({ format: 'docx', text: 'Misnamed DOCX.' });
    });

    it('fails a .pdf or .docx that is something else as invalid_file', async () => {
      expect(await failure(extractText(Buffer.from('just text'), 'report.pdf'))).toMatchObject({
        code: 'invalid_file',
        message: "The file 'report.pdf' is not a PDF (it has no %PDF- header).",
      });
      expect((await failure(extractText(Buffer.from('just text'), 'report.docx'))).code).toBe('invalid_file');
    });

    it('refuses images, other archives, legacy Office files and binary data as unsupported_file', async () => {
      const png = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13]);
      const zip = Buffer.concat([Buffer.from([0x50, 0x4b, 0x03, 0x04]), Buffer.from('xl/workbook.xml')]);
      const ole = Buffer.from([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1]);
      for (const [bytes, name, what] of [
        [png, 'photo.txt', 'a PNG image'],
        [zip, 'book.xlsx', 'a ZIP archive that is not a Word document'],
        [ole, 'old.doc', 'a legacy or password-protected Office document'],
        [Buffer.from([1, 2, 0, 0, 5, 6]), 'blob.dat', 'binary, not text'],
      ] as const) {
        const error = await failure(extractText(bytes, name));
        expect(error.code).toBe('unsupported_file');
        expect(error.message).toContain(`The file '${name}' is ${what}`);
      }
    });
  });

  describe('bounds', () => {
    it('terminates a parse that outlives the time limit', async () => {
      const error = await failure(extractText(await makePdf([['Slow?']]), 'slow.pdf', { timeoutMs: 1 }));
      expect(error).toMatchObject({ code: 'invalid_file', message: "The file 'slow.pdf' could not be read within 0.001 s." });
    });

    it('fails a parse that needs more heap than allowed as invalid_file', async () => {
      const error = await failure(extractText(await makePdf([['Big?']]), 'big.pdf', { maxMemoryMb: 4 }));
      expect(error).toMatchObject({ code: 'invalid_file', message: "Reading the file 'big.pdf' needs more than 4 MB of memory." });
    });

    it('stops when its signal aborts', async () => {
      const controller = new AbortController();
      const extraction = extractText(await makePdf([['Cancelled.']]), 'c.pdf', { signal: controller.signal });
      controller.abort(new Error('job cancelled'));
      await expect(extraction).rejects.toThrow('job cancelled');
    });

    it('rejects nonsensical limits', async () => {
      await expect(extractText(Buffer.from('x'), 'a.txt', { maxChars: 0 })).rejects.toThrow(RangeError);
    });
  });
});
