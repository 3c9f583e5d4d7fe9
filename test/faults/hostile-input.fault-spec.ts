/**
 * Item 6: hostile input, property-based (fast-check): create bodies of wrong types, huge and deep
 * values, unicode, prototype-pollution keys, unknown item and tool types; odd query strings and
 * headers. Always a 4xx with the OpenAI error shape (or a 2xx when the input happens to be valid),
 * never a 5xx, never a stack trace; the server's memory stays bounded and Object.prototype clean.
 *
 * The app runs in this process (embedded PGlite, no Redis): nothing shared is disturbed, and the
 * test can look at the server's own heap and prototypes. Replay a failure with FAULTS_SEED=<seed>.
 */
import { createServer, type Server } from 'node:net';
import type { AddressInfo } from 'node:net';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import fc from 'fast-check';
import { startApp, TestApp } from '../support/app';
import { FakeUpstream, startFakeUpstream } from '../support/fake-upstream';
import { report, scale } from './support/harness';
import { isOpenAIError, raw, RawResult } from './support/http';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const KEY = 'fuzz-key';
const SEED = Number(process.env.FAULTS_SEED ?? Math.floor(Math.random() * 2 ** 31));

const POLLUTING = ['__proto__', 'constructor', 'prototype', 'toString', 'valueOf', 'hasOwnProperty', '__defineGetter__', 'then'];
const FIELDS = [
  'model',
  'input',
  'instructions',
  'tools',
  'tool_choice',
  'temperature',
  'top_p',
  'max_output_tokens',
  'max_tool_calls',
  'background',
  'stream',
  'store',
  'previous_response_id',
  'conversation',
  'metadata',
  'text',
  'reasoning',
  'include',
  'truncation',
  'parallel_tool_calls',
  'user',
  'service_tier',
  'prompt',
  'stream_options',
  'top_logprobs',
];
const ITEM_TYPES = [
  'message',
  'function_call',
  'function_call_output',
  'mcp_approval_response',
  'mcp_call',
  'reasoning',
  'item_reference',
  'input_text',
  'web_search_call',
  'computer_call',
  'no_such_item',
];
const TOOL_TYPES = ['function', 'mcp', 'web_search', 'file_search', 'code_interpreter', 'computer_use_preview', 'image_generation', 'custom', 'no_such_tool'];

