// Documents the tests make, so that no binary fixture is committed: PDFs with pdf-lib, Word
// documents with docx.
import { Document, Packer, Paragraph, Table, TableCell, TableRow, TextRun } from 'docx';
import { PDFDocument, StandardFonts } from 'pdf-lib';

/** A PDF with one page per entry, each page's lines drawn top-down in Helvetica; an empty entry is a page without text. */
export async function makePdf(pages: string[][]): Promise<Buffer> {
  const doc = await PDFDocument.create();
  const font = await doc.embedFont(StandardFonts.Helvetica);
  for (const lines of pages) {
    const page = doc.addPage([612, 792]);
    lines.forEach((line, i) => page.drawText(line, { x: 50, y: 740 - i * 16, size: 12, font }));
  }
  return Buffer.from(await doc.save());
}

/** A Word document with these paragraphs and, if given, a table (first row the header). */
export async function makeDocx(paragraphs: string[], table?: string[][]): Promise<Buffer> {
  const children: Array<Paragraph | Table> = paragraphs.map((text) => new Paragraph({ children: [new TextRun(text)] }));
  if (table) {
    children.push(
      new Table({ rows: table.map((cells) => new TableRow({ children: cells.map((text) => new TableCell({ children: [new Paragraph(text)] })) })) }),
    );
  }
  return Packer.toBuffer(new Document({ sections: [{ children }] }));
}
