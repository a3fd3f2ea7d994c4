// One instantiated module: its exports, allocation with typed errors, and views that are
// re-created whenever memory growth has detached the old ArrayBuffer.
import { BitnetError } from './errors.js';
import type { WasmExports } from './exports.js';
import { POOL } from './abi.js';
import { LinearHeap, WASM32_BYTES } from './heap.js';
import { WorkerPool } from './pool.js';
import type { BuildName } from './wasm-location.js';
import type { CompiledWasmModule } from './wasm-types.js';

export class WasmRuntime {
  readonly exports: WasmExports;
  readonly build: BuildName;
  /** The allocator of this instance's linear memory (the only one). */
  readonly heap: LinearHeap;
  private buffer: ArrayBuffer | null = null;
  private _u8!: Uint8Array;
  private _i8!: Int8Array;
  private _i32!: Int32Array;
  private _f32!: Float32Array;
  private scratchPtr = 0;
  private scratchSize = 0;

  /** The worker pool of a -mt build (null: one thread, or not started yet). */
  private pool: WorkerPool | null = null;
  /** Its control block in linear memory (0: none). */
  private ctrl = 0;
  /** Threads calls use unless told otherwise (init's / createRuntime's `threads`). */
  defaultThreads = 1;
  /** defaultThreads came from 'auto' (the cores reported): a model then measures at load which of
   *  its jobs are worth handing to the workers (src/calibrate.ts decodeChoice). */
  autoThreads = false;

  private constructor(instance: WebAssembly.Instance, build: BuildName, limit?: number, private module?: WebAssembly.Module) {
    this.exports = instance.exports as unknown as WasmExports;
    this.build = build;
    this.heap = new LinearHeap(this.exports.memory, this.exports.heap_base(), limit);
  }

  private static imports(memory?: WebAssembly.Memory): WebAssembly.Imports {
    return {
      env: {
        ...(memory ? { memory } : {}),
        // AssemblyScript's abort(): the wasm allocates nothing, so this is a bug, not memory.
        bitnet_abort: (line: number) => {
          throw new BitnetError('MODEL_ERROR', `wasm abort (line ${line}): a bug in bitnet-wasm`);
        },
      },
    };
  }

  static async instantiate(module: CompiledWasmModule, build: BuildName): Promise<WasmRuntime> {
    const instance = await WebAssembly.instantiate(module as WebAssembly.Module, WasmRuntime.imports());
    return new WasmRuntime(instance, build);
  }

  /** An instance of a -mt build on a new shared memory (workers: startThreads). The memory's
   *  maximum is the largest the engine grants, from wasm32's 4 GiB down to 256 MiB (a shared
   *  memory cannot move when it grows, so the engine reserves its maximum up front). */
  static async instantiateShared(module: CompiledWasmModule, build: BuildName): Promise<WasmRuntime> {
    let memory: WebAssembly.Memory | null = null;
    let error: unknown;
    let pages = WASM32_BYTES / 65536;
    for (; pages >= 4096; pages /= 2) {
      try { memory = new WebAssembly.Memory({ initial: 1, maximum: pages, shared: true } as WebAssembly.MemoryDescriptor); break; } catch (e) { error = e; }
    }
    if (!memory) throw new BitnetError('OUT_OF_MEMORY', `the engine refused a shared memory of 256 MiB or more: ${(error as Error)?.message}`, { cause: error });
    const instance = await WebAssembly.instantiate(module as WebAssembly.Module, WasmRuntime.imports(memory));
    return new WasmRuntime(instance, build, pages * 65536, module as WebAssembly.Module);
  }

  /** True for an instance of a -mt build (shared memory: workers can join it). */
  get shared(): boolean { return this.module !== undefined; }

  /** Threads available to calls: the workers running plus this one. */
  get threads(): number { return (this.pool?.size ?? 0) + 1; }

  /** Starts workers until `threads` threads can run a call (a -mt build only). */
  async startThreads(threads: number): Promise<void> {
    if (!this.module) throw new BitnetError('BAD_ARGUMENT', 'this runtime has no shared memory: threads need a runtime created with threads > 1');
    if (!this.ctrl) {
      // 64-byte aligned (the block's two polled words each own a cache line).
      const raw = this.alloc(POOL.WORDS * 4 + 64, 'thread pool control block');
      this.ctrl = (raw + 63) & ~63;
    }
    if (!this.pool) {
      this.u8.fill(0, this.ctrl, this.ctrl + POOL.WORDS * 4);
      this.pool = await WorkerPool.start(this.module, this.exports.memory as WebAssembly.Memory, this.ctrl, 0);
    }
    const before = this.pool.size;
    await this.pool.grow(threads - 1);
    if (this.pool.size !== before) {
      // The workers' scratch is one area per worker: give the new ones theirs.
      const c = this.ctrl >> 2, bytes = this.i32[c + POOL.WSCRATCH_BYTES];
      this.i32[c + POOL.WSCRATCH_BYTES] = 0;
      if (bytes) this.workerScratch(bytes);
    }
    this.exports.pool_attach(this.ctrl);
    this.useThreads(this.defaultThreads);
  }

