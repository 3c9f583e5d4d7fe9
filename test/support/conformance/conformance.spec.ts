import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { captureConformance } from './capture';
import { checkExchange, type Exchange } from './validator';

const response = (fields: Record<string, unknown> = {}) => ({
  id: 'resp_1',
  object: 'response',
  access_programs: null,
  created_at: 1758999831,
  status: 'completed',
  background: false,
  completed_at: 1758999832,
  error: null,
  incomplete_details: null,
  instructions: null,
  max_output_tokens: null,
  max_tool_calls: null,
  model: 'm',
  output: [
    { id: 'msg_1', type: 'message', role: 'assistant', status: 'completed', content: [{ type: 'output_text', text: 'hi', annotations: [], logprobs: [] }] },
  ],
  parallel_tool_calls: true,
  previous_response_id: null,
  prompt_cache_key: null,
  reasoning: { effort: null, summary: null },
  safety_identifier: null,
  service_tier: 'default',
  store: true,
  temperature: 1,
  presence_penalty: 0,
  frequency_penalty: 0,
  text: { format: { type: 'text' }, verbosity: 'medium' },
  tool_choice: 'auto',
  tools: [],
  top_logprobs: 0,
  top_p: 1,
  truncation: 'disabled',
  usage: {
    input_tokens: 1,
    input_tokens_details: { cached_tokens: 0, cache_write_tokens: 0 },
    output_tokens: 1,
    output_tokens_details: { reasoning_tokens: 0 },
    total_tokens: 2,
  },
  user: null,
  metadata: {},
  ...fields,
});
const json = (method: string, url: string, body: unknown, status = 200): Exchange => ({
  method,
  url,
  status,
  contentType: 'application/json; charset=utf-8',
  body: JSON.stringify(body),
});
const issuesOf = (x: Exchange) => checkExchange(x).violations.map((v) => `${v.kind} ${v.path}: ${v.issue}`);
const list = (data: unknown[]) => ({ object: 'list', data, first_id: null, last_id: null, has_more: false });
const item = { id: 'msg_u', type: 'message', role: 'user', status: 'completed', content: [{ type: 'input_text', text: 'q' }] };
const conversation = { id: 'conv_1', object: 'conversation', created_at: 1, metadata: {} };

