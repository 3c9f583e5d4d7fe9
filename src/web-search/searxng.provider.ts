import { field, providerJson, resultsAt } from './provider-http';
import { SearchProvider, type SearchQuery, type SearchResult, withSites } from './search-provider';

export interface ProviderSettings {
  /** Base URL (SearXNG: the instance; Brave, Tavily: their API, overridable for tests and proxies). */
  url: string;
  apiKey?: string;
  timeoutMs: number;
}

/**
 * A SearXNG instance's JSON API: `GET {base}/search?q=…&format=json` (the instance must list
 * `json` in `search.formats`). Domain filters go into the query as `site:`; the instance has
 * no result count, so the list is cut here. An API key, when set, is sent as a Bearer token
 * (for an instance behind an authenticating proxy).
 */
export class SearxngProvider extends SearchProvider {
  readonly name = 'SearXNG';

  constructor(private readonly settings: ProviderSettings) {
    super();
  }

  async search(query: SearchQuery): Promise<SearchResult[]> {
    const url = new URL('search', this.settings.url.endsWith('/') ? this.settings.url : `${this.settings.url}/`);
    url.searchParams.set('q', withSites(query.query, query.allowedDomains));
    url.searchParams.set('format', 'json');
    const headers: Record<string, string> = { accept: 'application/json' };
    if (this.settings.apiKey) headers.authorization = `Bearer ${this.settings.apiKey}`;
    const answer = await providerJson(url, { provider: this.name, timeoutMs: this.settings.timeoutMs, signal: query.signal, init: { headers } });
    return resultsAt(answer, ['results'], this.name)
      .map((r) => ({ url: field(r, 'url'), title: field(r, 'title'), snippet: field(r, 'content') }))
      .filter((r) => r.url)
      .slice(0, query.maxResults);
  }
}
