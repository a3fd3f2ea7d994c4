// The page side of a worker model: loadModel() starts an engine worker (host.ts runs in it) and
// returns a WorkerModel whose methods are the Model's, each answering with a Promise (streams
// as async iterators). A browser's main thread may not block (Atomics.wait), and a token step is
// too long for a frame, so in a page the engine belongs in a worker: the page then only posts
// calls and receives pieces. Model bytes are transferred, not copied; an AbortSignal becomes an
// 'abort' message; errors arrive as the same BitnetError (code, message, offset).
import { BitnetError } from '../errors.js';
import type { InitOptions, KernelInfo, KernelName } from '../init.js';
import type { ChatMessage, GenerateOptions, GenerateResult, LoadModelOptions, ModelSource, PerplexityOptions, PerplexityResult } from '../model/model.js';
import type { ChatSessionOptions } from '../model/chat-session.js';
import type { ModelConfig } from '../model/config.js';
import type { DecodeChoice } from '../calibrate.js';
import { modelUrl } from '../model/page-url.js';
import type { LoadedModelInfo } from './host.js';
import { CALLBACK, FILE_URL, fromWire, SIGNAL, type FromWorker, type ToWorker, type WireError, type WorkerLike } from './protocol.js';

export interface WorkerLoadOptions extends Omit<LoadModelOptions, 'runtime'> {
  /** Options of the worker's init() (build, ...): each worker model has an engine of its own. */
  init?: Omit<InitOptions, 'module'> & { module?: unknown };
  /** A worker you started yourself that runs serveEngine(self) (e.g. bundled from your own
   *  worker file, for a Content-Security-Policy without blob: workers). Not terminated by
   *  dispose(). Default: a new module worker from the script this package inlines. */
  worker?: WorkerLike;
}

/** How the default engine worker is started (bindings/worker.ts sets it). */
let startWorker: (() => WorkerLike) | null = null;
export function setEngineWorkerFactory(f: () => WorkerLike): void { startWorker = f; }

/** Pieces a stream may run ahead of its reader (the engine generates while the page reads). */
const STREAM_AHEAD = 4;

interface Pending {
  resolve(v: unknown): void;
  reject(e: unknown): void;
  signal?: AbortSignal;
  onAbort?: () => void;
  callbacks: Record<string, (...a: unknown[]) => unknown>;
  onItem?: (m: FromWorker) => void;
}

let saidSingleThread = false;

/** One worker and the calls in flight on it. */
class Connection {
  private nextId = 1;
  private pending = new Map<number, Pending>();
  private dead: Error | null = null;

  constructor(private readonly worker: WorkerLike, private readonly owned: boolean) {
    worker.addEventListener('message', (ev) => this.onMessage(ev.data as FromWorker));
    worker.addEventListener('error', (ev) => this.close(new BitnetError('MODEL_ERROR', `the engine worker failed: ${ev.message ?? 'it could not start or threw'}`)));
    worker.addEventListener('messageerror', () => this.close(new BitnetError('MODEL_ERROR', 'a message from the engine worker could not be read')));
  }

  private onMessage(m: FromWorker): void {
    const p = this.pending.get(m.id);
    if (!p) return;
    if (m.t === 'event') { p.callbacks[m.name]?.(...m.args); return; }
    if (p.onItem && (m.t === 'yield' || m.t === 'done' || m.t === 'error')) { p.onItem(m); if (m.t === 'yield') return; }
    this.settle(m.id);
    if (m.t === 'result') p.resolve(m.value);
    else if (m.t === 'error') p.reject(p.signal?.aborted ? p.signal.reason : fromWire(m.error));
    else if (m.t === 'done') p.resolve(m.value);
  }

  private settle(id: number): void {
    const p = this.pending.get(id);
    if (p?.onAbort) p.signal!.removeEventListener('abort', p.onAbort);
    this.pending.delete(id);
  }

  /** Ends every call in flight with `error` (dispose, or the worker died). */
  close(error: Error): void {
    if (this.dead) return;
    this.dead = error;
    for (const [id, p] of [...this.pending]) {
      this.settle(id);
      if (p.onItem) p.onItem({ t: 'error', id, error: { name: error.name, message: '' } });
      p.reject(error);
    }
    if (this.owned) this.worker.terminate();
  }

  get closed(): boolean { return this.dead !== null; }

