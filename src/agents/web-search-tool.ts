import type { ChatCompletionTool } from 'openai/resources/chat/completions';
import type { ResponseFunctionWebSearch, ResponseOutputText, WebSearchPreviewTool, WebSearchTool } from 'openai/resources/responses/responses';
import { newId } from '../common/ids';
import type { NormalizedRequest } from '../common/response-types';
import { isAbort } from '../inference/upstream-error';
import { PageError, type PageReader } from '../web-search/page-reader';
import type { OutputBuilder } from './output-builder';
import { domainOf, onAllowedDomain, type SearchQuery, type SearchResult } from '../web-search/search-provider';

/** The functions the model is offered for a `web_search` tool. */
export const WEB_SEARCH_FUNCTION = 'web_search';
export const OPEN_PAGE_FUNCTION = 'open_page';
/** The tool types that are one `web_search` tool (OpenAI's current and preview names, dated or not). */
export const WEB_SEARCH_TYPES: ReadonlySet<string> = new Set(['web_search', 'web_search_2025_08_26', 'web_search_preview', 'web_search_preview_2025_03_11']);
const MAX_QUERY_CHARS = 1000;
/** Titles shorter than this are too common to show that the text cites the result by naming it. */
const MIN_TITLE_CHARS = 8;

type WebSearchConfig = WebSearchTool | WebSearchPreviewTool;
type Citation = ResponseOutputText.URLCitation;
type ContextSize = 'low' | 'medium' | 'high';

/** What `search_context_size` gives the model: results per search (capped by WEB_SEARCH_MAX_RESULTS), characters per result and per page. */
const CONTEXT: Record<ContextSize, { results: number; snippetChars: number; pageChars: number }> = {
  low: { results: 3, snippetChars: 300, pageChars: 4_000 },
  medium: { results: 6, snippetChars: 600, pageChars: 12_000 },
  high: { results: 10, snippetChars: 1_200, pageChars: 32_000 },
};

/** The deployment's search as the tool uses it (WebSearch in src/web-search). */
export interface WebSearchBackend {
  search(query: SearchQuery): Promise<SearchResult[]>;
  /** Null when WEB_SEARCH_OPEN_PAGE is off. */
  pages: PageReader | null;
  maxResults: number;
}

const escapeAttr = (s: string) => s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');

/** The `field` of a model's call: `{"field": "…"}` or plain text. */
export function argumentOf(args: string, field: 'query' | 'url'): string {
  let value: unknown = args;
  try {
    value = JSON.parse(args);
  } catch {
    // a model that wrote the value as text
  }
  if (value && typeof value === 'object') value = (value as Record<string, unknown>)[field];
  return typeof value === 'string' ? value.trim() : '';
}

/** `user_location` as the model reads it: "Paris, Île-de-France, FR (Europe/Paris)". */
function locationText(location: WebSearchConfig['user_location']): string {
  if (!location) return '';
  const place = [location.city, location.region, location.country].filter(Boolean).join(', ');
  return [place, location.timezone ? `(${location.timezone})` : ''].filter(Boolean).join(' ');
}

/**
 * The `web_search` tool of one response, shaped like FileSearchToolRun: offered to the model as a
 * `web_search` function (and `open_page` when pages may be opened), run server-side through the
 * deployment's provider, reported as `web_search_call` items with their events, and cited on the
 * final text as `url_citation` annotations pointing at results the searches returned.
 */
export class WebSearchToolRun {
  /** Every result and opened page of this response, in first-seen order: its index + 1 is its `[n]` reference. */
  private readonly found: Array<{ url: string; title: string }> = [];
  private readonly domains: string[];
  private readonly context: (typeof CONTEXT)[ContextSize];
  readonly chatTools: ChatCompletionTool[];

  private constructor(
    private readonly config: WebSearchConfig,
    private readonly includeSources: boolean,
    private readonly backend: WebSearchBackend,
  ) {
    this.domains = ('filters' in config ? (config.filters?.allowed_domains ?? []) : []).map(domainOf).filter(Boolean);
    this.context = CONTEXT[config.search_context_size ?? 'medium'];
    this.chatTools = this.tools();
  }

