/**
 * The real Codex CLI (`@openai/codex`, pinned in test/clients/package.json) against the real app and
 * the scripted Chat Completions upstream playing a coding model:
 *
 *   codex exec → recording proxy → gateway /v1/responses, /v1/models → fake upstream /v1/chat/completions
 *
 * Each test runs `codex exec` in a fresh temp git work dir with a fresh CODEX_HOME, configured as the
 * custom-provider form of docs/codex.md on the command line. Every URL it is given is on 127.0.0.1,
 * update checks and analytics are off, so the binary reaches nothing but loopback. Codex exits 0 even
 * when a patch was aborted: the tests assert on the disk and on what the upstream and the app saw.
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { useE2e } from '../support/e2e';
import type { RecordedRequest, Scripter } from '../support/fake-upstream';

const MODEL = 'coder';
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
}

/** A loopback HTTP proxy in front of the app that records Codex's requests (the bodies the app's own capture does not keep). */
async function startRecordingProxy(target: () => string): Promise<{ url: string; exchanges: Exchange[]; close(): Promise<void> }> {
  const exchanges: Exchange[] = [];
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
        exchanges.push({ method: req.method ?? '?', url: req.url ?? '', body, status: answer.statusCode ?? 0, headers: answer.headers });
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
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    exchanges,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

interface CodexRun {
  code: number | null;
  stdout: string;
  stderr: string;
  /** `--json` events (JSONL on stdout). */
  events: Array<{ type: string; item?: { type: string; text?: string } }>;
}

/** `codex exec` in `cwd` against `baseUrl`, with a fresh CODEX_HOME, bounded by RUN_TIMEOUT_MS. */
function runCodex(baseUrl: string, cwd: string, prompt: string, config: string[] = []): Promise<CodexRun> {
  const home = mkdtempSync(join(tmpdir(), 'rg-codex-home-'));
  const provider = 'model_providers.gw';
  const flags = [
    `model=${MODEL}`,
    'model_provider=gw',
    `${provider}.name=gw`,
    `${provider}.base_url=${baseUrl}/v1`,
    `${provider}.wire_api=responses`,
    `${provider}.env_key=GW_KEY`,
    `${provider}.model_catalog_url=${baseUrl}/v1/models`,
    `${provider}.request_max_retries=0`,
    `${provider}.stream_max_retries=0`,
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
  const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: home, CODEX_HOME: home, GW_KEY: KEY, LANG: 'C.UTF-8' };
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
          models: [{ id: MODEL, provider: 'vllm', upstreamModel: 'upstream-model', reasoningReplay: 'reasoning_content' }],
        }),
      );
      return { MODELS_CONFIG: config, API_KEYS: `${KEY}:team-a`, SECRETS_KEY };
    },
  });
  beforeAll(async () => (proxy = await startRecordingProxy(() => e2e.url)));
  afterAll(() => proxy?.close());
  beforeEach(() => proxy && (proxy.exchanges.length = 0));

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
      const run = await runCodex(proxy.url, dir, 'Close the agent.', ['web_search="disabled"']);
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
});