  /** Threads the next wasm calls may use (capped by the workers running); jobs of fewer than
   *  `minWork` multiply-adds stay on the calling thread (at least POOL.MIN_WORK_DEFAULT). */
  useThreads(n: number, minWork = 0): void {
    if (!this.ctrl) return;
    this.checkThreads();
    this.i32[(this.ctrl >> 2) + POOL.THREADS] = Math.max(1, Math.min(n, this.threads));
    this.i32[(this.ctrl >> 2) + POOL.MIN_WORK] = Math.min(minWork, 0x7fffffff);
  }

  /** Pieces of jobs the workers (not the calling thread) have run since the pool started. */
  get workerPieces(): number { return this.ctrl ? Atomics.load(this.i32, (this.ctrl >> 2) + POOL.WORKER_PIECES) : 0; }

  /** The same for one kind of job (POOL.OP_MATMUL, OP_HEAD, OP_ATTENTION). */
  workerPiecesOf(op: number): number {
    if (!Number.isInteger(op) || op < 1 || op >= POOL.OP_COUNT) throw new BitnetError('BAD_ARGUMENT', `no job kind ${op} (POOL.OP_*)`);
    return this.ctrl ? Atomics.load(this.i32, (this.ctrl >> 2) + POOL.WORKER_OP_PIECES + op) : 0;
  }

  /** After a call that may have used the pool: a worker that trapped made its result wrong. */
  checkThreads(): void {
    if (this.pool?.failed) { this.closeThreads(); throw new BitnetError('MODEL_ERROR', 'a worker thread failed (the last call\'s result is void): bitnet-wasm runs on one thread from now on'); }
  }

  /** Models holding the worker scratch (holdWorkerScratch): the last one to let go frees it. */
  private scratchHolders = 0;

  /** workerScratch(bytes) for a model, which calls releaseWorkerScratch() when it is disposed: the
   *  area sits above that model's blocks, and left behind it would cut the memory the model freed
   *  off from the rest (the next large model would not fit in one piece). */
  holdWorkerScratch(bytes: number): void {
    this.workerScratch(bytes);
    this.scratchHolders++;
  }

  /** A model's hold ends; the last one frees the workers' scratch. */
  releaseWorkerScratch(): void {
    if (this.scratchHolders === 0 || --this.scratchHolders > 0 || !this.ctrl) return;
    this.freeWorkerScratch();
  }

  private freeWorkerScratch(): void {
    const c = this.ctrl >> 2;
    if (this.i32[c + POOL.WSCRATCH]) this.free(this.i32[c + POOL.WSCRATCH]);
    this.i32[c + POOL.WSCRATCH] = 0;
    this.i32[c + POOL.WSCRATCH_BYTES] = 0;
  }

  /** Per-worker scratch of at least `bytes` (jobs that need a work area of their own). Call while no
   *  wasm call runs (JS is single-threaded: between calls the workers are idle). */
  workerScratch(bytes: number): void {
    if (!this.ctrl || this.threads < 2) return;
    const c = this.ctrl >> 2;
    if (this.i32[c + POOL.WSCRATCH_BYTES] >= bytes) return;
    const per = Math.max(this.i32[c + POOL.WSCRATCH_BYTES], Math.ceil(bytes / 64) * 64);
    this.freeWorkerScratch();
    const p = this.alloc(per * (this.threads - 1), 'worker scratch');
    this.i32[c + POOL.WSCRATCH] = p;
    this.i32[c + POOL.WSCRATCH_BYTES] = per;
  }

  /** Ends the workers (calls run on one thread afterwards). Idempotent. */
  closeThreads(): void {
    if (!this.pool) return;
    this.exports.pool_attach(0);
    this.pool.dispose();
    this.pool = null;
    this.freeWorkerScratch();
  }

  private refresh(): void {
    const buf = this.exports.memory.buffer;
    if (buf !== this.buffer) {
      this.buffer = buf;
      this._u8 = new Uint8Array(buf);
      this._i8 = new Int8Array(buf);
      this._i32 = new Int32Array(buf);
      this._f32 = new Float32Array(buf);
    }
  }
  get u8(): Uint8Array { this.refresh(); return this._u8; }
  get i8(): Int8Array { this.refresh(); return this._i8; }
  get i32(): Int32Array { this.refresh(); return this._i32; }
  get f32(): Float32Array { this.refresh(); return this._f32; }

  /** 16-byte aligned block of `size` bytes; BitnetError OUT_OF_MEMORY when linear memory cannot hold
   *  it. `temporary`: a short-lived buffer, taken from the top of free memory (see LinearHeap). */
  alloc(size: number, what = 'buffer', temporary = false): number {
    return this.heap.alloc(size, what, temporary);
  }

  /** Grows linear memory once so that `size` bytes are free in one piece: the blocks of a model
   *  load then need no further growth (and leave no unused doubling behind). */
  reserve(size: number, what = 'model'): void {
    this.heap.reserve(size, what);
  }

  free(ptr: number): void {
    this.heap.free(ptr);
  }

  /** A reusable work area of at least `size` bytes (valid until the next scratch() call). */
  scratch(size: number): number {
    if (size > this.scratchSize) {
      // Doubling (up to twice the request) keeps a slowly rising size from reallocating every call.
      const grown = Math.max(size, Math.min(this.scratchSize * 2, size * 2));
      if (this.scratchPtr) this.free(this.scratchPtr);
      this.scratchPtr = 0;
      this.scratchSize = 0;
      this.scratchPtr = this.alloc(grown, 'scratch');
      this.scratchSize = grown;
    }
    return this.scratchPtr;
  }
}
