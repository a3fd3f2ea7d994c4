// One instantiated module: its exports, allocation with typed errors, and views that are
// re-created whenever memory growth has detached the old ArrayBuffer.
import { BitnetError } from '../src/errors.js';
import type { WasmExports } from './exports.js';
import type { BuildName } from './wasm-location.js';
import type { CompiledWasmModule } from './wasm-types.js';

const WASM32_LIMIT = 2 ** 32;

export class WasmRuntime {
  readonly exports: WasmExports;
  readonly build: BuildName;
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
  }

  static async instantiate(module: CompiledWasmModule, build: BuildName): Promise<WasmRuntime> {
    let self: WasmRuntime | undefined;
    const imports = {
      env: {
        bitnet_abort: (line: number) => {
          const used = self ? self.exports.memory.buffer.byteLength : 0;
          throw new BitnetError('OUT_OF_MEMORY', `wasm allocation failed (allocator line ${line}); ${used} bytes of linear memory in use, limit 4 GiB`);
        },
      },
    };
    const instance = await WebAssembly.instantiate(module as WebAssembly.Module, imports);
    self = new WasmRuntime(instance, build);
    return self;
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

  /** 16-byte aligned block of `size` bytes; BitnetError OUT_OF_MEMORY when linear memory cannot hold it. */
  alloc(size: number, what = 'buffer'): number {
    if (!Number.isFinite(size) || size < 0) throw new BitnetError('BAD_ARGUMENT', `bad allocation size ${size}`);
    const inUse = this.exports.memory.buffer.byteLength;
    if (size >= WASM32_LIMIT - 65536) {
      throw new BitnetError('OUT_OF_MEMORY', `${what} needs ${size} bytes; wasm32 linear memory is limited to 4 GiB (${inUse} bytes already reserved)`);
    }
    try {
      const ptr = this.exports.alloc(Math.max(16, size));
      if (ptr % 16 !== 0) throw new Error(`allocator returned misaligned pointer ${ptr}`);
      return ptr;
    } catch (e) {
      if (e instanceof BitnetError) throw new BitnetError('OUT_OF_MEMORY', `${what} needs ${size} bytes: ${e.message}`);
      if (e instanceof WebAssembly.RuntimeError) {
        throw new BitnetError('OUT_OF_MEMORY', `${what} needs ${size} bytes; linear memory could not grow past ${this.exports.memory.buffer.byteLength} bytes (wasm32 limit 4 GiB)`, { cause: e });
      }
      throw e;
    }
  }

  /** Makes the allocator take `size` more bytes from the engine in one step (allocate, then free):
   *  later allocations up to that size then need no growth. The allocator otherwise doubles linear
   *  memory whenever it runs out, leaving up to half of it unused after a large load. */
  reserve(size: number, what = 'model'): void {
    this.free(this.alloc(size, what));
  }

  free(ptr: number): void {
    if (ptr) this.exports.free(ptr);
  }

  /** A reusable work area of at least `size` bytes (valid until the next scratch() call). */
  scratch(size: number): number {
    if (size > this.scratchSize) {
      if (this.scratchPtr) this.free(this.scratchPtr);
      this.scratchPtr = 0;
      this.scratchSize = 0;
      const grown = Math.max(size, Math.min(this.scratchSize * 2, size * 2));
      this.scratchPtr = this.alloc(grown, 'scratch');
      this.scratchSize = grown;
    }
    return this.scratchPtr;
  }
}
