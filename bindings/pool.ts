// The JS side of the thread pool: N-1 worker instances of a -mt build on the caller's shared
// memory. Workers are started once and then driven entirely through the control block in linear
// memory (assembly/threads/pool.ts): no message per job. Node, Deno and Bun use node:worker_threads
// (unref'd, so a process that forgets dispose() still exits); browsers a Web Worker from a Blob.
import { BitnetError } from './errors.js';
import { POOL } from './abi.js';

/** What each worker runs (plain JS, no imports, so it needs no file of its own and no bundler help).
 *  It instantiates the module on the shared memory, reads POOL_SEQ, says it is ready and loops in
 *  pool_work. A trap ends its loop: it marks POOL_FAILED and wakes the caller, which then stops
 *  waiting for the piece it held (the caller's JS throws and stops using the pool). */
const WORKER_SOURCE = `
const wt = typeof require === 'function' ? require('node:worker_threads') : null;
const port = wt ? wt.parentPort : null;
const post = (m) => (port ? port.postMessage(m) : self.postMessage(m));
const first = (f) => (port ? port.once('message', f) : (self.onmessage = (e) => { self.onmessage = null; f(e.data); }));
first(({ module, memory, ctrl, index }) => {
  const c = ctrl >> 2;
  let inst;
  try {
    inst = new WebAssembly.Instance(module, { env: { memory, bitnet_abort: (line) => { throw new Error('wasm abort (line ' + line + ')'); } } });
  } catch (e) { post({ error: String((e && e.message) || e) }); return; }
  const seen = Atomics.load(new Int32Array(memory.buffer), c + ${POOL.SEQ});
  post({ ready: true });
  try {
    inst.exports.pool_work(ctrl, index, seen);
    post({ done: true });
  } catch (e) {
    const w = new Int32Array(memory.buffer);
    Atomics.store(w, c + ${POOL.FAILED}, 1);
    Atomics.notify(w, c + ${POOL.DONE});
    post({ error: String((e && e.message) || e) });
  }
});
`;

interface Port {
  post(msg: unknown): void;
  /** Resolves with the first message (or rejects on a worker error). */
  next(): Promise<{ ready?: boolean; error?: string; done?: boolean }>;
  terminate(): void;
}

type NodeWorker = {
  postMessage(m: unknown): void; once(ev: string, f: (x: unknown) => void): void; off(ev: string, f: (x: unknown) => void): void;
  unref(): void; terminate(): Promise<number>;
};
type NodeWorkerCtor = new (src: string, opts: { eval: true }) => NodeWorker;

let nodeWorker: NodeWorkerCtor | null | undefined;

/** node:worker_threads' Worker where the runtime has it (Node, Deno, Bun), else null. */
async function nodeWorkerCtor(): Promise<NodeWorkerCtor | null> {
  if (nodeWorker !== undefined) return nodeWorker;
  const p = (globalThis as { process?: { versions?: { node?: string } } }).process;
  nodeWorker = null;
  if (p?.versions?.node) {
    try { nodeWorker = (await import('node:worker_threads')).Worker as unknown as NodeWorkerCtor; } catch { /* not available */ }
  }
  return nodeWorker;
}

function nodePort(W: NodeWorkerCtor): Port {
  const w = new W(WORKER_SOURCE, { eval: true });
  w.unref();
  return {
    post: (m) => w.postMessage(m),
    next: () => new Promise((ok, fail) => {
      const onMsg = (m: unknown) => { w.off('error', onErr); ok(m as { ready?: boolean }); };
      const onErr = (e: unknown) => { w.off('message', onMsg); fail(e); };
      w.once('message', onMsg);
      w.once('error', onErr);
    }),
    terminate: () => { void w.terminate(); },
  };
}

function webPort(): Port {
  const url = URL.createObjectURL(new Blob([WORKER_SOURCE], { type: 'text/javascript' }));
  const w = new Worker(url);
  URL.revokeObjectURL(url);
  return {
    post: (m) => w.postMessage(m),
    next: () => new Promise((ok, fail) => {
      w.onmessage = (e) => { w.onmessage = null; w.onerror = null; ok(e.data as { ready?: boolean }); };
      w.onerror = (e) => { w.onmessage = null; w.onerror = null; fail(new Error(e.message)); };
    }),
    terminate: () => w.terminate(),
  };
}

