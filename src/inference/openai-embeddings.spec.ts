import { createServer, type Server } from 'node:net';
import { fakeEmbedding, startFakeUpstream, type FakeUpstream } from '../../test/support/fake-upstream';
import { EmbeddingDimensionsMismatch, EmbeddingsUnavailable, NoEmbeddings } from './embeddings';
import { estimateEmbeddingTokens, normalize, OpenAIEmbeddings, type OpenAIEmbeddingsOptions, planBatches, runBounded } from './openai-embeddings';
import { waitFor } from '../../test/support/wait';
import { UpstreamError } from './upstream-error';

const dot = (a: number[], b: number[]) => a.reduce((sum, x, i) => sum + x * b[i], 0);
const norm = (v: number[]) => Math.sqrt(dot(v, v));

describe('planBatches', () => {
  it('cuts at batchSize texts', () => {
    expect(planBatches([1, 1, 1, 1, 1], { batchSize: 2, batchTokens: 100 })).toEqual([
      [0, 2],
      [2, 4],
      [4, 5],
    ]);
  });

  it('cuts at the token budget, a text larger than it alone', () => {
    expect(planBatches([3, 3, 3, 10, 1, 1], { batchSize: 10, batchTokens: 6 })).toEqual([
      [0, 2],
      [2, 3],
      [3, 4],
      [4, 6],
    ]);
  });

  it('has no batch for no texts', () => {
    expect(planBatches([], { batchSize: 4, batchTokens: 4 })).toEqual([]);
  });
});

describe('normalize and estimateEmbeddingTokens', () => {
  it('scales to unit length and keeps direction', () => {
    expect(normalize([3, 4])).toEqual([0.6, 0.8]);
    const unit = normalize([1e-3, -2e-3, 5e-4])!;
    expect(norm(unit)).toBeCloseTo(1, 12);
    expect(unit[1]).toBeLessThan(0);
  });

  it('refuses a zero or non-finite vector', () => {
    expect(normalize([0, 0])).toBeNull();
    expect(normalize([1, Number.NaN])).toBeNull();
    expect(normalize([Number.POSITIVE_INFINITY, 1])).toBeNull();
  });

  it('counts a token per three characters, at least one', () => {
    expect(estimateEmbeddingTokens('a')).toBe(1);
    expect(estimateEmbeddingTokens('abcdefg')).toBe(3);
  });
});

