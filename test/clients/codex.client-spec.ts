/**
 * The real Codex CLI (`@openai/codex`, pinned in test/clients/package.json) against the real app and
 * the scripted Chat Completions upstream playing a coding model:
 *
 *   codex exec → recording proxy → gateway /v1/responses (HTTP or WebSocket), /v1/models → fake upstream /v1/chat/completions
 *
 * Each test runs `codex exec` in a fresh temp git work dir with a fresh CODEX_HOME, configured on the
 * command line as the custom-provider form of docs/codex.md (with `supports_websockets` for
 * WebSocket mode), or the `openai_base_url` form (remote compaction; WebSocket first, HTTP when the
 * proxy cuts the upgrade). Every URL it is given is on 127.0.0.1,
 * update checks and analytics are off, so the binary reaches nothing but loopback. Codex exits 0 even
 * when a patch was aborted: the tests assert on the disk and on what the upstream and the app saw.
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as http from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { useE2e } from '../support/e2e';
import type { RecordedRequest, Scripter } from '../support/fake-upstream';
import { type FakeServer, startFakeSearxng } from '../support/web-search-fakes';

const MODEL = 'coder';
/** The model of the long sessions, with a compaction limit in its catalog entry. */
const COMPACT_MODEL = 'coder-compact';
const KEY = 'sk-codex';
const SECRETS_KEY = 'a-codex-test-secret-key-of-enough-length';
const RUN_TIMEOUT_MS = 90_000;
/** Above the run's bound, so that a hung run fails with its transcript, not with Jest's timeout. */
const TEST_TIMEOUT_MS = RUN_TIMEOUT_MS + 10_000;
const PATCH = '*** Begin Patch\n*** Update File: hello.txt\n@@\n-hello\n+hello, gateway\n*** End Patch\n';
const REASONING = 'The user wants hello.txt changed; read it first.';

/** Where the platform package puts the binary (as the package's own bin/codex.js maps it). */
const TARGETS: Record<string, { pkg: string; triple: string }> = {
  'linux-x64': { pkg: '@openai/codex-linux-x64', triple: 'x86_64-unknown-linux-musl' },
  'linux-arm64': { pkg: '@openai/codex-linux-arm64', triple: 'aarch64-unknown-linux-musl' },
  'darwin-x64': { pkg: '@openai/codex-darwin-x64', triple: 'x86_64-apple-darwin' },
  'darwin-arm64': { pkg: '@openai/codex-darwin-arm64', triple: 'aarch64-apple-darwin' },
};

function codexBinary(): string {
  const target = TARGETS[`${process.platform}-${process.arch}`];
  if (!target) throw new Error(`the Codex test has no binary for ${process.platform}-${process.arch} (known: ${Object.keys(TARGETS).join(', ')})`);
  let pkg: string;
  try {
    pkg = require.resolve(`${target.pkg}/package.json`, { paths: [__dirname] });
  } catch {
    throw new Error(`${target.pkg} is not installed in test/clients (npm run clients:install)`);
  }
  const binary = join(pkg, '..', 'vendor', target.triple, 'bin', 'codex');
  if (!existsSync(binary)) throw new Error(`no Codex binary at ${binary}`);
  return binary;
}

/** What Codex sent to the app and what the app answered (status and headers), in order. */
interface Exchange {
  method: string;
  url: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- whatever JSON Codex sent; tests poke into it
  body: any;
  status: number;
  headers: http.IncomingHttpHeaders;
  /** The app's answer, once it has ended (an SSE stream as its text). */
  response?: string;
}

/** A WebSocket upgrade Codex asked for, the app's answer, and the messages both sides sent on it. */
interface Upgrade {
  url: string;
  headers: http.IncomingHttpHeaders;
  /** The status line's code of the app's answer (101 when it switched protocols; 0 when none came). */
  status: number;
  /** Text messages, parsed: `client` what Codex sent, `server` what the app sent. */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- whatever JSON each side sent; tests poke into it
  messages: Array<{ from: 'client' | 'server'; data: any }>;
  /** Close frames (code), either side. */
  closes: Array<{ from: 'client' | 'server'; code: number }>;
}

/**
 * Reads the WebSocket frames of one direction of a piped upgrade (RFC 6455: masked from the client,
 * fragments joined). Only taps: the bytes are piped unchanged. No extension is negotiated (the app
 * does not accept permessage-deflate), so payloads are plain.
 */
function frameTap(onText: (text: string) => void, onClose: (code: number) => void): (chunk: Buffer) => void {
  let buffered = Buffer.alloc(0);
  let fragments: Buffer[] = [];
  return (chunk) => {
    buffered = Buffer.concat([buffered, chunk]);
    for (;;) {
      if (buffered.length < 2) return;
      const fin = (buffered[0] & 0x80) !== 0;
      const opcode = buffered[0] & 0x0f;
      const masked = (buffered[1] & 0x80) !== 0;
      let length = buffered[1] & 0x7f;
      let at = 2;
      if (length === 126) {
        if (buffered.length < 4) return;
        length = buffered.readUInt16BE(2);
        at = 4;
      } else if (length === 127) {
        if (buffered.length < 10) return;
        length = Number(buffered.readBigUInt64BE(2));
        at = 10;
      }
      const mask = masked ? buffered.subarray(at, at + 4) : undefined;
      if (masked) at += 4;
      if (buffered.length < at + length) return;
      const payload = Buffer.from(buffered.subarray(at, at + length));
      if (mask) for (let i = 0; i < payload.length; i++) payload[i] ^= mask[i % 4];
      buffered = buffered.subarray(at + length);
      if (opcode === 0x8) onClose(payload.length >= 2 ? payload.readUInt16BE(0) : 1005);
      if (opcode === 0x1 || opcode === 0x0) {
        fragments.push(payload);
        if (fin) {
          onText(Buffer.concat(fragments).toString('utf8'));
          fragments = [];
        }
      }
    }
  };
}

