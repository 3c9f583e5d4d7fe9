import { GuardedHttp } from '../outbound/guarded-http';
import { HostResolver, UrlGuard } from '../outbound/url-guard';
import { type FakeServer, startPageServer } from '../../test/support/web-search-fakes';
import { htmlText, PageError, PageReader } from './page-reader';

describe('PageReader', () => {
  let pages: FakeServer;
  let http: GuardedHttp;
  let reader: PageReader;
  const signal = () => new AbortController().signal;

  beforeAll(async () => {
    pages = await startPageServer({
      '/doc': { body: '<title> The  doc </title><nav>menu</nav><p>Body <a href="https://x.example/">link</a> text.</p><style>p{}</style>' },
      '/plain': { body: 'just text '.repeat(100), contentType: 'text/plain' },
      '/big': { body: `<p>${'x'.repeat(20_000)}</p>` },
      '/zip': { body: 'PK', contentType: 'application/zip' },
      '/slow': { hang: true },
    });
    http = new GuardedHttp(new UrlGuard({ allowHttp: true, allowedHosts: ['127.0.0.1'], allowedHostsVariable: 'WEB_PAGE_ALLOWED_HOSTS' }, new HostResolver()));
    reader = new PageReader(http, { timeoutMs: 500, maxBytes: 8192 });
  });
  afterAll(async () => {
    await http.close();
    await pages.close();
  });

  it('reads an HTML page as its text and title, without navigation, styles or link targets; cuts text past the limit', async () => {
    expect(await reader.open(`${pages.url}/doc`, 1000, signal())).toEqual({ url: `${pages.url}/doc`, title: 'The doc', text: 'Body link text.' });
    const plain = await reader.open(`${pages.url}/plain`, 50, signal());
    expect(plain.text).toBe(`${'just text '.repeat(5)}\n[… the rest of the page is cut]`);
  });

  it('fails with a PageError the model can read: too large, not text, an HTTP error, too slow, refused by the guard', async () => {
    const why = (url: string) =>
      reader.open(url, 1000, signal()).then(
        () => 'opened',
        (e: unknown) => (e instanceof PageError ? e.message : `not a PageError: ${String(e)}`),
      );
    expect(await why(`${pages.url}/big`)).toBe('the page is larger than 8192 bytes');
    expect(await why(`${pages.url}/zip`)).toBe('the page is application/zip, not text');
    expect(await why(`${pages.url}/missing`)).toBe('the page answered HTTP 404');
    expect(await why(`${pages.url}/slow`)).toBe('the page did not load within 500 ms');
    expect(await why('http://127.0.0.2/')).toMatch(/^this server does not open that URL \(/);
    expect(await why('file:///etc/passwd')).toBe('this server does not open that URL (must be an http or https URL)');
  });

  it('extracts text with html-to-text', async () => {
    expect(await htmlText('<h2>Title</h2><script>x()</script><p>a</p>')).toBe('Title\n\na');
  });
});
