import type OpenAI from 'openai';
import type { ResponseStreamEvent } from 'openai/resources/responses/responses';
import { collect } from '../../support/streams';

export const TERMINAL_EVENTS = ['response.completed', 'response.failed', 'response.incomplete'] as const;

/** What a stream's terminal event says the stored status must be. */
export function statusesFor(eventType: string): string[] {
  switch (eventType) {
    case 'response.completed':
      return ['completed'];
    case 'response.incomplete':
      return ['incomplete'];
    case 'response.failed':
      return ['failed', 'cancelled']; // a cancel ends a stream with response.failed (docs/background.md)
    default:
      return [];
  }
}

export interface StreamRecord {
  id: string;
  events: ResponseStreamEvent[];
  /** Set when reading ended with an error (connection cut, HTTP error). */
  error?: string;
}

/** Problems of one stream: sequence numbers must be 0.. (or from `from`) without gaps or repeats, one terminal event, last. */
export function streamProblems(record: StreamRecord, from = 0): string[] {
  const problems: string[] = [];
  record.events.forEach((e, i) => {
    if (e.sequence_number !== from + i) problems.push(`event #${i} has sequence_number ${e.sequence_number}, expected ${from + i}`);
  });
  const terminal = record.events.filter((e) => (TERMINAL_EVENTS as readonly string[]).includes(e.type));
  if (terminal.length > 1) problems.push(`${terminal.length} terminal events`);
  if (terminal.length === 1 && record.events[record.events.length - 1] !== terminal[0]) problems.push('terminal event is not the last');
  return problems.map((p) => `${record.id}: ${p}`);
}

export function terminalEventOf(record: StreamRecord): ResponseStreamEvent | undefined {
  const last = record.events[record.events.length - 1];
  return last && (TERMINAL_EVENTS as readonly string[]).includes(last.type) ? last : undefined;
}

/** Reads a stream to its end (or error), recording every event. */
export async function readStream(
  stream: AsyncIterable<ResponseStreamEvent>,
  record: StreamRecord,
  onEvent?: (e: ResponseStreamEvent) => void,
): Promise<StreamRecord> {
  try {
    await collect(stream, {
      onEvent: (event) => {
        if (event.type === 'response.created' && !record.id) record.id = event.response.id;
        record.events.push(event);
        onEvent?.(event);
      },
    });
  } catch (error) {
    record.error = error instanceof Error ? error.message : String(error);
  }
  return record;
}

/** Replays a background response's stored stream from 0 on `client` (any API process). */
export async function replay(client: OpenAI, id: string, startingAfter?: number): Promise<StreamRecord> {
  const record: StreamRecord = { id, events: [] };
  try {
    const stream = await client.responses.retrieve(id, startingAfter === undefined ? { stream: true } : { stream: true, starting_after: startingAfter });
    return await readStream(stream, record);
  } catch (error) {
    record.error = error instanceof Error ? error.message : String(error);
    return record;
  }
}
