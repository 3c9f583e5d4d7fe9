// The extraction worker's entry point (a worker_threads Worker started by extractText): reads one
// file and posts one WorkerReply.
import { parentPort, workerData } from 'node:worker_threads';
import { ExtractionError, type ExtractionErrorCode } from './extraction-error';
import { parse, type ParsedText, type ParseRequest } from './parsers';

export type WorkerReply = ({ ok: true } & ParsedText) | { ok: false; code: ExtractionErrorCode; message: string };

async function run(request: ParseRequest): Promise<WorkerReply> {
  try {
    return { ok: true, ...(await parse(request)) };
  } catch (error) {
    if (error instanceof ExtractionError) return { ok: false, code: error.code, message: error.message };
    return { ok: false, code: 'server_error', message: `Text extraction failed: ${error instanceof Error ? error.message : String(error)}`.slice(0, 300) };
  }
}

if (parentPort) {
  const port = parentPort;
  void run(workerData as ParseRequest).then((reply) => port.postMessage(reply));
}
