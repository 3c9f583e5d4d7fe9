/**
 * File ingestion (vector stores) under faults: workers SIGKILLed mid-ingestion and Redis flushed
 * mid-ingestion, with a slow embeddings upstream so that runs are caught half-way. Every file must
 * end once, `completed` (or `failed` only when its attempts ran out), with the chunks of exactly one
 * attempt searchable; its batch must end `completed` with the right counts.
 */
import Redis from 'ioredis';
import OpenAI, { toFile } from 'openai';
import { chunkText } from '../../src/vector-stores/ingestion/chunk-text';
import type { ServerProcess } from '../support/processes';
import { faultSuite, randomInt, report, scale, sleep, Stack } from './support/harness';

const MAX_ATTEMPTS = 5;
/** Small chunks and small embeddings batches: a file is many slow upstream calls and several chunk writes (128 chunks each). */
const CHUNKING = { type: 'static', static: { max_chunk_size_tokens: 100, chunk_overlap_tokens: 0 } } as const;
const VOCABULARY = 'ledger invoice audit vendor payroll budget forecast quarter margin revenue expense refund policy laptop badge'.split(' ');

interface Doc {
  name: string;
  marker: string;
  text: string;
  /** What the chunker makes of it: the count every completed ingestion must have, once. */
  chunks: number;
}

/** A text of about `chunks` chunks, its marker word (for search) in the first one. */
function makeDoc(tag: string, i: number, chunks: number): Doc {
  const marker = `zq${tag}${i}marker`;
  const paragraphs: string[] = [`Document ${marker} of the ${tag} set.`];
  for (let p = 0; p < chunks * 4; p++) {
    const words = Array.from({ length: 18 }, (_, w) => VOCABULARY[(p * 7 + w * 3 + i) % VOCABULARY.length]);
    paragraphs.push(`${words.join(' ')} ${p}.`);
  }
  const text = paragraphs.join('\n\n');
  const n = chunkText(text, { maxChunkSizeTokens: CHUNKING.static.max_chunk_size_tokens, chunkOverlapTokens: CHUNKING.static.chunk_overlap_tokens }).chunks
    .length;
  return { name: `${tag}-${i}.txt`, marker, text, chunks: n };
}

interface FileRow {
  file_id: string;
  status: string;
  attempt: number;
  last_error: { code?: string; message?: string } | null;
}

