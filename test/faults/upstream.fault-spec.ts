/**
 * Item 4: upstream faults — connection refused, reset before and after output, hanging with no
 * bytes or mid-stream, 429 with retry-after, 5xx, malformed SSE, invalid JSON tool arguments. Each
 * ends in a defined state within bounded time: retried where that is safe (background runs, before
 * any output), `failed` with a clear `error` otherwise; synchronous calls pass the error through.
 */
import { rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type OpenAI from 'openai';
import type { Response } from 'openai/resources/responses/responses';
import type { UpstreamScript } from '../support/fake-upstream';
import { startMcpServer, TestMcpServer } from '../support/mcp-server';
import type { ServerProcess } from '../support/processes';
import { faultSuite, isTerminal, MODEL, report, sleep, Stack } from './support/harness';
import { isOpenAIError, postJson, raw } from './support/http';
import { freePort } from './support/own-services';
import { readStream, StreamRecord } from './support/streams';

const RETRIES = 2; // BACKGROUND_UPSTREAM_RETRIES for this file: up to 3 calls
const TIMEOUT_MS = 1500; // INFERENCE_TIMEOUT_MS (an idle timeout)

interface Case {
  name: string;
  /** The script of the n-th upstream call of this case (0-based). */
  script: (n: number) => UpstreamScript;
  model?: string;
  tools?: 'function' | 'mcp';
  expect: {
    status: Response['status'];
    code?: string;
    /** Upstream calls made (exact). */
    calls?: number;
    /**
     * Or a range: a reset on a reused keep-alive socket is tried again at once by the client (the
     * stale-socket rule of src/inference/upstream-http.ts), so each attempt may reach the fake twice.
     */
    callsBetween?: [number, number];
    /** Bounded time from create to the terminal state. */
    maxMs: number;
    minMs?: number;
    /** At least this long between the first and second call (a honoured retry-after). */
    minGapMs?: number;
    check?: (r: Response) => string | undefined;
  };
}

const BACKGROUND: Case[] = [
  { name: 'refused', script: () => ({}), model: 'refused-model', expect: { status: 'failed', code: 'server_error', maxMs: 8000 } },
  {
    name: 'reset-before-headers',
    script: () => ({ dropImmediately: true }),
    expect: { status: 'failed', code: 'server_error', callsBetween: [RETRIES + 1, 2 * (RETRIES + 1)], maxMs: 8000 },
  },
  {
    name: 'reset-once',
    script: (n) => (n === 0 ? { dropImmediately: true } : { text: 'fine' }),
    expect: { status: 'completed', callsBetween: [2, 2], maxMs: 6000 },
  },
  {
    name: '429-retry-after-once',
    script: (n) => (n === 0 ? { status: 429, retryAfter: '1' } : { text: 'fine' }),
    expect: { status: 'completed', calls: 2, minGapMs: 900, maxMs: 6000 },
  },
  {
    name: '429-always',
    script: () => ({ status: 429, retryAfter: '1' }),
    expect: { status: 'failed', code: 'rate_limit_exceeded', calls: RETRIES + 1, maxMs: 8000 },
  },
  {
    name: '429-retry-after-too-long',
    script: () => ({ status: 429, retryAfter: '3600' }),
    expect: { status: 'failed', code: 'rate_limit_exceeded', calls: 1, maxMs: 4000 },
  },
  { name: '503-once', script: (n) => (n === 0 ? { status: 503 } : { text: 'fine' }), expect: { status: 'completed', calls: 2, maxMs: 6000 } },
  { name: '500-always', script: () => ({ status: 500 }), expect: { status: 'failed', code: 'server_error', calls: RETRIES + 1, maxMs: 8000 } },
  {
    name: 'reset-mid-stream',
    script: () => ({ chunks: ['a', 'b', 'c', 'd', 'e', 'f'], dropAfterChunks: 3 }),
    expect: { status: 'failed', code: 'server_error', calls: 1, maxMs: 4000 },
  },
  {
    name: 'malformed-sse',
    script: () => ({ chunks: ['a', 'b', 'c', 'd'], malformedAfterChunks: 2 }),
    expect: { status: 'failed', code: 'server_error', calls: 1, maxMs: 4000 },
  },
  {
    name: 'hang-no-bytes',
    script: () => ({ hang: true }),
    expect: { status: 'failed', code: 'server_error', minMs: TIMEOUT_MS - 100, maxMs: (RETRIES + 1) * TIMEOUT_MS + 5000 },
  },
  {
    name: 'hang-mid-stream',
    script: () => ({ chunks: ['a', 'b', 'c', 'd', 'e'], hangAfterChunks: 3 }),
    expect: { status: 'failed', code: 'server_error', calls: 1, minMs: TIMEOUT_MS - 100, maxMs: TIMEOUT_MS + 5000 },
  },
  {
    name: 'function-invalid-json-args',
    tools: 'function',
    script: () => ({ toolCalls: [{ name: 'get_weather', arguments: '{"city": "Par' }] }),
    expect: {
      status: 'completed',
      calls: 1,
      maxMs: 4000,
      // The client decides what to do with arguments the model garbled: they are passed on as given.
      check: (r) => {
        const call = r.output.find((o) => o.type === 'function_call');
        return call?.type === 'function_call' && call.arguments === '{"city": "Par' ? undefined : `output ${JSON.stringify(r.output)}`;
      },
    },
  },
  {
    name: 'mcp-invalid-json-args',
    tools: 'mcp',
    script: (n) => (n === 0 ? { toolCalls: [{ name: 'calc__add', arguments: '{"a": 2,' }] } : { text: 'sorry, the tool call failed' }),
    expect: {
      status: 'completed',
      calls: 2,
      maxMs: 6000,
      // A server-side tool with garbled arguments is a failed mcp_call the model is told about.
      check: (r) => {
        const call = r.output.find((o) => o.type === 'mcp_call');
        const error = call?.type === 'mcp_call' ? call.error : undefined;
        return error?.type === 'mcp_protocol_error' && /Invalid arguments/.test(error.message) && r.output_text === 'sorry, the tool call failed'
          ? undefined
          : `output ${JSON.stringify(r.output)}`;
      },
    },
  },
];

faultSuite('fault: upstream failures', () => {
  let stack: Stack;
  let mcp: TestMcpServer;
  let server: ServerProcess;
  let client: OpenAI;
  /** Upstream calls per case tag, with their times. */
  const calls = new Map<string, number[]>();
  const scripts = new Map<string, (n: number) => UpstreamScript>();
  const config = join(tmpdir(), `rg-faults-models-${process.pid}.json`);

  const tagOf = (body: Record<string, unknown>): string | undefined => {
    // The first user message, whatever its shape (a string or content parts).
    const user = ((body.messages ?? []) as Array<{ role: string; content?: unknown }>).find((m) => m.role === 'user');
    return /case:([\w-]+)/.exec(JSON.stringify(user?.content ?? ''))?.[1];
  };

  beforeAll(async () => {
    [stack, mcp] = await Promise.all([
      Stack.create({ INFERENCE_TIMEOUT_MS: String(TIMEOUT_MS), BACKGROUND_UPSTREAM_RETRIES: String(RETRIES) }),
      startMcpServer(),
    ]);
    stack.upstream.setScripter((body) => {
      const tag = tagOf(body);
      if (!tag) return undefined;
      const times = calls.get(tag) ?? [];
      times.push(Date.now());
      calls.set(tag, times);
      return scripts.get(tag)?.(times.length - 1);
    });
    writeFileSync(
      config,
      JSON.stringify({
        providers: [
          { name: 'fake', baseUrl: stack.upstream.url },
          { name: 'closed', baseUrl: `http://127.0.0.1:${await freePort()}/v1` },
        ],
        models: [{ id: 'refused-model', provider: 'closed', upstreamModel: MODEL }],
        passthrough: 'fake',
      }),
    );
    server = await stack.start('all', { MODELS_CONFIG: config });
    client = stack.client(server);
  }, 90_000);

  afterAll(async () => {
    await stack?.destroy();
    await mcp?.close();
    rmSync(config, { force: true });
  });

  const toolsOf = (kind: Case['tools']): OpenAI.Responses.Tool[] | undefined => {
    if (kind === 'function')
      return [{ type: 'function', name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } }, strict: false }];
    if (kind === 'mcp') return [{ type: 'mcp', server_label: 'calc', server_url: mcp.url, require_approval: 'never' }];
    return undefined;
  };

  it('background runs: every upstream fault ends in its defined state, retried only where safe, within bounded time', async () => {
    const problems: string[] = [];
    let maxMs = 0;
    await Promise.all(
      BACKGROUND.map(async (c) => {
        const tag = `bg-${c.name}`;
        scripts.set(tag, c.script);
        const started = Date.now();
        const created = await client.responses.create({ model: c.model ?? MODEL, input: `case:${tag}`, tools: toolsOf(c.tools), background: true });
        let final = created;
        while (!isTerminal(final.status) && Date.now() - started < c.expect.maxMs + 5000) {
          await sleep(50);
          final = await client.responses.retrieve(created.id);
        }
        const ms = Date.now() - started;
        maxMs = Math.max(maxMs, ms);
        const times = calls.get(tag) ?? [];
        const e = c.expect;
        const say = (what: string) =>
          problems.push(`${c.name}: ${what} (status ${final.status}, error ${JSON.stringify(final.error)}, ${times.length} calls, ${ms} ms)`);
        if (final.status !== e.status) say(`expected ${e.status}`);
        if (e.code && final.error?.code !== e.code) say(`expected error.code ${e.code}`);
        if (final.status === 'failed' && !(final.error?.message && final.error.message.length > 10)) say('a failed response needs a clear error.message');
        if (e.calls !== undefined && times.length !== e.calls) say(`expected ${e.calls} upstream calls`);
        if (e.callsBetween && (times.length < e.callsBetween[0] || times.length > e.callsBetween[1]))
          say(`expected ${e.callsBetween.join('..')} upstream calls`);
        if (ms > e.maxMs) say(`took longer than ${e.maxMs} ms`);
        if (e.minMs !== undefined && ms < e.minMs) say(`ended before ${e.minMs} ms`);
        if (e.minGapMs !== undefined && (times.length < 2 || times[1] - times[0] < e.minGapMs)) say(`retry-after not honoured (gap ${times[1] - times[0]} ms)`);
        const extra = e.check?.(final);
        if (extra) say(extra);
      }),
    );
    report('upstream-faults-background', {
      cases: BACKGROUND.length,
      responses: BACKGROUND.length,
      faults: BACKGROUND.length,
      undefined_state: problems.length,
      lost: 0,
      max_ms: maxMs,
    });
    expect(problems).toEqual([]);
  }, 120_000);

  it('synchronous calls pass the upstream error through (429 with retry-after, 502, 504) and store the response failed', async () => {
    const sync: Array<{ name: string; script: UpstreamScript; model?: string; status: number; retryAfter?: string }> = [
      { name: '429', script: { status: 429, retryAfter: '7' }, status: 429, retryAfter: '7' },
      { name: '500', script: { status: 500 }, status: 502 },
      { name: 'refused', script: {}, model: 'refused-model', status: 502 },
      { name: 'reset', script: { dropImmediately: true }, status: 502 },
      { name: 'hang', script: { hang: true }, status: 504 },
    ];
    const problems: string[] = [];
    let maxMs = 0;
    for (const c of sync) {
      const tag = `sync-${c.name}`;
      scripts.set(tag, () => c.script);
      const started = Date.now();
      const res = await postJson(`${server.url}/v1/responses`, { model: c.model ?? MODEL, input: `case:${tag}` }, { timeoutMs: 20_000 });
      const ms = Date.now() - started;
      maxMs = Math.max(maxMs, ms);
      if (res.status !== c.status) problems.push(`${c.name}: HTTP ${res.status} (expected ${c.status}): ${res.text.slice(0, 200)}`);
      if (!isOpenAIError(res.body)) problems.push(`${c.name}: not an OpenAI error body: ${res.text.slice(0, 200)}`);
      if (c.retryAfter && res.headers?.get('retry-after') !== c.retryAfter) problems.push(`${c.name}: retry-after ${res.headers?.get('retry-after')}`);
      if (ms > 8000) problems.push(`${c.name}: took ${ms} ms`);
      const most = c.name === 'reset' ? 2 : 1; // the stale keep-alive socket rule (above)
      const made = calls.get(tag)?.length ?? 0;
      if (c.name !== 'refused' && (made < 1 || made > most))
        problems.push(`${c.name}: ${calls.get(tag)?.length} upstream calls (a synchronous call is retried by its client, not by us)`);
    }
    // The stored responses of those calls are failed, never left in_progress.
    const stuck = await stack.query<{ id: string; status: string }>(
      `SELECT id, status FROM responses WHERE NOT background AND status IN ('queued', 'in_progress')`,
    );
    for (const s of stuck) problems.push(`${s.id} stored ${s.status}`);

    // Streaming synchronous calls: a fault after response.created ends the stream with response.failed.
    const streamed: Array<[string, UpstreamScript]> = [
      ['reset-mid-stream', { chunks: ['a', 'b', 'c', 'd', 'e'], dropAfterChunks: 3 }],
      ['malformed-sse', { chunks: ['a', 'b', 'c', 'd'], malformedAfterChunks: 2 }],
      ['hang-mid-stream', { chunks: ['a', 'b', 'c', 'd'], hangAfterChunks: 2 }],
    ];
    for (const [name, script] of streamed) {
      const tag = `stream-${name}`;
      scripts.set(tag, () => script);
      const started = Date.now();
      const record: StreamRecord = { id: '', events: [] };
      await readStream(await client.responses.create({ model: MODEL, input: `case:${tag}`, stream: true }), record);
      const ms = Date.now() - started;
      maxMs = Math.max(maxMs, ms);
      const last = record.events[record.events.length - 1];
      if (last?.type !== 'response.failed' || !last.response.error?.message) problems.push(`${name}: stream ended with ${last?.type} (${record.error ?? ''})`);
      if (ms > TIMEOUT_MS + 5000) problems.push(`${name}: took ${ms} ms`);
      const stored = await raw(`${server.url}/v1/responses/${record.id}`);
      if ((stored.body as { status?: string }).status !== 'failed') problems.push(`${name}: stored ${stored.text.slice(0, 100)}`);
    }
    report('upstream-faults-sync', { cases: sync.length + 3, faults: sync.length + 3, undefined_state: problems.length, max_ms: maxMs });
    expect(problems).toEqual([]);
  }, 120_000);
});