  static from(request: NormalizedRequest, backend: WebSearchBackend | undefined): WebSearchToolRun | null {
    const config = request.tools?.find((t): t is WebSearchConfig => WEB_SEARCH_TYPES.has(t.type));
    if (!config || !backend) return null;
    return new WebSearchToolRun(config, request.include?.includes('web_search_call.action.sources') ?? false, backend);
  }

  /** Pages are opened unless the deployment forbids it or the client asked for no live access (`external_web_access: false`). */
  private get opensPages(): boolean {
    return this.backend.pages !== null && !('external_web_access' in this.config && this.config.external_web_access === false);
  }

  private tools(): ChatCompletionTool[] {
    const where = locationText(this.config.user_location);
    const search: ChatCompletionTool = {
      type: 'function',
      function: {
        name: WEB_SEARCH_FUNCTION,
        description:
          'Search the web. Returns results numbered [1], [2]…, each with its URL, title and an excerpt. ' +
          'Cite what you use by its reference ([1]) or its URL.' +
          (this.domains.length ? ` Only results from ${this.domains.join(', ')} are returned.` : '') +
          (where ? ` The user is approximately in ${where}.` : ''),
        parameters: {
          type: 'object',
          properties: { query: { type: 'string', description: 'The search query.' } },
          required: ['query'],
          additionalProperties: false,
        },
      },
    };
    if (!this.opensPages) return [search];
    const open: ChatCompletionTool = {
      type: 'function',
      function: {
        name: OPEN_PAGE_FUNCTION,
        description: "Open a web page (e.g. a search result's URL) and read its text.",
        parameters: {
          type: 'object',
          properties: { url: { type: 'string', description: 'The absolute http(s) URL of the page.' } },
          required: ['url'],
          additionalProperties: false,
        },
      },
    };
    return [search, open];
  }

  owns(chatName: string): boolean {
    return chatName === WEB_SEARCH_FUNCTION || (chatName === OPEN_PAGE_FUNCTION && this.opensPages);
  }

  /** Runs one call: the `web_search_call` item and its events; returns what the model reads. */
  call(builder: OutputBuilder, chatName: string, args: string, signal: AbortSignal): Promise<string> {
    return chatName === OPEN_PAGE_FUNCTION ? this.openPage(builder, argumentOf(args, 'url'), signal) : this.search(builder, argumentOf(args, 'query'), signal);
  }

  private begin(builder: OutputBuilder, action: ResponseFunctionWebSearch['action']): { item: ResponseFunctionWebSearch; index: number } {
    const item: ResponseFunctionWebSearch = { id: newId('ws'), type: 'web_search_call', status: 'in_progress', action };
    const index = builder.addItem(structuredClone(item));
    builder.event({ type: 'response.web_search_call.in_progress', item_id: item.id, output_index: index });
    builder.event({ type: 'response.web_search_call.searching', item_id: item.id, output_index: index });
    return { item, index };
  }

