/**
 * A `fetch` that records every exchange between an agent framework and the gateway, so framework
 * tests can assert on (and, when something breaks, print) exactly what the framework sent and what
 * the gateway answered — without patching the framework: both the `openai` client and the AI SDK's
 * providers accept a custom `fetch`.
 */

export interface RecordedExchange {
  method: string;
  /** Path and query, e.g. '/v1/responses'. */
  path: string;
  /**
   * The request body parsed as JSON (the raw text if it is not JSON, undefined without a body).
   * Typed `any` on purpose, like `RecordedRequest.body` in the fake upstream: tests poke into it.
   */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  body: any;
  status?: number;
  contentType?: string;
  /** The full response text; for a stream, filled in once the framework has read it to the end. */
  responseText?: string;
  /** The `data:` payloads of a server-sent-event response, parsed (filled in with `responseText`). */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  events?: any[];
}

export interface FetchRecorder {
  fetch: typeof fetch;
  exchanges: RecordedExchange[];
  /** The exchanges whose path starts with `prefix` (default '/v1/responses'). */
  responsesCalls(prefix?: string): RecordedExchange[];
  reset(): void;
  /** A readable dump of the exchanges, for failure messages and reports. */
  describe(): string;
}

type FetchInput = Parameters<typeof fetch>[0];

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function parseSse(text: string): unknown[] {
  const events: unknown[] = [];
  for (const block of text.split(/\r?\n\r?\n/)) {
    const data = block
      .split(/\r?\n/)
      .filter((line) => line.startsWith('data:'))
      .map((line) => line.slice(5).replace(/^ /, ''))
      .join('\n');
    if (data) events.push(parseJson(data));
  }
  return events;
}

async function requestBodyText(input: FetchInput, init?: RequestInit): Promise<string | undefined> {
  const body = init?.body;
  if (typeof body === 'string') return body;
  if (body instanceof Uint8Array) return new TextDecoder().decode(body);
  if (body instanceof ArrayBuffer) return new TextDecoder().decode(new Uint8Array(body));
  if (body === undefined || body === null) {
    if (input instanceof Request && input.body) return input.clone().text();
    return undefined;
  }
  return `[unrecorded body: ${Object.prototype.toString.call(body)}]`;
}

export function createFetchRecorder(): FetchRecorder {
  const exchanges: RecordedExchange[] = [];

  const recordingFetch = async (input: FetchInput, init?: RequestInit): Promise<Response> => {
    const url = new URL(input instanceof Request ? input.url : input.toString());
    const method = init?.method ?? (input instanceof Request ? input.method : 'GET');
    const text = await requestBodyText(input, init);
    const exchange: RecordedExchange = {
      method,
      path: `${url.pathname}${url.search}`,
      body: text === undefined ? undefined : parseJson(text),
    };
    exchanges.push(exchange);
    const response = await fetch(input, init);
    exchange.status = response.status;
    exchange.contentType = response.headers.get('content-type') ?? undefined;
    if (!response.body) return response;
    // Tee the body: the framework reads one branch at its own pace, we record the other.
    const [mine, theirs] = response.body.tee();
    void new Response(mine)
      .text()
      .then((body) => {
        exchange.responseText = body;
        if (exchange.contentType?.includes('text/event-stream')) exchange.events = parseSse(body);
      })
      .catch((err: unknown) => {
        exchange.responseText = `[body read failed: ${String(err)}]`;
      });
    return new Response(theirs, { status: response.status, statusText: response.statusText, headers: response.headers });
  };

  return {
    fetch: recordingFetch,
    exchanges,
    responsesCalls: (prefix = '/v1/responses') => exchanges.filter((e) => e.path.startsWith(prefix)),
    reset: () => {
      exchanges.length = 0;
    },
    describe: () =>
      exchanges
        .map(
          (e, i) =>
            `#${i} ${e.method} ${e.path} -> ${e.status ?? '(no answer)'}\n` +
            `  request: ${JSON.stringify(e.body)}\n` +
            `  response: ${(e.responseText ?? '(not read yet)').slice(0, 4000)}`,
        )
        .join('\n'),
  };
}
