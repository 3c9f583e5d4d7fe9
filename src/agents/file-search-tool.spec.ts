import type { NormalizedRequest } from '../common/response-types';
import type { ChunkHit } from '../vector-stores/persistence/vector-stores.store';
import { FileSearchToolRun, queriesOf } from './file-search-tool';
import { OutputBuilder } from './output-builder';

const hit = (fileId: string, filename: string, score: number): ChunkHit => ({
  chunkId: `${fileId}:${score}`,
  vectorStoreId: 'vs_1',
  fileId,
  filename,
  text: `text of ${filename}`,
  attributes: null,
  score,
});

function run(hits: ChunkHit[]) {
  const request = { tools: [{ type: 'file_search', vector_store_ids: ['vs_1'] }], include: null } as unknown as NormalizedRequest;
  return FileSearchToolRun.from(request, 'team-a', () => Promise.resolve(hits))!;
}

describe('file_search tool', () => {
  it("reads a model's queries from JSON, a single query or plain text, bounded", () => {
    expect(queriesOf('{"queries":["a","b"]}')).toEqual(['a', 'b']);
    expect(queriesOf('{"query":"only"}')).toEqual(['only']);
    expect(queriesOf('refund policy')).toEqual(['refund policy']);
    expect(queriesOf('{"queries":[1, "", "x"]}')).toEqual(['x']);
    expect(queriesOf(JSON.stringify({ queries: Array.from({ length: 9 }, (_, i) => `q${i}`) }))).toHaveLength(5);
    expect(queriesOf(JSON.stringify({ queries: ['y'.repeat(5000)] }))[0]).toHaveLength(1000);
  });

  it('cites the files the answer names right after the name, else the best-ranked files at the end', async () => {
    const tool = run([
      hit('file-a', 'a.md', 0.9),
      hit('file-b', 'b.pdf', 0.8),
      hit('file-a', 'a.md', 0.7),
      hit('file-c', 'c.txt', 0.6),
      hit('file-d', 'd.txt', 0.5),
    ]);
    const events: unknown[] = [];
    const builder = new OutputBuilder((e) => events.push(e));
    const text = await tool.call(builder, '{"queries":["x"]}', new AbortController().signal);
    expect(text).toContain('file_id="file-b"');
    expect(builder.output[0]).toMatchObject({ type: 'file_search_call', status: 'completed', queries: ['x'], results: null });
    expect(tool.annotate('See b.pdf and also a.md.')).toEqual([
      { type: 'file_citation', file_id: 'file-b', filename: 'b.pdf', index: 9 },
      { type: 'file_citation', file_id: 'file-a', filename: 'a.md', index: 23 },
    ]);
    expect(tool.annotate('No names here.').map((c) => [c.file_id, c.index])).toEqual([
      ['file-a', 14],
      ['file-b', 14],
      ['file-c', 14],
    ]);
  });

  it('reports a failed search to the model and as a failed item, and a call without queries too', async () => {
    const request = { tools: [{ type: 'file_search', vector_store_ids: ['vs_1'] }] } as unknown as NormalizedRequest;
    const tool = FileSearchToolRun.from(request, 'team-a', () => Promise.reject(new Error('database down')))!;
    const builder = new OutputBuilder(() => undefined);
    expect(await tool.call(builder, '{"queries":["x"]}', new AbortController().signal)).toBe('Error: the search failed: database down');
    expect(await tool.call(builder, '{}', new AbortController().signal)).toMatch(/^Error: file_search needs at least one query/);
    expect(builder.output.map((i) => (i as { status: string }).status)).toEqual(['failed', 'failed']);
    expect(tool.annotate('anything')).toEqual([]);
  });
});