  /** Posts a call; options' functions become events and their signal an 'abort' message. */
  call(target: number, method: string, args: unknown[], transfer: unknown[] = [], onItem?: Pending['onItem']): { id: number; result: Promise<unknown>; signal?: AbortSignal } {
    const id = this.nextId++;
    const callbacks: Pending['callbacks'] = {};
    let signal: AbortSignal | undefined;
    const wire = args.map((a) => {
      if (a === null || typeof a !== 'object' || Object.getPrototypeOf(a) !== Object.prototype) return a;
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(a)) {
        if (typeof v === 'function') { callbacks[k] = v as Pending['callbacks'][string]; out[k] = { [CALLBACK]: true }; }
        else if (k === 'signal' && isSignal(v)) { signal = v; out[k] = { [SIGNAL]: true }; }
        else out[k] = v;
      }
      return out;
    });
    const result = new Promise<unknown>((resolve, reject) => {
      if (this.dead) { reject(this.dead); return; }
      if (signal?.aborted) { reject(signal.reason); return; }
      const p: Pending = { resolve, reject, signal, callbacks, onItem };
      if (signal) {
        p.onAbort = () => this.post({ t: 'abort', id });
        signal.addEventListener('abort', p.onAbort, { once: true });
      }
      this.pending.set(id, p);
      try {
        this.post({ t: 'call', id, target, method, args: wire }, transfer);
      } catch (e) {
        this.settle(id);
        reject(new BitnetError('BAD_ARGUMENT', `an argument of ${method}() cannot be sent to the engine worker: ${(e as Error).message}`, { cause: e }));
      }
    });
    return { id, result, signal };
  }

  post(m: ToWorker, transfer: unknown[] = []): void { this.worker.postMessage(m, transfer); }

  /** A call whose answer is a stream of values: an async generator that hands out credit as it is read. */
  async *iterate<T, R>(target: number, method: string, args: unknown[]): AsyncGenerator<T, R> {
    const items: FromWorker[] = [];
    let wake: (() => void) | null = null;
    const { id, result, signal } = this.call(target, method, args, [], (m) => { items.push(m); wake?.(); });
    result.catch(() => {}); // its failure arrives as an item too
    let finished = false;
    try {
      this.post({ t: 'credit', id, n: STREAM_AHEAD });
      for (;;) {
        while (items.length === 0) await new Promise<void>((r) => { wake = r; });
        const m = items.shift()!;
        if (m.t === 'yield') {
          // As in-process: once the signal fires, no further piece (those the engine ran ahead with are dropped).
          if (signal?.aborted) { finished = true; await result.catch(() => {}); throw signal.reason; }
          yield m.value as T;
          this.post({ t: 'credit', id, n: 1 });
          continue;
        }
        finished = true;
        if (m.t === 'done') return m.value as R;
        await result; // an error: rejects with it (or with the signal's reason)
        return undefined as R;
      }
    } finally {
      // The reader stopped early (break): the engine ends the generation and frees the sequence.
      if (!finished && !this.dead) {
        this.post({ t: 'return', id });
        await result.catch(() => {});
      }
    }
  }
}

function isSignal(v: unknown): v is AbortSignal {
  return typeof v === 'object' && v !== null && typeof (v as AbortSignal).aborted === 'boolean' && typeof (v as AbortSignal).addEventListener === 'function';
}

/** A model running in a worker: the Model's methods, each answering with a Promise. */
export class WorkerModel {
  readonly contextLength: number;
  readonly batchSize: number;
  readonly cacheType: 'f32' | 'f16';
  /** The ternary kernel of one-token steps (decode); `gemmKernel` runs prompts (prefill). */
  readonly kernel: KernelName;
  readonly gemmKernel: KernelName;
  readonly config: ModelConfig;
  /** The file's tokenizer.chat_template, or null. */
  readonly chatTemplate: string | null;
  /** Threads of its forward passes in the worker (1: no workers there). */
  readonly threads: number;
  private readonly choice: DecodeChoice;
  private readonly info: KernelInfo;

  /** @internal */
  constructor(private readonly conn: Connection, private readonly handle: number, loaded: LoadedModelInfo, info: KernelInfo) {
    this.contextLength = loaded.contextLength; this.batchSize = loaded.batchSize; this.cacheType = loaded.cacheType;
    this.kernel = loaded.kernel as KernelName; this.gemmKernel = loaded.gemmKernel as KernelName;
    this.config = loaded.config as ModelConfig; this.chatTemplate = loaded.chatTemplate;
    this.threads = loaded.threads; this.choice = loaded.decodeChoice;
    this.info = info;
  }

  /** What the model's load measured in the worker (Model.decodeChoice): decode's kernel and which jobs go to its workers, with the figures. */
  get decodeChoice(): DecodeChoice { return structuredClone(this.choice); }

