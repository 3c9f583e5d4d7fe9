import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { z } from 'zod';

export interface TestMcpServer {
  /** The Streamable HTTP endpoint, e.g. http://127.0.0.1:PORT/mcp */
  url: string;
  /** Authorization headers seen, one per HTTP request. */
  authorizations: Array<string | undefined>;
  /** Tool calls received, in order. */
  calls: Array<{ name: string; args: unknown }>;
  close(): Promise<void>;
}

function readJson(req: IncomingMessage): Promise<unknown> {
  return new Promise((resolve, reject) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      try {
        resolve(body ? (JSON.parse(body) as unknown) : undefined);
      } catch (error) {
        reject(error instanceof Error ? error : new Error(String(error)));
      }
    });
    req.on('error', reject);
  });
}

/**
 * A real MCP server on loopback, built with @modelcontextprotocol/sdk (stateless Streamable HTTP):
 * `add` adds two numbers, `explode` always fails, `echo_headers` is never offered by allow lists;
 * with `repeat`, also `repeat`, whose result is `times` bytes long (for the output bounds).
 */
export async function startMcpServer(options: { repeat?: boolean } = {}): Promise<TestMcpServer> {
  const authorizations: Array<string | undefined> = [];
  const calls: Array<{ name: string; args: unknown }> = [];
  const build = () => {
    const server = new McpServer({ name: 'test-tools', version: '1.0.0' });
    server.registerTool('add', { description: 'Add two numbers', inputSchema: { a: z.number(), b: z.number() } }, ({ a, b }) => {
      calls.push({ name: 'add', args: { a, b } });
      return { content: [{ type: 'text', text: String(a + b) }] };
    });
    server.registerTool('explode', { description: 'Always fails', inputSchema: {} }, () => {
      calls.push({ name: 'explode', args: {} });
      return { content: [{ type: 'text', text: 'the tool blew up' }], isError: true };
    });
    if (options.repeat) {
      server.registerTool('repeat', { description: 'A long text', inputSchema: { times: z.number() } }, ({ times }) => {
        calls.push({ name: 'repeat', args: { times } });
        return { content: [{ type: 'text', text: 'y'.repeat(times) }] };
      });
    }
    return server;
  };
  const http: Server = createServer((req, res) => {
    authorizations.push(req.headers.authorization);
    if (req.method !== 'POST') {
      res.writeHead(405).end();
      return;
    }
    void (async () => {
      const server = build();
      const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined });
      res.on('close', () => {
        void transport.close();
        void server.close();
      });
      await server.connect(transport);
      await transport.handleRequest(req, res, await readJson(req));
    })().catch(() => {
      if (!res.headersSent) res.writeHead(500).end();
    });
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const { port } = http.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/mcp`,
    authorizations,
    calls,
    close: () =>
      new Promise<void>((resolve) => {
        http.closeAllConnections();
        http.close(() => resolve());
      }),
  };
}