/** Any JSON text, with hostile keys, as a string: keys like __proto__ survive only in text. */
const jsonText: fc.Arbitrary<string> = fc.letrec<{ value: string }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constantFrom('null', 'true', 'false', '0', '-1', '1e308', '-0', '123456789012345678901234567890', '0.1'),
    fc.string({ unit: 'binary', maxLength: 40 }).map((s) => JSON.stringify(s)),
    fc.array(tie('value'), { maxLength: 5 }).map((a) => `[${a.join(',')}]`),
    fc
      .array(
        fc.tuple(
          fc.oneof(fc.constantFrom(...POLLUTING, ...FIELDS, 'type', 'role', 'content', 'name', 'arguments'), fc.string({ unit: 'binary', maxLength: 12 })),
          tie('value'),
        ),
        { maxLength: 5 },
      )
      .map((entries) => `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${v}`).join(',')}}`),
  ),
})).value;

const anyValue = jsonText;
const item = fc
  .record(
    {
      type: fc.constantFrom(...ITEM_TYPES),
      role: fc.constantFrom('user', 'assistant', 'system', 'developer', 'tool', 'root', '__proto__'),
      content: anyValue,
      extra: anyValue,
    },
    { requiredKeys: [] },
  )
  .map(
    (r) =>
      `{${Object.entries(r)
        .map(([k, v]) => `${JSON.stringify(k)}:${k === 'type' || k === 'role' ? JSON.stringify(v) : v}`)
        .join(',')}}`,
  );
const tool = fc
  .record(
    {
      type: fc.constantFrom(...TOOL_TYPES),
      name: anyValue,
      parameters: anyValue,
      server_url: fc.constantFrom('"http://127.0.0.1:1/mcp"', '"file:///etc/passwd"', '"javascript:1"', '42'),
      server_label: anyValue,
    },
    { requiredKeys: ['type'] },
  )
  .map(
    (r) =>
      `{${Object.entries(r)
        .map(([k, v]) => `${JSON.stringify(k)}:${k === 'type' ? JSON.stringify(v) : v}`)
        .join(',')}}`,
  );

/** A create body: mostly the known fields with values of every type, some hostile keys, sometimes not an object at all. */
const createBody: fc.Arbitrary<string> = fc.oneof(
  jsonText,
  fc
    .record(
      {
        model: fc.oneof(fc.constant('"echo"'), anyValue),
        input: fc.oneof(
          anyValue,
          fc.array(item, { maxLength: 4 }).map((a) => `[${a.join(',')}]`),
          fc.string({ unit: 'binary', maxLength: 200 }).map((s) => JSON.stringify(s)),
        ),
        tools: fc.oneof(
          anyValue,
          fc.array(tool, { maxLength: 3 }).map((a) => `[${a.join(',')}]`),
        ),
        others: fc.array(fc.tuple(fc.constantFrom(...FIELDS, ...POLLUTING), anyValue), { maxLength: 6 }),
      },
      { requiredKeys: ['model'] },
    )
    .map(({ model, input, tools, others }) => {
      const parts = [`"model":${model}`];
      if (input !== undefined) parts.push(`"input":${input}`);
      if (tools !== undefined) parts.push(`"tools":${tools}`);
      for (const [k, v] of others ?? []) parts.push(`${JSON.stringify(k)}:${v}`);
      return `{${parts.join(',')}}`;
    }),
);

const queryValue = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 30 }),
  fc.constantFrom('true', 'false', '-1', '0', '1e9', '101', 'NaN', 'asc', 'desc', 'resp_x', '', '[]', '{}'),
);
/** encodeURIComponent, for strings with lone surrogates too (it throws on those). */
const encode = (s: string) => encodeURIComponent(s.replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd'));
const queryString = fc
  .array(
    fc.tuple(
      fc.constantFrom(
        'include',
        'include[]',
        'starting_after',
        'stream',
        'limit',
        'order',
        'after',
        'before',
        '__proto__',
        '__proto__[polluted]',
        'constructor[prototype][polluted]',
        'x',
      ),
      queryValue,
    ),
    { maxLength: 6 },
  )
  .chain((pairs) =>
    // Raw tails the encoder would never produce: invalid UTF-8 escapes, NUL, empty pairs.
    fc
      .constantFrom('', '&%ff=%fe', '&a=%E0%A4%A', '&&&=', '&limit=%00', '&include=%ZZ')
      .map((tail) => pairs.map(([k, v]) => `${encode(k)}=${encode(v)}`).join('&') + tail),
  );
const headerText = fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)), maxLength: 60 });

describe('fault: hostile input (property-based)', () => {
  let app: TestApp;
  let upstream: FakeUpstream;
  let knownId: string;
  const counts = { requests: 0, s2xx: 0, s4xx: 0, s5xx: 0, badShape: 0, stackTraces: 0 };
  const failures: string[] = [];
  const protoBefore = Object.getOwnPropertyNames(Object.prototype).sort().join();

  beforeAll(async () => {
    process.stdout.write(`\n[faults] hostile-input: seed=${SEED} (replay with FAULTS_SEED=${SEED})\n`);
    // Throttling of failed authentications off: the header fuzz would otherwise reach only 429s.
    // The upstream answers what a ReDoS pattern chokes on, for the schema fuzz (the echo model answers no JSON).
    upstream = await startFakeUpstream();
    upstream.setDefault({ text: '{"a":"aaaaaaaaaaaaaaaaaaaaaaaaaaa!"}' });
    app = await startApp({
      DATA_DIR: 'memory://',
      API_KEYS: KEY,
      BODY_LIMIT_BYTES: String(2 * 1024 * 1024),
      AUTH_FAILURES_PER_MINUTE: '0',
      INFERENCE_BASE_URL: upstream.url,
    });
    const created = await raw(`${app.url}/v1/responses`, {
      method: 'POST',
      headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
      body: '{"model":"echo","input":"hi"}',
    });
    knownId = (created.body as { id: string }).id;
  }, 60_000);

  afterAll(async () => {
    await app?.close();
    await upstream?.close();
    // Whatever the fuzzer sent, every answer is an OpenAI object or error body (test/support/conformance).
    app?.conformance.assertConforms();
  });

  beforeEach(() => {
    failures.length = 0;
    for (const key of Object.keys(counts) as Array<keyof typeof counts>) counts[key] = 0;
  });

  /** The invariant of every answer: no 5xx, the OpenAI error shape on 4xx, never a stack trace. */
  function judge(what: string, result: RawResult, modelsFault = false): boolean {
    counts.requests++;
    // The model's output failing a strict schema is the upstream's failure (502), not a crash.
    if (modelsFault && result.status === 502 && /model's output/.test(result.text)) result = { ...result, status: 200 };
    const trace = /\n\s+at |node_modules|\.ts:\d+|\.js:\d+/.test(result.text);
    if (trace) counts.stackTraces++;
    if (result.status >= 500 || result.status === 0) counts.s5xx++;
    else if (result.status >= 400) counts.s4xx++;
    else counts.s2xx++;
    const shapeOk = result.status < 400 || isOpenAIError(result.body);
    if (!shapeOk) counts.badShape++;
    const ok = result.status > 0 && result.status < 500 && shapeOk && !trace;
    if (!ok && failures.length < 20) failures.push(`${what} → ${result.status || result.network} ${result.text.slice(0, 300)}`);
    return ok;
  }

  /** fast-check's report, with what the server answered to the failing inputs first. */
  const explain = (error: unknown): never => {
    throw new Error(`${failures.join('\n')}\n\n${(error instanceof Error ? error.message : String(error)).replace(/(.)\1{40,}/g, '$1$1$1…').slice(0, 3000)}`);
  };

  const post = (body: string, headers: Record<string, string> = {}) =>
    raw(`${app.url}/v1/responses`, {
      method: 'POST',
      headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json', ...headers },
      body,
      timeoutMs: 20_000,
    });

  it('create bodies: wrong types, unknown items and tools, hostile keys, unicode → 4xx (or a valid 2xx), never 5xx', async () => {
    gc();
    const heapBefore = process.memoryUsage().heapUsed;
    await fc
      .assert(
        fc.asyncProperty(createBody, async (body) => judge(`POST ${body.slice(0, 300)}`, await post(body))),
        { seed: SEED, numRuns: scale(400, 5000) },
      )
      .catch(explain);
    // Fixed extremes: deep, huge, and over the body limit.
    const deep = (n: number, open: string, close: string, leaf = '1') => open.repeat(n) + leaf + close.repeat(n);
    const extremes: Array<[string, string, Record<string, string>?]> = [
      ['deep input array', `{"model":"echo","input":${deep(20_000, '[', ']')}}`],
      ['deep metadata object', `{"model":"echo","input":"x","metadata":${deep(20_000, '{"a":', '}')}}`],
      [
        'deep tool parameters',
        `{"model":"echo","input":"x","tools":[{"type":"function","name":"f","parameters":${deep(5000, '{"properties":{"p":', '}}', '{"type":"string"}')}}]}`,
      ],
      [
        'deep text.format schema',
        `{"model":"echo","input":"x","text":{"format":{"type":"json_schema","name":"s","strict":true,"schema":${deep(5000, '{"type":"object","properties":{"p":', '}}', '{"type":"string"}')}}}}`,
      ],
      ['huge input string', JSON.stringify({ model: 'echo', input: 'é'.repeat(900_000) })],
      ['many input items', JSON.stringify({ model: 'echo', input: Array.from({ length: 50_000 }, () => ({ role: 'user', content: 'x' })) })],
      ['over the body limit', JSON.stringify({ model: 'echo', input: 'x'.repeat(3 * 1024 * 1024) })],
      ['lone surrogates', '{"model":"echo","input":"\\ud800\\udfff\\ud800"}'],
      ['NUL in model', '{"model":"echo\\u0000","input":"x"}'],
      ['NUL in input', '{"model":"echo","input":"a\\u0000b"}'],
      ['__proto__ pollution', '{"model":"echo","input":"x","__proto__":{"polluted":"yes"},"metadata":{"__proto__":{"polluted":"yes"}}}'],
      ['constructor pollution', '{"model":"echo","input":[{"role":"user","content":"x","constructor":{"prototype":{"polluted":"yes"}}}]}'],
      ['duplicate keys', '{"model":"echo","model":{"x":1},"input":"x"}'],
      ['not JSON', '{"model":"echo",'],
      ['empty body', ''],
      ['JSON with BOM', '\ufeff{"model":"echo","input":"x"}'],
    ];
    for (const [name, body] of extremes) judge(name, await post(body));
    gc();
    const growthMb = (process.memoryUsage().heapUsed - heapBefore) / 2 ** 20;
    report('hostile-input-bodies', {
      seed: SEED,
      faults: counts.requests,
      ...counts,
      polluted: Object.getOwnPropertyNames(Object.prototype).sort().join() === protoBefore ? 0 : 1,
      heap_growth_mb: growthMb.toFixed(1),
    });
    expect(failures).toEqual([]);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.getOwnPropertyNames(Object.prototype).sort().join()).toBe(protoBefore);
    expect(growthMb).toBeLessThan(96);
  }, 180_000);

  it('query strings of list, retrieve, input items and cancel → 4xx or 2xx, never 5xx', async () => {
    const paths = fc.constantFrom(
      '/v1/responses',
      `/v1/responses/${'ID'}`,
      `/v1/responses/${'ID'}/input_items`,
      '/v1/responses/ID/cancel',
      '/v1/conversations/ID/items',
    );
    const ids = fc.oneof(
      fc.constant('KNOWN'),
      fc.string({ unit: 'binary', maxLength: 40 }),
      fc.constantFrom('resp_', '..', '%00', '__proto__', 'constructor', 'a'.repeat(90)),
    );
    await fc
      .assert(
        fc.asyncProperty(paths, ids, queryString, fc.constantFrom('GET', 'POST', 'DELETE'), async (path, id, query, method) => {
          const realId = id === 'KNOWN' ? knownId : encode(id);
          const url = `${app.url}${path.replace('ID', realId)}?${query}`;
          const result = await raw(url, { method, headers: { authorization: `Bearer ${KEY}` }, timeoutMs: 10_000 });
          return judge(`${method} ${url.slice(app.url.length, 300)}`, result);
        }),
        { seed: SEED, numRuns: scale(250, 3000) },
      )
      .catch(explain);
    // Ids longer than any real one (the router's parameter limit), on every route that takes one.
    for (const path of ['/v1/responses/ID', '/v1/responses/ID/input_items', '/v1/conversations/ID/items']) {
      const url = `${app.url}${path.replace('ID', 'a'.repeat(5000))}`;
      judge(`GET ${path} with a 5000-character id`, await raw(url, { headers: { authorization: `Bearer ${KEY}` } }));
    }
    report('hostile-input-queries', { seed: SEED, faults: counts.requests, ...counts });
    expect(failures).toEqual([]);
  }, 120_000);

  it('headers: content types, encodings and authorization junk → 4xx or 2xx, never 5xx', async () => {
    const contentType = fc.oneof(
      headerText,
      fc.constantFrom(
        'application/json',
        'application/json; charset=utf-16',
        'application/json; charset=latin1',
        'text/plain',
        'multipart/form-data; boundary=x',
        'application/x-www-form-urlencoded',
        'application/jsonx',
        'application/merge-patch+json',
        '',
      ),
    );
    const authorization = fc.oneof(
      headerText,
      headerText.map((s) => `Bearer ${s}`),
      fc.constant(`Bearer ${KEY}`),
      fc.constant(`bearer ${KEY}`),
      fc.constant(`Bearer ${KEY} extra`),
      fc.constant('Basic Zm9vOmJhcg=='),
    );
    const extra = fc.constantFrom<Record<string, string>>(
      {},
      { 'content-encoding': 'gzip' },
      { 'content-encoding': 'br' },
      { accept: 'text/event-stream' },
      { 'x-request-id': 'x'.repeat(4000) },
      { 'openai-organization': '__proto__' },
    );
    await fc
      .assert(
        fc.asyncProperty(
          contentType,
          authorization,
          extra,
          fc.oneof(fc.constant('{"model":"echo","input":"hi"}'), createBody),
          async (type, auth, more, body) => {
            const result = await raw(`${app.url}/v1/responses`, {
              method: 'POST',
              headers: { 'content-type': type, authorization: auth, ...more },
              body,
              timeoutMs: 10_000,
            });
            return judge(`POST [${type}] [${auth.slice(0, 40)}] ${JSON.stringify(more).slice(0, 60)} ${body.slice(0, 120)}`, result);
          },
        ),
        { seed: SEED, numRuns: scale(200, 2000) },
      )
      .catch(explain);
    report('hostile-input-headers', { seed: SEED, faults: counts.requests, ...counts });
    expect(failures).toEqual([]);
  }, 120_000);

  it('security inputs: item references, image URLs, MCP server URLs and schemas → 4xx or 2xx, never 5xx; nothing reaches loopback', async () => {
    // A listener the server must never connect to, whatever the spelling of its address.
    let connections = 0;
    const trap: Server = createServer((socket) => {
      connections++;
      socket.destroy();
    });
    await new Promise<void>((resolve) => trap.listen(0, '127.0.0.1', resolve));
    const port = (trap.address() as AddressInfo).port;
    try {
      const spellings = [
        `127.0.0.1:${port}`,
        `localhost:${port}`,
        `0x7f000001:${port}`,
        `2130706433:${port}`,
        `0177.0.0.1:${port}`,
        `127.1:${port}`,
        `[::ffff:127.0.0.1]:${port}`,
        `[::ffff:7f00:1]:${port}`,
        `[::1]:${port}`,
        `0.0.0.0:${port}`,
        '169.254.169.254',
        '10.0.0.1',
        '[fd00::1]',
      ];
      const serverUrl = fc
        .tuple(
          fc.constantFrom('http', 'https', 'HTTP', 'ftp', 'file', 'gopher'),
          fc.constantFrom(...spellings),
          fc.constantFrom('/mcp', '/sse', '/', '/@evil', '?x=1'),
          fc.constantFrom('', 'user:pass@'),
        )
        .map(([scheme, host, path, auth]) => `${scheme}://${auth}${host}${path}`);
      const mcpTool = serverUrl.map((url) => ({ type: 'mcp', server_label: 'fuzz', server_url: url, require_approval: 'never' }));
      const reference = fc.oneof(
        fc.constant(knownId),
        fc.string({ unit: 'binary', maxLength: 60 }),
        fc.constantFrom('msg_', 'resp_x', '__proto__', "'; DROP TABLE responses; --", 'x'.repeat(5000)),
      );
      const references = fc.array(
        reference.map((id) => ({ type: 'item_reference', id })),
        { minLength: 1, maxLength: 300 },
      );
      const imageUrl = fc.oneof(
        fc.constantFrom(
          'file:///etc/passwd',
          `http://127.0.0.1:${port}/a.png`,
          'http://169.254.169.254/latest/meta-data/',
          'data:image/png;base64,AAAA',
          'https://example.com/a.png',
          'javascript:alert(1)',
          'data:',
          '//x/y.png',
          '',
        ),
        fc.string({ unit: 'binary', maxLength: 80 }),
      );
      const pattern = fc.constantFrom('^(a+)+$', '(a|aa)+$', '(x+x+)+y', '(?=a)a', '(a)\\1', '[', '\\p{L}+', '^.*$', '(?<n>a)\\k<n>');
      const schema = fc.oneof(
        pattern.map((p) => ({ type: 'object', properties: { a: { type: 'string', pattern: p } }, required: ['a'], additionalProperties: false })),
        fc.constantFrom<Record<string, unknown>>(
          { $ref: '#' },
          { $id: 'https://tenant-a.example/s', type: 'object' },
          { $ref: 'https://tenant-a.example/s' },
          {
            $schema: 'https://json-schema.org/draft/2020-12/schema',
            type: 'object',
            properties: { a: { type: 'string' } },
            required: ['a'],
            additionalProperties: false,
          },
          { $schema: 'http://json-schema.org/draft-07/schema#', type: 'object' },
          { $schema: 'https://example.com/unknown-dialect', type: 'object' },
          { type: 'object', patternProperties: { '^(a+)+$': { type: 'string' } } },
          { type: 'nonsense' },
        ),
      );
      const body = fc.oneof(
        references.map((input) => ({ model: 'echo', input })),
        imageUrl.map((url) => ({ model: 'echo', input: [{ role: 'user', content: [{ type: 'input_image', image_url: url }] }] })),
        fc.array(mcpTool, { minLength: 1, maxLength: 2 }).map((tools) => ({ model: 'echo', input: 'x', tools })),
        fc.tuple(schema, fc.boolean()).map(([s, background]) => ({
          model: 'fuzz-model',
          input: 'x',
          background,
          text: { format: { type: 'json_schema', name: 'out', strict: true, schema: s } },
        })),
      );
      await fc
        .assert(
          fc.asyncProperty(body, async (b) => {
            const text = JSON.stringify(b);
            return judge(`POST ${text.slice(0, 300)}`, await post(text), b.model === 'fuzz-model');
          }),
          { seed: SEED, numRuns: scale(200, 2000) },
        )
        .catch(explain);
      report('hostile-input-security', { seed: SEED, faults: counts.requests, ...counts, loopback_connections: connections });
      expect(failures).toEqual([]);
      expect(connections).toBe(0);
    } finally {
      await new Promise<void>((resolve) => trap.close(() => resolve()));
    }
  }, 180_000);
});
