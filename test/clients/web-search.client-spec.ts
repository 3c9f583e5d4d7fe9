/**
 * web_search as today's clients use it, unpatched: the `openai` 7 SDK's `responses.create` with
 * `tools: [{type: 'web_search'}]` (streamed too) and the Agents SDK's `webSearchTool()`, through
 * the gateway to a scripted upstream and a fake SearXNG on loopback.
 */
import { Agent, run, setDefaultOpenAIClient, setOpenAIAPI, setTracingDisabled, webSearchTool } from '@openai/agents';
import OpenAI from 'openai';
import { MODEL, toolCallScript, useFrameworkSuite } from '../support/frameworks/suite';
import { type FakeServer, startFakeSearxng } from '../support/web-search-fakes';

const RESULTS = [
  { url: 'https://docs.example.com/trains', title: 'Train travel policy', content: 'Employees book trains for trips under four hours.' },
  { url: 'https://news.example.org/hotels', title: 'Hotel caps', content: 'Hotel costs are capped at 150 euros a night.' },
];

let searx: FakeServer;
const { e2e, recorder, itTraced } = useFrameworkSuite({
  env: async () => {
    searx = await startFakeSearxng(() => RESULTS);
    return { WEB_SEARCH_PROVIDER: 'searxng', WEB_SEARCH_URL: searx.url };
  },
});

let client: OpenAI;
beforeAll(() => {
  client = new OpenAI({ baseURL: `${e2e.url}/v1`, apiKey: 'k', maxRetries: 0, timeout: 20_000, fetch: recorder.fetch });
  setTracingDisabled(true);
  setOpenAIAPI('responses');
  setDefaultOpenAIClient(client);
});
beforeEach(() => searx.reset());
afterAll(() => searx?.close());

describe('web_search with openai 7 and the Agents SDK → gateway → fake SearXNG', () => {
  itTraced('openai 7: responses.create runs the tool, keeps the sources when included, and cites the result the answer refers to', async () => {
    e2e.upstream.enqueue(toolCallScript(['call_ws', 'web_search', '{"query":"trains hotel"}']), { text: 'Trains under four hours [1].' });
    const response = await client.responses.create({
      model: MODEL,
      input: 'When do we take the train?',
      tools: [{ type: 'web_search' }],
      include: ['web_search_call.action.sources'],
    });
    expect(response.output.map((i) => i.type)).toEqual(['web_search_call', 'message']);
    const call = response.output[0];
    expect(call.type === 'web_search_call' && call.action).toEqual({
      type: 'search',
      query: 'trains hotel',
      sources: RESULTS.map((r) => ({ type: 'url', url: r.url })),
    });
    expect(response.output_text).toBe('Trains under four hours [1].');
    const message = response.output[1];
    const part = message.type === 'message' ? message.content[0] : undefined;
    const at = 'Trains under four hours '.length;
    expect(part?.type === 'output_text' && part.annotations).toEqual([
      { type: 'url_citation', url: RESULTS[0].url, title: RESULTS[0].title, start_index: at, end_index: at + 3 },
    ]);
    expect(searx.requests[0].query.get('q')).toBe('trains hotel');
  });

  itTraced('openai 7: the streamed events reach the SDK as web_search_call events', async () => {
    e2e.upstream.enqueue(toolCallScript(['call_ws', 'web_search', '{"query":"hotel"}']), { text: 'See Hotel caps.' });
    const stream = await client.responses.create({ model: MODEL, input: 'hotels?', tools: [{ type: 'web_search' }], stream: true });
    const types: string[] = [];
    for await (const event of stream) types.push(event.type);
    expect(types.filter((t) => t.startsWith('response.web_search_call'))).toEqual([
      'response.web_search_call.in_progress',
      'response.web_search_call.searching',
      'response.web_search_call.completed',
    ]);
    expect(types.at(-1)).toBe('response.completed');
    expect(types).toContain('response.output_text.annotation.added');
  });

  itTraced("Agents SDK: webSearchTool runs on the gateway; the run's items carry the search", async () => {
    e2e.upstream.enqueue(toolCallScript(['call_ws2', 'web_search', '{"query":"hotel cap"}']), { text: 'Hotels are capped at 150 euros.' });
    const agent = new Agent({
      name: 'Travel desk',
      instructions: 'Search the web before answering.',
      model: MODEL,
      tools: [webSearchTool({ searchContextSize: 'low', filters: { allowedDomains: ['example.org'] } })],
    });

    const result = await run(agent, 'How much may a hotel cost?');

    expect(result.finalOutput).toBe('Hotels are capped at 150 euros.');
    const hosted = result.newItems.find((item) => item.rawItem.type === 'hosted_tool_call');
    expect(hosted?.rawItem).toMatchObject({ type: 'hosted_tool_call', name: 'web_search_call', status: 'completed' });
    // What the SDK sent: the tool in OpenAI's shape.
    const sent = recorder.responsesCalls()[0].body as { tools: unknown[] };
    expect(sent.tools).toEqual([expect.objectContaining({ type: 'web_search', search_context_size: 'low', filters: { allowed_domains: ['example.org'] } })]);
    // The domain filter reached the provider and held on the results.
    expect(searx.requests[0].query.get('q')).toBe('hotel cap site:example.org');
    const second = e2e.upstream.requests[1].body as { messages: Array<{ role: string; content: string | null }> };
    const tool = second.messages.find((m) => m.role === 'tool')?.content ?? '';
    expect(tool).toContain('Hotel costs are capped at 150 euros a night.');
    expect(tool).not.toContain(RESULTS[0].url);
  });
});
