// One call per ternary GEMV/GEMM: quantize each activation row (int8 absmax), run the chosen
// integer kernel, then the one shared float epilogue  y = f32(acc) * f32(step * scale).
// Every kernel returns the same int32 sums, so every kernel and build gives identical bits.
import { quantize_row } from "../quant/absmax_i8";
import {
  KERNEL_COUNT, KERNEL_I2_DOT, KERNEL_I2_DOT16, KERNEL_I2_DOT32, KERNEL_SCALAR, KERNEL_TL3, KERNEL_TL3_RELAXED,
  LAYOUT_I2, LAYOUT_I8, LAYOUT_TL3, MATMUL_KERNEL_MASK, MATMUL_STREAMING, POOL_OP_MATMUL, POOL_OP_MATMUL_FUSED, POOL_OP_QUANTIZE,
  FUSED_COLS, FUSED_COUNT, FUSED_KERNEL, FUSED_M_OUT, FUSED_M_ROWS, FUSED_M_SCALE, FUSED_M_W, FUSED_M_WORDS, FUSED_MATS,
  FUSED_MAX, FUSED_N, FUSED_SCRATCH, FUSED_X,
} from "../abi";
import { PIECES_PER_THREAD, pool_args, pool_even, pool_run, pool_run_pieces, pool_split, pool_threads, pool_threads_of, pool_wscratch_bytes } from "../threads/pool";
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

/** Quantizes n activation rows of `cols` (int8 rows of kp bytes, stride qs, at q; their steps
 *  after them; TL3: the rows' tables; rpAll: the rows of the sums, which the tables follow).
 *  Returns 0, or -1 - j for the first row j with a NaN or an infinity. A batch's rows are split
 *  among the pool's threads (each row's code is the same on any thread). */
function quantize_rows(layout: i32, x: usize, cols: i32, n: i32, kp: i32, q: usize, rpAll: i32): i32 {
  // ~4 operations per value (|x| and max, divide, round, clamp); one row per part.
  const t = n > 1 ? pool_threads_of(<f64>n * <f64>cols * 4, n) : 1;
  if (t > 1) {
    const a = pool_args();
    store<i32>(a, layout); store<usize>(a, x, 4); store<i32>(a, cols, 8); store<i32>(a, n, 12);
    store<i32>(a, kp, 16); store<usize>(a, q, 20); store<i32>(a, rpAll, 24);
    pool_run_pieces(POOL_OP_QUANTIZE, t, min(n, t * PIECES_PER_THREAD));
  } else quantize_range(layout, x, cols, n, kp, q, rpAll, 0, n);
  const steps = stepsAt(q, n, qStride(kp));
  for (let j = 0; j < n; j++) if (load<f32>(steps + (<usize>j << 2)) < 0) return -1 - j;
  return 0;
}

/** Piece i of `pieces` of the quantization whose arguments quantize_rows wrote at `a`. */
export function quantize_part(a: usize, i: i32, pieces: i32): void {
  const n = load<i32>(a, 12);
  quantize_range(load<i32>(a), load<usize>(a, 4), load<i32>(a, 8), n, load<i32>(a, 16), load<usize>(a, 20), load<i32>(a, 24),
                 pool_even(i, pieces, n), pool_even(i + 1, pieces, n));
}

/** Rows [j0, j1) of quantize_rows; a row with a NaN or an infinity gets step -1 (and no tables). */
function quantize_range(layout: i32, x: usize, cols: i32, n: i32, kp: i32, q: usize, rpAll: i32, j0: i32, j1: i32): void {
  const qs = qStride(kp), steps = stepsAt(q, n, qs), tbl = tablesAt(q, n, qs, rpAll);
  for (let j = j0; j < j1; j++) {
    const qj = q + <usize>j * <usize>qs;
    const step = quantize_row(x + ((<usize>j * <usize>cols) << 2), cols, qj, kp);
    store<f32>(steps + (<usize>j << 2), step);
    if (step >= 0 && layout == LAYOUT_TL3) tl3_tables(qj, kp, tbl + <usize>j * <usize>(kp / 3) * 32);
  }
}

