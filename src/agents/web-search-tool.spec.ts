import type { NormalizedRequest } from '../common/response-types';
import type { SearchQuery, SearchResult } from '../web-search/search-provider';
import { SearchProviderError } from '../web-search/search-provider';
import { OutputBuilder } from './output-builder';
import { argumentOf, type WebSearchBackend, WebSearchToolRun } from './web-search-tool';

const results: SearchResult[] = [
  { url: 'https://docs.example.com/refunds', title: 'Refund policy', snippet: 'Five days.' },
  { url: 'https://other.test/a', title: 'Elsewhere', snippet: 'x' },
  { url: 'ftp://example.com/file', title: 'Not a web page', snippet: 'y' },
];

function run(tool: Record<string, unknown>, search: (q: SearchQuery) => Promise<SearchResult[]>, include: string[] | null = null) {
  const backend: WebSearchBackend = { search, pages: null, maxResults: 10 };
  const request = { tools: [{ type: 'web_search', ...tool }], include } as unknown as NormalizedRequest;
  return WebSearchToolRun.from(request, backend)!;
}

const signal = () => new AbortController().signal;

describe('web_search tool', () => {
  it("reads a model's query or URL from JSON or plain text", () => {
    expect(argumentOf('{"query":" refunds "}', 'query')).toBe('refunds');
    expect(argumentOf('refund policy', 'query')).toBe('refund policy');
    expect(argumentOf('{"url":1}', 'url')).toBe('');
  });

  it('is not run without a configured provider, and offers open_page only when pages may be opened', () => {
    const request = { tools: [{ type: 'web_search_preview' }] } as unknown as NormalizedRequest;
    expect(WebSearchToolRun.from(request, undefined)).toBeNull();
    expect(run({}, () => Promise.resolve([])).chatTools.map((t) => (t.type === 'function' ? t.function.name : ''))).toEqual(['web_search']);
    expect(run({}, () => Promise.resolve([])).owns('open_page')).toBe(false);
  });

  it('asks the provider with the domains and the context size, keeps only http(s) results on the allowed domains, numbered', async () => {
    const asked: SearchQuery[] = [];
    const tool = run(
      { filters: { allowed_domains: ['https://Example.com/'] }, search_context_size: 'low' },
      (q) => {
        asked.push(q);
        return Promise.resolve(results);
      },
      ['web_search_call.action.sources'],
    );
    const builder = new OutputBuilder(() => undefined);
    const text = await tool.call(builder, 'web_search', '{"query":"refunds"}', signal());
    expect(asked[0]).toMatchObject({ query: 'refunds', maxResults: 3, allowedDomains: ['example.com'] });
    expect(text).toBe('<result ref="[1]" url="https://docs.example.com/refunds" title="Refund policy">\nFive days.\n</result>');
    expect(builder.output[0]).toMatchObject({
      type: 'web_search_call',
      status: 'completed',
      action: { type: 'search', query: 'refunds', sources: [{ type: 'url', url: 'https://docs.example.com/refunds' }] },
    });
  });

  it('cites bracket references, URLs and titles of results only, and nothing for a text that refers to none', async () => {
    const tool = run({}, () => Promise.resolve(results.slice(0, 2)));
    await tool.call(new OutputBuilder(() => undefined), 'web_search', '{"query":"q"}', signal());
    const text = 'Five days [1, 2]. From https://docs.example.com/refunds and [7].';
    expect(tool.annotate(text).map((c) => [c.url, c.start_index, c.end_index])).toEqual([
      ['https://docs.example.com/refunds', 10, 16],
      ['https://other.test/a', 10, 16],
      ['https://docs.example.com/refunds', 23, 55],
    ]);
    expect(tool.annotate('Nothing here.')).toEqual([]);
  });

  it('reports a provider failure to the model and as a failed item; an abort is rethrown', async () => {
    const tool = run({}, () => Promise.reject(new SearchProviderError('rate_limited', 'SearXNG is rate limiting the searches (HTTP 429)', 429)));
    const builder = new OutputBuilder(() => undefined);
    expect(await tool.call(builder, 'web_search', '{"query":"q"}', signal())).toBe(
      'Error: the web search failed: SearXNG is rate limiting the searches (HTTP 429). Answer without it or try again later.',
    );
    expect(await tool.call(builder, 'web_search', '{}', signal())).toMatch(/^Error: web_search needs a query/);
    expect(builder.output.map((i) => (i as { status: string }).status)).toEqual(['failed', 'failed']);
    const controller = new AbortController();
    controller.abort();
    const aborting = run({}, () => Promise.reject(new DOMException('aborted', 'AbortError')));
    await expect(aborting.call(new OutputBuilder(() => undefined), 'web_search', '{"query":"q"}', controller.signal)).rejects.toMatchObject({
      name: 'AbortError',
    });
  });
});
