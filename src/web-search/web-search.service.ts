import { Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { AppConfig, type WebSearchSettings } from '../config/app-config';
import { Outbound } from '../outbound/outbound.module';
import { BRAVE_URL, BraveProvider } from './brave.provider';
import { PageReader } from './page-reader';
import { SearchProvider, SearchProviderError, type SearchQuery, type SearchResult } from './search-provider';
import { SearxngProvider } from './searxng.provider';
import { TAVILY_URL, TavilyProvider } from './tavily.provider';

/** The configured provider's adapter. */
export function providerFor(settings: WebSearchSettings): SearchProvider {
  const common = { apiKey: settings.apiKey, timeoutMs: settings.timeoutMs };
  switch (settings.provider) {
    case 'searxng':
      return new SearxngProvider({ ...common, url: settings.url! });
    case 'brave':
      return new BraveProvider({ ...common, url: settings.url ?? BRAVE_URL });
    case 'tavily':
      return new TavilyProvider({ ...common, url: settings.url ?? TAVILY_URL });
  }
}

/**
 * The deployment's web search (WEB_SEARCH_*): the provider the `web_search` tool queries and the
 * reader of the pages it opens. `available` is false without a provider: the tool is then left
 * out of requests (see normalizeRequest).
 */
@Injectable()
export class WebSearch implements OnModuleInit {
  private readonly logger = new Logger('WebSearch');
  readonly settings: WebSearchSettings | null;
  private readonly provider: SearchProvider | null;
  readonly pages: PageReader | null;

  constructor(config: AppConfig, outbound: Outbound) {
    this.settings = config.webSearch;
    this.provider = this.settings ? providerFor(this.settings) : null;
    this.pages = this.settings?.openPage
      ? new PageReader(outbound.web, { timeoutMs: this.settings.pageTimeoutMs, maxBytes: this.settings.pageMaxBytes })
      : null;
  }

  onModuleInit(): void {
    // The provider's name only: its URL may carry credentials.
    this.logger.log(
      this.provider
        ? `web_search: ${this.provider.name}${this.pages ? ', open_page through the web pages guard' : ', no open_page'}`
        : 'web_search: no provider configured (WEB_SEARCH_PROVIDER): web_search tools are left out of requests',
    );
  }

  get available(): boolean {
    return this.provider !== null;
  }

  /** One search; a provider failure is logged (kind and status, never the URL or key) and rethrown. */
  async search(query: SearchQuery): Promise<SearchResult[]> {
    if (!this.provider) throw new SearchProviderError('unavailable', 'no web search provider is configured');
    try {
      return await this.provider.search(query);
    } catch (error) {
      if (error instanceof SearchProviderError) {
        this.logger.warn({ msg: 'web search failed', provider: this.provider.name, kind: error.kind, status: error.status });
      }
      throw error;
    }
  }
}
