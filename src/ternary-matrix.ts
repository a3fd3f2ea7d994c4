// TernaryMatrix: a weight matrix of trits {-1, 0, +1} times one f32 scale, packed inside wasm
// memory in the layout of its kernel. y = W x with W's trits, x quantized to int8 per row.
import { MATMUL } from '../bindings/abi.js';
import { KERNEL_IDS, LAYOUT_NAMES, type KernelName } from '../bindings/exports.js';
import type { WasmRuntime } from '../bindings/runtime.js';
import { calibration, kernelForRole } from './calibrate.js';
import { BitnetError } from './errors.js';
import { getRuntime } from './init.js';
import { checkArray, checkDim, checkFinite } from './validate.js';

export interface MatrixOptions {
  /** Kernel (and so weight layout) for every product. Default: the calibration's GEMV kernel of
   *  its chosen layout (kernelInfo().kernel; the layout is I2 unless TL3's GEMV won by more than the
   *  rounds' spread: kernelInfo().calibration.layoutWhy), and for gemm() with n > 1 that layout's
   *  GEMM kernel (calibration.gemm; src/calibrate.ts). Every kernel gives the same bits. */
  kernel?: KernelName;
  /** Module instance to live in (default: the one init() selected). */
  runtime?: WasmRuntime;
  /** A hint that the weights will come from DRAM at each product (many or large matrices used in
   *  turn, as in a model): the GEMV then touches cache lines ahead of computing. Costs ~20% when
   *  the matrix is in cache. Results are identical either way. */
  streaming?: boolean;
}

// Frees the wasm memory of matrices that were garbage-collected without dispose().
const finalizer = typeof FinalizationRegistry === 'function'
  ? new FinalizationRegistry<{ rt: WasmRuntime; ptr: number }>(({ rt, ptr }) => rt.free(ptr))
  : null;

export class TernaryMatrix {
  readonly rows: number;
  readonly cols: number;
  readonly scale: number;
  /** Kernel of gemv() (and of gemm() with n = 1). */
  readonly kernel: KernelName;
  /** Kernel of gemm() with n > 1: the forced kernel, or the calibrated GEMM kernel of this layout. */
  readonly gemmKernel: KernelName;
  /** Packed bytes in wasm memory (incl. padding and per-row corrections). */
  readonly byteLength: number;
  private rt: WasmRuntime;
  private ptr: number;
  private readonly kernelId: number;
  /** kernel id | MATMUL.STREAMING as ternary_matmul takes it, for n = 1 and n > 1. */
  private readonly callId: number;
  private readonly gemmCallId: number;
  private readonly token = {};

  private constructor(rt: WasmRuntime, kernel: KernelName, gemmKernel: KernelName, rows: number, cols: number, scale: number,
                      ptr: number, bytes: number, readonly streaming = false) {
    this.rt = rt; this.kernel = kernel; this.gemmKernel = gemmKernel; this.kernelId = KERNEL_IDS[kernel];
    this.callId = this.kernelId | (streaming ? MATMUL.STREAMING : 0);
    this.gemmCallId = KERNEL_IDS[gemmKernel] | (streaming ? MATMUL.STREAMING : 0);
    this.rows = rows; this.cols = cols; this.scale = scale; this.ptr = ptr; this.byteLength = bytes;
    finalizer?.register(this, { rt, ptr }, this.token);
  }

  /** @internal Packed-weights pointer for wasm-side users (the decoder). */
  get _wasmPtr(): number {
    if (!this.ptr) throw new BitnetError('DISPOSED', 'this TernaryMatrix was disposed');
    return this.ptr;
  }

  /** Storage per weight, in bits (packed bytes * 8 / (rows * cols)). */
  get bitsPerWeight(): number { return (this.byteLength * 8) / (this.rows * this.cols); }
  get layout(): (typeof LAYOUT_NAMES)[number] { return LAYOUT_NAMES[this.rt.exports.kernel_layout(this.kernelId)]; }

