// One call per ternary GEMV/GEMM: quantize each activation row (int8 absmax), run the chosen
// integer kernel, then the one shared float epilogue  y = f32(acc) * f32(step * scale).
// Every kernel returns the same int32 sums, so every kernel and build gives identical bits.
import { quantize_row } from "../quant/absmax_i8";
import {
  KERNEL_COUNT, KERNEL_I2_DOT, KERNEL_I2_DOT16, KERNEL_I2_DOT32, KERNEL_SCALAR, KERNEL_TL3, KERNEL_TL3_RELAXED,
  LAYOUT_I2, LAYOUT_I8, LAYOUT_TL3, MATMUL_KERNEL_MASK, MATMUL_STREAMING,
} from "../abi";
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

export function matmul_scratch_bytes(kernel: i32, rows: i32, cols: i32, n: i32): f64 {
  const layout = kernel_layout(kernel);
  const kp = padded_cols(layout, cols), rp = padded_rows(layout, rows);
  let s = al16(<f64>n * <f64>qStride(kp)) + al16(<f64>n * 4) + al16(<f64>n * <f64>rp * 4);
  if (layout == LAYOUT_TL3) s += <f64>n * <f64>(kp / 3) * 32 + <f64>tl3_decoded_bytes(kp);
  return s;
}

/** Returns 0, or -1 - j when activation row j holds a NaN or an infinity (nothing is written then). */
export function ternary_matmul(kernelAndFlags: i32, w: usize, rows: i32, cols: i32, x: usize, n: i32, out: usize,
                               scale: f32, scratch: usize): i32 {
  const kernel = kernelAndFlags & MATMUL_KERNEL_MASK, streaming = (kernelAndFlags & MATMUL_STREAMING) != 0;
  const layout = kernel_layout(kernel);
  const kp = padded_cols(layout, cols), rp = padded_rows(layout, rows), qs = qStride(kp);
  const q = scratch;
  const steps = q + <usize>al16(<f64>n * <f64>qs);
  const acc = steps + <usize>al16(<f64>n * 4);
  const tbl = acc + <usize>al16(<f64>n * <f64>rp * 4);
  for (let j = 0; j < n; j++) {
    const step = quantize_row(x + ((<usize>j * <usize>cols) << 2), cols, q + <usize>j * <usize>qs, kp);
    if (step < 0) return -1 - j;
    store<f32>(steps + (<usize>j << 2), step);
  }
  if (layout == LAYOUT_TL3) {
    for (let j = 0; j < n; j++) tl3_tables(q + <usize>j * <usize>qs, kp, tbl + <usize>j * <usize>(kp / 3) * 32);
  }
  if (kernel == KERNEL_SCALAR) gemm_i8_scalar(w, rows, cols, q, qs, n, acc, rp);
  else if (kernel == KERNEL_TL3) {
    if (n == 1) gemv_tl3(w, rp, kp, tbl, acc, streaming);
    else gemm_tl3(w, rp, kp, tbl, n, acc, tbl + <usize>n * <usize>(kp / 3) * 32);
  } else if (kernel == KERNEL_TL3_RELAXED) {
    if (n == 1) gemv_tl3_relaxed(w, rp, kp, tbl, acc, streaming);
    else gemm_tl3_relaxed(w, rp, kp, tbl, n, acc, tbl + <usize>n * <usize>(kp / 3) * 32);
  } else if (kernel == KERNEL_I2_DOT32) {
    if (n == 1) gemv_i2_dot32(w, rp, kp, q, acc, streaming);
    else gemm_i2_dot32(w, rp, kp, q, n, acc);
  }
  else if (kernel == KERNEL_I2_DOT16) gemm_i2_dot16(w, rp, kp, q, n, acc);
  else if (n == 1) gemv_i2_dot32(w, rp, kp, q, acc, streaming);
  else gemm_i2_dot16(w, rp, kp, q, n, acc);
  // Shared epilogue.
  for (let j = 0; j < n; j++) {
    const f: f32 = load<f32>(steps + (<usize>j << 2)) * scale;
    const a = acc + ((<usize>j * <usize>rp) << 2), o = out + ((<usize>j * <usize>rows) << 2);
    const vf = f32x4.splat(f);
    let r = 0;
    for (; r + 4 <= rows; r += 4) {
      v128.store(o + (<usize>r << 2), f32x4.mul(f32x4.convert_i32x4_s(v128.load(a + (<usize>r << 2))), vf));
    }
    for (; r < rows; r++) store<f32>(o + (<usize>r << 2), <f32>load<i32>(a + (<usize>r << 2)) * f);
  }
  return 0;
}
