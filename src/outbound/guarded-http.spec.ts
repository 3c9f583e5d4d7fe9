import type { LookupAddress } from 'node:dns';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer as createTcpServer, type AddressInfo, type Server } from 'node:net';
import { GuardedHttp, ResponseTooLargeError } from './guarded-http';
import { HostResolver, UrlGuard, UrlRefusedError } from './url-guard';

/** Real DNS, except for names the test answers itself. */
class FakeDns extends HostResolver {
  constructor(private readonly answers: Record<string, string>) {
    super();
  }
  override resolve(hostname: string): Promise<LookupAddress[]> {
    const found = this.answers[hostname];
    return found ? Promise.resolve([{ address: found, family: 4 }]) : super.resolve(hostname);
  }
}

const portOf = (server: Server | HttpServer) => (server.address() as AddressInfo).port;
const listen = async <T extends Server | HttpServer>(server: T): Promise<T> => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
};
const close = (server: Server | HttpServer) => new Promise<void>((resolve) => server.close(() => resolve()));

describe('GuardedHttp', () => {
  /** A plain TCP listener on loopback that counts connections: the refused cases must reach it never. */
  let trap: Server;
  let connections = 0;
  /** An HTTP server on loopback: `/big` answers 1 MiB, `/hop` redirects within its origin, `/away?to=` anywhere. */
  let web: HttpServer;
  const http = (allowedHosts: string[] = []) =>
    new GuardedHttp(
      new UrlGuard(
        { allowHttp: true, allowedHosts, allowedHostsVariable: 'MCP_ALLOWED_HOSTS' },
        new FakeDns({ 'rebind.test': '127.0.0.1', 'allowed.test': '127.0.0.1' }),
      ),
    );

  beforeAll(async () => {
    trap = await listen(
      createTcpServer((socket) => {
        connections++;
        socket.destroy();
      }),
    );
    web = await listen(
      createHttpServer((req, res) => {
        const url = new URL(req.url ?? '/', 'http://x');
        if (url.pathname === '/big') return res.end(Buffer.alloc(1024 * 1024, 'x'));
        if (url.pathname === '/hop') return res.writeHead(307, { location: '/ok' }).end();
        if (url.pathname === '/away') return res.writeHead(307, { location: url.searchParams.get('to') ?? '/' }).end();
        res.end('fine');
      }),
    );
  });

  afterAll(async () => {
    await close(trap);
    web.closeAllConnections();
    await close(web);
  });

  beforeEach(() => (connections = 0));

  it.each([
    ['127.0.0.1', (port: number) => `http://127.0.0.1:${port}/mcp`],
    ['a hexadecimal IPv4', (port: number) => `http://0x7f000001:${port}/mcp`],
    ['a decimal IPv4', (port: number) => `http://2130706433:${port}/mcp`],
    ['an IPv4-mapped IPv6', (port: number) => `http://[::ffff:127.0.0.1]:${port}/mcp`],
    ['localhost', (port: number) => `http://localhost:${port}/mcp`],
    ['a name that resolves to loopback', (port: number) => `http://rebind.test:${port}/mcp`],
  ])('refuses %s without connecting', async (_what, url) => {
    const refused: UrlRefusedError[] = [];
    const fetch = http().fetch({ maxResponseBytes: 1024, onRefused: (e) => refused.push(e) });
    await expect(fetch(url(portOf(trap)), { method: 'POST', body: '{}' })).rejects.toThrow(
      /a loopback address \(not allowed unless MCP_ALLOWED_HOSTS names it\)/,
    );
    expect(refused).toHaveLength(1);
    expect(connections).toBe(0);
  });

  it('connects where the allowlist says, by name or address', async () => {
    await expect(
      http(['127.0.0.1'])
        .fetch({ maxResponseBytes: 1024 })(`http://127.0.0.1:${portOf(web)}/`)
        .then((r) => r.text()),
    ).resolves.toBe('fine');
    await expect(
      http(['allowed.test'])
        .fetch({ maxResponseBytes: 1024 })(`http://allowed.test:${portOf(web)}/`)
        .then((r) => r.text()),
    ).resolves.toBe('fine');
  });

  it('follows a redirect within the origin, and refuses one to another host without connecting there', async () => {
    const fetch = http(['allowed.test']).fetch({ maxResponseBytes: 1024 });
    const base = `http://allowed.test:${portOf(web)}`;
    await expect(fetch(`${base}/hop`).then((r) => r.text())).resolves.toBe('fine');
    for (const to of [`http://127.0.0.1:${portOf(trap)}/`, `http://localhost:${portOf(trap)}/`, `http://allowed.test:${portOf(trap)}/`]) {
      await expect(fetch(`${base}/away?to=${encodeURIComponent(to)}`)).rejects.toThrow(/redirects to another host/);
    }
    expect(connections).toBe(0);
  });

  it('reads at most maxResponseBytes of a body, and says so', async () => {
    let tooLarge = 0;
    const fetch = http(['127.0.0.1']).fetch({ maxResponseBytes: 64 * 1024, onTooLarge: () => tooLarge++ });
    const response = await fetch(`http://127.0.0.1:${portOf(web)}/big`);
    await expect(response.text()).rejects.toBeInstanceOf(ResponseTooLargeError);
    expect(tooLarge).toBe(1);
  });
});
