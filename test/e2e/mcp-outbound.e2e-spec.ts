import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer as createTcpServer, type AddressInfo, type Server } from 'node:net';
import OpenAI from 'openai';
import { HostResolver } from '../../src/outbound/url-guard';
import { useE2e } from '../support/e2e';
import { startMcpServer, TestMcpServer } from '../support/mcp-server';

const MODEL = 'upstream-model';
const MAX_OUTPUT = 4096;
const MAX_RESPONSE = 64 * 1024;
type Body = { messages: Array<{ role: string; content: unknown }> };

const portOf = (server: Server | HttpServer) => (server.address() as AddressInfo).port;
async function listen<T extends Server | HttpServer>(server: T): Promise<T> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}
const close = (server: Server | HttpServer) => new Promise<void>((resolve) => server.close(() => resolve()));

/**
 * Issue #13, findings 2 and 4: a tenant's `server_url` reaches only what the operator allows
 * (MCP_ALLOWED_HOSTS names `mcp.internal.test` here, never loopback itself), errors do not tell
 * what answered, and a tool result is bounded in what is read, stored and given to the model.
 */
describe('MCP servers: outbound guard and bounded results', () => {
  let mcp: TestMcpServer;
  /** Plain TCP on loopback, counting connections: what a refused URL points at must see none. */
  let trap: Server;
  let connections = 0;
  /** HTTP on loopback: 401 to everything, or a redirect to `?to=`. */
  let web: HttpServer;
  /** TCP that hangs up at once, as Postgres or Redis answer an HTTP request. */
  let hangup: Server;
  let closedPort: number;

  const tool = (server_url: string): OpenAI.Responses.Tool => ({ type: 'mcp', server_label: 'srv', server_url, require_approval: 'never' });
  const create = (server_url: string) => e2e.client.responses.create({ model: MODEL, input: 'x', tools: [tool(server_url)] }).catch((e: unknown) => e);
  const internal = (port: number, path = '/mcp') => `http://mcp.internal.test:${port}${path}`;
  const mcpPort = () => Number(new URL(mcp.url).port);

  beforeAll(async () => {
    mcp = await startMcpServer({ repeat: true });
    trap = await listen(createTcpServer((socket) => (connections++, socket.destroy())));
    hangup = await listen(createTcpServer((socket) => socket.destroy()));
    web = await listen(
      createHttpServer((req, res) => {
        const to = new URL(req.url ?? '/', 'http://x').searchParams.get('to');
        if (to) res.writeHead(307, { location: to }).end();
        else res.writeHead(401, { 'www-authenticate': 'Basic realm="secret internal admin"' }).end('internal admin console');
      }),
    );
    const spare = await listen(createTcpServer());
    closedPort = portOf(spare);
    await close(spare);
  });
  const e2e = useE2e({
    env: (upstream) => ({
      INFERENCE_BASE_URL: upstream.url,
      MCP_ALLOW_HTTP: 'true',
      MCP_ALLOWED_HOSTS: 'mcp.internal.test',
      MCP_MAX_OUTPUT_BYTES: String(MAX_OUTPUT),
      MCP_MAX_RESPONSE_BYTES: String(MAX_RESPONSE),
    }),
    resetUpstream: true,
  });
  afterAll(async () => {
    await mcp?.close();
    await Promise.all([trap, hangup].map(close));
    web?.closeAllConnections();
    if (web) await close(web);
  });

  beforeAll(() => {
    // Fake DNS: an internal name the operator allows, and one a tenant controls, both to loopback.
    const resolver = e2e.app.app.get(HostResolver);
    const original = resolver.resolve.bind(resolver);
    const names: Record<string, string> = { 'mcp.internal.test': '127.0.0.1', 'rebind.attacker.test': '127.0.0.1' };
    resolver.resolve = (hostname: string) => (names[hostname] ? Promise.resolve([{ address: names[hostname], family: 4 }]) : original(hostname));
  });

  beforeEach(() => {
    connections = 0;
  });

  it.each([
    ['127.0.0.1', (p: number) => `http://127.0.0.1:${p}/mcp`],
    ['0x7f000001', (p: number) => `http://0x7f000001:${p}/mcp`],
    ['[::ffff:127.0.0.1]', (p: number) => `http://[::ffff:127.0.0.1]:${p}/mcp`],
    ['localhost', (p: number) => `http://localhost:${p}/mcp`],
    ['a name resolving to loopback', (p: number) => `http://rebind.attacker.test:${p}/mcp`],
  ])('refuses %s: 424, why, and not one connection', async (_what, url) => {
    const error = await create(url(portOf(trap)));
    expect(error).toMatchObject({
      status: 424,
      message: expect.stringMatching(
        /^424 Error retrieving tool list from MCP server 'srv': could not connect to the MCP server: the URL .*a loopback address/,
      ),
    });
    expect(connections).toBe(0);
    expect(e2e.upstream.requests).toHaveLength(0);
  });

  it('does not follow a redirect from an allowed server to loopback', async () => {
    const error = await create(`${internal(portOf(web))}?to=${encodeURIComponent(`http://localhost:${portOf(trap)}/mcp`)}`);
    expect(error).toMatchObject({ status: 424, message: expect.stringContaining('could not connect to the MCP server: the URL redirects to another host.') });
    expect(connections).toBe(0);
  });

  it('says the same about every failure to connect, never what answered (no port scanner)', async () => {
    const messages: string[] = [];
    for (const port of [portOf(web), portOf(hangup), closedPort]) {
      const error = (await create(internal(port))) as { status: number; message: string };
      expect(error.status).toBe(424);
      messages.push(error.message);
    }
    expect(new Set(messages)).toEqual(new Set(["424 Error retrieving tool list from MCP server 'srv': could not connect to the MCP server."]));
    const page = (await fetch(`${e2e.url}/v1/responses?limit=3`).then((r) => r.json())) as { data: Array<{ output: Array<{ error: string }> }> };
    for (const stored of page.data) expect(stored.output[0].error).toBe('could not connect to the MCP server.');
  });

  it('runs the tools of an allowlisted internal server', async () => {
    e2e.upstream.enqueue({ toolCalls: [{ id: 'call_a', name: 'srv__add', arguments: '{"a":2,"b":3}' }], finishReason: 'tool_calls' }, { text: 'It is 5.' });
    const r = await e2e.client.responses.create({ model: MODEL, input: '2+3?', tools: [tool(internal(mcpPort()))] });
    expect(r.output[1]).toMatchObject({ type: 'mcp_call', name: 'add', output: '5', error: null });
    expect(r.output_text).toBe('It is 5.');
  });

  it('cuts a large tool result, with a marker, in what the model sees and what is stored', async () => {
    e2e.upstream.enqueue({ toolCalls: [{ id: 'call_r', name: 'srv__repeat', arguments: '{"times":20000}' }], finishReason: 'tool_calls' }, { text: 'Long.' });
    const r = await e2e.client.responses.create({ model: MODEL, input: 'long', tools: [tool(internal(mcpPort()))] });
    const expected = `${'y'.repeat(MAX_OUTPUT)}…[truncated: ${20_000 - MAX_OUTPUT} bytes omitted]`;
    expect(r.output[1]).toMatchObject({ type: 'mcp_call', name: 'repeat', output: expected, error: null });
    expect((e2e.upstream.requests[1].body as Body).messages.slice(-1)[0]).toMatchObject({ role: 'tool', content: expected });
    const stored = await e2e.client.responses.retrieve(r.id);
    expect(stored.output[1]).toMatchObject({ type: 'mcp_call', output: expected });
  });

  it('fails the call, not the process, when the server answers more than MCP_MAX_RESPONSE_BYTES', async () => {
    e2e.upstream.enqueue(
      { toolCalls: [{ id: 'call_h', name: 'srv__repeat', arguments: `{"times":${4 * MAX_RESPONSE}}` }], finishReason: 'tool_calls' },
      { text: 'Too long.' },
    );
    const r = await e2e.client.responses.create({ model: MODEL, input: 'huge', tools: [tool(internal(mcpPort()))] });
    const error = `The MCP server's answer is larger than ${MAX_RESPONSE} bytes (MCP_MAX_RESPONSE_BYTES).`;
    expect(r.status).toBe('completed');
    expect(r.output[1]).toMatchObject({ type: 'mcp_call', name: 'repeat', output: null, error: { type: 'mcp_protocol_error', code: -32603, message: error } });
    expect((e2e.upstream.requests[1].body as Body).messages.slice(-1)[0]).toMatchObject({ role: 'tool', content: `Error: ${error}` });
  });
});