/** `rawHeaders` ([name, value, name, value, …]) as header lines, unchanged. */
const chunkHeaders = (raw: string[]): string[] => raw.flatMap((name, i) => (i % 2 === 0 ? [`${name}: ${raw[i + 1]}`] : []));

/**
 * A loopback HTTP proxy in front of the app that records Codex's requests (the bodies the app's own
 * capture does not keep), and passes WebSocket upgrades through to the app, recording the upgrade
 * and the messages of both sides.
 */
async function startRecordingProxy(
  target: () => string,
): Promise<{ url: string; exchanges: Exchange[]; upgrades: Upgrade[]; refuseUpgrades: boolean; close(): Promise<void> }> {
  const exchanges: Exchange[] = [];
  const upgrades: Upgrade[] = [];
  const sockets = new Set<Duplex>();
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks);
      const upstream = http.request(`${target()}${req.url ?? '/'}`, { method: req.method, headers: req.headers }, (answer) => {
        let body: unknown = raw.toString('utf8');
        try {
          body = raw.length ? JSON.parse(raw.toString('utf8')) : undefined;
        } catch {
          // not JSON: keep the text
        }
        const exchange: Exchange = { method: req.method ?? '?', url: req.url ?? '', body, status: answer.statusCode ?? 0, headers: answer.headers };
        exchanges.push(exchange);
        const received: Buffer[] = [];
        answer.on('data', (c: Buffer) => received.push(c));
        answer.on('end', () => (exchange.response = Buffer.concat(received).toString('utf8')));
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      });
      upstream.on('error', (err) => res.destroy(err));
      // Codex gone (killed on timeout): the app sees the disconnect too, or it would wait on it at close.
      res.on('close', () => {
        if (!res.writableFinished) upstream.destroy();
      });
      upstream.end(raw);
    });
  });
  // An upgrade: the request as Codex sent it, on a new TCP connection to the app, then both ways piped.
  server.on('upgrade', (req: http.IncomingMessage, client: Duplex, head: Buffer) => {
    const upgrade: Upgrade = { url: req.url ?? '', headers: req.headers, status: 0, messages: [], closes: [] };
    upgrades.push(upgrade);
    // As a proxy that does not pass upgrades (and as this one did before WebSocket mode): the connection is cut (status 0).
    if (proxy.refuseUpgrades) return void client.destroy();
    const { hostname, port } = new URL(target());
    const app = connect(Number(port), hostname);
    sockets.add(client).add(app);
    const record = (from: 'client' | 'server') =>
      frameTap(
        (text) => {
          let data: unknown = text;
          try {
            data = JSON.parse(text);
          } catch {
            // not JSON: keep the text
          }
          upgrade.messages.push({ from, data });
        },
        (code) => upgrade.closes.push({ from, code }),
      );
    const fromClient = record('client');
    const fromServer = record('server');
    let answered = Buffer.alloc(0);
    app.on('data', (chunk: Buffer) => {
      if (upgrade.status === 0) {
        // The app's HTTP answer first: its status line, then (after 101) frames.
        answered = Buffer.concat([answered, chunk]);
        const end = answered.indexOf('\r\n\r\n');
        if (end < 0) return void client.write(chunk);
        upgrade.status = Number(answered.subarray(0, end).toString('latin1').split(' ')[1]);
        const rest = answered.subarray(end + 4);
        client.write(chunk);
        if (upgrade.status === 101 && rest.length) fromServer(rest);
        return;
      }
      client.write(chunk);
      if (upgrade.status === 101) fromServer(chunk);
    });
    client.on('data', (chunk: Buffer) => {
      app.write(chunk);
      if (upgrade.status === 101) fromClient(chunk);
    });
    const head0 = [`${req.method} ${req.url} HTTP/1.1`, ...chunkHeaders(req.rawHeaders)].join('\r\n');
    app.write(`${head0}\r\n\r\n`);
    if (head.length) {
      app.write(head);
      fromClient(head);
    }
    const end = () => {
      client.destroy();
      app.destroy();
      sockets.delete(client);
      sockets.delete(app);
    };
    client.on('close', end).on('error', end);
    app.on('close', end).on('error', end);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const proxy = {
    url: `http://127.0.0.1:${port}`,
    exchanges,
    upgrades,
    refuseUpgrades: false,
    close: () =>
      new Promise<void>((resolve) => {
        sockets.forEach((s) => s.destroy());
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
  return proxy;
}

interface CodexRun {
  code: number | null;
  stdout: string;
  stderr: string;
  /** `--json` events (JSONL on stdout). */
  events: Array<{ type: string; item?: { type: string; text?: string } }>;
}

/**
 * How Codex reaches the gateway: `provider` is the custom-provider form of docs/codex.md (its own
 * `[model_providers.gw]`, local compaction); `openai` is the `openai_base_url` form (the built-in
 * OpenAI provider, `OPENAI_API_KEY`, remote compaction through the gateway).
 */
type CodexForm = 'provider' | 'openai';

/** `codex exec` in `cwd` against `baseUrl`, with a fresh CODEX_HOME, bounded by RUN_TIMEOUT_MS. */
function runCodex(
  baseUrl: string,
  cwd: string,
  prompt: string,
  { config = [], form = 'provider', model = MODEL }: { config?: string[]; form?: CodexForm; model?: string } = {},
): Promise<CodexRun> {
  const home = mkdtempSync(join(tmpdir(), 'rg-codex-home-'));
  const provider = 'model_providers.gw';
  const reach =
    form === 'provider'
      ? [
          'model_provider=gw',
          `${provider}.name=gw`,
          `${provider}.base_url=${baseUrl}/v1`,
          `${provider}.wire_api=responses`,
          `${provider}.env_key=GW_KEY`,
          `${provider}.model_catalog_url=${baseUrl}/v1/models`,
          `${provider}.request_max_retries=0`,
          `${provider}.stream_max_retries=0`,
        ]
      : [`openai_base_url=${baseUrl}/v1`];
  const flags = [
    `model=${model}`,
    ...reach,
    'check_for_update_on_startup=false',
    'analytics.enabled=false',
    // Else Codex syncs its curated plugins from GitHub at start (git ls-remote, then the GitHub API).
    'features.plugins=false',
    ...config,
  ];
  const args = [
    'exec',
    '--ephemeral',
    '--json',
    '--skip-git-repo-check',
    '--dangerously-bypass-approvals-and-sandbox',
    ...flags.flatMap((f) => ['-c', f]),
    prompt,
  ];
  // A small environment of its own: no keys or proxies of the machine reach the binary.
  // `codex exec` takes the OpenAI provider's key from CODEX_API_KEY (it ignores OPENAI_API_KEY).
  const key = form === 'provider' ? { GW_KEY: KEY } : { CODEX_API_KEY: KEY };
  const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: home, CODEX_HOME: home, ...key, LANG: 'C.UTF-8' };
  return new Promise((resolve, reject) => {
    const child = spawn(codexBinary(), args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
    // Its whole process group: the shells it started go too.
    const timer = setTimeout(() => {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // already gone
      }
      reject(new Error(`codex exec did not finish within ${RUN_TIMEOUT_MS} ms\nstdout:\n${stdout}\nstderr:\n${stderr.slice(-4000)}`));
    }, RUN_TIMEOUT_MS);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      rmSync(home, { recursive: true, force: true });
      const events = stdout
        .split('\n')
        .filter((line) => line.startsWith('{'))
        .map((line) => JSON.parse(line) as CodexRun['events'][number]);
      resolve({ code, stdout, stderr, events });
    });
  });
}

/** Temp dirs of the suite, removed at its end. */
const temps: string[] = [];
afterAll(() => temps.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

/** A temp `git init` work dir holding hello.txt. */
function workDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'rg-codex-work-'));
  temps.push(dir);
  execFileSync('git', ['init', '-q'], { cwd: dir });
  writeFileSync(join(dir, 'hello.txt'), 'hello\n');
  return dir;
}