/** Threads for a job of rows x cols x n over rp rows (a GEMM needs each worker's TL3 decode area). */
function matmul_threads(kernel: i32, rows: f64, cols: i32, n: i32, rp: i32): i32 {
  let t = pool_threads(rows * <f64>cols * <f64>n, rp);
  if (n > 1 && pool_wscratch_bytes() < matmul_worker_bytes(kernel, cols)) t = 1;
  return t;
}

/** Returns 0, or -1 - j when activation row j holds a NaN or an infinity (nothing is written then).
 *  With a thread pool attached (threads/pool.ts), the rows are split among its threads: each row's
 *  sum and epilogue are the same code whichever thread runs it, so the bits do not depend on it. */
export function ternary_matmul(kernelAndFlags: i32, w: usize, rows: i32, cols: i32, x: usize, n: i32, out: usize,
                               scale: f32, scratch: usize): i32 {
  const kernel = kernelAndFlags & MATMUL_KERNEL_MASK, layout = kernel_layout(kernel);
  const kp = padded_cols(layout, cols), rp = padded_rows(layout, rows);
  const bad = quantize_rows(layout, x, cols, n, kp, scratch, rp);
  if (bad < 0) return bad;
  const t = matmul_threads(kernel, <f64>rows, cols, n, rp);
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

/** Rows of matrix 0 of a rows x cols, scratch at `scratch`, the accumulators of all the job's rp rows. */
function matmul_rows(kernelAndFlags: i32, w: usize, rows: i32, cols: i32, n: i32, out: usize, scale: f32, scratch: usize,
                     r0: i32, r1: i32, dec: usize): void {
  const layout = kernel_layout(kernelAndFlags & MATMUL_KERNEL_MASK);
  const qs = qStride(padded_cols(layout, cols));
  const acc = accAt(scratch, n, qs), tbl = tablesAt(scratch, n, qs, padded_rows(layout, rows));
  rows_of(kernelAndFlags, w, rows, cols, n, out, scale, scratch, acc, tbl, dec, r0, r1);
}

// Fused jobs (FUSED_* in ../abi.ts): the matrices' padded rows end to end, each run padded to a
// 16-row block, so a piece's boundaries (pool_split: multiples of 16) fall on each matrix's row
// blocks and a matrix's rows run exactly the code (kernel, row range, epilogue) of its own call.

// @ts-ignore: decorator
@inline function fw(job: usize, k: i32): i32 { return load<i32>(job + (<usize>k << 2)); }
// @ts-ignore: decorator
@inline function fm(job: usize, m: i32, k: i32): i32 { return fw(job, FUSED_MATS + m * FUSED_M_WORDS + k); }
// @ts-ignore: decorator
@inline function block16(r: i32): i32 { return (r + 15) & ~15; }

/** The fused job's rows end to end (each matrix's padded rows rounded up to 16). */
function fused_rows(job: usize, layout: i32): i32 {
  let all = 0;
  for (let m = 0; m < fw(job, FUSED_COUNT); m++) all += block16(padded_rows(layout, fm(job, m, FUSED_M_ROWS)));
  return all;
}

/** Scratch bytes of a fused job over matrices of rows0, rows1, rows2 rows (0: absent) and `cols` columns. */
export function matmul_fused_scratch(kernel: i32, cols: i32, n: i32, rows0: i32, rows1: i32, rows2: i32): f64 {
  const layout = kernel_layout(kernel);
  let all = block16(padded_rows(layout, rows0));
  if (rows1 > 0) all += block16(padded_rows(layout, rows1));
  if (rows2 > 0) all += block16(padded_rows(layout, rows2));
  return matmul_scratch_bytes(kernel, all, cols, n);
}

/** matmul_fused_scratch for the job at `job` (its FUSED_SCRATCH area must hold this many bytes). */
export function matmul_fused_scratch_bytes(job: usize): f64 {
  const kernel = fw(job, FUSED_KERNEL) & MATMUL_KERNEL_MASK;
  return matmul_scratch_bytes(kernel, fused_rows(job, kernel_layout(kernel)), fw(job, FUSED_COLS), fw(job, FUSED_N));
}

/** The job's COUNT products out_m = W_m x (each the bits of ternary_matmul on that matrix), with the
 *  rows quantized once and one pool job for all. Returns 0, -1 - j for a non-finite activation row j
 *  (nothing written), or -1 - n for a job whose COUNT is outside 1..FUSED_MAX. */
export function ternary_matmul_fused(job: usize): i32 {
  const kernelAndFlags = fw(job, FUSED_KERNEL), kernel = kernelAndFlags & MATMUL_KERNEL_MASK, layout = kernel_layout(kernel);
  const cols = fw(job, FUSED_COLS), n = fw(job, FUSED_N), count = fw(job, FUSED_COUNT);
  if (count < 1 || count > FUSED_MAX) return -1 - n;
  const kp = padded_cols(layout, cols), all = fused_rows(job, layout);
  const bad = quantize_rows(layout, <usize>fw(job, FUSED_X), cols, n, kp, <usize>fw(job, FUSED_SCRATCH), all);
  if (bad < 0) return bad;
  let work: f64 = 0;
  for (let m = 0; m < count; m++) work += <f64>fm(job, m, FUSED_M_ROWS);
  const t = matmul_threads(kernel, work, cols, n, all);
  if (t > 1) {
    store<usize>(pool_args(), job);
    pool_run(POOL_OP_MATMUL_FUSED, t, all);
  } else {
    fused_rows_run(job, all, 0, all, 0);
  }
  return 0;
}

/** Piece i of `pieces` of the fused job whose address is the pool's first argument word. */
export function matmul_fused_part(a: usize, i: i32, pieces: i32, dec: usize): void {
  const job = load<usize>(a), all = fused_rows(job, kernel_layout(fw(job, FUSED_KERNEL) & MATMUL_KERNEL_MASK));
  fused_rows_run(job, all, pool_split(i, pieces, all), pool_split(i + 1, pieces, all), dec);
}

/** Rows [g0, g1) of the job's `all` rows end to end (fused_rows; g0, g1 multiples of 16, or the end):
 *  each matrix's share. */
function fused_rows_run(job: usize, all: i32, g0: i32, g1: i32, dec: usize): void {
  const kernelAndFlags = fw(job, FUSED_KERNEL), layout = kernel_layout(kernelAndFlags & MATMUL_KERNEL_MASK);
  const cols = fw(job, FUSED_COLS), n = fw(job, FUSED_N), scratch = <usize>fw(job, FUSED_SCRATCH);
  const qs = qStride(padded_cols(layout, cols));
  const acc = accAt(scratch, n, qs), tbl = tablesAt(scratch, n, qs, all);
  let o = 0; // the matrix's first row, end to end
  for (let m = 0; m < fw(job, FUSED_COUNT); m++) {
    const rows = fm(job, m, FUSED_M_ROWS), rp = padded_rows(layout, rows);
    const r0 = max(g0 - o, 0), r1 = min(g1 - o, rp);
    if (r0 < r1) {
      rows_of(kernelAndFlags, <usize>fm(job, m, FUSED_M_W), rows, cols, n, <usize>fm(job, m, FUSED_M_OUT),
              load<f32>(job + (<usize>(FUSED_MATS + m * FUSED_M_WORDS + FUSED_M_SCALE) << 2)),
              scratch, acc + ((<usize>n * <usize>o) << 2), tbl, dec, r0, r1);
    }
    o += block16(rp);
  }
}

/** Rows [r0, r1) (multiples of 16 or rp) of one matrix: their integer sums into acc (n rows of rp
 *  i32), then the shared float epilogue y = f32(acc) * f32(step * scale). q: the quantized rows
 *  (their steps after them), tbl: their TL3 tables, dec: this thread's TL3 decode area (0: the caller's). */
function rows_of(kernelAndFlags: i32, w: usize, rows: i32, cols: i32, n: i32, out: usize, scale: f32, q: usize,
                 acc: usize, tbl: usize, dec: usize, r0: i32, r1: i32): void {
  const kernel = kernelAndFlags & MATMUL_KERNEL_MASK, streaming = (kernelAndFlags & MATMUL_STREAMING) != 0;
  const layout = kernel_layout(kernel);
  const kp = padded_cols(layout, cols), rp = padded_rows(layout, rows), qs = qStride(kp), steps = stepsAt(q, n, qs);
  if (r0 >= r1) return;
  if (dec == 0) dec = tbl + <usize>n * <usize>(kp / 3) * 32; // the caller's: after its tables
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