faultSuite('fault: file ingestion with workers SIGKILLed and Redis flushed', () => {
  let stack: Stack;
  let api: ServerProcess;
  let client: OpenAI;
  let workers: ServerProcess[] = [];

  beforeAll(async () => {
    stack = await Stack.create({
      EMBEDDING_MODEL: 'fake-embed',
      EMBEDDING_DIMENSIONS: '64',
      EMBEDDING_BATCH_SIZE: '16',
      INGESTION_CONCURRENCY: '3',
      INGESTION_MAX_ATTEMPTS: String(MAX_ATTEMPTS),
    });
    // The embeddings upstream is the fake itself (its url ends in /v1); set after the fact, as the url is only known now.
    stack.env.EMBEDDING_BASE_URL = stack.upstream.url;
    api = await stack.start('api');
    client = stack.client(api, 30_000);
    workers = await Promise.all([stack.start('worker'), stack.start('worker')]);
  }, 90_000);

  afterAll(() => stack?.destroy());

  /** Keeps every embeddings request slow (FIFO scripts; more than the runs can use). */
  const slowEmbeddings = (n: number, min: number, max: number) =>
    stack.upstream.enqueueEmbeddings(...Array.from({ length: n }, () => ({ delayMs: randomInt(min, max) })));

  async function uploadBatch(tag: string, count: number) {
    const docs = Array.from({ length: count }, (_, i) => makeDoc(tag, i, randomInt(20, 300)));
    const files = await Promise.all(docs.map(async (d) => client.files.create({ file: await toFile(Buffer.from(d.text), d.name), purpose: 'assistants' })));
    const store = await client.vectorStores.create({ name: `ingestion-${tag}` });
    const batch = await client.vectorStores.fileBatches.create(store.id, { file_ids: files.map((f) => f.id), chunking_strategy: CHUNKING });
    const byId = new Map(files.map((f, i) => [f.id, docs[i]]));
    return { storeId: store.id, batchId: batch.id, byId };
  }

  const fileRows = (storeId: string) =>
    stack.query<FileRow>('SELECT file_id, status, attempt, last_error FROM vector_store_files WHERE vector_store_id = $1', [storeId]);

  async function waitSettled(storeId: string, timeoutMs: number): Promise<{ rows: FileRow[]; ms: number }> {
    const started = Date.now();
    let rows = await fileRows(storeId);
    while (rows.some((r) => r.status === 'in_progress') && Date.now() - started < timeoutMs) {
      await sleep(200);
      rows = await fileRows(storeId);
    }
    return { rows, ms: Date.now() - started };
  }

  /** Every invariant of one settled batch; the counts for the report and the problems found. */
  async function check(storeId: string, batchId: string, byId: Map<string, Doc>, rows: FileRow[]) {
    const problems: string[] = [];
    const completed = rows.filter((r) => r.status === 'completed');
    const failed = rows.filter((r) => r.status === 'failed');
    for (const r of rows) {
      if (r.status === 'in_progress') problems.push(`${r.file_id}: stuck in_progress at attempt ${r.attempt}`);
      else if (r.status === 'failed' && !(r.attempt >= MAX_ATTEMPTS && r.last_error?.code === 'server_error'))
        problems.push(`${r.file_id}: failed before its attempts ran out (attempt ${r.attempt}): ${JSON.stringify(r.last_error)}`);
      else if (r.status !== 'completed' && r.status !== 'failed') problems.push(`${r.file_id}: ended ${r.status}`);
    }
    // Stored chunks per attempt: the file's current attempt must hold positions 0..n-1 once each, n what the chunker makes.
    const chunkRows = await stack.query<{ file_id: string; attempt: number; n: string; distinct_positions: string; max_position: number }>(
      `SELECT c.file_id, c.attempt, count(*) AS n, count(DISTINCT c.position) AS distinct_positions, max(c.position) AS max_position
       FROM vector_store_chunks c WHERE c.vector_store_id = $1 GROUP BY c.file_id, c.attempt`,
      [storeId],
    );
    let staleRows = 0;
    let searchable = 0;
    for (const r of completed) {
      const doc = byId.get(r.file_id)!;
      const mine = chunkRows.filter((c) => c.file_id === r.file_id);
      staleRows += mine.filter((c) => c.attempt !== r.attempt).reduce((n, c) => n + Number(c.n), 0);
      const current = mine.find((c) => c.attempt === r.attempt);
      const stored = current ? Number(current.n) : 0;
      if (!current || stored !== doc.chunks || Number(current.distinct_positions) !== stored || current.max_position !== stored - 1)
        problems.push(`${r.file_id}: attempt ${r.attempt} stored ${stored} chunks (${current?.distinct_positions} positions), the file makes ${doc.chunks}`);
      const content: string[] = [];
      for await (const part of client.vectorStores.files.content(r.file_id, { vector_store_id: storeId })) content.push(part.text ?? '');
      searchable += content.length;
      if (content.length !== doc.chunks) problems.push(`${r.file_id}: content has ${content.length} chunks, the file makes ${doc.chunks}`);
      if (new Set(content).size !== content.length && content.length === doc.chunks) {
        // Repeated texts are fine only if the file itself repeats them; our paragraphs are numbered, so they must not.
        problems.push(`${r.file_id}: content repeats chunks`);
      }
      const found = await client.vectorStores.search(storeId, { query: doc.marker, max_num_results: 10 });
      if (!found.data.some((hit) => hit.file_id === r.file_id)) problems.push(`${r.file_id}: a search for ${doc.marker} does not find it`);
    }
    const batch = await client.vectorStores.fileBatches.retrieve(batchId, { vector_store_id: storeId });
    const counts = { in_progress: 0, completed: completed.length, failed: failed.length, cancelled: 0, total: byId.size };
    if (batch.status !== 'completed' || JSON.stringify(batch.file_counts) !== JSON.stringify(counts))
      problems.push(`batch ${batch.status} ${JSON.stringify(batch.file_counts)}, expected completed ${JSON.stringify(counts)}`);
    if (rows.length !== byId.size) problems.push(`${rows.length} vector store files stored, ${byId.size} added`);
    return {
      counts: {
        files: byId.size,
        completed: completed.length,
        failed: failed.length,
        interrupted: rows.filter((r) => r.attempt > 1).length,
        max_attempt: Math.max(...rows.map((r) => r.attempt)),
        chunks: searchable,
        stale_rows: staleRows,
      },
      problems,
      staleRows,
    };
  }

  async function auditFiles(storeId: string) {
    const audit = await stack.audit();
    const mine = (ids: string[]) => ids.filter((id) => id.startsWith(`${storeId}/`));
    return { double: mine([...audit.double, ...audit.changedAfterTerminal]), backwards: mine(audit.backwards) };
  }

  it('every file ends once with one attempt’s chunks searchable, whatever worker dies when', async () => {
    slowEmbeddings(6000, 80, 350);
    const { storeId, batchId, byId } = await uploadBatch('kill', scale(24, 120));
    const maxFaults = scale(8, 40);
    let faults = 0;
    let bothAtOnce = 0;
    const deaths: Array<number | string | null> = [];
    let lastFault = Date.now();
    const unfinished = async () => (await fileRows(storeId)).filter((r) => r.status === 'in_progress').length;
    // A worker (or both, one time in four) SIGKILLed at a random moment while files are in progress, replaced at once.
    while (faults < maxFaults && (await unfinished()) > 0) {
      await sleep(randomInt(300, 1500));
      const victims = Math.random() < 0.25 ? [...workers] : [workers[randomInt(0, workers.length - 1)]];
      if (victims.length > 1) bothAtOnce++;
      workers = workers.filter((w) => !victims.includes(w));
      deaths.push(...(await Promise.all(victims.map((v) => stack.end(v, 'kill')))));
      faults++;
      lastFault = Date.now();
      workers.push(...(await Promise.all(victims.map(() => stack.start('worker')))));
    }
    const { rows, ms } = await waitSettled(storeId, 60_000);
    const afterLastFault = Date.now() - lastFault;
    const { counts, problems, staleRows } = await check(storeId, batchId, byId, rows);
    const audit = await auditFiles(storeId);
    report('ingestion-worker-sigkill', {
      ...counts,
      faults,
      both_at_once: bothAtOnce,
      double: audit.double.length,
      backwards: audit.backwards.length,
      settle_ms: ms,
      after_last_fault_ms: afterLastFault,
    });
    if (problems.length || audit.double.length || audit.backwards.length)
      throw new Error(`invariants broken: ${JSON.stringify({ problems, audit }, null, 1).slice(0, 4000)}\n${stack.logs(15)}`);
    expect(deaths.filter((d) => d !== 'SIGKILL')).toEqual([]);
    // SIGKILLed runs commit nothing after their claim is superseded: the next claim removed their rows.
    expect(staleRows).toBe(0);
    expect(counts.interrupted).toBeGreaterThan(0); // the kills did hit runs
    expect(counts.completed).toBeGreaterThan(0);
  }, 180_000);

  it('re-dispatches from Postgres when Redis is flushed mid-ingestion', async () => {
    slowEmbeddings(3000, 80, 350);
    const requestsBefore = stack.upstream.embeddingRequests.length;
    const { storeId, batchId, byId } = await uploadBatch('flush', scale(12, 60));
    // Mid-ingestion: some embeddings asked for, files still in progress.
    const deadline = Date.now() + 20_000;
    while (stack.upstream.embeddingRequests.length < requestsBefore + 6 && Date.now() < deadline) await sleep(20);
    await sleep(randomInt(100, 600));
    const inProgressAtFlush = (await fileRows(storeId)).filter((r) => r.status === 'in_progress').length;
    const redis = new Redis(stack.redis.url, { maxRetriesPerRequest: 1 });
    await redis.flushall();
    await redis.quit();
    const { rows, ms } = await waitSettled(storeId, 60_000);
    const { counts, problems } = await check(storeId, batchId, byId, rows);
    const audit = await auditFiles(storeId);
    report('ingestion-redis-flush', {
      ...counts,
      faults: 1,
      in_progress_at_flush: inProgressAtFlush,
      redispatch_lines: stack.grep(/unfinished file ingestion\(s\) again/).length,
      double: audit.double.length,
      backwards: audit.backwards.length,
      settle_ms: ms,
    });
    if (problems.length || audit.double.length || audit.backwards.length)
      throw new Error(`invariants broken: ${JSON.stringify({ problems, audit }, null, 1).slice(0, 4000)}\n${stack.logs(15)}`);
    expect(inProgressAtFlush).toBeGreaterThan(0); // the flush did catch files mid-ingestion
    expect(counts.failed).toBe(0); // one flush costs at most a rerun or two, never all the attempts
  }, 120_000);
});