describe('runBounded', () => {
  it('keeps at most `limit` tasks running and runs each once', async () => {
    let running = 0;
    let most = 0;
    const ran: number[] = [];
    await runBounded(10, 3, new AbortController().signal, async (i) => {
      running++;
      most = Math.max(most, running);
      await new Promise((r) => setImmediate(r));
      ran.push(i);
      running--;
    });
    expect(most).toBe(3);
    expect(ran.sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it('rejects with the first failure, aborting the others and starting no more', async () => {
    const started: number[] = [];
    const aborted: number[] = [];
    const run = runBounded(10, 2, new AbortController().signal, (i, signal) => {
      started.push(i);
      if (i === 1) return Promise.reject(new Error('batch 1 failed'));
      return new Promise<void>((_, reject) =>
        signal.addEventListener('abort', () => {
          aborted.push(i);
          reject(new DOMException('aborted', 'AbortError'));
        }),
      );
    });
    await expect(run).rejects.toThrow('batch 1 failed');
    expect(started).toEqual([0, 1]);
    expect(aborted).toEqual([0]);
  });
});

describe('NoEmbeddings', () => {
  it('says it is unavailable and refuses to embed', async () => {
    const none = new NoEmbeddings();
    expect(none).toMatchObject({ available: false, model: undefined, dimensions: undefined });
    await expect(none.embed(['x'], new AbortController().signal)).rejects.toBeInstanceOf(EmbeddingsUnavailable);
  });
});

describe('OpenAIEmbeddings (node:http against the fake upstream on loopback)', () => {
  let upstream: FakeUpstream;
  const embeddings = (overrides: Partial<OpenAIEmbeddingsOptions> = {}) =>
    new OpenAIEmbeddings({
      provider: 'fake',
      baseUrl: upstream.url,
      apiKey: 'sk-emb',
      timeoutMs: 2000,
      maxRetries: 0,
      model: 'emb',
      upstreamModel: 'org/emb-model',
      dimensions: 64,
      sendDimensions: false,
      batchSize: 4,
      batchTokens: 10_000,
      concurrency: 2,
      ...overrides,
    });
  const signal = () => new AbortController().signal;
  const texts = Array.from({ length: 10 }, (_, i) => `text number ${i} about topic ${i % 3}`);

  beforeAll(async () => (upstream = await startFakeUpstream()));
  afterAll(() => upstream.close());
  beforeEach(() => upstream.reset());

  it('embeds in batches, in order, with unit vectors the upstream computed, and sums usage', async () => {
    const result = await embeddings().embed(texts, signal());
    expect(result).toMatchObject({ model: 'emb', dimensions: 64 });
    expect(result.vectors).toHaveLength(10);
    result.vectors.forEach((v, i) => {
      expect(norm(v)).toBeCloseTo(1, 10);
      expect(v).toEqual(fakeEmbedding(texts[i], 64).map((x) => expect.closeTo(x, 12) as number));
    });
    // 10 texts by 4: three requests, each with its slice, the upstream's model name, the key, no dimensions.
    expect(upstream.embeddingRequests.map((r) => (r.body as { input: string[] }).input)).toEqual(
      expect.arrayContaining([texts.slice(0, 4), texts.slice(4, 8), texts.slice(8)]),
    );
    expect(upstream.embeddingRequests).toHaveLength(3);
    for (const r of upstream.embeddingRequests) {
      expect(r.body).toMatchObject({ model: 'org/emb-model' });
      expect(r.body).not.toHaveProperty('dimensions');
      expect(r.headers.authorization).toBe('Bearer sk-emb');
    }
    expect(result.usage.prompt_tokens).toBe(texts.reduce((sum, t) => sum + t.split(' ').length, 0));
    expect(upstream.requests).toHaveLength(0); // chat records untouched
  });

  it('makes similar texts closer than unrelated ones', async () => {
    const [a, b, c] = (await embeddings().embed(['the invoice is due in march', 'invoices are due in march', 'penguins live in antarctica'], signal())).vectors;
    expect(dot(a, b)).toBeGreaterThan(dot(a, c));
  });

  it('cuts batches by the token budget, using the counts the caller gives', async () => {
    await embeddings({ batchSize: 100, batchTokens: 5 }).embed(['a', 'b', 'c', 'd'], signal(), { tokenCounts: [3, 2, 4, 6] });
    expect(upstream.embeddingRequests.map((r) => (r.body as { input: string[] }).input).sort()).toEqual([['a', 'b'], ['c'], ['d']]);
  });

  it('sends dimensions when told to, and gets vectors that long', async () => {
    const result = await embeddings({ dimensions: 16, sendDimensions: true }).embed(['short'], signal());
    expect(upstream.embeddingRequests[0].body).toMatchObject({ dimensions: 16 });
    expect(result.vectors[0]).toHaveLength(16);
  });

  it('refuses vectors of another length than configured, naming both', async () => {
    upstream.enqueueEmbeddings({ dimensions: 32 });
    const error: unknown = await embeddings()
      .embed(['x'], signal())
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EmbeddingDimensionsMismatch);
    expect(error).toMatchObject({ httpStatus: 502, expected: 64, received: 32 });
    expect((error as Error).message).toContain('returned vectors of 32 dimensions, but 64 are configured');
  });

  it('fails with a typed error on an error status, without retries by default', async () => {
    upstream.enqueueEmbeddings({ status: 500 });
    await expect(embeddings().embed(['x'], signal())).rejects.toMatchObject({ httpStatus: 502, code: 'server_error' });
    expect(upstream.embeddingRequests).toHaveLength(1);
    upstream.enqueueEmbeddings({ status: 400, errorMessage: 'input too long' });
    const error: unknown = await embeddings()
      .embed(['x'], signal())
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UpstreamError);
    expect((error as Error).message).toContain('input too long');
  });

  it('retries 5xx and 429 (retry-after) and a dropped connection, as chat calls do', async () => {
    upstream.enqueueEmbeddings({ status: 503 }, { status: 429, retryAfter: '0' }, { dropImmediately: true });
    const result = await embeddings({ maxRetries: 3 }).embed(['x'], signal());
    expect(result.vectors).toHaveLength(1);
    expect(upstream.embeddingRequests).toHaveLength(4);
  });

  it('fails the whole call when one batch fails, and stops the others', async () => {
    // The first to arrive fails once both are in flight; the other never answers.
    upstream.enqueueEmbeddings({ status: 500, holdUntilRequests: 2 }, { hang: true });
    await expect(embeddings({ batchSize: 1, concurrency: 2 }).embed(['a', 'b', 'c', 'd'], signal())).rejects.toMatchObject({ httpStatus: 502 });
    // No batch started after the failure, and the hanging one was aborted (the client hung up).
    expect(upstream.embeddingRequests).toHaveLength(2);
    await waitFor(
      () => Promise.resolve(upstream.embeddingRequests.filter((r) => r.closedByClient).length),
      (n) => n === 1,
    );
  });

  it('times out a silent upstream (504) and stops when the caller aborts', async () => {
    upstream.enqueueEmbeddings({ hang: true });
    await expect(embeddings({ timeoutMs: 200 }).embed(['x'], signal())).rejects.toMatchObject({ httpStatus: 504 });
    upstream.enqueueEmbeddings({ hang: true });
    const controller = new AbortController();
    const call = embeddings().embed(['x'], controller.signal);
    await waitFor(
      () => Promise.resolve(upstream.embeddingRequests.length),
      (n) => n === 2,
    );
    controller.abort();
    await expect(call).rejects.toMatchObject({ name: 'AbortError' });
    await waitFor(
      () => Promise.resolve(upstream.embeddingRequests[1].closedByClient),
      (closed) => closed,
    );
  });

  it('refuses junk, a missing vector, and a reply larger than its batch can need', async () => {
    upstream.enqueueEmbeddings({ malformed: true }, { missingVector: true }, { padBytes: 100_000 });
    await expect(embeddings().embed(['x'], signal())).rejects.toMatchObject({ httpStatus: 502, message: expect.stringContaining('malformed') });
    await expect(embeddings().embed(['x', 'y'], signal())).rejects.toMatchObject({ httpStatus: 502, message: expect.stringContaining('malformed') });
    await expect(embeddings({ dimensions: 4 }).embed(['x'], signal())).rejects.toMatchObject({ httpStatus: 502, message: expect.stringContaining('larger') });
  });

  it('sends nothing for no texts, and refuses empty texts and miscounted token counts before any request', async () => {
    expect(await embeddings().embed([], signal())).toMatchObject({ vectors: [], usage: { prompt_tokens: 0, total_tokens: 0 } });
    await expect(embeddings().embed(['a', ''], signal())).rejects.toThrow('embed: text 1 is empty');
    await expect(embeddings().embed(['a'], signal(), { tokenCounts: [1, 2] })).rejects.toThrow('2 token counts for 1 texts');
    expect(upstream.embeddingRequests).toHaveLength(0);
  });

  it('hands a batch to the next replica when one cannot be reached', async () => {
    const closed: Server = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as { port: number }).port;
    await new Promise((r) => closed.close(r));
    const pool = embeddings({ baseUrl: [`http://127.0.0.1:${port}/v1`, upstream.url], batchSize: 1 });
    const result = await pool.embed(['a', 'b', 'c'], signal());
    expect(result.vectors).toHaveLength(3);
    expect(upstream.embeddingRequests).toHaveLength(3);
  });
});
