// The FIFO of calls on one KV sequence: one call runs at a time, the others wait in the order
// they came; a waiting call whose AbortSignal fires leaves the queue at once (rejecting with the
// signal's reason) without disturbing the others.
export class CallQueue {
  private busy = false;
  private waiters: (() => void)[] = [];

  get idle(): boolean { return !this.busy; }

  /** Waits for the sequence; returns the function that hands it to the next caller (idempotent). */
  async acquire(signal?: AbortSignal): Promise<() => void> {
    signal?.throwIfAborted();
    if (this.busy) {
      await new Promise<void>((resolve, reject) => {
        const onAbort = () => {
          const i = this.waiters.indexOf(wake);
          if (i >= 0) this.waiters.splice(i, 1);
          reject(signal!.reason);
        };
        const wake = () => { signal?.removeEventListener('abort', onAbort); resolve(); };
        signal?.addEventListener('abort', onAbort, { once: true });
        this.waiters.push(wake);
      });
    }
    this.busy = true;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.waiters.shift();
      // Ownership passes straight to the next waiter: no call can slip in between.
      if (next) next(); else this.busy = false;
    };
  }
}