describe('conformance: JSON objects', () => {
  it.each<[string, Exchange, Exchange]>([
    ['response', json('POST', '/v1/responses', response()), json('POST', '/v1/responses', response({ status: 'done' }))],
    [
      'response list',
      json('GET', '/v1/responses?limit=2', list([response()])),
      json('GET', '/v1/responses', list([response({ output: [{ type: 'bogus' }] })])),
    ],
    [
      'cancelled response',
      json('POST', '/v1/responses/resp_1/cancel', response({ status: 'cancelled', completed_at: null, usage: null })),
      json('POST', '/v1/responses/resp_1/cancel', response({ status: 'cancelled' })),
    ],
    [
      'deleted response',
      json('DELETE', '/v1/responses/resp_1', { id: 'resp_1', object: 'response', deleted: true }),
      json('DELETE', '/v1/responses/resp_1', { id: 'resp_1', deleted: true }),
    ],
    [
      'input items',
      json('GET', '/v1/responses/resp_1/input_items', list([item])),
      json('GET', '/v1/responses/resp_1/input_items', list([{ ...item, id: undefined }])),
    ],
    ['conversation', json('POST', '/v1/conversations', conversation), json('GET', '/v1/conversations/conv_1', { ...conversation, object: 'thread' })],
    [
      'deleted conversation',
      json('DELETE', '/v1/conversations/conv_1', { id: 'conv_1', object: 'conversation.deleted', deleted: true }),
      json('DELETE', '/v1/conversations/conv_1', { id: 'conv_1', object: 'conversation.deleted' }),
    ],
    [
      'conversation items',
      json('GET', '/v1/conversations/conv_1/items', list([item])),
      json('POST', '/v1/conversations/conv_1/items', list([{ ...item, status: undefined }])),
    ],
    [
      'conversation item',
      json('GET', '/v1/conversations/conv_1/items/msg_u', item),
      json('GET', '/v1/conversations/conv_1/items/msg_u', { ...item, role: 'robot' }),
    ],
    [
      'models',
      json('GET', '/v1/models', { object: 'list', data: [{ id: 'm', object: 'model', created: 0, owned_by: 'x' }] }),
      json('GET', '/v1/models/m', { id: 'm', object: 'model' }),
    ],
    [
      'error body',
      json('GET', '/v1/responses/resp_x', { error: { message: 'nope', type: 'invalid_request_error', param: null, code: null } }, 404),
      json('GET', '/v1/responses/resp_x', { message: 'nope' }, 404),
    ],
  ])('%s: accepts the valid one, names what is wrong with the other', (_kind, valid, invalid) => {
    expect(issuesOf(valid)).toEqual([]);
    expect(issuesOf(invalid)).not.toEqual([]);
  });

  it('rejects unknown keys, and fields missing or of the wrong type, with their path', () => {
    expect(issuesOf(json('GET', '/v1/responses/resp_1', response({ extra: 1 })))).toEqual(['response : unknown key(s) extra']);
    const { model: _model, ...noModel } = response();
    expect(issuesOf(json('GET', '/v1/responses/resp_1', noModel))).toEqual([expect.stringMatching(/^response model: /)]);
    expect(issuesOf(json('GET', '/v1/responses/resp_1', response({ created_at: '1' })))).toEqual([expect.stringMatching(/^response created_at: /)]);
  });

  it("checks an mcp_call's error as openai 7's object, not a string", () => {
    const call = (error: unknown) =>
      response({ output: [{ id: 'mcp_1', type: 'mcp_call', server_label: 's', name: 'n', arguments: '{}', output: null, error, status: 'failed' }] });
    expect(issuesOf(json('GET', '/v1/responses/resp_1', call({ type: 'mcp_protocol_error', code: -32602, message: 'bad' })))).toEqual([]);
    expect(issuesOf(json('GET', '/v1/responses/resp_1', call('bad')))).toEqual([expect.stringMatching(/^response output\.0\.error: /)]);
  });

  it('holds the state rules: completed_at only when completed, error only when failed, incomplete_details only when incomplete', () => {
    expect(issuesOf(json('GET', '/v1/responses/resp_1', response({ status: 'in_progress' })))).toEqual([expect.stringMatching(/completed_at/)]);
    expect(issuesOf(json('GET', '/v1/responses/resp_1', response({ status: 'failed', completed_at: null })))).toEqual([expect.stringMatching(/error/)]);
    expect(issuesOf(json('GET', '/v1/responses/resp_1', response({ status: 'incomplete', completed_at: null })))).toEqual([
      expect.stringMatching(/incomplete_details/),
    ]);
  });

  it('wants the penalties the spec requires on every Response', () => {
    const { presence_penalty: _p, frequency_penalty: _f, ...without } = response();
    expect(issuesOf(json('GET', '/v1/responses/resp_1', without))).toEqual([
      expect.stringMatching(/presence_penalty/),
      expect.stringMatching(/frequency_penalty/),
    ]);
  });

  it('wants a JSON error body for every 4xx and 5xx, on any /v1 route', () => {
    expect(issuesOf({ method: 'POST', url: '/v1/webhook_endpoints', status: 400, contentType: 'text/plain', body: 'bad' })).toEqual([
      expect.stringMatching(/not JSON/),
    ]);
    expect(issuesOf(json('POST', '/v1/webhook_endpoints', { error: { message: 'm', type: 't', param: 'url', code: null } }, 400))).toEqual([]);
  });
});

