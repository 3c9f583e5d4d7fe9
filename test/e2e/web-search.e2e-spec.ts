import type OpenAI from 'openai';
import type { ResponseFunctionWebSearch, ResponseOutputMessage, ResponseStreamEvent } from 'openai/resources/responses/responses';
import { storeBackends } from '../support/backends';
import { useE2e } from '../support/e2e';
import { waitFor } from '../support/wait';
import { type FakeServer, type SearxResult, startFakeSearxng, startPageServer } from '../support/web-search-fakes';

type Messages = Array<{ role: string; content: string | null; tool_call_id?: string; tool_calls?: Array<{ function: { name: string; arguments: string } }> }>;

const call = (name: 'web_search' | 'open_page', args: Record<string, string>, id = `call_${name}`) => ({
  toolCalls: [{ id, name, arguments: JSON.stringify(args) }],
  finishReason: 'tool_calls' as const,
});

const caught = (p: Promise<unknown>) =>
  p.then(
    () => null,
    (e: unknown) => e as { status?: number; error?: { message?: string; param?: string | null; code?: string | null } },
  );

const textOf = (response: OpenAI.Responses.Response) => {
  const message = response.output.find((i): i is ResponseOutputMessage => i.type === 'message')!;
  const part = message.content[0];
  return part.type === 'output_text' ? part : null;
};

const webCalls = (response: OpenAI.Responses.Response) => response.output.filter((i): i is ResponseFunctionWebSearch => i.type === 'web_search_call');

