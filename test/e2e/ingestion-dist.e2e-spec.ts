import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { makeDocx, makePdf } from '../support/documents';

const INGESTION = join(__dirname, '../../dist/vector-stores/ingestion');

/**
 * The built CommonJS output in a plain Node process (no Jest module system): the compiled worker
 * file starts, and the ESM-only libraries (pdf.js, html-to-text's ESM build) load through real
 * dynamic imports, as in production.
 */
describe('ingestion in the built dist/', () => {
  let dir: string;
  beforeAll(() => {
    if (!existsSync(join(INGESTION, 'extract-text.js'))) throw new Error(`${INGESTION} is missing: run \`npm run build\` first (\`npm test\` does).`);
    dir = mkdtempSync(join(tmpdir(), 'rg-ingest-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('extracts PDF, DOCX, HTML and CSV and chunks the text', async () => {
    const files = {
      'a.pdf': await makePdf([['Built PDF text.'], ['Second page.']]),
      'b.docx': await makeDocx(['Built DOCX text.']),
      'c.html': Buffer.from('<html><body><p>Built HTML text.</p><script>hidden()</script></body></html>'),
      'd.csv': Buffer.from('k,v\nbuilt,csv\n'),
      'e.pdf': Buffer.from('%PDF-1.4\nnot really\n'),
    };
    for (const [name, bytes] of Object.entries(files)) writeFileSync(join(dir, name), bytes);
    const script = `
      const { readFileSync } = require('node:fs');
      const { join } = require('node:path');
      const { extractText } = require(${JSON.stringify(join(INGESTION, 'extract-text.js'))});
      const { chunkText } = require(${JSON.stringify(join(INGESTION, 'chunk-text.js'))});
      (async () => {
        const out = {};
        for (const name of ${JSON.stringify(Object.keys(files))}) {
          try {
            const { text, format } = await extractText(readFileSync(join(${JSON.stringify(dir)}, name)), name);
            out[name] = { text, format, chunks: chunkText(text).chunks.length };
          } catch (error) {
            out[name] = { error: error.code, name: error.name };
          }
        }
        process.stdout.write(JSON.stringify(out));
      })();`;
    const { stdout } = await promisify(execFile)(process.execPath, ['-e', script], { timeout: 60_000 });
    expect(JSON.parse(stdout)).toEqual({
      'a.pdf': { text: 'Built PDF text.\n\nSecond page.', format: 'pdf', chunks: 1 },
      'b.docx': { text: 'Built DOCX text.', format: 'docx', chunks: 1 },
      'c.html': { text: 'Built HTML text.', format: 'html', chunks: 1 },
      'd.csv': { text: 'k: built; v: csv', format: 'csv', chunks: 1 },
      'e.pdf': { error: 'invalid_file', name: 'ExtractionError' },
    });
  });
});
