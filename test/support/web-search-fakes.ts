import * as http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** One request a fake got. */
export interface FakeRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: http.IncomingHttpHeaders;
  body: string;
  /** Set when the client hung up before the answer (an abort reached the fake). */
  closedEarly: boolean;
}

export interface FakeAnswer {
  status?: number;
  /** A JSON value, or a string sent as it is. */
  body?: unknown;
  contentType?: string;
  headers?: Record<string, string>;
  /** Never answer (until the client hangs up). */
  hang?: boolean;
}

export interface FakeServer {
  /** http://HOST:PORT */
  url: string;
  requests: FakeRequest[];
  /** Answers for the next requests, in order; then the default. */
  enqueue(...answers: FakeAnswer[]): void;
  reset(): void;
  close(): Promise<void>;
}

/** A loopback HTTP server answering from a queue, else from `fallback`; records every request. */
export async function startFakeServer(fallback: (request: FakeRequest) => FakeAnswer, host = '127.0.0.1'): Promise<FakeServer> {
  const requests: FakeRequest[] = [];
  let queue: FakeAnswer[] = [];
  const sockets = new Set<Socket>();
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://fake');
      const entry: FakeRequest = {
        method: req.method ?? 'GET',
        path: url.pathname,
        query: url.searchParams,
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
        closedEarly: false,
      };
      requests.push(entry);
      res.on('close', () => {
        if (!res.writableFinished) entry.closedEarly = true;
      });
      const answer = queue.shift() ?? fallback(entry);
      if (answer.hang) return;
      const body = typeof answer.body === 'string' ? answer.body : JSON.stringify(answer.body ?? {});
      res.writeHead(answer.status ?? 200, {
        'content-type': answer.contentType ?? (typeof answer.body === 'string' ? 'text/html; charset=utf-8' : 'application/json'),
        ...answer.headers,
      });
      res.end(body);
    });
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${host}:${port}`,
    requests,
    enqueue: (...answers) => queue.push(...answers),
    reset: () => {
      queue = [];
      requests.length = 0;
    },
    close: () =>
      new Promise((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

export interface SearxResult {
  url: string;
  title: string;
  content: string;
}

/**
 * A fake SearXNG: `GET /search?q=…&format=json` answers `{query, results}` with the results
 * whose title or content has a word of the query (site: filters ignored, so that the gateway's
 * own domain check is what the tests see); anything else is a 404.
 */
export function startFakeSearxng(corpus: () => SearxResult[]): Promise<FakeServer> {
  return startFakeServer((request) => {
    if (request.path !== '/search' || request.query.get('format') !== 'json') return { status: 404, body: 'not found' };
    const words = (request.query.get('q') ?? '')
      .toLowerCase()
      .split(/\s+/)
      .filter((w) => w && !w.startsWith('site:') && !w.startsWith('(') && w !== 'or');
    const results = corpus().filter((r) => words.some((w) => `${r.title} ${r.content}`.toLowerCase().includes(w)));
    return { body: { query: request.query.get('q'), number_of_results: results.length, results } };
  });
}

/** A page server: `pages` by path (HTML), else a 404. */
export function startPageServer(pages: Record<string, FakeAnswer>, host = '127.0.0.1'): Promise<FakeServer> {
  return startFakeServer((request) => pages[request.path] ?? { status: 404, body: '<h1>Not found</h1>' }, host);
}
