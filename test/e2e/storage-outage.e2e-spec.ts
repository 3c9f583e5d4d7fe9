import { createServer, Socket, type Server } from 'node:net';
import type { AddressInfo } from 'node:net';
import { useE2e } from '../support/e2e';
import { createTestDatabase } from '../support/database';
import { POSTGRES_URL, services, warnMissing } from '../support/services';

if (!services.postgres) warnMissing('PostgreSQL', 'storage outage');

/** A TCP proxy in front of Postgres that the test can cut (refuse and reset) and restore. */
async function startProxy(target: URL) {
  const sockets = new Set<Socket>();
  let server: Server | undefined;
  let port = 0;
  const open = () =>
    new Promise<void>((resolve) => {
      server = createServer((client) => {
        const upstream = new Socket();
        upstream.connect(Number(target.port || 5432), target.hostname);
        for (const s of [client, upstream]) {
          sockets.add(s);
          s.on('close', () => sockets.delete(s));
          s.on('error', () => undefined);
        }
        client.pipe(upstream).pipe(client);
      });
      server.listen(port, '127.0.0.1', () => {
        port = (server!.address() as AddressInfo).port;
        resolve();
      });
    });
  await open();
  return {
    get port() {
      return port;
    },
    cut: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server!.close(() => resolve());
      }),
    restore: open,
  };
}

// Registered only when the services are there; otherwise a loud warning and a todo (CI requires them).
const suite = services.postgres ? describe : () => it.todo('needs PostgreSQL: not reachable on this machine');
suite('storage outage on Postgres', () => {
  let proxy: Awaited<ReturnType<typeof startProxy>>;
  /** A fresh database, reached through a proxy the test can cut. */
  const throughProxy = {
    async setup() {
      const db = await createTestDatabase();
      proxy = await startProxy(new URL(POSTGRES_URL));
      const url = new URL(db.url);
      url.host = `127.0.0.1:${proxy.port}`;
      return {
        env: { DATABASE_URL: url.toString() },
        async teardown() {
          await proxy?.cut().catch(() => undefined);
          await db.drop();
        },
      };
    },
  };
  const e2e = useE2e({ backend: throughProxy, upstream: false });

  it('answers 503 (not 500) while Postgres is unreachable, and recovers by itself', async () => {
    const created = await e2e.client.responses.create({ model: 'echo', input: 'before' });
    await proxy.cut();
    for (const path of [`/v1/responses/${created.id}`, '/v1/responses?limit=1']) {
      const res = await fetch(`${e2e.url}${path}`);
      expect(res.status).toBe(503);
      expect(res.headers.get('retry-after')).toBe('2');
      expect(await res.json()).toEqual({ error: expect.objectContaining({ type: 'service_unavailable' }) });
    }
    const create = await fetch(`${e2e.url}/v1/responses`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"model":"echo","input":"during"}',
    });
    expect(create.status).toBe(503);
    // A streamed create is stored while its upstream call starts: the stream does not open, the client gets the 503.
    const streamed = await fetch(`${e2e.url}/v1/responses`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"model":"echo","input":"during","stream":true}',
    });
    expect(streamed.status).toBe(503);
    expect(streamed.headers.get('content-type')).toContain('application/json');
    expect((await fetch(`${e2e.url}/health/ready`)).status).toBe(503);
    await proxy.restore();
    expect((await e2e.client.responses.retrieve(created.id)).output_text).toBe('Echo: before');
    expect((await e2e.client.responses.create({ model: 'echo', input: 'after' })).output_text).toBe('Echo: after');
  });
});
