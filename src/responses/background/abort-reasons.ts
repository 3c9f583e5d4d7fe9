/**
 * Why a run's AbortSignal fired. The reason decides what the run writes: a cancel ends it
 * `cancelled`, a time limit ends it `failed`, a shutdown hands it back to the queue untouched.
 */
export class CancelRequested extends Error {
  constructor() {
    super('cancelled');
  }
}

export class RunTimedOut extends Error {
  constructor(readonly limitMs: number) {
    super(`The response exceeded the server's time limit of ${limitMs} ms.`);
  }
}

export class ShuttingDown extends Error {
  constructor() {
    super('worker shutting down');
  }
}

/** A run lost its claim (retried elsewhere, cancelled, deleted): stop spending tokens. */
export class ClaimLost extends Error {
  constructor() {
    super('claim lost');
  }
}