type ChatMessage = { role: string; content: unknown; tool_call_id?: string; tool_calls?: Array<{ id: string }>; reasoning_content?: string };
const messages = (r: RecordedRequest): ChatMessage[] => (r.body as { messages: ChatMessage[] }).messages;
const toolResult = (r: RecordedRequest, callId: string): string | undefined => {
  const content = messages(r).find((m) => m.role === 'tool' && m.tool_call_id === callId)?.content;
  return typeof content === 'string' ? content : content === undefined ? undefined : JSON.stringify(content);
};
const upstreamTools = (r: RecordedRequest): string[] => ((r.body as { tools?: Array<{ function: { name: string } }> }).tools ?? []).map((t) => t.function.name);

/** A coding model: reasons and reads the file with the shell tool, patches it, answers. Keyed on the tool results it has seen. */
const codingModel: Scripter = (body) => {
  const seen = (id: string) => (body.messages as ChatMessage[]).some((m) => m.role === 'tool' && m.tool_call_id === id);
  if (seen('call_patch')) return { text: 'hello.txt now says hello, gateway.' };
  if (seen('call_cat'))
    return { reasoning: 'Now patch it.', toolCalls: [{ id: 'call_patch', name: 'apply_patch', arguments: JSON.stringify({ input: PATCH }) }] };
  return { reasoning: REASONING, toolCalls: [{ id: 'call_cat', name: 'exec_command', arguments: JSON.stringify({ cmd: 'cat hello.txt' }) }] };
};

/** Closes an agent through the multi_agent_v1 namespace, then answers. */
const namespaceModel: Scripter = (body) => {
  const seen = (body.messages as ChatMessage[]).some((m) => m.role === 'tool' && m.tool_call_id === 'call_close');
  if (seen) return { text: 'No such agent.' };
  return { toolCalls: [{ id: 'call_close', name: 'multi_agent_v1__close_agent', arguments: JSON.stringify({ target: 'agent-that-is-not-there' }) }] };
};

/** The text of a chat message (string content or text parts). */
const textOf = (m: ChatMessage): string =>
  typeof m.content === 'string' ? m.content : Array.isArray(m.content) ? (m.content as Array<{ text?: string }>).map((p) => p.text ?? '').join('') : '';

const STEPS = 6;
const stepMarker = (k: number) => `STEP-${k}-OK`;

/**
 * A long agent task: one shell command per step (each prints its marker and appends it to
 * steps.log), then an answer. The steps it has done are the markers in what it can see (tool
 * results, and user messages, where a summary lands after a compaction), so it picks up after a
 * compaction only if the summary made it upstream. Usage grows with the tool results in the
 * request (1000 tokens each, plus 1000): Codex, with a limit of 3500, compacts after step 4 and,
 * the history then short, not again. A summarization request (the gateway's, or Codex's own
 * when it compacts locally) is answered with the markers seen.
 */
