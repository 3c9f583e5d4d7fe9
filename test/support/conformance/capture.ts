import type { IncomingMessage, OutgoingHttpHeaders, Server, ServerResponse } from 'node:http';
import { checkExchange, type Violation } from './validator';

/** What one app answered on /v1/*: how many objects of each kind were validated, and what failed. */
export interface ConformanceLog {
  readonly counts: ReadonlyMap<string, number>;
  readonly violations: readonly Violation[];
  /** Throws, listing every violation, if there is any. */
  assertConforms(): void;
}

const MAX_LISTED = 40;

/**
 * Records every /v1/* answer of the server as it goes out — JSON bodies and the raw SSE bytes,
 * also of streams that take the socket over (`reply.hijack()`) — and validates it once the
 * response has finished or its socket closed. Test-side only: it wraps the Node response
 * object from a `request` listener that runs before Fastify's, the app's code is untouched.
 */
export function captureConformance(server: Server): ConformanceLog {
  const counts = new Map<string, number>();
  const violations: Violation[] = [];
  server.prependListener('request', (req: IncomingMessage, res: ServerResponse) => {
    if (!req.url?.startsWith('/v1/') && req.url !== '/v1') return;
    const chunks: Buffer[] = [];
    let headers: OutgoingHttpHeaders = {};
    const take = (chunk: unknown, encoding?: unknown): void => {
      if (typeof chunk === 'string') chunks.push(Buffer.from(chunk, typeof encoding === 'string' ? (encoding as BufferEncoding) : 'utf8'));
      else if (chunk instanceof Uint8Array) chunks.push(Buffer.from(chunk));
    };
    const { write, end, writeHead } = res;
    res.write = function (this: ServerResponse, chunk: unknown, ...rest: unknown[]) {
      take(chunk, rest[0]);
      return (write as (...args: unknown[]) => boolean).call(this, chunk, ...rest);
    } as ServerResponse['write'];
    res.end = function (this: ServerResponse, chunk?: unknown, ...rest: unknown[]) {
      if (typeof chunk !== 'function') take(chunk, rest[0]);
      return (end as (...args: unknown[]) => ServerResponse).call(this, chunk, ...rest);
    } as ServerResponse['end'];
    // Headers given to writeHead (the SSE writer's) are not visible through getHeader().
    res.writeHead = function (this: ServerResponse, ...args: unknown[]) {
      const last = args[args.length - 1];
      if (typeof last === 'object' && last !== null && !Array.isArray(last)) headers = last as OutgoingHttpHeaders;
      return (writeHead as (...a: unknown[]) => ServerResponse).apply(this, args);
    };
    res.once('close', () => {
      const contentType = String(res.getHeader('content-type') ?? headers['content-type'] ?? headers['Content-Type'] ?? '');
      const checked = checkExchange({
        method: req.method ?? 'GET',
        url: req.url ?? '',
        status: res.statusCode,
        contentType,
        body: Buffer.concat(chunks).toString('utf8'),
      });
      for (const kind of checked.kinds) counts.set(kind, (counts.get(kind) ?? 0) + 1);
      violations.push(...checked.violations);
    });
  });
  return {
    counts,
    violations,
    assertConforms() {
      if (violations.length === 0) return;
      const listed = violations.slice(0, MAX_LISTED).map((v) => `- ${v.kind} at ${v.path || '(object)'}: ${v.issue}  [${v.url}]`);
      const more = violations.length > MAX_LISTED ? [`... and ${violations.length - MAX_LISTED} more`] : [];
      throw new Error(
        `${violations.length} object(s) the app sent do not conform to the Responses API (test/support/conformance):\n${[...listed, ...more].join('\n')}`,
      );
    },
  };
}

/** `kind: count` pairs, for a summary line. */
export const summarize = (log: ConformanceLog): string =>
  [...log.counts.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([kind, n]) => `${kind}: ${n}`)
    .join(', ');
