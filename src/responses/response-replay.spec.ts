import { AppConfig } from '../config/app-config';
import { parseEnvironment } from '../config/environment';
import type { ResponseObject } from '../common/response-types';
import { MemoryEventLog } from './events/memory-event-log';
import type { LoggedEvent } from './events/response-event-log';
import type { ResponsesStore, StoredResponse } from './persistence/responses.store';
import { buildResponse } from './response-object';
import { ResponseReplay, type ReplaySink } from './response-replay.service';

describe('ResponseReplay', () => {
  const config = new AppConfig(parseEnvironment({ DATA_DIR: 'memory://' }));
  const request = { model: 'm', input: [], stream: true, background: true } as unknown as Parameters<typeof buildResponse>[2];
  const queued: ResponseObject = buildResponse('resp_1', new Date(), request, { status: 'queued' });

  function sink(): ReplaySink & { events: Array<{ type: string; response?: { status: string } }> } {
    const events: Array<{ type: string; response?: { status: string } }> = [];
    return { events, write: (e: LoggedEvent) => events.push(JSON.parse(e.data)), comment: () => undefined, drained: () => Promise.resolve() };
  }

  it('ends the stream of a response deleted mid-run as cancelled, not with the status it started from', async () => {
    const log = new MemoryEventLog(config);
    log.append('resp_1', { type: 'response.created', response: queued, sequence_number: 0 });
    log.append('resp_1', { type: 'response.in_progress', response: { ...queued, status: 'in_progress' }, sequence_number: 1 });
    // Deleted: nothing stored, and its run wrote no terminal event (its end matched no row).
    const store = { getById: () => Promise.resolve(null) } as unknown as ResponsesStore;
    const out = sink();
    await new ResponseReplay(store, log, config).replay('resp_1', queued, -1, out, new AbortController().signal);
    expect(out.events.map((e) => [e.type, e.response?.status])).toEqual([
      ['response.created', 'queued'],
      ['response.in_progress', 'in_progress'],
      ['response.failed', 'cancelled'],
    ]);
    log.onModuleDestroy();
  });

  it('ends a stream whose run died with the stored terminal state', async () => {
    const log = new MemoryEventLog(config);
    log.append('resp_1', { type: 'response.created', response: queued, sequence_number: 0 });
    const failed = { ...queued, status: 'failed', error: { code: 'server_error', message: 'gone' } } as ResponseObject;
    const store = { getById: () => Promise.resolve({ status: 'failed', response: failed } as unknown as StoredResponse) } as unknown as ResponsesStore;
    const out = sink();
    await new ResponseReplay(store, log, config).replay('resp_1', queued, -1, out, new AbortController().signal);
    expect(out.events.map((e) => [e.type, e.response?.status])).toEqual([
      ['response.created', 'queued'],
      ['response.failed', 'failed'],
    ]);
    log.onModuleDestroy();
  });
});
