import { field, providerJson, resultsAt } from './provider-http';
import { SearchProvider, type SearchQuery, type SearchResult, withSites } from './search-provider';
import type { ProviderSettings } from './searxng.provider';

export const BRAVE_URL = 'https://api.search.brave.com/res/v1';
/** Brave's largest `count`. */
const MAX_COUNT = 20;

/**
 * Brave Search's web API: `GET {base}/web/search?q=…&count=…`, the key in `X-Subscription-Token`.
 * Domain filters go into the query as `site:`; the user's location as `country` and Brave's
 * `X-Loc-*` headers.
 */
export class BraveProvider extends SearchProvider {
  readonly name = 'Brave Search';

  constructor(private readonly settings: ProviderSettings) {
    super();
  }

  async search(query: SearchQuery): Promise<SearchResult[]> {
    const base = this.settings.url.endsWith('/') ? this.settings.url : `${this.settings.url}/`;
    const url = new URL('web/search', base);
    url.searchParams.set('q', withSites(query.query, query.allowedDomains));
    url.searchParams.set('count', String(Math.min(query.maxResults, MAX_COUNT)));
    const headers: Record<string, string> = { accept: 'application/json', 'x-subscription-token': this.settings.apiKey ?? '' };
    const location = query.location;
    if (location?.country) {
      url.searchParams.set('country', location.country.toUpperCase());
      headers['x-loc-country'] = location.country.toUpperCase();
    }
    if (location?.city) headers['x-loc-city'] = location.city;
    if (location?.region) headers['x-loc-state-name'] = location.region;
    if (location?.timezone) headers['x-loc-timezone'] = location.timezone;
    const answer = await providerJson(url, { provider: this.name, timeoutMs: this.settings.timeoutMs, signal: query.signal, init: { headers } });
    return resultsAt(answer, ['web', 'results'], this.name)
      .map((r) => ({ url: field(r, 'url'), title: field(r, 'title'), snippet: field(r, 'description') }))
      .filter((r) => r.url)
      .slice(0, query.maxResults);
  }
}
