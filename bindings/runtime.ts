// One instantiated module: its exports, allocation with typed errors, and views that are
// re-created whenever memory growth has detached the old ArrayBuffer.
import { BitnetError } from './errors.js';
import type { WasmExports } from './exports.js';
import { LinearHeap } from './heap.js';
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

  private constructor(instance: WebAssembly.Instance, build: BuildName) {
    this.exports = instance.exports as unknown as WasmExports;
    this.build = build;
    this.heap = new LinearHeap(this.exports.memory, this.exports.heap_base());
  }

  static async instantiate(module: CompiledWasmModule, build: BuildName): Promise<WasmRuntime> {
    const imports = {
      env: {
        // AssemblyScript's abort(): the wasm allocates nothing, so this is a bug, not memory.
        bitnet_abort: (line: number) => {
          throw new BitnetError('MODEL_ERROR', `wasm abort (line ${line}): a bug in bitnet-wasm`);
        },
      },
    };
    const instance = await WebAssembly.instantiate(module as WebAssembly.Module, imports);
    return new WasmRuntime(instance, build);
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
