// The server's bound on waiting requests: the model's FIFO (CallQueue) lets one generation run at
// a time; this counts who is running or waiting and refuses the next one at once (HTTP 429)
// when `maxWaiting` already wait, instead of letting them pile up.
import { CallQueue } from '../model/queue.js';
import { ApiError } from './errors.js';

export class RequestQueue {
  private fifo = new CallQueue();
  private admitted = 0; // running + waiting

  constructor(readonly maxWaiting: number) {}

  get size(): { running: number; waiting: number } {
    const running = this.fifo.idle ? 0 : 1;
    return { running, waiting: this.admitted - running };
  }

  /** Waits for this request's turn and returns its release function (idempotent). Rejects with a
   *  429 ApiError when the queue is full, and with the signal's reason when the client goes away
   *  while waiting (its place is given up). */
  async acquire(signal?: AbortSignal): Promise<() => void> {
    signal?.throwIfAborted();
    const { waiting } = this.size;
    if (!this.fifo.idle && waiting >= this.maxWaiting) {
      throw new ApiError(429, `the server is busy: ${waiting} requests are already waiting for the model (the limit); retry later`,
        'rate_limit_error', null, 'rate_limit_exceeded', { 'retry-after': '1' });
    }
    this.admitted++;
    let release: () => void;
    try {
      release = await this.fifo.acquire(signal);
    } catch (e) {
      this.admitted--;
      throw e;
    }
    let done = false;
    return () => { if (!done) { done = true; this.admitted--; release(); } };
  }
}
