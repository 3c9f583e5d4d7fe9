import { Logger } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { parseEnvironment } from '../config/environment';
import type { Outbound } from '../outbound/outbound.module';
import { type FakeServer, startFakeServer } from '../../test/support/web-search-fakes';
import { waitFor } from '../../test/support/wait';
import { BraveProvider } from './brave.provider';
import { SearchProviderError, type SearchQuery, domainOf, onAllowedDomain, withSites } from './search-provider';
import { SearxngProvider } from './searxng.provider';
import { TavilyProvider } from './tavily.provider';
import { WebSearch } from './web-search.service';

const KEY = 'sk-search-secret-123';

const query = (over: Partial<SearchQuery> = {}): SearchQuery => ({
  query: 'refunds',
  maxResults: 2,
  allowedDomains: [],
  signal: new AbortController().signal,
  ...over,
});

async function failure(p: Promise<unknown>): Promise<SearchProviderError> {
  const error = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(SearchProviderError);
  return error as SearchProviderError;
}

describe('web search providers', () => {
  let server: FakeServer;
  beforeAll(async () => {
    server = await startFakeServer((r) =>
      r.path === '/web/search'
        ? { body: { web: { results: [1, 2, 3].map((n) => ({ url: `https://b${n}.example/`, title: `B${n}`, description: `d${n}` })) } } }
        : { body: { results: [1, 2, 3].map((n) => ({ url: `https://r${n}.example/`, title: `R${n}`, content: `c${n}` })) } },
    );
  });
  beforeEach(() => server.reset());
  afterAll(() => server.close());

  it('SearXNG: GET {base}/search with format=json, site: filters in the query, results cut to the count', async () => {
    const provider = new SearxngProvider({ url: `${server.url}/searx`, timeoutMs: 1000 });
    const results = await provider.search(query({ allowedDomains: ['a.com', 'b.org'] }));
    expect(results).toEqual([
      { url: 'https://r1.example/', title: 'R1', snippet: 'c1' },
      { url: 'https://r2.example/', title: 'R2', snippet: 'c2' },
    ]);
    const [request] = server.requests;
    expect(request.method).toBe('GET');
    expect(request.path).toBe('/searx/search');
    expect(request.query.get('format')).toBe('json');
    expect(request.query.get('q')).toBe('refunds (site:a.com OR site:b.org)');
    expect(request.headers.authorization).toBeUndefined();
  });

  it('Brave: the key in X-Subscription-Token, count and country, the location in X-Loc-* headers', async () => {
    const provider = new BraveProvider({ url: server.url, apiKey: KEY, timeoutMs: 1000 });
    const results = await provider.search(query({ allowedDomains: ['a.com'], location: { country: 'fr', city: 'Lyon' } }));
    expect(results.map((r) => r.snippet)).toEqual(['d1', 'd2']);
    const [request] = server.requests;
    expect(request.path).toBe('/web/search');
    expect(request.query.get('q')).toBe('refunds site:a.com');
    expect(request.query.get('count')).toBe('2');
    expect(request.query.get('country')).toBe('FR');
    expect(request.headers['x-subscription-token']).toBe(KEY);
    expect(request.headers['x-loc-city']).toBe('Lyon');
  });

  it('Tavily: POST {base}/search with a JSON body, the key as a Bearer token, include_domains', async () => {
    const provider = new TavilyProvider({ url: server.url, apiKey: KEY, timeoutMs: 1000 });
    await provider.search(query({ allowedDomains: ['a.com'], maxResults: 50 }));
    const [request] = server.requests;
    expect(request.method).toBe('POST');
    expect(request.path).toBe('/search');
    expect(request.headers.authorization).toBe(`Bearer ${KEY}`);
    expect(JSON.parse(request.body)).toEqual({ query: 'refunds', max_results: 20, search_depth: 'basic', include_domains: ['a.com'] });
  });

  it('turns 429, 5xx, 4xx, bad JSON and timeouts into typed errors that name neither the URL nor the key', async () => {
    const provider = new BraveProvider({ url: `${server.url}/?token=${KEY}`, apiKey: KEY, timeoutMs: 300 });
    server.enqueue({ status: 429 }, { status: 503 }, { status: 401 }, { body: 'not json' }, { hang: true });
    const errors = [];
    for (let i = 0; i < 5; i++) errors.push(await failure(provider.search(query())));
    expect(errors.map((e) => [e.kind, e.status])).toEqual([
      ['rate_limited', 429],
      ['unavailable', 503],
      ['rejected', 401],
      ['bad_response', undefined],
      ['timeout', undefined],
    ]);
    for (const e of errors) {
      expect(e.message).not.toContain(KEY);
      expect(e.message).not.toContain(server.url);
    }
  });

  it('rethrows the caller’s abort as an abort, not as a provider failure', async () => {
    const provider = new SearxngProvider({ url: server.url, timeoutMs: 10_000 });
    server.enqueue({ hang: true });
    const controller = new AbortController();
    const pending = provider.search(query({ signal: controller.signal }));
    await waitFor(
      () => Promise.resolve(server.requests.length),
      (n) => n === 1,
    );
    controller.abort();
    await expect(pending).rejects.toMatchObject({ name: 'AbortError' });
  });

  it('WebSearch logs a failure by provider, kind and status, never with the key', async () => {
    const config = new AppConfig(
      parseEnvironment({ WEB_SEARCH_PROVIDER: 'brave', WEB_SEARCH_URL: server.url, WEB_SEARCH_API_KEY: KEY, WEB_SEARCH_OPEN_PAGE: 'false' }),
    );
    const search = new WebSearch(config, {} as Outbound);
    expect(search.available).toBe(true);
    expect(search.pages).toBeNull();
    const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    server.enqueue({ status: 500 });
    await failure(search.search(query()));
    expect(warn).toHaveBeenCalledWith({ msg: 'web search failed', provider: 'Brave Search', kind: 'unavailable', status: 500 });
    expect(JSON.stringify(warn.mock.calls)).not.toContain(KEY);
    warn.mockRestore();
  });

  it('is not available without WEB_SEARCH_PROVIDER; the settings each provider needs are required', () => {
    expect(new WebSearch(new AppConfig(parseEnvironment({})), {} as Outbound).available).toBe(false);
    expect(() => parseEnvironment({ WEB_SEARCH_PROVIDER: 'searxng' })).toThrow(/needs WEB_SEARCH_URL/);
    expect(() => parseEnvironment({ WEB_SEARCH_PROVIDER: 'tavily' })).toThrow(/needs WEB_SEARCH_API_KEY/);
    expect(() => parseEnvironment({ WEB_SEARCH_PROVIDER: 'brave', WEB_SEARCH_API_KEY: KEY, WEB_SEARCH_URL: 'ftp://x' })).toThrow(/http or https/);
  });
});

describe('domain filters', () => {
  it('normalizes entries and matches a domain and its subdomains only', () => {
    expect(['Example.com', 'https://docs.example.com/x?y', 'example.org.', 'a.com:8443'].map(domainOf)).toEqual([
      'example.com',
      'docs.example.com',
      'example.org',
      'a.com',
    ]);
    expect(onAllowedDomain('https://docs.example.com/a', ['example.com'])).toBe(true);
    expect(onAllowedDomain('https://example.com/a', ['example.com'])).toBe(true);
    expect(onAllowedDomain('https://notexample.com/a', ['example.com'])).toBe(false);
    expect(onAllowedDomain('not a url', ['example.com'])).toBe(false);
    expect(onAllowedDomain('https://any.where/', [])).toBe(true);
    expect(withSites('q', [])).toBe('q');
  });
});