const longTaskModel: Scripter = (body) => {
  const all = body.messages as ChatMessage[];
  const last = all.at(-1);
  const seen = all
    .filter((m) => m.role === 'tool' || m.role === 'user')
    .map(textOf)
    .join('\n');
  const done = Array.from({ length: STEPS }, (_, i) => i + 1).filter((k) => seen.includes(stepMarker(k)));
  const summary = `SUMMARY: steps done so far: ${done.map(stepMarker).join(' ')}.`;
  if (last?.role === 'user' && body.stream !== true && textOf(last).startsWith('Summarize'))
    return { text: summary, usage: { prompt_tokens: 100, completion_tokens: 20 } };
  if (last?.role === 'user' && textOf(last).includes('CONTEXT CHECKPOINT COMPACTION'))
    return { text: summary, usage: { prompt_tokens: 100, completion_tokens: 20 } };
  const usage = { prompt_tokens: 1000 * (1 + all.filter((m) => m.role === 'tool').length), completion_tokens: 5 };
  const next = Array.from({ length: STEPS }, (_, i) => i + 1).find((k) => !done.includes(k));
  if (next === undefined) return { text: `All ${STEPS} steps are in steps.log.`, usage };
  const cmd = `echo ${stepMarker(next)} | tee -a steps.log`;
  return { toolCalls: [{ id: `call_step${next}`, name: 'exec_command', arguments: JSON.stringify({ cmd }) }], usage };
};