  private async search(builder: OutputBuilder, rawQuery: string, signal: AbortSignal): Promise<string> {
    const query = rawQuery.slice(0, MAX_QUERY_CHARS);
    const { item, index } = this.begin(builder, { type: 'search', query });
    if (!query) {
      builder.doneItem(index, { ...item, status: 'failed' });
      return 'Error: web_search needs a query, as {"query": "…"}.';
    }
    let results: SearchResult[];
    try {
      const maxResults = Math.min(this.context.results, this.backend.maxResults);
      const location = this.config.user_location;
      results = await this.backend.search({
        query,
        maxResults,
        allowedDomains: this.domains,
        location: location
          ? {
              country: location.country ?? undefined,
              region: location.region ?? undefined,
              city: location.city ?? undefined,
              timezone: location.timezone ?? undefined,
            }
          : undefined,
        signal,
      });
      // The provider's own filter is trusted no further than this.
      results = results.filter((r) => /^https?:\/\//i.test(r.url) && onAllowedDomain(r.url, this.domains)).slice(0, maxResults);
    } catch (error) {
      if (signal.aborted || isAbort(error)) throw error;
      builder.doneItem(index, { ...item, status: 'failed' });
      return `Error: the web search failed: ${error instanceof Error ? error.message : String(error)}. Answer without it or try again later.`;
    }
    const refs = results.map((r) => this.remember(r.url, r.title));
    builder.event({ type: 'response.web_search_call.completed', item_id: item.id, output_index: index });
    const action: ResponseFunctionWebSearch.Search = {
      type: 'search',
      query,
      ...(this.includeSources ? { sources: results.map((r) => ({ type: 'url' as const, url: r.url })) } : {}),
    };
    builder.doneItem(index, { ...item, status: 'completed', action });
    if (!results.length) return 'No results: the web search found nothing for this query.';
    return results
      .map((r, i) => {
        const snippet = r.snippet.length > this.context.snippetChars ? `${r.snippet.slice(0, this.context.snippetChars)}…` : r.snippet;
        return `<result ref="[${refs[i]}]" url="${escapeAttr(r.url)}" title="${escapeAttr(r.title)}">\n${snippet}\n</result>`;
      })
      .join('\n');
  }

  private async openPage(builder: OutputBuilder, url: string, signal: AbortSignal): Promise<string> {
    const { item, index } = this.begin(builder, { type: 'open_page', url });
    const fail = (why: string) => {
      builder.doneItem(index, { ...item, status: 'failed' });
      return `Error: the page could not be opened: ${why}.`;
    };
    if (!url) return fail('open_page needs a URL, as {"url": "https://…"}');
    if (!onAllowedDomain(url, this.domains)) return fail(`only pages on ${this.domains.join(', ')} may be opened`);
    let text: string;
    try {
      const page = await this.backend.pages!.open(url, this.context.pageChars, signal);
      const ref = this.remember(url, page.title);
      text = `<page ref="[${ref}]" url="${escapeAttr(url)}" title="${escapeAttr(page.title)}">\n${page.text}\n</page>`;
    } catch (error) {
      if (signal.aborted || isAbort(error)) throw error;
      if (error instanceof PageError) return fail(error.message);
      throw error;
    }
    builder.event({ type: 'response.web_search_call.completed', item_id: item.id, output_index: index });
    builder.doneItem(index, { ...item, status: 'completed' });
    return text;
  }

  /** The result's `[n]` reference, the same each time the same URL comes back. */
  private remember(url: string, title: string): number {
    const at = this.found.findIndex((f) => f.url === url);
    if (at >= 0) {
      if (!this.found[at].title && title) this.found[at].title = title;
      return at + 1;
    }
    this.found.push({ url, title });
    return this.found.length;
  }

  /**
   * Citations for the final text, only where it refers to a result this response found: a
   * bracket reference (`[2]`, `[1, 3]`) spans the brackets, a result's URL or its title
   * (8 characters or more) spans the mention. A text that refers to no result cites nothing.
   */
  annotate(text: string): Citation[] {
    if (!this.found.length) return [];
    const citations: Citation[] = [];
    const cite = (n: number, start: number, end: number) => {
      const result = this.found[n - 1];
      if (result) citations.push({ type: 'url_citation', url: result.url, title: result.title, start_index: start, end_index: end });
    };
    for (const match of text.matchAll(/\[(\d{1,3}(?:\s*,\s*\d{1,3})*)\]/g)) {
      for (const n of match[1].split(',')) cite(Number(n.trim()), match.index, match.index + match[0].length);
    }
    this.found.forEach((result, i) => {
      for (const mention of [result.url, result.url.replace(/\/$/, ''), result.title.length >= MIN_TITLE_CHARS ? result.title : '']) {
        if (!mention) continue;
        const at = text.indexOf(mention);
        if (at >= 0 && !citations.some((c) => c.start_index < at + mention.length && at < c.end_index)) {
          cite(i + 1, at, at + mention.length);
          break;
        }
      }
    });
    return citations.sort((a, b) => a.start_index - b.start_index || a.end_index - b.end_index);
  }
}
