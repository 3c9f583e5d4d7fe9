import type { StreamEvent, UnsequencedEvent } from '../common/response-types';

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
