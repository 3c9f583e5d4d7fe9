import WebSocket from 'ws';

/** A server message of the WebSocket mode (an event with its `type`, or an `error`). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type WsMessage = { type: string; [key: string]: any };

const TERMINAL = new Set(['response.completed', 'response.failed', 'response.incomplete', 'error']);

/** A raw WebSocket client of `/v1/responses` (the `ws` package), for protocol details the SDK hides. */
export class WsClient {
  readonly messages: WsMessage[] = [];
  private waiters: Array<() => void> = [];
  private read = 0;
  readonly closed: Promise<{ code: number; reason: string }>;

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => {
      this.messages.push(JSON.parse((data as Buffer).toString('utf8')) as WsMessage);
      this.wake();
    });
    this.closed = new Promise((resolve) => ws.once('close', (code, reason) => (this.wake(), resolve({ code, reason: String(reason) }))));
  }

  /** Opens a socket (rejects with the refusal when the upgrade is answered otherwise). */
  static open(baseUrl: string, apiKey: string | null = 'test-key', headers: Record<string, string> = {}): Promise<WsClient> {
    const ws = new WebSocket(`${baseUrl.replace(/^http/, 'ws')}/v1/responses`, {
      headers: { ...(apiKey ? { authorization: `Bearer ${apiKey}` } : {}), ...headers },
    });
    return new Promise((resolve, reject) => {
      ws.once('open', () => resolve(new WsClient(ws)));
      ws.once('unexpected-response', (_req, res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => reject(new UpgradeRefused(res.statusCode ?? 0, body ? (JSON.parse(body) as WsMessage) : null, res.headers)));
      });
      ws.once('error', (error) => reject(error));
    });
  }

  send(message: unknown): void {
    this.ws.send(typeof message === 'string' ? message : JSON.stringify(message));
  }

  /** The next message not read yet. */
  async next(): Promise<WsMessage> {
    while (this.read >= this.messages.length) {
      if (this.ws.readyState === WebSocket.CLOSED) throw new Error('the socket closed');
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
    return this.messages[this.read++];
  }

  /** Messages up to and including the next terminal event (`response.completed|failed|incomplete`) or `error`. */
  async untilTerminal(): Promise<WsMessage[]> {
    const events: WsMessage[] = [];
    for (;;) {
      const message = await this.next();
      events.push(message);
      if (TERMINAL.has(message.type)) return events;
    }
  }

  /** Sends one `response.create` and reads its events; returns them with the terminal one. */
  async create(body: Record<string, unknown>): Promise<{ events: WsMessage[]; last: WsMessage; response?: WsMessage }> {
    this.send({ type: 'response.create', ...body });
    const events = await this.untilTerminal();
    const last = events[events.length - 1];
    return { events, last, response: last.response as WsMessage | undefined };
  }

  close(): Promise<{ code: number; reason: string }> {
    if (this.ws.readyState === WebSocket.OPEN || this.ws.readyState === WebSocket.CONNECTING) this.ws.close();
    return this.closed;
  }

  private wake(): void {
    for (const resolve of this.waiters.splice(0)) resolve();
  }
}

export class UpgradeRefused extends Error {
  constructor(
    readonly status: number,
    readonly body: WsMessage | null,
    readonly headers: Record<string, string | string[] | undefined>,
  ) {
    super(`upgrade refused: ${status}`);
  }
}