describe.each(storeBackends('web_search'))(
  'the web_search tool with a SearXNG provider on $name (openai SDK → gateway → fake SearXNG, fake pages)',
  (backend) => {
    let searx: FakeServer;
    let pages: FakeServer;
    /** Listens on 127.0.0.2, a loopback address the page guard does not allow: it must never be reached. */
    let privatePages: FakeServer;
    let corpus: SearxResult[] = [];
    const e2e = useE2e({
      backend,
      resetUpstream: true,
      env: async (upstream) => {
        pages = await startPageServer({
          '/refunds': {
            body: '<html><head><title>Refund policy</title><script>var secret = "never shown";</script></head><body><h1>Refunds</h1><p>Refunds take <b>five</b> business days.</p></body></html>',
          },
          '/to-private': { status: 302, body: '', headers: { location: 'http://127.0.0.2/secret' } },
          '/binary': { body: 'PK\u0003\u0004', contentType: 'application/zip' },
        });
        privatePages = await startPageServer({ '/secret': { body: '<p>internal only</p>' } }, '127.0.0.2');
        searx = await startFakeSearxng(() => corpus);
        return {
          INFERENCE_BASE_URL: upstream.url,
          WEB_SEARCH_PROVIDER: 'searxng',
          WEB_SEARCH_URL: searx.url,
          WEB_SEARCH_TIMEOUT_MS: '1500',
          WEB_PAGE_TIMEOUT_MS: '5000',
          // The page server's address only: the other loopback addresses stay refused.
          WEB_PAGE_ALLOWED_HOSTS: '127.0.0.1',
        };
      },
    });

    beforeEach(() => {
      searx.reset();
      pages.reset();
      privatePages.reset();
      corpus = [
        { url: `${pages.url}/refunds`, title: 'Refund policy of Example Shop', content: 'Refunds take five business days.' },
        { url: 'https://docs.example.com/shipping', title: 'Shipping times', content: 'Refunds and shipping: parcels ship in two days.' },
        { url: 'https://blog.example.org/refunds', title: 'A blog about refunds', content: 'Our refunds story.' },
      ];
    });

    afterAll(async () => {
      await Promise.all([searx?.close(), pages?.close(), privatePages?.close()]);
    });

    it('searches server-side, feeds the results back, keeps the sources when included, and cites what the answer refers to', async () => {
      e2e.upstream.enqueue(call('web_search', { query: 'refunds' }), { text: 'Refunds take five business days [1]. See also Shipping times.' });
      const response = await e2e.client.responses.create({
        model: 'upstream-model',
        input: 'How long do refunds take?',
        tools: [{ type: 'web_search' }],
        include: ['web_search_call.action.sources'],
      });
      expect(response.status).toBe('completed');
      expect(response.tools).toEqual([{ type: 'web_search', search_context_size: 'medium' }]);
      const [ws] = webCalls(response);
      expect(ws).toEqual({
        id: expect.stringMatching(/^ws_/),
        type: 'web_search_call',
        status: 'completed',
        action: { type: 'search', query: 'refunds', sources: corpus.map((r) => ({ type: 'url', url: r.url })) },
      });
      expect(searx.requests[0].query.get('q')).toBe('refunds');
      // The second upstream call carried the numbered results as the tool's answer.
      const first = e2e.upstream.requests[0].body as { tools: Array<{ function: { name: string } }> };
      expect(first.tools.map((t) => t.function.name)).toEqual(['web_search', 'open_page']);
      const tool = (e2e.upstream.requests[1].body as { messages: Messages }).messages.find((m) => m.role === 'tool')!;
      expect(tool).toMatchObject({ tool_call_id: 'call_web_search' });
      expect(tool.content).toContain(`<result ref="[1]" url="${pages.url}/refunds" title="Refund policy of Example Shop">`);
      expect(tool.content).toContain('Refunds take five business days.');
      const text = textOf(response)!;
      const at = (s: string) => text.text.indexOf(s);
      expect(text.annotations).toEqual([
        { type: 'url_citation', url: `${pages.url}/refunds`, title: 'Refund policy of Example Shop', start_index: at('[1]'), end_index: at('[1]') + 3 },
        {
          type: 'url_citation',
          url: corpus[1].url,
          title: 'Shipping times',
          start_index: at('Shipping times'),
          end_index: at('Shipping times') + 'Shipping times'.length,
        },
      ]);
    });

    it('streams the web_search_call events in order, leaves the sources out unless included, and forces the tool once with tool_choice', async () => {
      e2e.upstream.enqueue(call('web_search', { query: 'refunds' }), { text: 'Nothing to cite here.' });
      const stream = await e2e.client.responses.create({
        model: 'upstream-model',
        input: 'refunds?',
        tools: [{ type: 'web_search_preview', search_context_size: 'low' }],
        tool_choice: { type: 'web_search_preview' },
        stream: true,
      });
      const events: ResponseStreamEvent[] = [];
      for await (const event of stream) events.push(event);
      const types = events.map((e) => e.type).filter((t) => t.startsWith('response.web_search_call') || t.startsWith('response.output_item'));
      expect(types.slice(0, 5)).toEqual([
        'response.output_item.added',
        'response.web_search_call.in_progress',
        'response.web_search_call.searching',
        'response.web_search_call.completed',
        'response.output_item.done',
      ]);
      const done = events.find((e) => e.type === 'response.completed');
      const response = done?.type === 'response.completed' ? done.response : undefined;
      expect(webCalls(response!)[0]).toMatchObject({ status: 'completed', action: { type: 'search', query: 'refunds' } });
      expect(webCalls(response!)[0].action).not.toHaveProperty('sources');
      expect(textOf(response!)?.annotations).toEqual([]); // the text refers to no result
      const [first, second] = e2e.upstream.requests.map((r) => r.body as { tool_choice?: unknown; messages: Messages });
      expect(first.tool_choice).toEqual({ type: 'function', function: { name: 'web_search' } });
      expect(second.tool_choice).toBe('auto');
      // search_context_size 'low': three results at most.
      expect(second.messages.find((m) => m.role === 'tool')!.content!.match(/<result /g)).toHaveLength(3);
    });

    it('honours filters.allowed_domains: site: filters to the provider, other domains dropped from the results and refused by open_page', async () => {
      e2e.upstream.enqueue(call('web_search', { query: 'refunds' }), call('open_page', { url: 'https://blog.example.org/refunds' }), { text: 'Done.' });
      const response = await e2e.client.responses.create({
        model: 'upstream-model',
        input: 'refunds?',
        tools: [{ type: 'web_search', filters: { allowed_domains: ['example.com'] }, user_location: { type: 'approximate', city: 'Lyon', country: 'FR' } }],
        include: ['web_search_call.action.sources'],
      });
      expect(searx.requests[0].query.get('q')).toBe('refunds site:example.com');
      const [search, open] = webCalls(response);
      expect(search.action).toEqual({ type: 'search', query: 'refunds', sources: [{ type: 'url', url: 'https://docs.example.com/shipping' }] });
      expect(open).toMatchObject({ status: 'failed', action: { type: 'open_page', url: 'https://blog.example.org/refunds' } });
      const first = e2e.upstream.requests[0].body as { tools: Array<{ function: { name: string; description: string } }> };
      expect(first.tools[0].function.description).toContain('The user is approximately in Lyon, FR.');
      const last = (e2e.upstream.requests[2].body as { messages: Messages }).messages.filter((m) => m.role === 'tool');
      expect(last[1].content).toBe('Error: the page could not be opened: only pages on example.com may be opened.');
    });

    it('opens a result through the page guard: the text without markup or scripts, cited by its URL', async () => {
      const url = `${pages.url}/refunds`;
      e2e.upstream.enqueue(call('open_page', { url }), { text: `From ${url}: five business days.` });
      const response = await e2e.client.responses.create({ model: 'upstream-model', input: 'open it', tools: [{ type: 'web_search' }] });
      expect(webCalls(response)).toEqual([{ id: expect.any(String), type: 'web_search_call', status: 'completed', action: { type: 'open_page', url } }]);
      const tool = (e2e.upstream.requests[1].body as { messages: Messages }).messages.find((m) => m.role === 'tool')!;
      expect(tool.content).toContain('title="Refund policy"');
      expect(tool.content).toContain('Refunds take five business days.');
      expect(tool.content).not.toContain('never shown');
      expect(tool.content).not.toContain('<b>');
      const text = textOf(response)!;
      expect(text.annotations).toEqual([{ type: 'url_citation', url, title: 'Refund policy', start_index: 5, end_index: 5 + url.length }]);
    });

    it('never fetches a result URL at a private address (127.0.0.2, 10.x, the metadata IP), directly or by redirect', async () => {
      const targets = [`${privatePages.url}/secret`, 'http://10.0.0.1/admin', 'http://169.254.169.254/latest/meta-data/', `${pages.url}/to-private`];
      corpus = targets.map((url) => ({ url, title: 'internal', content: 'refunds internal' }));
      e2e.upstream.enqueue(call('web_search', { query: 'refunds' }), ...targets.map((url, i) => call('open_page', { url }, `call_${i}`)), { text: 'ok' });
      const response = await e2e.client.responses.create({ model: 'upstream-model', input: 'x', tools: [{ type: 'web_search' }] });
      expect(response.status).toBe('completed');
      const opens = webCalls(response).slice(1);
      expect(opens.map((c) => c.status)).toEqual(['failed', 'failed', 'failed', 'failed']);
      expect(privatePages.requests).toEqual([]);
      expect(pages.requests.map((r) => r.path)).toEqual(['/to-private']); // allowed, but its redirect was not followed
      const tools = (e2e.upstream.requests.at(-1)!.body as { messages: Messages }).messages.filter((m) => m.role === 'tool').slice(1);
      for (const t of tools) expect(t.content).toMatch(/^Error: the page could not be opened: this server does not open that URL/);
    });

    it('turns a provider timeout and a 429 into failed calls the model is told about; the response still completes', async () => {
      searx.enqueue({ hang: true }, { status: 429, body: { error: 'slow down' } });
      e2e.upstream.enqueue(call('web_search', { query: 'refunds' }), call('web_search', { query: 'refunds again' }), { text: 'The search is unavailable.' });
      const response = await e2e.client.responses.create({ model: 'upstream-model', input: 'x', tools: [{ type: 'web_search' }] });
      expect(response.status).toBe('completed');
      expect(webCalls(response).map((c) => c.status)).toEqual(['failed', 'failed']);
      const tools = (e2e.upstream.requests[2].body as { messages: Messages }).messages.filter((m) => m.role === 'tool');
      expect(tools[0].content).toBe('Error: the web search failed: SearXNG did not answer within 1500 ms. Answer without it or try again later.');
      expect(tools[1].content).toBe('Error: the web search failed: SearXNG is rate limiting the searches (HTTP 429). Answer without it or try again later.');
      expect(textOf(response)?.text).toBe('The search is unavailable.');
    });

    it('replays earlier web_search_call items to the model: from previous_response_id and from input', async () => {
      e2e.upstream.enqueue(call('web_search', { query: 'refunds' }), { text: 'Five days [1].' }, { text: 'Yes.' }, { text: 'Again yes.' });
      const first = await e2e.client.responses.create({
        model: 'upstream-model',
        input: 'refunds?',
        tools: [{ type: 'web_search' }],
        include: ['web_search_call.action.sources'],
      });
      await e2e.client.responses.create({ model: 'upstream-model', input: 'sure?', previous_response_id: first.id, tools: [{ type: 'web_search' }] });
      const replayed = (e2e.upstream.requests[2].body as { messages: Messages }).messages;
      const assistant = replayed.find((m) => m.tool_calls)!;
      expect(assistant.tool_calls![0].function).toEqual({ name: 'web_search', arguments: JSON.stringify({ query: 'refunds' }) });
      const tool = replayed.find((m) => m.role === 'tool')!;
      expect(tool.content).toContain(`url="${pages.url}/refunds"`);
      // A client that keeps the history itself sends the items back as input.
      await e2e.client.responses.create({
        model: 'upstream-model',
        input: [{ role: 'user', content: 'refunds?' }, ...(first.output as OpenAI.Responses.ResponseInputItem[]), { role: 'user', content: 'sure?' }],
      });
      const fromInput = (e2e.upstream.requests[3].body as { messages: Messages }).messages;
      expect(fromInput.find((m) => m.role === 'tool')?.content).toContain(`url="${pages.url}/refunds"`);
    });
  },
);

