/** Raw HTTP for the fault tests: every status is seen, nothing is retried. */
import { request } from 'node:http';

export interface RawResult {
  /** HTTP status, or 0 when no answer came (connection refused, reset, timeout). */
  status: number;
  body: unknown;
  text: string;
  /** For status 0: the network error's code (ECONNREFUSED, ECONNRESET, …) or 'timeout'. */
  network?: string;
  headers?: Headers;
}

function networkCode(error: unknown): string {
  if (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError')) return 'timeout';
  const cause = (error as { cause?: { code?: string; name?: string } })?.cause;
  return cause?.code ?? cause?.name ?? (error instanceof Error ? error.message : String(error));
}

export async function raw(url: string, init: RequestInit & { timeoutMs?: number } = {}): Promise<RawResult> {
  const { timeoutMs = 15_000, ...rest } = init;
  try {
    const res = await fetch(url, { ...rest, signal: AbortSignal.timeout(timeoutMs) });
    const text = await res.text();
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      // not JSON: kept as text
    }
    return { status: res.status, body, text, headers: res.headers };
  } catch (error) {
    return { status: 0, body: undefined, text: '', network: networkCode(error) };
  }
}

export const postJson = (url: string, body: unknown, init: RequestInit & { timeoutMs?: number } = {}) =>
  raw(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(init.headers as Record<string, string> | undefined) },
    body: JSON.stringify(body),
    ...init,
  });

/** Whether `body` is an OpenAI error: {"error":{"message":string,"type":string,"param":…,"code":…}}. */
export function isOpenAIError(body: unknown): boolean {
  if (typeof body !== 'object' || body === null || !('error' in body)) return false;
  const error = body.error;
  if (typeof error !== 'object' || error === null) return false;
  const e = error as Record<string, unknown>;
  return typeof e.message === 'string' && e.message.length > 0 && typeof e.type === 'string' && 'param' in e && 'code' in e;
}

/** Tallies outcomes by status (and network code), e.g. {"200": 12, "503": 4, "net:ECONNREFUSED": 1}. */
export class Tally {
  readonly counts: Record<string, number> = {};
  add(result: RawResult): void {
    const key = result.status ? String(result.status) : `net:${result.network}`;
    this.counts[key] = (this.counts[key] ?? 0) + 1;
  }
  get(key: string): number {
    return this.counts[key] ?? 0;
  }
  toString(): string {
    return Object.entries(this.counts)
      .map(([k, v]) => `${k}×${v}`)
      .join(',');
  }
}

/**
 * A POST on a connection of its own (no keep-alive pool): a refused connection then means
 * "not accepted", and a connection cut after the request was sent means "no answer".
 */
export function postFresh(url: string, body: unknown, timeoutMs = 20_000): Promise<RawResult> {
  const payload = JSON.stringify(body);
  return new Promise((resolve) => {
    const req = request(
      url,
      { method: 'POST', agent: false, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload), connection: 'close' } },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (text += d));
        res.on('end', () => {
          let parsed: unknown = text;
          try {
            parsed = JSON.parse(text);
          } catch {
            // not JSON
          }
          resolve({ status: res.statusCode ?? 0, body: parsed, text });
        });
        res.on('error', (error: NodeJS.ErrnoException) => resolve({ status: 0, body: undefined, text, network: `mid-body:${error.code ?? error.message}` }));
      },
    );
    req.setTimeout(timeoutMs, () => req.destroy(Object.assign(new Error('timeout'), { code: 'timeout' })));
    req.on('error', (error: NodeJS.ErrnoException) => resolve({ status: 0, body: undefined, text: '', network: error.code ?? error.message }));
    req.end(payload);
  });
}
