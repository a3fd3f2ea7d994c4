// A bounded FIFO of requests for one model: one generation runs at a time (a Model has one KV
// cache, and interleaved generate() calls would corrupt each other), at most `maxWaiting` wait
// behind it, and the next one is refused at once (HTTP 429) instead of piling up.
import { ApiError } from './errors.js';

export class RequestQueue {
  private running = false;
  private waiting: { start: () => void; fail: (e: unknown) => void }[] = [];

  constructor(readonly maxWaiting: number) {}

  get size(): { running: number; waiting: number } { return { running: this.running ? 1 : 0, waiting: this.waiting.length }; }

  /** Waits for this request's turn and returns its release function (call it exactly once).
   *  Rejects with a 429 ApiError when the queue is full, and with the signal's reason when the
   *  client goes away while waiting (its place is given up). */
  acquire(signal?: AbortSignal): Promise<() => void> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (!this.running) { this.running = true; return Promise.resolve(this.releaser()); }
    if (this.waiting.length >= this.maxWaiting) {
      return Promise.reject(new ApiError(429, `the server is busy: ${this.waiting.length} requests are already waiting for the model (the limit); retry later`,
        'rate_limit_error', null, 'rate_limit_exceeded', { 'retry-after': '1' }));
    }
    return new Promise((ok, fail) => {
      const entry = {
        start: () => { signal?.removeEventListener('abort', onAbort); ok(this.releaser()); },
        fail,
      };
      const onAbort = () => {
        const i = this.waiting.indexOf(entry);
        if (i >= 0) this.waiting.splice(i, 1);
        fail(signal!.reason);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiting.push(entry);
    });
  }

  private releaser(): () => void {
    let done = false;
    return () => {
      if (done) return;
      done = true;
      const next = this.waiting.shift();
      if (next) next.start(); // the slot passes straight on: `running` stays true
      else this.running = false;
    };
  }
}