describe('the web_search tool, cancelled mid-search in background mode', () => {
  let searx: FakeServer;
  const e2e = useE2e({
    resetUpstream: true,
    env: async (upstream) => {
      searx = await startFakeSearxng(() => []);
      return { INFERENCE_BASE_URL: upstream.url, WEB_SEARCH_PROVIDER: 'searxng', WEB_SEARCH_URL: searx.url, WEB_SEARCH_TIMEOUT_MS: '120000' };
    },
  });
  afterAll(() => searx?.close());

  it('streams a background response to its search, and a cancel ends the search and the response', async () => {
    searx.enqueue({ hang: true });
    e2e.upstream.enqueue(call('web_search', { query: 'slow' }), { text: 'never asked' });
    const stream = await e2e.client.responses.create({
      model: 'upstream-model',
      input: 'x',
      tools: [{ type: 'web_search' }],
      background: true,
      stream: true,
    });
    let id = '';
    for await (const event of stream) {
      if (event.type === 'response.created') id = event.response.id;
      if (event.type === 'response.web_search_call.searching') break;
    }
    await waitFor(
      () => Promise.resolve(searx.requests.length),
      (n) => n === 1,
    );
    expect((await e2e.client.responses.cancel(id)).status).toBe('cancelled');
    await waitFor(
      () => Promise.resolve(searx.requests[0].closedEarly),
      (closed) => closed,
    );
    expect((await e2e.client.responses.retrieve(id)).status).toBe('cancelled');
    expect(e2e.upstream.requests).toHaveLength(1); // the model was not asked again
  });
});

describe('the web_search tool without a provider', () => {
  const e2e = useE2e({ resetUpstream: true, env: (upstream) => ({ INFERENCE_BASE_URL: upstream.url }) });

  it('is left out (x-omitted-tools), and forcing it is a 400 naming the setting to configure', async () => {
    const { data, response } = await e2e.client.responses.create({ model: 'upstream-model', input: 'hi', tools: [{ type: 'web_search' }] }).withResponse();
    expect(response.headers.get('x-omitted-tools')).toBe('web_search');
    expect(data.tools).toEqual([]);
    const error = await caught(
      e2e.client.responses.create({ model: 'upstream-model', input: 'hi', tools: [{ type: 'web_search' }], tool_choice: { type: 'web_search_preview' } }),
    );
    expect(error).toMatchObject({ status: 400, error: { param: 'tool_choice', code: 'unsupported_parameter' } });
    expect(error?.error?.message).toContain('WEB_SEARCH_PROVIDER');
  });
});
