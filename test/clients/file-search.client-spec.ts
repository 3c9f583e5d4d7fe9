/**
 * file_search as today's clients use it, unpatched: the `openai` 7 SDK's Files and Vector Stores
 * helpers (`toFile`, `createAndPoll`, `uploadAndPoll`, `search`) and `responses.create` with the
 * tool, and the Agents SDK's `fileSearchTool`, through the gateway to a scripted upstream that
 * also serves deterministic embeddings.
 */
import { Agent, fileSearchTool, run, setDefaultOpenAIClient, setOpenAIAPI, setTracingDisabled } from '@openai/agents';
import OpenAI, { toFile } from 'openai';
import { MODEL, toolCallScript, useFrameworkSuite } from '../support/frameworks/suite';

const { e2e, recorder, itTraced } = useFrameworkSuite({
  env: (upstream) => ({ EMBEDDING_MODEL: 'fake-embed', EMBEDDING_DIMENSIONS: '64', EMBEDDING_BASE_URL: upstream.url }),
});

let client: OpenAI;
let storeId: string;
let handbookId: string;
beforeAll(async () => {
  client = new OpenAI({ baseURL: `${e2e.url}/v1`, apiKey: 'k', maxRetries: 0, timeout: 20_000, fetch: recorder.fetch });
  setTracingDisabled(true);
  setOpenAIAPI('responses');
  setDefaultOpenAIClient(client);
  const store = await client.vectorStores.create({ name: 'handbook' });
  storeId = store.id;
  const handbook = await client.files.create({
    file: await toFile(Buffer.from('# Travel\n\nEmployees book trains for trips under four hours. Hotel costs are capped at 150 euros a night.'), 'travel.md'),
    purpose: 'assistants',
  });
  handbookId = handbook.id;
  const added = await client.vectorStores.files.createAndPoll(storeId, { file_id: handbookId, attributes: { kind: 'policy' } }, { pollIntervalMs: 50 });
  expect(added.status).toBe('completed');
  const batch = await client.vectorStores.fileBatches.uploadAndPoll(
    storeId,
    { files: [await toFile(Buffer.from('The cafeteria opens at eight and serves lunch until two.'), 'cafeteria.txt')] },
    { pollIntervalMs: 50 },
  );
  expect(batch).toMatchObject({ status: 'completed', file_counts: { completed: 1, total: 1 } });
});

describe('file_search with openai 7 and the Agents SDK 0.20 → gateway → upstream', () => {
  itTraced('openai 7: vectorStores.search finds the passage; responses.create runs the tool and cites the file', async () => {
    const page = await client.vectorStores.search(storeId, { query: 'hotel price limit', max_num_results: 2 });
    expect(page.data[0]).toMatchObject({ file_id: handbookId, filename: 'travel.md', attributes: { kind: 'policy' } });

    e2e.upstream.enqueue(toolCallScript(['call_fs', 'file_search', '{"queries":["hotel cap"]}']), { text: 'Hotels are capped at 150 euros (travel.md).' });
    const response = await client.responses.create({
      model: MODEL,
      input: 'How much may a hotel cost?',
      tools: [{ type: 'file_search', vector_store_ids: [storeId] }],
      include: ['file_search_call.results'],
    });
    expect(response.output.map((i) => i.type)).toEqual(['file_search_call', 'message']);
    const call = response.output[0];
    expect(call.type === 'file_search_call' && call.results?.[0]).toMatchObject({ file_id: handbookId, filename: 'travel.md' });
    expect(response.output_text).toBe('Hotels are capped at 150 euros (travel.md).');
    const message = response.output[1];
    const part = message.type === 'message' ? message.content[0] : undefined;
    expect(part?.type === 'output_text' && part.annotations).toEqual([
      { type: 'file_citation', file_id: handbookId, filename: 'travel.md', index: 'Hotels are capped at 150 euros (travel.md'.length },
    ]);
  });

  itTraced("Agents SDK: fileSearchTool runs on the gateway; the run's items carry the search", async () => {
    e2e.upstream.enqueue(toolCallScript(['call_fs2', 'file_search', '{"queries":["lunch hours"]}']), { text: 'Lunch is served until two (cafeteria.txt).' });
    const agent = new Agent({
      name: 'Helpdesk',
      instructions: 'Answer from the documents.',
      model: MODEL,
      tools: [fileSearchTool([storeId], { includeSearchResults: true, maxNumResults: 3 })],
    });

    const result = await run(agent, 'Until when is lunch served?');

    expect(result.finalOutput).toBe('Lunch is served until two (cafeteria.txt).');
    const hosted = result.newItems.find((item) => item.rawItem.type === 'hosted_tool_call');
    expect(hosted?.rawItem).toMatchObject({ type: 'hosted_tool_call', name: 'file_search_call', status: 'completed' });
    // What the SDK sent: the tool in OpenAI's shape, results included.
    const sent = recorder.responsesCalls()[0].body as { tools: unknown[]; include: string[] };
    expect(sent.tools).toEqual([expect.objectContaining({ type: 'file_search', vector_store_ids: [storeId], max_num_results: 3 })]);
    expect(sent.include).toContain('file_search_call.results');
    // The upstream's second call carried the passage.
    const second = e2e.upstream.requests[1].body as { messages: Array<{ role: string; content: string | null }> };
    expect(second.messages.find((m) => m.role === 'tool')?.content).toContain('serves lunch until two');
  });
});