  private c<T>(method: string, ...args: unknown[]): Promise<T> { return this.conn.call(this.handle, method, args).result as Promise<T>; }

  /** The worker engine's kernelInfo() (build, calibration, notes). */
  kernelInfo(): KernelInfo { return structuredClone(this.info); }

  tokenize(text: string, opts?: { addBos?: boolean; parseSpecial?: boolean }): Promise<number[]> { return this.c('tokenize', text, opts); }
  detokenize(ids: ArrayLike<number>): Promise<string> { return this.c('detokenize', ids); }
  /** Last-position logits of a token sequence (the buffer is transferred from the worker). */
  logits(tokens: ArrayLike<number>): Promise<Float32Array> { return this.c('logits', tokens); }
  perplexity(tokens: ArrayLike<number>, opts?: PerplexityOptions): Promise<PerplexityResult> { return this.c('perplexity', tokens, opts); }
  bench(opts?: { prompt?: number; gen?: number }): Promise<{ prefillTokensPerSecond: number; decodeTokensPerSecond: number }> { return this.c('bench', opts); }
  generate(prompt: string | number[], opts?: GenerateOptions): Promise<GenerateResult> { return this.c('generate', prompt, opts); }
  stream(prompt: string | number[], opts?: GenerateOptions): AsyncGenerator<string, void> { return this.conn.iterate(this.handle, 'stream', [prompt, opts]); }
  generateTokens(prompt: string | number[], opts?: GenerateOptions): AsyncGenerator<number, GenerateResult['finishReason']> {
    return this.conn.iterate(this.handle, 'generateTokens', [prompt, opts]);
  }
  chat(messages: ChatMessage[], opts?: GenerateOptions & { template?: string }): Promise<GenerateResult> { return this.c('chat', messages, opts); }
  applyChatTemplate(messages: ChatMessage[], template?: string): Promise<string> { return this.c('applyChatTemplate', messages, template); }
  /** Bytes of wasm memory the model holds now (weights, KV caches of all sequences, scratch). */
  byteLength(): Promise<number> { return this.c('byteLength'); }

  /** A new sequence with its own KV cache (see Model.createSequence). */
  async createSequence(opts?: { contextLength?: number }): Promise<WorkerSequence> {
    const r = await this.c<{ handle: number; contextLength: number }>('createSequence', opts);
    return new WorkerSequence(this.conn, r.handle, r.contextLength);
  }

  /** A chat session with its own sequence (see Model.createChat). */
  async createChat(opts?: ChatSessionOptions): Promise<WorkerChatSession> {
    const r = await this.c<{ handle: number }>('createChat', opts);
    const first = [...(opts?.system !== undefined ? [{ role: 'system', content: opts.system }] : []), ...(opts?.messages ?? [])];
    return new WorkerChatSession(this.conn, r.handle, first.map((m) => ({ ...m })));
  }

  get disposed(): boolean { return this.conn.closed; }

  /** Ends the engine worker (and every call in flight on it, with DISPOSED). */
  dispose(): void {
    if (this.conn.closed) return;
    this.conn.call(this.handle, 'dispose', []).result.catch(() => {});
    this.conn.close(new BitnetError('DISPOSED', 'this model was disposed'));
  }
}

/** A sequence of a worker model (see Sequence). */
export class WorkerSequence {
  /** @internal */
  constructor(private readonly conn: Connection, private readonly handle: number, readonly contextLength: number) {}
  private c<T>(method: string, ...args: unknown[]): Promise<T> { return this.conn.call(this.handle, method, args).result as Promise<T>; }
  generate(prompt: string | number[], opts?: GenerateOptions): Promise<GenerateResult> { return this.c('generate', prompt, opts); }
  stream(prompt: string | number[], opts?: GenerateOptions): AsyncGenerator<string, void> { return this.conn.iterate(this.handle, 'stream', [prompt, opts]); }
  generateTokens(prompt: string | number[], opts?: GenerateOptions): AsyncGenerator<number, GenerateResult['finishReason']> {
    return this.conn.iterate(this.handle, 'generateTokens', [prompt, opts]);
  }
  chat(messages: ChatMessage[], opts?: GenerateOptions & { template?: string }): Promise<GenerateResult> { return this.c('chat', messages, opts); }
  logits(tokens: ArrayLike<number>): Promise<Float32Array> { return this.c('logits', tokens); }
  /** The tokens the cache holds now. */
  tokens(): Promise<number[]> { return this.c('tokens'); }
  clear(): Promise<void> { return this.c('clear'); }
  dispose(): Promise<void> { return this.c('dispose'); }
}

