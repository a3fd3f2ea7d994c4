// One call per ternary GEMV/GEMM: quantize each activation row (int8 absmax), run the chosen
// integer kernel, then the one shared float epilogue  y = f32(acc) * f32(step * scale).
// Every kernel returns the same int32 sums, so every kernel and build gives identical bits.
import { quantize_row } from "../quant/absmax_i8";
import {
  KERNEL_COUNT, KERNEL_I2_DOT, KERNEL_I2_DOT16, KERNEL_I2_DOT32, KERNEL_SCALAR, KERNEL_TL3, KERNEL_TL3_RELAXED,
  LAYOUT_I2, LAYOUT_I8, LAYOUT_TL3, MATMUL_KERNEL_MASK, MATMUL_STREAMING, POOL_OP_MATMUL,
} from "../abi";
import { pool_args, pool_run, pool_split, pool_threads, pool_wscratch_bytes } from "../threads/pool";
import { padded_cols, padded_rows } from "./layouts";
import { gemm_i8_scalar } from "./scalar";
import { gemm_i2_dot16, gemm_i2_dot32, gemv_i2_dot32 } from "./dot_i2";
import { gemm_tl3, gemm_tl3_relaxed, gemv_tl3, gemv_tl3_relaxed, tl3_decoded_bytes, tl3_tables } from "./lut_tl3";
import { kernel_layout } from "./kernels";
export { kernel_available, kernel_layout } from "./kernels"; // (index.ts exports them from here)

// Kernel ids and the flags or-ed into an id: ../abi.ts; the layout each reads: ./kernels.ts.

// @ts-ignore: decorator
@inline function al16(n: f64): f64 { return Math.ceil(n / 16) * 16; }

// Scratch layout: q (n rows of qs bytes) | steps (n f32) | acc (n rows of rp i32) | tables | decoded
function qStride(kp: i32): i32 { return (kp + 15) & ~15; }
// @ts-ignore: decorator
@inline function stepsAt(q: usize, n: i32, qs: i32): usize { return q + <usize>al16(<f64>n * <f64>qs); }
// @ts-ignore: decorator
@inline function accAt(q: usize, n: i32, qs: i32): usize { return stepsAt(q, n, qs) + <usize>al16(<f64>n * 4); }
// @ts-ignore: decorator
@inline function tablesAt(q: usize, n: i32, qs: i32, rp: i32): usize { return accAt(q, n, qs) + <usize>al16(<f64>n * <f64>rp * 4); }

export function matmul_scratch_bytes(kernel: i32, rows: i32, cols: i32, n: i32): f64 {
  const layout = kernel_layout(kernel);
  const kp = padded_cols(layout, cols), rp = padded_rows(layout, rows);
  let s = al16(<f64>n * <f64>qStride(kp)) + al16(<f64>n * 4) + al16(<f64>n * <f64>rp * 4);
  if (layout == LAYOUT_TL3) s += <f64>n * <f64>(kp / 3) * 32 + <f64>tl3_decoded_bytes(kp);
  return s;
}

/** Scratch bytes each pool worker needs for a GEMM (n > 1) of `kernel` over `cols` columns: TL3's decode area. */
export function matmul_worker_bytes(kernel: i32, cols: i32): i32 {
  return kernel_layout(kernel) == LAYOUT_TL3 ? tl3_decoded_bytes(padded_cols(LAYOUT_TL3, cols)) : 0;
}

/** Returns 0, or -1 - j when activation row j holds a NaN or an infinity (nothing is written then).
 *  With a thread pool attached (threads/pool.ts), the rows are split among its threads: each row's
 *  sum and epilogue are the same code whichever thread runs it, so the bits do not depend on it. */
export function ternary_matmul(kernelAndFlags: i32, w: usize, rows: i32, cols: i32, x: usize, n: i32, out: usize,
                               scale: f32, scratch: usize): i32 {
  const layout = kernel_layout(kernelAndFlags & MATMUL_KERNEL_MASK);
  const kp = padded_cols(layout, cols), rp = padded_rows(layout, rows), qs = qStride(kp);
  const q = scratch, steps = stepsAt(q, n, qs), tbl = tablesAt(q, n, qs, rp);
  for (let j = 0; j < n; j++) {
    const step = quantize_row(x + ((<usize>j * <usize>cols) << 2), cols, q + <usize>j * <usize>qs, kp);
    if (step < 0) return -1 - j;
    store<f32>(steps + (<usize>j << 2), step);
  }
  if (layout == LAYOUT_TL3) {
    for (let j = 0; j < n; j++) tl3_tables(q + <usize>j * <usize>qs, kp, tbl + <usize>j * <usize>(kp / 3) * 32);
  }
  // Threads: a GEMM needs each worker's scratch (TL3's decode area).
  let t = pool_threads(<f64>rows * <f64>cols * <f64>n, rp);
  if (n > 1 && pool_wscratch_bytes() < matmul_worker_bytes(kernelAndFlags & MATMUL_KERNEL_MASK, cols)) t = 1;
  if (t > 1) {
    const a = pool_args();
    store<i32>(a, kernelAndFlags); store<usize>(a, w, 4); store<i32>(a, rows, 8); store<i32>(a, cols, 12);
    store<i32>(a, n, 16); store<usize>(a, out, 20); store<f32>(a, scale, 24); store<usize>(a, scratch, 28);
    pool_run(POOL_OP_MATMUL, t, rp);
  } else {
    matmul_rows(kernelAndFlags, w, rows, cols, n, out, scale, scratch, 0, rp, 0);
  }
  return 0;
}

