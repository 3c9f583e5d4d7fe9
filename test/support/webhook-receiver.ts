import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import OpenAI from 'openai';

/** One POST the receiver got, with what the official SDK made of it. */
export interface ReceivedWebhook {
  path: string;
  headers: http.IncomingHttpHeaders;
  body: string;
  receivedAt: number;
  /** `client.webhooks.unwrap(body, headers, secret)` for the path's secrets: the parsed event, or null when none accepted it. */
  event: { id: string; object: string; created_at: number; type: string; data: { id: string } } | null;
  /** Which of the path's secrets verified it (by index). */
  verifiedWith: number[];
  /** What the receiver answered (null when it hung and the sender gave up). */
  answered: number | null;
}

export interface ReceiverScript {
  status?: number;
  body?: string;
  /** Never answer (until the sender hangs up). */
  hang?: boolean;
  /** Send the status and `body`, then keep the answer open, never ending it. */
  endless?: boolean;
}

export interface WebhookReceiver {
  /** http://127.0.0.1:PORT */
  url: string;
  received: ReceivedWebhook[];
  /** The secrets that requests to `path` are verified with. */
  setSecrets(path: string, ...secrets: string[]): void;
  /** Answers for the next requests to `path`, in order; then 200 `ok`. */
  script(path: string, ...answers: ReceiverScript[]): void;
  /** Resolves with the deliveries to `path` (optionally of one response) once there are at least `n`. */
  waitFor(path: string, n: number, responseId?: string, timeoutMs?: number): Promise<ReceivedWebhook[]>;
  of(path: string, responseId?: string): ReceivedWebhook[];
  close(): Promise<void>;
}

const sdk = new OpenAI({ apiKey: 'unused' });

/**
 * A webhook receiver on loopback that verifies every delivery with the official SDK's
 * `webhooks.unwrap`, as a user's receiver would, and answers as scripted.
 */
export async function startWebhookReceiver(): Promise<WebhookReceiver> {
  const secrets = new Map<string, string[]>();
  const scripts = new Map<string, ReceiverScript[]>();
  const received: ReceivedWebhook[] = [];
  const sockets = new Set<import('node:net').Socket>();
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      void (async () => {
        const path = (req.url ?? '/').split('?')[0];
        const body = Buffer.concat(chunks).toString('utf8');
        const entry: ReceivedWebhook = { path, headers: req.headers, body, receivedAt: Date.now(), event: null, verifiedWith: [], answered: null };
        const keys = secrets.get(path) ?? [];
        for (const [i, secret] of keys.entries()) {
          try {
            const event = (await sdk.webhooks.unwrap(body, req.headers, secret)) as ReceivedWebhook['event'];
            entry.event = event;
            entry.verifiedWith.push(i);
          } catch {
            // not this secret
          }
        }
        received.push(entry);
        const script = scripts.get(path)?.shift() ?? {};
        if (script.hang) return;
        entry.answered = script.status ?? 200;
        res.writeHead(entry.answered, { 'content-type': 'text/plain' });
        if (script.endless) res.write(script.body ?? 'ok');
        else res.end(script.body ?? 'ok');
      })();
    });
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const of = (path: string, responseId?: string) =>
    received.filter((r) => r.path === path && (!responseId || r.event?.data.id === responseId || bodyId(r) === responseId));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    received,
    setSecrets: (path, ...keys) => void secrets.set(path, keys),
    script: (path, ...answers) => void scripts.set(path, [...(scripts.get(path) ?? []), ...answers]),
    of,
    async waitFor(path, n, responseId, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      while (of(path, responseId).length < n) {
        if (Date.now() > deadline) throw new Error(`receiver: ${of(path, responseId).length} of ${n} deliveries to ${path} within ${timeoutMs} ms`);
        await new Promise((r) => setTimeout(r, 20));
      }
      return of(path, responseId);
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** The response id in a body, verified or not. */
function bodyId(r: ReceivedWebhook): string | undefined {
  try {
    return (JSON.parse(r.body) as { data?: { id?: string } }).data?.id;
  } catch {
    return undefined;
  }
}