  private static resolve(opts: MatrixOptions | undefined): { rt: WasmRuntime; kernel: KernelName; gemmKernel: KernelName } {
    const rt = opts?.runtime ?? getRuntime();
    if (opts?.kernel === undefined) {
      const kernel = calibration(rt).gemv;
      return { rt, kernel, gemmKernel: kernelForRole(rt, kernel, 'gemm') };
    }
    const kernel = opts.kernel;
    if (!(kernel in KERNEL_IDS)) throw new BitnetError('BAD_ARGUMENT', `unknown kernel ${JSON.stringify(kernel)}; known: ${Object.keys(KERNEL_IDS).join(', ')}`);
    if (rt.exports.kernel_available(KERNEL_IDS[kernel]) !== 1) {
      throw new BitnetError('UNSUPPORTED_BUILD', `kernel '${kernel}' needs relaxed SIMD; this instance runs the '${rt.build}' build`);
    }
    return { rt, kernel, gemmKernel: kernel };
  }

  /** From row-major trits t (values -1, 0, 1) and a scale. */
  static fromTernary(t: Int8Array, rows: number, cols: number, scale = 1, opts?: MatrixOptions): TernaryMatrix {
    checkDim('rows', rows); checkDim('cols', cols); checkFinite('scale', scale);
    checkArray('t', t, Int8Array, rows * cols);
    const { rt, kernel, gemmKernel } = TernaryMatrix.resolve(opts);
    const n = rows * cols;
    const tmp = rt.alloc(n, 'trits');
    try {
      rt.i8.set(t, tmp);
      const bad = rt.exports.find_non_ternary(tmp, n);
      if (bad >= 0) throw new BitnetError('NOT_TERNARY', `t[${bad}] = ${t[bad]} is not -1, 0 or 1`);
      return TernaryMatrix.packFrom(rt, kernel, gemmKernel, tmp, rows, cols, Math.fround(scale), opts?.streaming);
    } finally {
      rt.free(tmp);
    }
  }

  /** BitNet b1.58 absmean ternarization of f32 weights: scale = mean|w|, t = clamp(round(w / scale), -1, 1). */
  static quantize(w: Float32Array, rows: number, cols: number, opts?: MatrixOptions): TernaryMatrix {
    checkDim('rows', rows); checkDim('cols', cols);
    checkArray('w', w, Float32Array, rows * cols);
    const { rt, kernel, gemmKernel } = TernaryMatrix.resolve(opts);
    const n = rows * cols;
    const wp = rt.alloc(n * 4, 'f32 weights');
    let tp = 0;
    try {
      tp = rt.alloc(n, 'trits');
      rt.f32.set(w, wp >>> 2);
      const scale = rt.exports.absmean_quantize(wp, n, tp);
      if (scale < 0) throw new BitnetError('NON_FINITE', 'w holds a NaN or an infinity');
      return TernaryMatrix.packFrom(rt, kernel, gemmKernel, tp, rows, cols, scale, opts?.streaming);
    } finally {
      rt.free(tp); rt.free(wp);
    }
  }

  /** @internal From trits already in wasm memory (e.g. decoded from a GGUF tensor); the caller keeps tp. */
  static _fromWasmTrits(rt: WasmRuntime, kernel: KernelName, tp: number, rows: number, cols: number, scale: number): TernaryMatrix {
    checkDim('rows', rows); checkDim('cols', cols); checkFinite('scale', scale);
    return TernaryMatrix.packFrom(rt, kernel, kernel, tp, rows, cols, Math.fround(scale));
  }

  /** @internal Adopts weights already packed (by the model loader) at ptr, bytes long, for kernel. */
  static _fromPacked(rt: WasmRuntime, kernel: KernelName, ptr: number, bytes: number, rows: number, cols: number, scale: number): TernaryMatrix {
    checkDim('rows', rows); checkDim('cols', cols); checkFinite('scale', scale);
    return new TernaryMatrix(rt, kernel, kernel, rows, cols, Math.fround(scale), ptr, bytes);
  }