/** A chat session of a worker model (see ChatSession). */
export class WorkerChatSession {
  /** @internal */
  constructor(private readonly conn: Connection, private readonly handle: number, private history: ChatMessage[]) {}
  /** The conversation so far (a copy; updated when a reply arrives). */
  get messages(): ChatMessage[] { return this.history.map((m) => ({ ...m })); }
  async send(content: string, opts?: GenerateOptions): Promise<GenerateResult> {
    const r = await (this.conn.call(this.handle, 'send', [content, opts]).result as Promise<{ result: GenerateResult; messages: ChatMessage[] }>);
    this.history = r.messages;
    return r.result;
  }
  dispose(): Promise<void> { return this.conn.call(this.handle, 'dispose', []).result as Promise<void>; }
}

/** The source as it crosses: URLs resolved here (a worker's base is not the page's), bytes and
 *  streams transferred (the caller's buffer is detached: no copy of the model is made). */
function wireSource(source: ModelSource): { value: unknown; transfer: unknown[] } {
  if (typeof source === 'string') {
    return { value: modelUrl(source) ?? source, transfer: [] };
  }
  if (source instanceof URL) return { value: source.protocol === 'file:' ? { [FILE_URL]: source.href } : source.href, transfer: [] };
  if (source instanceof ArrayBuffer) return { value: source, transfer: [source] };
  if (ArrayBuffer.isView(source)) return { value: source, transfer: source.buffer instanceof ArrayBuffer ? [source.buffer] : [] };
  if (typeof Blob !== 'undefined' && source instanceof Blob) return { value: source, transfer: [] };
  if (typeof ReadableStream !== 'undefined' && source instanceof ReadableStream) return { value: source, transfer: [source] };
  if (typeof SharedArrayBuffer !== 'undefined' && source instanceof SharedArrayBuffer) return { value: source, transfer: [] };
  throw new BitnetError('BAD_ARGUMENT', 'a worker model loads from a URL, a path, a Blob/File, bytes (ArrayBuffer or a typed array) or a ReadableStream');
}

/**
 * loadModel() with the engine in a worker: same options and methods as the Model, every method
 * answering with a Promise. `dispose()` ends the worker.
 */
export async function loadModel(source: ModelSource, opts: WorkerLoadOptions = {}): Promise<WorkerModel> {
  if (opts === null || typeof opts !== 'object') throw new BitnetError('BAD_ARGUMENT', 'opts must be an object');
  if ('runtime' in opts) throw new BitnetError('BAD_ARGUMENT', 'opts.runtime cannot cross to a worker: pass init options as opts.init');
  const { worker, ...rest } = opts;
  // (Node has no Web Worker: there the in-process engine already runs its threads on worker_threads)
  if (!worker && typeof (globalThis as { Worker?: unknown }).Worker !== 'function') {
    throw new BitnetError('BAD_ARGUMENT', "this runtime has no Web Worker: in Node use loadModel from 'bitnet-wasm' (its threads run on worker_threads), or pass opts.worker");
  }
  const { value, transfer } = wireSource(source);
  if (!worker && !startWorker) throw new BitnetError('BAD_ARGUMENT', 'no engine worker: import loadModel from \'bitnet-wasm/worker\' or pass opts.worker');
  // Without isolation there is no SharedArrayBuffer: said once here for the page, and the engine
  // asked for 1 thread (so each worker does not say it again), unless threads were asked for.
  const g = globalThis as { crossOriginIsolated?: boolean };
  if (g.crossOriginIsolated === false) {
    if (!saidSingleThread) {
      saidSingleThread = true;
      console.info('bitnet-wasm: this page is not cross-origin isolated (no COOP/COEP headers), so there is no SharedArrayBuffer: the engine worker runs on 1 thread');
    }
    const asked = (o: object | undefined) => (o as { threads?: unknown } | undefined)?.threads !== undefined;
    if (!asked(rest.init) && !asked(rest)) rest.init = { ...rest.init, threads: 1 } as WorkerLoadOptions['init'];
  }
  const conn = new Connection(worker ?? startWorker!(), !worker);
  try {
    const r = await (conn.call(0, 'load', [value, rest], transfer).result as Promise<{ handle: number; info: LoadedModelInfo; kernelInfo: KernelInfo }>);
    return new WorkerModel(conn, r.handle, r.info, r.kernelInfo);
  } catch (e) {
    conn.close(e instanceof Error ? e : new Error(String(e)));
    throw e;
  }
}

export type { WireError };
