// One turn of the event loop between generated tokens, so that an abort (a click, a closed
// connection) can run. setTimeout(0) is clamped (1 ms in Node, 4 ms in browsers once nested), which
// capped small models at a few hundred tokens per second; setImmediate (Node) and a
// MessageChannel message (browser pages and workers) are not. Other hosts (Deno, Bun, workerd) keep
// setTimeout: an open MessagePort could keep a Deno process alive, and workerd's cancelled requests
// rely on ctx.waitUntil with timers (tested).
type Scheduler = (resume: () => void) => void;

function pickScheduler(): Scheduler {
  const g = globalThis as { setImmediate?: (f: () => void) => unknown; MessageChannel?: typeof MessageChannel; document?: unknown;
    WorkerGlobalScope?: unknown; navigator?: { userAgent?: string } };
  // (Bun keeps setTimeout: with setImmediate a 200-token stream of the shipped model ended before
  // Bun.serve let the client's abort in, after 3 chunks: runtime matrix, openai client vs Bun)
  const bun = (g as { Bun?: unknown }).Bun !== undefined;
  if (!bun && typeof g.setImmediate === 'function') return (f) => { g.setImmediate!(f); };
  // (workerd defines WorkerGlobalScope too, but a MessageChannel turn there neither flushes a
  // streamed response nor lets a cancelled request's abort in: measured with the openai client)
  const workerd = g.navigator?.userAgent === 'Cloudflare-Workers';
  const browser = !workerd && (g.document !== undefined || g.WorkerGlobalScope !== undefined);
  if (browser && typeof g.MessageChannel === 'function') {
    const channel = new g.MessageChannel();
    const waiting: (() => void)[] = [];
    channel.port1.onmessage = () => waiting.shift()?.();
    return (f) => { waiting.push(f); channel.port2.postMessage(0); };
  }
  return (f) => { setTimeout(f, 0); };
}

let scheduler: Scheduler | undefined;

/** Resolves after other tasks queued so far have had their turn. */
export function nextTask(): Promise<void> {
  scheduler ??= pickScheduler();
  return new Promise((resolve) => scheduler!(resolve));
}
