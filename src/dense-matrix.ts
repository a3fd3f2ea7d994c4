// Dense baselines (and the future embedding / output head): f32 weights, or int8 weights with one
// scale per row (absmax), multiplied with int8-quantized activations.
import type { WasmRuntime } from '../bindings/runtime.js';
import { BitnetError } from './errors.js';
import { getRuntime } from './init.js';
import { checkArray, checkDim } from './validate.js';

export type DenseFormat = 'f32' | 'i8';

export class DenseMatrix {
  readonly rows: number;
  readonly cols: number;
  readonly format: DenseFormat;
  private rt: WasmRuntime;
  private ptr: number;

  private constructor(rt: WasmRuntime, format: DenseFormat, rows: number, cols: number, ptr: number) {
    this.rt = rt; this.format = format; this.rows = rows; this.cols = cols; this.ptr = ptr;
  }

  /** Bytes in wasm memory: the weights, and for 'i8' one f32 scale per row after them. */
  get byteLength(): number { return this.format === 'f32' ? this.rows * this.cols * 4 : scalesOffset(this.rows, this.cols) + this.rows * 4; }

  /** @internal Pointers for wasm-side users (the decoder): weights, and per-row scales for 'i8' (else 0). */
  get _wasm(): { ptr: number; scales: number } {
    if (!this.ptr) throw new BitnetError('DISPOSED', 'this DenseMatrix was disposed');
    return { ptr: this.ptr, scales: this.format === 'i8' ? this.ptr + scalesOffset(this.rows, this.cols) : 0 };
  }

  static fromFloat32(w: Float32Array, rows: number, cols: number, format: DenseFormat = 'f32', runtime?: WasmRuntime): DenseMatrix {
    checkDim('rows', rows); checkDim('cols', cols); checkArray('w', w, Float32Array, rows * cols);
    const rt = runtime ?? getRuntime();
    if (format === 'f32') {
      const ptr = rt.alloc(rows * cols * 4, 'f32 matrix');
      rt.f32.set(w, ptr >>> 2);
      return new DenseMatrix(rt, 'f32', rows, cols, ptr);
    }
    if (format !== 'i8') throw new BitnetError('BAD_ARGUMENT', `unknown dense format ${JSON.stringify(format)}`);
    // Each row quantized with the activation quantizer: q = round(w / (amax/127)), scale = amax/127.
    const so = scalesOffset(rows, cols);
    const ptr = rt.alloc(so + rows * 4, 'i8 matrix');
    const xo = (cols * 4 + 15) & ~15;
    const base = rt.scratch(xo);
    for (let r = 0; r < rows; r++) {
      rt.f32.set(w.subarray(r * cols, (r + 1) * cols), base >>> 2);
      const step = rt.exports.quantize_row(base, cols, ptr + r * cols, cols);
      if (step < 0) { rt.free(ptr); throw new BitnetError('NON_FINITE', `row ${r} of w holds a NaN or an infinity`); }
      rt.f32[((ptr + so) >>> 2) + r] = step;
    }
    return new DenseMatrix(rt, 'i8', rows, cols, ptr);
  }

  /** @internal An uninitialised matrix whose rows are written by wasm (see weights.ts). */
  static _allocate(rt: WasmRuntime, rows: number, cols: number, format: DenseFormat): DenseMatrix {
    checkDim('rows', rows); checkDim('cols', cols);
    const ptr = rt.alloc(format === 'f32' ? rows * cols * 4 : scalesOffset(rows, cols) + rows * 4, `${rows}x${cols} ${format} matrix`);
    return new DenseMatrix(rt, format, rows, cols, ptr);
  }

  /** y = W x. f32: plain SIMD dot products. i8: x quantized to int8, exact int32 dots, then scaled. */
  gemv(x: Float32Array, out?: Float32Array): Float32Array {
    if (!this.ptr) throw new BitnetError('DISPOSED', 'this DenseMatrix was disposed');
    checkArray('x', x, Float32Array, this.cols);
    const y = out === undefined ? new Float32Array(this.rows) : checkArray('out', out, Float32Array, this.rows);
    const rt = this.rt, e = rt.exports;
    const xo = (this.cols * 4 + 15) & ~15, yo = (this.rows * 4 + 15) & ~15;
    const base = rt.scratch(xo + yo + this.cols + 16);
    rt.f32.set(x, base >>> 2);
    if (this.format === 'f32') {
      e.gemv_f32(this.ptr, this.rows, this.cols, base, base + xo);
      y.set(rt.f32.subarray((base + xo) >>> 2, ((base + xo) >>> 2) + this.rows));
    } else {
      const step = e.quantize_row(base, this.cols, base + xo + yo, this.cols);
      if (step < 0) throw new BitnetError('NON_FINITE', 'x holds a NaN or an infinity');
      e.gemv_i8(this.ptr, this.rows, this.cols, base + xo + yo, base + xo, 0);
      const acc = rt.i32.subarray((base + xo) >>> 2, ((base + xo) >>> 2) + this.rows);
      const s = rt.f32.subarray((this.ptr + scalesOffset(this.rows, this.cols)) >>> 2);
      for (let r = 0; r < this.rows; r++) y[r] = Math.fround(Math.fround(acc[r]) * Math.fround(step * s[r]));
    }
    return y;
  }

  /** An independent copy of the weights. */
  clone(): DenseMatrix {
    if (!this.ptr) throw new BitnetError('DISPOSED', 'this DenseMatrix was disposed');
    const ptr = this.rt.alloc(this.byteLength, `${this.format} matrix`);
    this.rt.u8.copyWithin(ptr, this.ptr, this.ptr + this.byteLength);
    return new DenseMatrix(this.rt, this.format, this.rows, this.cols, ptr);
  }

  dispose(): void {
    if (!this.ptr) return;
    this.rt.free(this.ptr);
    this.ptr = 0;
  }
}

function scalesOffset(rows: number, cols: number): number {
  return (rows * cols + 15) & ~15;
}
