/** One search as the `web_search` tool asks it of a provider. */
export interface SearchQuery {
  query: string;
  /** The most results wanted (a provider may return fewer). */
  maxResults: number;
  /** Only results on these domains or their subdomains (empty: any). Results are checked again by the tool. */
  allowedDomains: string[];
  /** The user's approximate location, for providers that localize results. */
  location?: { country?: string; region?: string; city?: string; timezone?: string };
  signal: AbortSignal;
}

/** One result: where it is, its title and the provider's excerpt of it. */
export interface SearchResult {
  url: string;
  title: string;
  snippet: string;
}

/** Why a provider call failed: what the model and the operator are told (never with the URL or key). */
export type SearchFailure = 'timeout' | 'rate_limited' | 'unavailable' | 'rejected' | 'bad_response';

export class SearchProviderError extends Error {
  constructor(
    readonly kind: SearchFailure,
    message: string,
    /** The provider's HTTP status, when it answered. */
    readonly status?: number,
  ) {
    super(message);
  }
}

/**
 * A web search service (port): SearXNG, Brave, Tavily. Its calls are bounded in time and size
 * and fail with a SearchProviderError; an aborted `signal` rejects with the abort.
 */
export abstract class SearchProvider {
  abstract readonly name: string;
  abstract search(query: SearchQuery): Promise<SearchResult[]>;
}

/** `example.com`, `https://docs.example.com/x` → `example.com`, `docs.example.com`: the host part, lowercased. */
export function domainOf(entry: string): string {
  const bare = entry
    .trim()
    .toLowerCase()
    .replace(/^[a-z][a-z0-9+.-]*:\/\//, '');
  return bare.split(/[/?#]/)[0].replace(/:\d+$/, '').replace(/\.$/, '');
}

/** Whether a URL is on one of the domains (or a subdomain of one); any URL when there are none. */
export function onAllowedDomain(url: string, domains: readonly string[]): boolean {
  if (!domains.length) return true;
  let host: string;
  try {
    host = new URL(url).hostname.toLowerCase().replace(/\.$/, '');
  } catch {
    return false;
  }
  return domains.some((d) => host === d || host.endsWith(`.${d}`));
}

/** `q (site:a.com OR site:b.com)`: the domain filter for providers that take it in the query (SearXNG, Brave). */
export function withSites(query: string, domains: readonly string[]): string {
  if (!domains.length) return query;
  const sites = domains.map((d) => `site:${d}`);
  return `${query} ${sites.length === 1 ? sites[0] : `(${sites.join(' OR ')})`}`;
}