/** Piece i of `pieces` of the ternary_matmul whose arguments are at `a` (see above); `dec`: the
 *  running thread's TL3 decode area (0: the caller's, after its tables). */
export function matmul_part(a: usize, i: i32, pieces: i32, dec: usize): void {
  const kernel = load<i32>(a) & MATMUL_KERNEL_MASK, rp = padded_rows(kernel_layout(kernel), load<i32>(a, 8));
  matmul_rows(load<i32>(a), load<usize>(a, 4), load<i32>(a, 8), load<i32>(a, 12), load<i32>(a, 16), load<usize>(a, 20),
              load<f32>(a, 24), load<usize>(a, 28), pool_split(i, pieces, rp), pool_split(i + 1, pieces, rp), dec);
}

/** Rows [r0, r1) (multiples of 16 or rp): their integer sums, then the shared float epilogue
 *  y = f32(acc) * f32(step * scale). `dec`: this thread's TL3 decode area (0: the calling thread's,
 *  after its tables). */
function matmul_rows(kernelAndFlags: i32, w: usize, rows: i32, cols: i32, n: i32, out: usize, scale: f32, scratch: usize,
                     r0: i32, r1: i32, dec: usize): void {
  const kernel = kernelAndFlags & MATMUL_KERNEL_MASK, streaming = (kernelAndFlags & MATMUL_STREAMING) != 0;
  const layout = kernel_layout(kernel);
  const kp = padded_cols(layout, cols), rp = padded_rows(layout, rows), qs = qStride(kp);
  const q = scratch, steps = stepsAt(q, n, qs), acc = accAt(q, n, qs), tbl = tablesAt(q, n, qs, rp);
  if (dec == 0) dec = tbl + <usize>n * <usize>(kp / 3) * 32;
  if (r0 >= r1) return;
  if (kernel == KERNEL_SCALAR) gemm_i8_scalar(w, rows, cols, q, qs, n, acc, rp, r0, r1);
  else if (kernel == KERNEL_TL3) {
    if (n == 1) gemv_tl3(w, rp, kp, tbl, acc, streaming, r0, r1);
    else gemm_tl3(w, rp, kp, tbl, n, acc, dec, r0, r1);
  } else if (kernel == KERNEL_TL3_RELAXED) {
    if (n == 1) gemv_tl3_relaxed(w, rp, kp, tbl, acc, streaming, r0, r1);
    else gemm_tl3_relaxed(w, rp, kp, tbl, n, acc, dec, r0, r1);
  } else if (kernel == KERNEL_I2_DOT32) {
    if (n == 1) gemv_i2_dot32(w, rp, kp, q, acc, streaming, r0, r1);
    else gemm_i2_dot32(w, rp, kp, q, n, acc, r0, r1);
  }
  else if (kernel == KERNEL_I2_DOT16) gemm_i2_dot16(w, rp, kp, q, n, acc, r0, r1);
  else if (n == 1) gemv_i2_dot32(w, rp, kp, q, acc, streaming, r0, r1);
  else gemm_i2_dot16(w, rp, kp, q, n, acc, r0, r1);
  // Shared epilogue, rows r0 .. min(r1, rows) (r0 is a multiple of 4: the same vector lanes as one thread).
  const re = min(r1, rows);
  for (let j = 0; j < n; j++) {
    const f: f32 = load<f32>(steps + (<usize>j << 2)) * scale;
    const a = acc + ((<usize>j * <usize>rp) << 2), o = out + ((<usize>j * <usize>rows) << 2);
    const vf = f32x4.splat(f);
    let r = r0;
    for (; r + 4 <= re; r += 4) {
      v128.store(o + (<usize>r << 2), f32x4.mul(f32x4.convert_i32x4_s(v128.load(a + (<usize>r << 2))), vf));
    }
    for (; r < re; r++) store<f32>(o + (<usize>r << 2), <f32>load<i32>(a + (<usize>r << 2)) * f);
  }
}