  private static packFrom(rt: WasmRuntime, kernel: KernelName, gemmKernel: KernelName, tp: number, rows: number, cols: number, scale: number, streaming = false): TernaryMatrix {
    const layout = rt.exports.kernel_layout(KERNEL_IDS[kernel]);
    const bytes = rt.exports.packed_bytes(layout, rows, cols);
    const ptr = rt.alloc(bytes, `${rows}x${cols} ternary matrix`);
    rt.exports.pack(layout, tp, rows, cols, ptr);
    return new TernaryMatrix(rt, kernel, gemmKernel, rows, cols, scale, ptr, bytes, streaming);
  }

  /** y = W x (x.length === cols). */
  gemv(x: Float32Array, out?: Float32Array): Float32Array {
    return this.gemm(x, 1, out);
  }

  /** Y = X W^T for n rows of X (row-major, n * cols), each row quantized on its own. */
  gemm(X: Float32Array, n: number, out?: Float32Array): Float32Array {
    if (!this.ptr) throw new BitnetError('DISPOSED', 'this TernaryMatrix was disposed');
    checkDim('n', n);
    checkArray(n === 1 ? 'x' : 'X', X, Float32Array, n * this.cols);
    const y = out === undefined ? new Float32Array(n * this.rows) : checkArray('out', out, Float32Array, n * this.rows);
    const rt = this.rt, e = rt.exports;
    const xb = n * this.cols * 4, yb = n * this.rows * 4;
    const xo = (xb + 15) & ~15, yo = (yb + 15) & ~15;
    const base = rt.scratch(xo + yo + e.matmul_scratch_bytes(this.kernelId, this.rows, this.cols, n));
    // The runtime's threads split the rows (same bits); a TL3 GEMM needs a decode area per worker.
    rt.useThreads(rt.defaultThreads);
    if (n > 1) rt.workerScratch(e.matmul_worker_bytes(this.gemmCallId & MATMUL.KERNEL_MASK, this.cols));
    rt.f32.set(X, base >>> 2);
    const status = e.ternary_matmul(n === 1 ? this.callId : this.gemmCallId, this.ptr, this.rows, this.cols, base, n, base + xo, this.scale, base + xo + yo);
    rt.checkThreads();
    if (status !== 0) {
      const row = -1 - status;
      throw new BitnetError('NON_FINITE', n === 1 ? 'x holds a NaN or an infinity' : `row ${row} of X holds a NaN or an infinity`);
    }
    y.set(rt.f32.subarray((base + xo) >>> 2, ((base + xo) >>> 2) + n * this.rows));
    return y;
  }

  /** An independent copy of the packed weights (same kernel and runtime). */
  clone(): TernaryMatrix {
    if (!this.ptr) throw new BitnetError('DISPOSED', 'this TernaryMatrix was disposed');
    const ptr = this.rt.alloc(this.byteLength, `${this.rows}x${this.cols} ternary matrix`);
    this.rt.u8.copyWithin(ptr, this.ptr, this.ptr + this.byteLength);
    return new TernaryMatrix(this.rt, this.kernel, this.gemmKernel, this.rows, this.cols, this.scale, ptr, this.byteLength, this.streaming);
  }

  /** The same packed weights with another scale. Takes over the memory: this handle becomes disposed. */
  withScale(scale: number): TernaryMatrix {
    if (!this.ptr) throw new BitnetError('DISPOSED', 'this TernaryMatrix was disposed');
    checkFinite('scale', scale);
    const m = new TernaryMatrix(this.rt, this.kernel, this.gemmKernel, this.rows, this.cols, Math.fround(scale), this.ptr, this.byteLength, this.streaming);
    finalizer?.unregister(this.token);
    this.ptr = 0;
    return m;
  }

  /** Frees the packed weights. Further use throws BitnetError('DISPOSED'). Idempotent. */
  dispose(): void {
    if (!this.ptr) return;
    finalizer?.unregister(this.token);
    this.rt.free(this.ptr);
    this.ptr = 0;
  }
}
