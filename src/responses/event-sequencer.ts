import type { ResponseObject, StreamEvent, UnsequencedEvent } from '../common/response-types';

/**
 * The event that ends a response's stream. A cancelled response ends with `response.failed`
 * (there is no `response.cancelled` stream event in the contract).
 */
export function terminalEvent(response: ResponseObject): UnsequencedEvent {
  switch (response.status) {
    case 'completed':
      return { type: 'response.completed', response };
    case 'incomplete':
      return { type: 'response.incomplete', response };
    default:
      return { type: 'response.failed', response };
  }
}

/** Numbers a response's events from `start`, in emission order, and hands them on. */
export class EventSequencer {
  constructor(
    private readonly out: ((event: StreamEvent) => void) | null,
    private next = 0,
  ) {}

  /** False when nobody listens: callers may skip building events. */
  get listening(): boolean {
    return this.out !== null;
  }

  get nextSequenceNumber(): number {
    return this.next;
  }

  emit(event: UnsequencedEvent): void {
    if (!this.out) return;
    this.out({ ...event, sequence_number: this.next++ });
  }
}
