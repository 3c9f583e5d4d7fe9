import type { GuardedHttp } from '../outbound/guarded-http';
import { ResponseTooLargeError } from '../outbound/guarded-http';
import { UrlRefusedError } from '../outbound/url-guard';

/** An `open_page` that could not be read: the message is what the model is told. */
export class PageError extends Error {}

export interface Page {
  url: string;
  title: string;
  text: string;
}

const TEXT_TYPES = /^(text\/|application\/(json|xml|xhtml\+xml|ld\+json))/;
const SKIPPED = ['head', 'title', 'script', 'style', 'noscript', 'template', 'svg', 'canvas', 'iframe', 'object', 'img', 'nav', 'footer'];

/** Whether the error, or one it wraps (undici wraps stream errors), is of the class. */
function causes(error: unknown, type: new (...args: never[]) => Error): boolean {
  for (let e: unknown = error, depth = 0; e instanceof Error && depth < 5; e = (e as Error).cause, depth++) if (e instanceof type) return true;
  return false;
}

function titleOf(html: string): string {
  const match = /<title[^>]*>([^<]*)<\/title>/i.exec(html);
  return match ? match[1].replace(/\s+/g, ' ').trim() : '';
}

/** A page's readable text: markup, scripts and link targets dropped (html-to-text). */
export async function htmlText(html: string): Promise<string> {
  const { convert } = await import('html-to-text');
  return convert(html, {
    wordwrap: false,
    selectors: [
      ...SKIPPED.map((selector) => ({ selector, format: 'skip' })),
      { selector: 'a', options: { ignoreHref: true } },
      ...['h1', 'h2', 'h3', 'h4', 'h5', 'h6'].map((selector) => ({ selector, options: { uppercase: false } })),
    ],
  });
}

/**
 * Reads the pages the model opens, only through the web pages' SSRF guard (no private,
 * loopback or metadata address unless WEB_PAGE_ALLOWED_HOSTS names it, checked at connect time
 * and on every redirect), at most `maxBytes` of each and within `timeoutMs`.
 */
export class PageReader {
  constructor(
    private readonly http: GuardedHttp,
    private readonly limits: { timeoutMs: number; maxBytes: number },
  ) {}

  async open(url: string, maxChars: number, signal: AbortSignal): Promise<Page> {
    const timeout = AbortSignal.timeout(this.limits.timeoutMs);
    const fetch = this.http.fetch({ maxResponseBytes: this.limits.maxBytes });
    try {
      const response = await fetch(url, {
        signal: AbortSignal.any([signal, timeout]),
        headers: { accept: 'text/html, text/plain;q=0.9, */*;q=0.1', 'user-agent': 'responses-gateway web_search' },
      });
      if (!response.ok) {
        await response.body?.cancel();
        throw new PageError(`the page answered HTTP ${response.status}`);
      }
      const type = (response.headers.get('content-type') ?? 'text/html').toLowerCase();
      if (!TEXT_TYPES.test(type)) {
        await response.body?.cancel();
        throw new PageError(`the page is ${type.split(';')[0]}, not text`);
      }
      const body = await response.text();
      const html = type.includes('html');
      const text = (html ? await htmlText(body) : body).trim();
      return { url, title: html ? titleOf(body) : '', text: text.length > maxChars ? `${text.slice(0, maxChars)}\n[… the rest of the page is cut]` : text };
    } catch (error) {
      if (signal.aborted) throw error;
      if (error instanceof PageError) throw error;
      if (error instanceof UrlRefusedError) throw new PageError(`this server does not open that URL (${error.message})`);
      if (causes(error, ResponseTooLargeError)) throw new PageError(`the page is larger than ${this.limits.maxBytes} bytes`);
      if (timeout.aborted) throw new PageError(`the page did not load within ${this.limits.timeoutMs} ms`);
      throw new PageError('the page could not be loaded');
    }
  }
}