describe('the Codex CLI (0.171.0, the real binary) through the gateway', () => {
  let proxy: Awaited<ReturnType<typeof startRecordingProxy>>;
  const e2e = useE2e({
    resetUpstream: true,
    env: (upstream) => {
      const dir = mkdtempSync(join(tmpdir(), 'rg-codex-models-'));
      temps.push(dir);
      const config = join(dir, 'models.json');
      // reasoning_content replay, so the opened reasoning is told apart from the gateway's default field.
      writeFileSync(
        config,
        JSON.stringify({
          providers: [{ name: 'vllm', baseUrl: upstream.url }],
          models: [
            { id: MODEL, provider: 'vllm', upstreamModel: 'upstream-model', reasoningReplay: 'reasoning_content' },
            // A small compaction limit, crossed by longTaskModel's usage after a few steps.
            { id: COMPACT_MODEL, provider: 'vllm', upstreamModel: 'upstream-model', codex: { contextWindow: 100_000, autoCompactTokenLimit: 3500 } },
          ],
        }),
      );
      return { MODELS_CONFIG: config, API_KEYS: `${KEY}:team-a`, SECRETS_KEY };
    },
  });
  beforeAll(async () => (proxy = await startRecordingProxy(() => e2e.url)));
  afterAll(() => proxy?.close());
  beforeEach(() => {
    if (!proxy) return;
    proxy.exchanges.length = 0;
    proxy.upgrades.length = 0;
    proxy.refuseUpgrades = false;
  });

  /** The gateway's catalog saved as a file, as docs/codex.md says (exec mode fetches none from openai_base_url). */
  const savedCatalog = async (dir: string): Promise<string> => {
    const catalog = join(dir, '..', `${basename(dir)}-catalog.json`);
    const models = await fetch(`${e2e.url}/v1/models?client_version=0.171.0`, { headers: { authorization: `Bearer ${KEY}` } });
    expect(models.status).toBe(200);
    writeFileSync(catalog, await models.text());
    temps.push(catalog);
    return catalog;
  };
  const turns = () => proxy.exchanges.filter((x) => x.method === 'POST' && x.url.startsWith('/v1/responses'));
  const transcript = (run: CodexRun) =>
    `exit ${run.code}\nstdout:\n${run.stdout}\nstderr:\n${run.stderr.slice(-3000)}\nupstream saw:\n${JSON.stringify(e2e.upstream.requests.map((r) => messages(r).at(-1)))}`;

  it(
    'reads a file with the shell tool, patches it with apply_patch, answers; web_search at its default is left out; reasoning goes back sealed and reaches the upstream opened',
    async () => {
      const dir = workDir();
      e2e.upstream.setScripter(codingModel);
      const run = await runCodex(proxy.url, dir, 'Change hello.txt to say hello, gateway.');
      const context = transcript(run);

      // On disk, and what Codex said.
      expect({ file: readFileSync(join(dir, 'hello.txt'), 'utf8'), code: run.code, context }).toEqual({ file: 'hello, gateway\n', code: 0, context });
      expect(run.events.filter((e) => e.item?.type === 'agent_message').map((e) => e.item?.text)).toEqual(['hello.txt now says hello, gateway.']);

      // Codex fetched the gateway's catalog and, from it, offered apply_patch (it does not without one).
      expect(proxy.exchanges.some((x) => x.method === 'GET' && x.url.startsWith('/v1/models?client_version=0.171.0') && x.status === 200)).toBe(true);
      const [first, second, third] = turns();
      expect(turns()).toHaveLength(3);
      expect(first.status).toBe(200);
      expect(first.body).toMatchObject({ model: MODEL, stream: true, store: false, include: ['reasoning.encrypted_content'] });
      const codexTools = (first.body.tools as Array<{ type: string; name?: string }>).map((t) => `${t.type}:${t.name ?? ''}`);
      expect(codexTools).toEqual(expect.arrayContaining(['function:exec_command', 'custom:apply_patch', 'namespace:multi_agent_v1', 'web_search:']));
      // web_search: left out (unforced, nothing can serve it), and the answer says so.
      expect(first.headers['x-omitted-tools']).toBe('web_search');
      const [up1, up2, up3] = e2e.upstream.requests;
      expect(e2e.upstream.requests).toHaveLength(3);
      expect(upstreamTools(up1)).toEqual(expect.arrayContaining(['exec_command', 'apply_patch', 'multi_agent_v1__close_agent']));
      expect(upstreamTools(up1)).not.toContain('web_search');

      // Turn 2: the shell output reached the upstream; the reasoning came back in Codex's input sealed
      // and went upstream opened, on the assistant message of its turn.
      expect(toolResult(up2, 'call_cat')).toContain('hello');
      const replayed = (second.body.input as Array<{ type: string; encrypted_content?: string | null; content?: unknown }>).filter(
        (i) => i.type === 'reasoning',
      );
      expect(replayed).toHaveLength(1);
      expect(replayed[0].encrypted_content).toMatch(/^v2\./);
      expect(replayed[0].encrypted_content).not.toContain('hello.txt');
      const assistant = messages(up2).find((m) => m.role === 'assistant' && m.tool_calls?.some((c) => c.id === 'call_cat'));
      expect(assistant?.reasoning_content).toBe(REASONING);

      // Turn 3: apply_patch came back to Codex as a custom tool call, ran, and its output reached the upstream.
      const input3 = third.body.input as Array<{ type: string; call_id?: string; name?: string; input?: string; output?: string }>;
      expect(input3.find((i) => i.type === 'custom_tool_call')).toMatchObject({ call_id: 'call_patch', name: 'apply_patch', input: PATCH });
      expect(input3.find((i) => i.type === 'custom_tool_call_output')?.output).toContain('Success');
      expect(toolResult(up3, 'call_patch')).toContain('Success. Updated the following files');
      expect(toolResult(up3, 'call_patch')).toContain('hello.txt');
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'with web_search = "disabled": Codex offers no web_search, nothing is left out, and a namespaced call round trips',
    async () => {
      const dir = workDir();
      e2e.upstream.setScripter(namespaceModel);
      const run = await runCodex(proxy.url, dir, 'Close the agent.', { config: ['web_search="disabled"'] });
      const context = transcript(run);
      expect({ code: run.code, answers: run.events.filter((e) => e.item?.type === 'agent_message').map((e) => e.item?.text), context }).toEqual({
        code: 0,
        answers: ['No such agent.'],
        context,
      });

      const [first, second] = turns();
      expect(turns()).toHaveLength(2);
      expect((first.body.tools as Array<{ type: string }>).map((t) => t.type)).not.toContain('web_search');
      expect(first.headers['x-omitted-tools']).toBeUndefined();

      // Codex got function_call { namespace, name }, ran it, and replayed both with its output.
      const input = second.body.input as Array<{ type: string; call_id?: string; name?: string; namespace?: string; output?: unknown }>;
      expect(input.find((i) => i.type === 'function_call')).toMatchObject({ call_id: 'call_close', namespace: 'multi_agent_v1', name: 'close_agent' });
      const output = input.find((i) => i.type === 'function_call_output' && i.call_id === 'call_close');
      expect(output).toBeDefined();
      // The upstream saw its call under the flattened name and the result as the tool message.
      const up2 = e2e.upstream.requests[1];
      const call = messages(up2).find((m) => m.role === 'assistant' && m.tool_calls?.some((c) => c.id === 'call_close'));
      expect(call?.tool_calls).toEqual([
        expect.objectContaining({ id: 'call_close', function: expect.objectContaining({ name: 'multi_agent_v1__close_agent' }) }),
      ]);
      expect(toolResult(up2, 'call_close')).toBeTruthy();
    },
    TEST_TIMEOUT_MS,
  );

  describe('WebSocket mode (docs/websocket.md): the same edit task on one socket', () => {
    const PROMPT = 'Change hello.txt to say hello, gateway.';
    type SocketItem = { type: string; role?: string; content?: Array<{ text?: string }> };
    type SocketResponse = { id: string; status: string; output: unknown[] };
    type SocketEvent = { type: string; response?: SocketResponse };

    /** The task done on disk, over one accepted upgrade, with a warm-up and only the new items each turn. */
    const expectDoneOverOneSocket = (dir: string, run: CodexRun) => {
      const context = transcript(run);
      expect({ file: readFileSync(join(dir, 'hello.txt'), 'utf8'), code: run.code, context }).toEqual({ file: 'hello, gateway\n', code: 0, context });
      expect(run.events.filter((e) => e.item?.type === 'agent_message').map((e) => e.item?.text)).toEqual(['hello.txt now says hello, gateway.']);

      // One upgrade on GET /v1/responses, switched (101); no turn went over HTTP, no reconnect.
      expect(proxy.upgrades.map((u) => ({ url: u.url, status: u.status, beta: u.headers['openai-beta'], upgrade: u.headers.upgrade }))).toEqual([
        { url: '/v1/responses', status: 101, beta: 'responses_websockets=2026-02-06', upgrade: 'websocket' },
      ]);
      expect(turns()).toEqual([]);
      const [socket] = proxy.upgrades;
      // Offered; the app does not take it, and Codex goes on with plain frames (which the proxy reads).
      expect(socket.headers['sec-websocket-extensions']).toContain('permessage-deflate');
      const creates = socket.messages.filter((m) => m.from === 'client').map((m) => m.data as Record<string, unknown> & { input: SocketItem[] });
      const events = socket.messages.filter((m) => m.from === 'server').map((m) => m.data as SocketEvent);
      expect(events.filter((e) => e.type === 'error' || e.type === 'response.failed')).toEqual([]);
      const completed = events.filter((e) => e.type === 'response.completed').map((e) => e.response!);

      // A generate:false warm-up (its developer message only), then the three turns, each continuing
      // from the last response with only its new items, under store:false.
      expect(creates.map((c) => c.type)).toEqual(['response.create', 'response.create', 'response.create', 'response.create']);
      expect(completed.map((r) => r.status)).toEqual(['completed', 'completed', 'completed', 'completed']);
      const [warm, ...turnsOnSocket] = creates;
      expect(warm).toMatchObject({ generate: false, store: false, model: MODEL });
      expect(warm).not.toHaveProperty('previous_response_id');
      expect(warm.input.map((i) => `${i.type}:${i.role}`)).toEqual(['message:developer']);
      expect(completed[0].output).toEqual([]);
      turnsOnSocket.forEach((c, i) => expect(c).toMatchObject({ previous_response_id: completed[i].id, store: false }));
      expect(turnsOnSocket.map((c) => c.input.map((i) => i.type))).toEqual([
        ['message', 'message', 'message'],
        ['function_call_output'],
        ['custom_tool_call_output'],
      ]);

      // The warm-up called no model: three upstream calls for three turns. Each got the whole
      // history from the connection's cache: the warm-up's developer message, and the reasoning
      // Codex did not resend, opened onto its assistant message.
      const [up1, up2, up3] = e2e.upstream.requests;
      expect(e2e.upstream.requests).toHaveLength(3);
      const developer = textOf({ role: 'developer', content: warm.input[0].content });
      expect(messages(up1).some((m) => textOf(m) === developer)).toBe(true);
      expect(toolResult(up2, 'call_cat')).toContain('hello');
      const assistant = messages(up2).find((m) => m.role === 'assistant' && m.tool_calls?.some((c) => c.id === 'call_cat'));
      expect(assistant?.reasoning_content).toBe(REASONING);
      expect(toolResult(up3, 'call_cat')).toContain('hello');
      expect(toolResult(up3, 'call_patch')).toContain('Success. Updated the following files');
      expect(messages(up3).some((m) => textOf(m) === developer)).toBe(true);
    };

    it(
      'custom provider with supports_websockets = true: the upgrade, a generate:false warm-up that calls no model, then previous_response_id + only the new items',
      async () => {
        const dir = workDir();
        e2e.upstream.setScripter(codingModel);
        const run = await runCodex(proxy.url, dir, PROMPT, { config: ['model_providers.gw.supports_websockets=true'] });
        expectDoneOverOneSocket(dir, run);
        // The catalog still comes over HTTP.
        expect(proxy.exchanges.map((x) => `${x.method} ${x.url.split('?')[0]} ${x.status}`)).toEqual(['GET /v1/models 200']);
      },
      TEST_TIMEOUT_MS,
    );

    it(
      'openai_base_url: Codex takes the socket at once (no fallback to HTTP) and runs the task on it',
      async () => {
        const dir = workDir();
        e2e.upstream.setScripter(codingModel);
        // exec mode fetches no catalog from openai_base_url (and offers no apply_patch without one).
        const run = await runCodex(proxy.url, dir, PROMPT, { form: 'openai', config: [`model_catalog_json=${await savedCatalog(dir)}`] });
        expectDoneOverOneSocket(dir, run);
        expect(proxy.exchanges).toEqual([]);
      },
      TEST_TIMEOUT_MS,
    );
  });

  describe('a long session that crosses the compaction limit of the model catalog (codex.autoCompactTokenLimit 3500)', () => {
    const PROMPT = 'Run the steps of the task, one shell command each.';
    const DONE = `All ${STEPS} steps are in steps.log.`;
    const STEP_LOG = Array.from({ length: STEPS }, (_, i) => `${stepMarker(i + 1)}\n`).join('');
    type Item = { type: string; role?: string; call_id?: string; content?: Array<{ text?: string }>; encrypted_content?: string };
    const inputOf = (x: Exchange): Item[] => x.body.input as Item[];
    const itemText = (i: Item) => (i.content ?? []).map((c) => c.text ?? '').join('');
    const callIds = (items: Item[]) => items.filter((i) => i.type === 'function_call').map((i) => i.call_id);
    const upstreamToolIds = (r: RecordedRequest) => messages(r).flatMap((m) => (m.role === 'tool' && m.tool_call_id ? [m.tool_call_id] : []));
    /** The `data:` events of an SSE answer. */
    const sse = (text: string | undefined) =>
      (text ?? '')
        .split(/\n\n/)
        .map((block) => block.split('\n').find((line) => line.startsWith('data: ')))
        .flatMap((line) => (line ? [JSON.parse(line.slice(6)) as { type: string; item?: Item; response?: { output: Item[] } }] : []));

    /** The run finished its task: each step once, in order, on disk, and its answer. */
    const expectTaskDone = (dir: string, run: CodexRun) => {
      const context = transcript(run);
      expect({ code: run.code, steps: readFileSync(join(dir, 'steps.log'), 'utf8'), context }).toEqual({ code: 0, steps: STEP_LOG, context });
      expect(run.events.filter((e) => e.item?.type === 'agent_message').map((e) => e.item?.text)).toEqual([DONE]);
    };

    it(
      'custom provider: Codex compacts locally, with a summarization turn through /v1/responses, and finishes the task from the summary',
      async () => {
        const dir = workDir();
        e2e.upstream.setScripter(longTaskModel);
        const run = await runCodex(proxy.url, dir, PROMPT, { model: COMPACT_MODEL });
        expectTaskDone(dir, run);

        // No remote compaction: neither the endpoint nor the trigger item.
        expect(proxy.exchanges.filter((x) => x.url.startsWith('/v1/responses/compact'))).toEqual([]);
        expect(turns().flatMap((x) => inputOf(x).filter((i) => i.type === 'compaction_trigger' || i.type === 'compaction'))).toEqual([]);
        // Steps 1–4 (4000 tokens reported after step 4), then the summarization turn, a normal
        // streamed request whose last item is Codex's compaction prompt.
        const all = turns();
        const at = all.findIndex((x) => itemText(inputOf(x).at(-1)!).includes('CONTEXT CHECKPOINT COMPACTION'));
        expect(at).toBe(4);
        expect(all.map((x) => x.status)).toEqual(all.map(() => 200));
        expect(all[at].body).toMatchObject({ stream: true, model: COMPACT_MODEL });
        expect(callIds(inputOf(all[at]))).toEqual(['call_step1', 'call_step2', 'call_step3', 'call_step4']);
        // Then the history is the user's messages and Codex's summary message, without the old calls.
        const after = inputOf(all[at + 1]);
        expect(callIds(after)).toEqual([]);
        const summary = after.find((i) => i.role === 'user' && itemText(i).includes('SUMMARY: steps done so far'));
        expect(itemText(summary!)).toContain('STEP-1-OK STEP-2-OK STEP-3-OK STEP-4-OK');
        expect(after.some((i) => i.role === 'user' && itemText(i) === PROMPT)).toBe(true);
        // The upstream, after the summarization, saw the summary and none of the old tool results.
        const upAfter = e2e.upstream.requests[at + 1];
        expect(upstreamToolIds(upAfter)).toEqual([]);
        expect(messages(upAfter).some((m) => m.role === 'user' && textOf(m).includes('STEP-4-OK'))).toBe(true);
        expect(upstreamToolIds(e2e.upstream.requests.at(-1)!)).toEqual(['call_step5', 'call_step6']);
      },
      TEST_TIMEOUT_MS,
    );

    it(
      'openai_base_url over HTTP (upgrades cut, so Codex falls back): Codex compacts remotely (v2: a compaction_trigger item), gets one compaction item, carries it on and finishes the task',
      async () => {
        const dir = workDir();
        e2e.upstream.setScripter(longTaskModel);
        // A proxy that cuts upgrades: Codex tries the socket, then falls back to HTTP.
        proxy.refuseUpgrades = true;
        const run = await runCodex(proxy.url, dir, PROMPT, { model: COMPACT_MODEL, form: 'openai', config: [`model_catalog_json=${await savedCatalog(dir)}`] });
        expectTaskDone(dir, run);
        expect(proxy.upgrades.length).toBeGreaterThan(1);
        expect(proxy.upgrades.map((u) => u.status)).toEqual(proxy.upgrades.map(() => 0));

        expect(proxy.exchanges.filter((x) => x.url.startsWith('/v1/models'))).toEqual([]);
        expect(proxy.exchanges.filter((x) => x.url.startsWith('/v1/responses/compact'))).toEqual([]);
        // The compaction request: a normal streamed turn, the whole history, then the trigger last.
        const all = turns();
        const triggered = all.filter((x) => inputOf(x).some((i) => i.type === 'compaction_trigger'));
        expect(triggered).toHaveLength(1);
        const request = triggered[0];
        expect(inputOf(request).at(-1)).toEqual({ type: 'compaction_trigger' });
        expect(request.body).toMatchObject({ model: COMPACT_MODEL, stream: true, store: false });
        expect(request.body).not.toHaveProperty('context_management');
        expect(callIds(inputOf(request))).toEqual(['call_step1', 'call_step2', 'call_step3', 'call_step4']);
        // The gateway answered 200 with exactly one output item, a compaction item.
        expect(request.status).toBe(200);
        const events = sse(request.response);
        const done = events.filter((e) => e.type === 'response.output_item.done').map((e) => e.item!);
        expect(done).toEqual([expect.objectContaining({ type: 'compaction', encrypted_content: expect.any(String) })]);
        expect(events.at(-1)?.type).toBe('response.completed');
        expect(events.at(-1)?.response?.output).toEqual(done);
        const sealed = done[0].encrypted_content!;
        expect(sealed).not.toContain('STEP-');

        // The gateway had the upstream write the summary (one non-streamed call over the old steps).
        const summarizing = e2e.upstream.requests.filter((r) => r.body.stream !== true);
        expect(summarizing).toHaveLength(1);
        expect(summarizing[0].body.messages.map((m: ChatMessage) => textOf(m)).join('\n')).toContain('STEP-4-OK');

        // The next request carries the compaction item instead of the old calls, and the upstream
        // got the summary in their place.
        const next = all[all.indexOf(request) + 1];
        expect(next.status).toBe(200);
        expect(inputOf(next).filter((i) => i.type === 'compaction')).toEqual([expect.objectContaining({ encrypted_content: sealed })]);
        expect(callIds(inputOf(next))).toEqual([]);
        const upNext = e2e.upstream.requests[e2e.upstream.requests.indexOf(summarizing[0]) + 1];
        expect(upstreamToolIds(upNext)).toEqual([]);
        const summary = messages(upNext).find((m) => m.role === 'user' && textOf(m).startsWith('Summary of the earlier conversation'));
        expect(summary && textOf(summary)).toContain('STEP-1-OK STEP-2-OK STEP-3-OK STEP-4-OK');
        expect(upstreamToolIds(e2e.upstream.requests.at(-1)!)).toEqual(['call_step5', 'call_step6']);
      },
      TEST_TIMEOUT_MS,
    );

    it(
      'openai_base_url over WebSocket: the compaction turn continues the socket chain, then Codex starts a new chain from the compaction item',
      async () => {
        const dir = workDir();
        e2e.upstream.setScripter(longTaskModel);
        const run = await runCodex(proxy.url, dir, PROMPT, { model: COMPACT_MODEL, form: 'openai', config: [`model_catalog_json=${await savedCatalog(dir)}`] });
        expectTaskDone(dir, run);
        expect(proxy.exchanges).toEqual([]);
        expect(proxy.upgrades.map((u) => u.status)).toEqual([101]);
        const [socket] = proxy.upgrades;
        type Create = { previous_response_id?: string; generate?: boolean; input: Item[] };
        const creates = socket.messages.filter((m) => m.from === 'client').map((m) => m.data as Create);
        const events = socket.messages.filter((m) => m.from === 'server').map((m) => m.data as { type: string; response?: { id: string; output: Item[] } });
        expect(events.filter((e) => e.type === 'error' || e.type === 'response.failed')).toEqual([]);
        const completed = events.filter((e) => e.type === 'response.completed').map((e) => e.response!);
        expect(completed).toHaveLength(creates.length);

        // The warm-up, the first turn and steps 1–3 chain on the socket; the step-4 output comes with
        // the trigger on the same chain, and the answer is one compaction item.
        const at = creates.findIndex((c) => c.input.some((i) => i.type === 'compaction_trigger'));
        expect(creates.filter((c) => c.input.some((i) => i.type === 'compaction_trigger'))).toHaveLength(1);
        expect(creates[0].generate).toBe(false);
        creates.slice(1, at + 1).forEach((c, i) => expect(c.previous_response_id).toBe(completed[i].id));
        expect(creates[at].input.map((i) => i.type)).toEqual(['function_call_output', 'compaction_trigger']);
        expect(completed[at].output).toEqual([expect.objectContaining({ type: 'compaction', encrypted_content: expect.any(String) })]);
        const sealed = completed[at].output[0].encrypted_content!;
        const summarizing = e2e.upstream.requests.filter((r) => r.body.stream !== true);
        expect(summarizing).toHaveLength(1);
        expect(upstreamToolIds(summarizing[0])).toEqual(['call_step1', 'call_step2', 'call_step3', 'call_step4']);

        // Then a new chain on the same socket: no previous_response_id, its messages and the compaction
        // item, no old calls; the rest continue from it, and the upstream saw the summary, not the old calls.
        const fresh = creates[at + 1];
        expect(fresh.previous_response_id).toBeUndefined();
        expect(fresh.input.filter((i) => i.type === 'compaction')).toEqual([expect.objectContaining({ encrypted_content: sealed })]);
        expect(callIds(fresh.input)).toEqual([]);
        creates.slice(at + 2).forEach((c, i) => expect(c.previous_response_id).toBe(completed[at + 1 + i].id));
        const upNext = e2e.upstream.requests[e2e.upstream.requests.indexOf(summarizing[0]) + 1];
        expect(upstreamToolIds(upNext)).toEqual([]);
        const summary = messages(upNext).find((m) => m.role === 'user' && textOf(m).startsWith('Summary of the earlier conversation'));
        expect(summary && textOf(summary)).toContain('STEP-1-OK STEP-2-OK STEP-3-OK STEP-4-OK');
        expect(upstreamToolIds(e2e.upstream.requests.at(-1)!)).toEqual(['call_step5', 'call_step6']);
      },
      TEST_TIMEOUT_MS,
    );
  });
});

describe('the Codex CLI with web_search at its default, the gateway configured with a search provider (fake SearXNG)', () => {
  let proxy: Awaited<ReturnType<typeof startRecordingProxy>>;
  let searx: FakeServer;
  const e2e = useE2e({
    resetUpstream: true,
    env: async (upstream) => {
      searx = await startFakeSearxng(() => [
        { url: 'https://docs.example.com/trains', title: 'Train travel policy', content: 'Employees book trains for trips under four hours.' },
      ]);
      const dir = mkdtempSync(join(tmpdir(), 'rg-codex-models-'));
      temps.push(dir);
      const config = join(dir, 'models.json');
      writeFileSync(
        config,
        JSON.stringify({ providers: [{ name: 'vllm', baseUrl: upstream.url }], models: [{ id: MODEL, provider: 'vllm', upstreamModel: 'upstream-model' }] }),
      );
      return { MODELS_CONFIG: config, API_KEYS: `${KEY}:team-a`, SECRETS_KEY, WEB_SEARCH_PROVIDER: 'searxng', WEB_SEARCH_URL: searx.url };
    },
  });
  beforeAll(async () => (proxy = await startRecordingProxy(() => e2e.url)));
  afterAll(() => Promise.all([proxy?.close(), searx?.close()]));

  it(
    'runs the search on the gateway: Codex gets the web_search_call and the cited answer in one turn',
    async () => {
      const dir = workDir();
      e2e.upstream.setScripter((body) =>
        (body.messages as ChatMessage[]).some((m) => m.role === 'tool' && m.tool_call_id === 'call_ws')
          ? { text: 'Take the train for trips under four hours [1].' }
          : { toolCalls: [{ id: 'call_ws', name: 'web_search', arguments: JSON.stringify({ query: 'train travel policy' }) }] },
      );
      const run = await runCodex(proxy.url, dir, 'When should I take the train?');
      const context = transcript(run);
      expect({ code: run.code, answers: run.events.filter((e) => e.item?.type === 'agent_message').map((e) => e.item?.text), context }).toEqual({
        code: 0,
        answers: ['Take the train for trips under four hours [1].'],
        context,
      });
      // Codex showed the search as its own web_search item.
      expect(run.events.some((e) => e.item?.type === 'web_search')).toBe(true);

      const [first] = turns();
      expect(turns()).toHaveLength(1);
      expect((first.body.tools as Array<{ type: string }>).map((t) => t.type)).toContain('web_search');
      expect(first.headers['x-omitted-tools']).toBeUndefined();
      expect(first.response).toContain('"type":"web_search_call"');
      expect(first.response).toContain('"type":"url_citation"');
      expect(searx.requests.map((r) => r.query.get('q'))).toEqual(['train travel policy']);
      const [up1, up2] = e2e.upstream.requests;
      expect(upstreamTools(up1)).toContain('web_search');
      // Codex asks for live access (`external_web_access: true`): the model may open pages too.
      expect((first.body.tools as Array<{ type: string }>).find((t) => t.type === 'web_search')).toEqual({ type: 'web_search', external_web_access: true });
      expect(upstreamTools(up1)).toContain('open_page');
      expect(toolResult(up2, 'call_ws')).toContain('Employees book trains for trips under four hours.');
    },
    TEST_TIMEOUT_MS,
  );

  const turns = () => proxy.exchanges.filter((x) => x.method === 'POST' && x.url.startsWith('/v1/responses'));
  const transcript = (run: CodexRun) =>
    `exit ${run.code}\nstdout:\n${run.stdout}\nstderr:\n${run.stderr.slice(-3000)}\nupstream saw:\n${JSON.stringify(e2e.upstream.requests.map((r) => messages(r).at(-1)))}`;
});