/** Why this thread cannot run a pool here, or null when it can. */
export async function threadsUnavailable(): Promise<string | null> {
  const g = globalThis as { SharedArrayBuffer?: unknown; crossOriginIsolated?: boolean; Worker?: unknown; document?: unknown; WorkerGlobalScope?: unknown };
  if (typeof g.SharedArrayBuffer !== 'function') {
    return g.crossOriginIsolated === false
      ? 'the page is not cross-origin isolated (serve it with COOP: same-origin and COEP: require-corp) so it has no SharedArrayBuffer'
      : 'this runtime has no SharedArrayBuffer';
  }
  if (await nodeWorkerCtor()) return null;
  if (typeof g.Worker !== 'function') return 'this runtime has no workers';
  // A page's main thread may not block in Atomics.wait (the pool's caller waits for its workers).
  if (typeof g.document !== 'undefined' && typeof g.WorkerGlobalScope === 'undefined') {
    return "a page's main thread may not wait on its workers (Atomics.wait): run bitnet-wasm in a Worker";
  }
  return null;
}

/** Cores the runtime reports (at least 1). */
export async function reportedCores(): Promise<number> {
  const n = (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator?.hardwareConcurrency;
  if (typeof n === 'number' && n >= 1) return Math.floor(n);
  if (await nodeWorkerCtor()) {
    try {
      const os = await import('node:os');
      return Math.max(1, typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length);
    } catch { /* fall through */ }
  }
  return 1;
}

/** Workers over one shared memory, driven through the control block at `ctrl`. */
export class WorkerPool {
  private ports: Port[] = [];
  private closed = false;

  private constructor(private module: WebAssembly.Module, private memory: WebAssembly.Memory, readonly ctrl: number) {}

  /** Workers running (the calling thread not counted). */
  get size(): number { return this.ports.length; }

  static async start(module: WebAssembly.Module, memory: WebAssembly.Memory, ctrl: number, workers: number): Promise<WorkerPool> {
    const pool = new WorkerPool(module, memory, ctrl);
    await pool.grow(workers);
    return pool;
  }

  private i32(): Int32Array { return new Int32Array(this.memory.buffer, this.ctrl, POOL.WORDS); }

  /** Starts workers until there are `workers`. Resolves once each runs its loop. */
  async grow(workers: number): Promise<void> {
    if (this.closed) throw new BitnetError('DISPOSED', 'the thread pool was disposed');
    const W = await nodeWorkerCtor();
    const started: Promise<void>[] = [];
    for (let index = this.ports.length + 1; index <= workers; index++) {
      const port = W ? nodePort(W) : webPort();
      this.ports.push(port);
      started.push((async () => {
        const reply = port.next();
        port.post({ module: this.module, memory: this.memory, ctrl: this.ctrl, index });
        const m = await reply;
        if (!m.ready) throw new Error(m.error ?? 'no reply');
        // Later messages (a trap) are read by nobody: POOL_FAILED carries them.
      })());
    }
    try {
      await Promise.all(started);
    } catch (e) {
      this.dispose();
      throw new BitnetError('WASM_LOAD_FAILED', `a worker thread could not start: ${(e as Error).message ?? e}`, { cause: e });
    }
    Atomics.store(this.i32(), POOL.WORKERS, this.ports.length);
  }

  /** True once a worker trapped: the pool must not be used again. */
  get failed(): boolean { return Atomics.load(this.i32(), POOL.FAILED) !== 0; }

  /** Tells the workers to return and ends their threads. Idempotent. */
  dispose(): void {
    if (this.closed) return;
    this.closed = true;
    const w = this.i32();
    Atomics.store(w, POOL.QUIT, 1);
    Atomics.add(w, POOL.SEQ, 1);
    Atomics.notify(w, POOL.SEQ);
    for (const p of this.ports) p.terminate();
    this.ports = [];
  }
}
