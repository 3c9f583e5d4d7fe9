import { field, providerJson, resultsAt } from './provider-http';
import { SearchProvider, type SearchQuery, type SearchResult } from './search-provider';
import type { ProviderSettings } from './searxng.provider';

export const TAVILY_URL = 'https://api.tavily.com';
/** Tavily's largest `max_results`. */
const MAX_RESULTS = 20;

/**
 * Tavily's search API: `POST {base}/search` with a JSON body, the key as a Bearer token. Domain
 * filters are its `include_domains`. Tavily's `country` takes country names, not the ISO codes
 * of `user_location`, so the location reaches the model (in the tool's description) only.
 */
export class TavilyProvider extends SearchProvider {
  readonly name = 'Tavily';

  constructor(private readonly settings: ProviderSettings) {
    super();
  }

  async search(query: SearchQuery): Promise<SearchResult[]> {
    const base = this.settings.url.endsWith('/') ? this.settings.url : `${this.settings.url}/`;
    const body = {
      query: query.query,
      max_results: Math.min(query.maxResults, MAX_RESULTS),
      search_depth: 'basic',
      ...(query.allowedDomains.length ? { include_domains: query.allowedDomains } : {}),
    };
    const answer = await providerJson(new URL('search', base), {
      provider: this.name,
      timeoutMs: this.settings.timeoutMs,
      signal: query.signal,
      init: {
        method: 'POST',
        headers: { accept: 'application/json', 'content-type': 'application/json', authorization: `Bearer ${this.settings.apiKey ?? ''}` },
        body: JSON.stringify(body),
      },
    });
    return resultsAt(answer, ['results'], this.name)
      .map((r) => ({ url: field(r, 'url'), title: field(r, 'title'), snippet: field(r, 'content') }))
      .filter((r) => r.url)
      .slice(0, query.maxResults);
  }
}