const sse = (url: string, events: Array<Record<string, unknown>>, tail = ''): Exchange => ({
  method: 'POST',
  url,
  status: 200,
  contentType: 'text/event-stream; charset=utf-8',
  body: events.map((e) => `event: ${String(e.type)}\ndata: ${JSON.stringify(e)}\n\n`).join('') + tail,
});
const message = (status: string, text = '') => ({
  id: 'msg_1',
  type: 'message',
  role: 'assistant',
  status,
  content: text ? [{ type: 'output_text', text, annotations: [], logprobs: [] }] : [],
});
const textStream = (): Array<Record<string, unknown>> =>
  [
    { type: 'response.created', response: response({ status: 'in_progress', completed_at: null, usage: null, output: [] }) },
    { type: 'response.in_progress', response: response({ status: 'in_progress', completed_at: null, usage: null, output: [] }) },
    { type: 'response.output_item.added', output_index: 0, item: message('in_progress') },
    {
      type: 'response.content_part.added',
      item_id: 'msg_1',
      output_index: 0,
      content_index: 0,
      part: { type: 'output_text', text: '', annotations: [], logprobs: [] },
    },
    { type: 'response.output_text.delta', item_id: 'msg_1', output_index: 0, content_index: 0, delta: 'hi', logprobs: [] },
    { type: 'response.output_text.done', item_id: 'msg_1', output_index: 0, content_index: 0, text: 'hi', logprobs: [] },
    {
      type: 'response.content_part.done',
      item_id: 'msg_1',
      output_index: 0,
      content_index: 0,
      part: { type: 'output_text', text: 'hi', annotations: [], logprobs: [] },
    },
    { type: 'response.output_item.done', output_index: 0, item: message('completed', 'hi') },
    { type: 'response.completed', response: response() },
  ].map((e, i) => ({ ...e, sequence_number: i }));

describe('conformance: streams', () => {
  it('accepts a well-formed text stream, and counts the stream and each event', () => {
    const checked = checkExchange(sse('/v1/responses', textStream()));
    expect(checked.violations).toEqual([]);
    expect(checked.kinds).toHaveLength(10);
  });

  it('names a bad event payload, a gap in sequence numbers, and an event before its item', () => {
    const events = textStream();
    events[4] = { ...events[4], logprobs: undefined };
    events[6] = { ...events[6], sequence_number: 7 };
    events.splice(2, 1);
    const issues = checkExchange(sse('/v1/responses', events)).violations.map((v) => `${v.kind}: ${v.issue}`);
    expect(issues).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^stream event response.content_part.added: refers to output_index 0 before/),
        expect.stringMatching(/^stream event response.output_text.delta: .*expected array/),
        expect.stringMatching(/sequence_number/),
      ]),
    );
  });

  it('wants response.created first, the event line to match, and no [DONE]', () => {
    const events = textStream().slice(1);
    const issues = checkExchange(sse('/v1/responses', events, 'data: [DONE]\n\n')).violations.map((v) => v.issue);
    expect(issues).toEqual(expect.arrayContaining(['the first event of a stream is response.created', 'a `data: [DONE]` sentinel (OpenAI sends none)']));
    const renamed = sse('/v1/responses', textStream());
    renamed.body = renamed.body.replace('event: response.completed', 'event: done');
    expect(checkExchange(renamed).violations.map((v) => v.issue)).toEqual([expect.stringMatching(/`event:` line says 'done'/)]);
  });

  it('lets a replay start after its cursor, and ignores the cut-off tail of a stream the client left', () => {
    const replay = sse('/v1/responses/resp_1?stream=true&starting_after=3', textStream().slice(4), 'event: response.output_text.delta\ndata: {"ty');
    expect(checkExchange(replay).violations).toEqual([]);
  });
});

describe('conformance: capture', () => {
  let server: Server;
  afterEach(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('sees JSON and streamed answers of the real socket, and fails with the list of violations', async () => {
    server = createServer((req, res) => {
      if (req.url === '/v1/responses/resp_1')
        return void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(response({ status: 'done' })));
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      for (const e of textStream()) res.write(`event: ${String(e.type)}\ndata: ${JSON.stringify(e)}\n\n`);
      res.end();
    });
    const log = captureConformance(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    await fetch(`${base}/v1/responses/resp_1`).then((r) => r.text());
    await fetch(`${base}/v1/responses`, { method: 'POST' }).then((r) => r.text());
    await fetch(`${base}/health`).then((r) => r.text());
    await new Promise((resolve) => setImmediate(resolve));
    expect(Object.fromEntries(log.counts)).toMatchObject({ response: 1, stream: 1, 'stream event response.completed': 1 });
    expect(() => log.assertConforms()).toThrow(/1 object\(s\) .*\n- response at status: .*\[GET \/v1\/responses\/resp_1\]/);
  });
});
