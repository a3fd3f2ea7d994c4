// The decoder's forward pass: one call into wasm per step (one token, or a prefill batch).
// JS lays the model out once at load time and writes a descriptor of words (below); every op of
// the BitNet block runs here, in a fixed order, so every engine and build gives identical bits.
//
// One block (llama.cpp's `bitnet` graph; `llama` skips the two sub-norms):
//   h = rmsnorm(x) * attn_norm;  q,k,v = Wq h, Wk h, Wv h;  rope_neox(q, k);  kv cache <- k, v
//   a = attention(q, cache);  a = rmsnorm(a) * attn_sub_norm;  x += Wo a
//   h = rmsnorm(x) * ffn_norm;  g = act(Wgate h) * (Wup h);  g = rmsnorm(g) * ffn_sub_norm;  x += Wdown g
// then logits = head . (rmsnorm(x) * output_norm), for the last token of the batch only.
import { quantize_row } from "../quant/absmax_i8";
import { first_nonfinite_f32, gemv_f32, gemv_i8 } from "../dense/matrix";
import { ternary_matmul } from "../ternary/matmul";
import { PIECES_PER_THREAD, pool_args, pool_even, pool_run, pool_run_pieces, pool_split, pool_threads, pool_threads_of, pool_wscratch_bytes } from "../threads/pool";
import { rmsnorm } from "../nn/rmsnorm";
import { rope_apply, rope_apply_interleaved, rope_table, rope_table_bytes } from "../nn/rope";
import { attention_heads } from "../nn/attention";
import { kv_load_f16, kv_store_f16 } from "../nn/kv_f16";
import { add } from "../nn/elementwise";
import { relu_sq_mul, silu_mul } from "../nn/glu";

import {
  ACT_RELU2, D_ACT, D_EMBD, D_EMBD_FMT, D_EMBD_SCALES, D_EPS, D_HEAD, D_HEAD_DIM, D_HEAD_FMT, D_HEAD_SCALES, D_K_CACHE,
  D_KERNEL, D_KERNEL_GEMM, D_KV_TYPE, D_LAYERS, D_N_CTX, D_N_EMBD, D_N_FF, D_N_HEAD, D_N_HEAD_KV, D_N_LAYER, D_N_VOCAB, D_OUT_NORM,
  D_ROPE_BASE, D_ROPE_DIM, D_ROPE_TYPE, D_SCRATCH, D_V_CACHE, DENSE_F32, FORWARD_BAD_POS, FORWARD_BAD_TOKEN,
  FORWARD_NONFINITE, FORWARD_OK, FUSED_COLS, FUSED_COUNT, FUSED_KERNEL, FUSED_M_OUT, FUSED_M_ROWS, FUSED_M_SCALE, FUSED_M_W,
  FUSED_M_WORDS, FUSED_MATS, FUSED_N, FUSED_SCRATCH, FUSED_WORDS, FUSED_X, KV_F16, POOL_OP_ATTENTION, POOL_OP_HEAD, POOL_OP_ROWS,
  L_ATTN_NORM, L_ATTN_SUB_NORM, L_FFN_NORM, L_FFN_SUB_NORM, L_MATS, L_WORDS,
  M_FMT, M_PTR, M_SCALE, M_WORDS, MAT_F32, MAT_TERNARY, MATMUL_STREAMING, ROPE_INTERLEAVED, SLOT_DOWN, SLOT_GATE, SLOT_O,
  SLOT_Q,
} from "../abi";

// The descriptor's words and codes are in ../abi.ts (shared with src/model/model.ts).

// @ts-ignore: decorator
@inline function wi(d: usize, k: i32): i32 { return load<i32>(d + (<usize>k << 2)); }
// @ts-ignore: decorator
@inline function wf(d: usize, k: i32): f32 { return load<f32>(d + (<usize>k << 2)); }
// @ts-ignore: decorator
@inline function al16(n: usize): usize { return (n + 15) & ~15; }
// @ts-ignore: decorator
@inline function f4(n: i32): usize { return al16(<usize>n << 2); }

import { matmul_fused_scratch, matmul_scratch_bytes, ternary_matmul_fused } from "../ternary/matmul";
import { attention_scratch_bytes } from "../nn/attention";

// Scratch layout for a batch of n tokens, as offsets from the scratch base (one definition, used
// both to size the scratch and to run): x, h, q, k, v, a, g, u (n rows each), the head input,
// the rope table, attention scratch, one int8 row, a fused matmul job's words, then the ternary
// matmul scratch (the largest of the single and the fused products').
const S_X = 0, S_H = 1, S_HB = 2, S_Q = 3, S_K = 4, S_V = 5, S_A = 6, S_G = 7, S_U = 8, S_ROPE = 9,
  S_ATT = 10, S_QROW = 11, S_DQ = 12, S_JOB = 13, S_MM = 14, S_END = 15;
// @ts-ignore: decorator
@lazy const OFFSETS = memory.data(16 * 8, 16);

// @ts-ignore: decorator
@inline function put(i: i32, o: f64, size: usize): f64 { store<f64>(OFFSETS + (<usize>i << 3), o); return o + <f64>size; }

function layout(desc: usize, n: i32): void {
  const e = wi(desc, D_N_EMBD), ff = wi(desc, D_N_FF), hd = wi(desc, D_HEAD_DIM), kernel = wi(desc, D_KERNEL);
  const qd = wi(desc, D_N_HEAD) * hd, kd = wi(desc, D_N_HEAD_KV) * hd;
  // No managed arrays here: the runtime never collects, so a literal array would leak per call.
  let o: f64 = 0;
  o = put(S_X, o, f4(n * e)); o = put(S_H, o, f4(n * e)); o = put(S_HB, o, f4(e));
  o = put(S_Q, o, f4(n * qd)); o = put(S_K, o, f4(n * kd)); o = put(S_V, o, f4(n * kd));
  o = put(S_A, o, f4(n * qd)); o = put(S_G, o, f4(n * ff)); o = put(S_U, o, f4(n * ff));
  o = put(S_ROPE, o, al16(<usize>rope_table_bytes(wi(desc, D_ROPE_DIM))));
  o = put(S_ATT, o, al16(<usize>attention_scratch_bytes(wi(desc, D_N_HEAD), wi(desc, D_N_HEAD_KV), hd, wi(desc, D_N_CTX))));
  o = put(S_QROW, o, al16(<usize>max(max(e, ff), qd)));
  o = put(S_DQ, o, f4(max(max(e, ff), qd)));
  o = put(S_JOB, o, f4(FUSED_WORDS));
  const single = Math.max(Math.max(matmul_scratch_bytes(kernel, qd, e, n), matmul_scratch_bytes(kernel, e, qd, n)),
                          Math.max(matmul_scratch_bytes(kernel, ff, e, n), matmul_scratch_bytes(kernel, e, ff, n)));
  const fused = Math.max(matmul_fused_scratch(kernel, e, n, qd, kd, kd), matmul_fused_scratch(kernel, e, n, ff, ff, 0));
  o = put(S_MM, o, <usize>Math.max(single, fused));
  store<f64>(OFFSETS + (<usize>S_END << 3), o);
}

// @ts-ignore: decorator
@inline function off(i: i32): usize { return <usize>load<f64>(OFFSETS + (<usize>i << 3)); }

/** Bytes of scratch a forward() over n tokens needs (JS allocates it and stores it at D_SCRATCH). */
export function forward_scratch_bytes(desc: usize, n: i32): f64 {
  layout(desc, n);
  return load<f64>(OFFSETS + (<usize>S_END << 3));
}

// @ts-ignore: decorator
@inline function matmul(desc: usize, layer: usize, mat: i32, rows: i32, cols: i32, x: usize, n: i32, out: usize, scratch: usize): i32 {
  const word = L_MATS + M_WORDS * mat, w = <usize>wi(layer, word + M_PTR);
  if (wi(layer, word + M_FMT) == MAT_F32) {
    // Per-block scales: the f32 matrix holds t * d exactly; the activations go through the same
    // int8 quantization as everywhere (BitNet's y = step * sum_b d_b sum_k t_k q_k, in f32).
    const s = <usize>wi(desc, D_SCRATCH), qrow = s + off(S_QROW), dq = s + off(S_DQ);
    for (let j = 0; j < n; j++) {
      const step = quantize_row(x + ((<usize>j * <usize>cols) << 2), cols, qrow, cols);
      if (step < 0) return FORWARD_NONFINITE;
      for (let k = 0; k < cols; k++) store<f32>(dq + (<usize>k << 2), <f32>load<i8>(qrow + <usize>k) * step);
      gemv_f32(w, rows, cols, dq, out + ((<usize>j * <usize>rows) << 2));
    }
    return FORWARD_OK;
  }
  return ternary_matmul(wi(desc, n == 1 ? D_KERNEL : D_KERNEL_GEMM) | MATMUL_STREAMING, w, rows, cols, x, n, out, wf(layer, word + M_SCALE), scratch);
}

/** out_m = W_m x for the layer's matrices slot, slot + 1 (and slot + 2 when rows2 > 0: Q, K, V and
 *  gate, up are consecutive slots), which read the same rows x: one fused job (the rows quantized
 *  once, one pool hand-off; each matrix's bits are its own call's) when all are packed ternary,
 *  else one matmul each. */
// @ts-ignore: decorator
@inline function matmuls(desc: usize, layer: usize, slot: i32, rows0: i32, rows1: i32, rows2: i32, cols: i32, x: usize, n: i32,
                         out0: usize, out1: usize, out2: usize, scratch: usize): i32 {
  const count = rows2 > 0 ? 3 : 2;
  let ternary = true;
  for (let m = 0; m < count; m++) ternary = ternary && wi(layer, L_MATS + M_WORDS * (slot + m) + M_FMT) == MAT_TERNARY;
  if (!ternary) {
    if (matmul(desc, layer, slot, rows0, cols, x, n, out0, scratch) < 0) return FORWARD_NONFINITE;
    if (matmul(desc, layer, slot + 1, rows1, cols, x, n, out1, scratch) < 0) return FORWARD_NONFINITE;
    if (count > 2 && matmul(desc, layer, slot + 2, rows2, cols, x, n, out2, scratch) < 0) return FORWARD_NONFINITE;
    return FORWARD_OK;
  }
  const job = <usize>wi(desc, D_SCRATCH) + off(S_JOB);
  store<i32>(job + (<usize>FUSED_KERNEL << 2), wi(desc, n == 1 ? D_KERNEL : D_KERNEL_GEMM) | MATMUL_STREAMING);
  store<i32>(job + (<usize>FUSED_COLS << 2), cols);
  store<i32>(job + (<usize>FUSED_N << 2), n);
  store<usize>(job + (<usize>FUSED_X << 2), x);
  store<usize>(job + (<usize>FUSED_SCRATCH << 2), scratch);
  store<i32>(job + (<usize>FUSED_COUNT << 2), count);
  for (let m = 0; m < count; m++) {
    const word = L_MATS + M_WORDS * (slot + m), mj = job + (<usize>(FUSED_MATS + m * FUSED_M_WORDS) << 2);
    store<i32>(mj + (<usize>FUSED_M_W << 2), wi(layer, word + M_PTR));
    store<i32>(mj + (<usize>FUSED_M_ROWS << 2), m == 0 ? rows0 : m == 1 ? rows1 : rows2);
    store<f32>(mj + (<usize>FUSED_M_SCALE << 2), wf(layer, word + M_SCALE));
    store<usize>(mj + (<usize>FUSED_M_OUT << 2), m == 0 ? out0 : m == 1 ? out1 : out2);
  }
  return ternary_matmul_fused(job) < 0 ? FORWARD_NONFINITE : FORWARD_OK;
}

// The steps of forward(), in the order it runs them. Inlined: the same code as one long function.

/** x[j] = the embedding row of tokens[j] (f32 rows copied, int8 rows times their scale);
 *  FORWARD_BAD_TOKEN for an id outside the vocabulary. */
// @ts-ignore: decorator
@inline function embed(desc: usize, tokens: usize, n: i32, x: usize): i32 {
  const e = wi(desc, D_N_EMBD), vocab = wi(desc, D_N_VOCAB);
  const embd = <usize>wi(desc, D_EMBD), efmt = wi(desc, D_EMBD_FMT), escales = <usize>wi(desc, D_EMBD_SCALES);
  for (let j = 0; j < n; j++) {
    const t = load<i32>(tokens + (<usize>j << 2));
    if (t < 0 || t >= vocab) return FORWARD_BAD_TOKEN;
    const xr = x + ((<usize>j * <usize>e) << 2);
    if (efmt == DENSE_F32) memory.copy(xr, embd + ((<usize>t * <usize>e) << 2), <usize>e << 2);
    else {
      const er = embd + <usize>t * <usize>e, st = load<f32>(escales + (<usize>t << 2));
      for (let i = 0; i < e; i++) store<f32>(xr + (<usize>i << 2), <f32>load<i8>(er + <usize>i) * st);
    }
  }
  return FORWARD_OK;
}

// Row jobs (POOL_OP_ROWS): a batch's row-wise steps, split among the pool's threads by rows (each
// row's code is the same whichever thread runs it). Kinds, and their rough cost per value in the
// pool's unit (multiply-adds), which decides whether a hand-off pays (pool_threads_of):
const ROWS_RMSNORM = 0;  // out[j] = rmsnorm(x[j]) * w: a square-add, a multiply and a scale
const ROWS_SILU_MUL = 1; // g = silu(g) * u: an f64 exp (a polynomial) and a divide
const ROWS_RELU_SQ_MUL = 2; // g = relu(g)^2 * u
const ROWS_ROPE = 3;     // attend(): tokens' RoPE and cache rows (its own arguments and cost)
// @ts-ignore: decorator
@lazy const ROWS_COST = memory.data<f64>([3, 24, 3]);

/** Runs row job `kind` over n rows of dim values (x, w, out as the kind reads them; f: eps) on
 *  the pool when it pays, else here. */
// @ts-ignore: decorator
@inline function rows_job(kind: i32, x: usize, w: usize, n: i32, dim: i32, f: f32, out: usize): void {
  const t = n > 1 ? pool_threads_of(<f64>n * <f64>dim * load<f64>(ROWS_COST + (<usize>kind << 3)), n) : 1;
  if (t > 1) {
    const a = pool_args();
    store<i32>(a, kind); store<usize>(a, x, 4); store<usize>(a, w, 8); store<i32>(a, n, 12);
    store<i32>(a, dim, 16); store<f32>(a, f, 20); store<usize>(a, out, 24);
    pool_run_pieces(POOL_OP_ROWS, t, min(n, t * PIECES_PER_THREAD));
  } else rows_range(kind, x, w, dim, f, out, 0, n);
}

/** Piece i of `pieces` of the row job whose arguments rows_job wrote at `a`. */
export function rows_part(a: usize, i: i32, pieces: i32, ws: usize): void {
  const n = load<i32>(a, 12), j0 = pool_even(i, pieces, n), j1 = pool_even(i + 1, pieces, n);
  if (load<i32>(a) == ROWS_ROPE) {
    // (the caller's table area is forward's S_ROPE)
    const desc = load<usize>(a, 28);
    rope_store(desc, load<i32>(a, 16), load<usize>(a, 24), load<usize>(a, 4), load<usize>(a, 8), load<i32>(a, 20), j0, j1,
               ws ? ws : <usize>wi(desc, D_SCRATCH) + off(S_ROPE));
    return;
  }
  rows_range(load<i32>(a), load<usize>(a, 4), load<usize>(a, 8), load<i32>(a, 16), load<f32>(a, 20), load<usize>(a, 24), j0, j1);
}

/** Rows [j0, j1) of a row job. The elementwise kinds run their rows as one run: with rows of 4
 *  values (or one row of all), a run starts where one call's 4-lane groups do, so every value takes
 *  the same vector or scalar path as in one call over all of them. */
function rows_range(kind: i32, x: usize, w: usize, dim: i32, f: f32, out: usize, j0: i32, j1: i32): void {
  if (kind == ROWS_RMSNORM) {
    for (let j = j0; j < j1; j++) rmsnorm(x + ((<usize>j * <usize>dim) << 2), w, dim, f, out + ((<usize>j * <usize>dim) << 2));
    return;
  }
  const o = (<usize>j0 * <usize>dim) << 2, len = (j1 - j0) * dim;
  if (kind == ROWS_RELU_SQ_MUL) relu_sq_mul(x + o, w + o, len, out + o); else silu_mul(x + o, w + o, len, out + o);
}

/** out[j] = rmsnorm(x[j]) * w for n rows of dim values (out may be x). */
// @ts-ignore: decorator
@inline function rmsnorm_rows(x: usize, w: usize, n: i32, dim: i32, eps: f32, out: usize): void {
  rows_job(ROWS_RMSNORM, x, w, n, dim, eps, out);
}

/** g = act(g) * u over n * ff values, split in runs of 4-value groups (a decode step's one row
 *  too): the runs start on the 4-lane groups of one call over all values (see rows_range). */
// @ts-ignore: decorator
@inline function glu_rows(act: i32, g: usize, u: usize, n: i32, ff: i32): void {
  const kind = act == ACT_RELU2 ? ROWS_RELU_SQ_MUL : ROWS_SILU_MUL, all = n * ff;
  if ((all & 3) == 0) rows_job(kind, g, u, all >> 2, 4, 0, g);
  else rows_range(kind, g, u, all, 0, g, 0, 1);
}

/** Rotates nHeads heads of vec by the rope table, in the model's RoPE type. */
// @ts-ignore: decorator
@inline function rope_heads(ropeType: i32, vec: usize, nHeads: i32, hd: i32, rd: i32, rope: usize): void {
  if (ropeType == ROPE_INTERLEAVED) rope_apply_interleaved(vec, nHeads, hd, rd, rope); else rope_apply(vec, nHeads, hd, rd, rope);
}

/** Bytes of one layer's K (or V) cache. */
// @ts-ignore: decorator
@inline function layer_cache_bytes(desc: usize): usize {
  return <usize>wi(desc, D_N_CTX) * <usize>(wi(desc, D_N_HEAD_KV) * wi(desc, D_HEAD_DIM)) << (wi(desc, D_KV_TYPE) == KV_F16 ? 1 : 2);
}

/** Tokens [j0, j1) of a batch at positions pos0..: rotates each one's q and k (its table at `rope`)
 *  and stores its k and v in layer l's cache. */
function rope_store(desc: usize, l: i32, q: usize, k: usize, v: usize, pos0: i32, j0: i32, j1: i32, rope: usize): void {
  const nh = wi(desc, D_N_HEAD), nkv = wi(desc, D_N_HEAD_KV), hd = wi(desc, D_HEAD_DIM), rd = wi(desc, D_ROPE_DIM);
  const base = wf(desc, D_ROPE_BASE), ropeType = wi(desc, D_ROPE_TYPE), f16 = wi(desc, D_KV_TYPE) == KV_F16;
  const qd = nh * hd, kd = nkv * hd;
  const lc = <usize>l * layer_cache_bytes(desc), kc = <usize>wi(desc, D_K_CACHE) + lc, vc = <usize>wi(desc, D_V_CACHE) + lc;
  for (let j = j0; j < j1; j++) {
    const pos = pos0 + j;
    const kj = k + ((<usize>j * <usize>kd) << 2), vj = v + ((<usize>j * <usize>kd) << 2);
    rope_table(pos, rd, base, rope);
    rope_heads(ropeType, q + ((<usize>j * <usize>qd) << 2), nh, hd, rd, rope);
    rope_heads(ropeType, kj, nkv, hd, rd, rope);
    if (f16) {
      kv_store_f16(kj, kd, kc + ((<usize>pos * <usize>kd) << 1));
      kv_store_f16(vj, kd, vc + ((<usize>pos * <usize>kd) << 1));
    } else {
      memory.copy(kc + ((<usize>pos * <usize>kd) << 2), kj, <usize>kd << 2);
      memory.copy(vc + ((<usize>pos * <usize>kd) << 2), vj, <usize>kd << 2);
    }
  }
}

/** The batch's tokens at positions pos0.. in layer l: rotates each token's q and k and stores its
 *  k and v in the layer's cache, then writes each token j's attention over positions 0..pos0+j to
 *  a[j]. Every row token j reads (0..pos0+j) is stored before any attention runs and none changes
 *  while they run (later tokens' rows lie past it), so the tokens' attentions are independent:
 *  (token, head range) pieces on the pool's threads, or all of them on this one, same bits. */
// @ts-ignore: decorator
@inline function attend(desc: usize, l: i32, q: usize, k: usize, v: usize, a: usize, n: i32, pos0: i32, rope: usize, att: usize): void {
  const nh = wi(desc, D_N_HEAD), nkv = wi(desc, D_N_HEAD_KV), hd = wi(desc, D_HEAD_DIM), rd = wi(desc, D_ROPE_DIM);
  const kd = nkv * hd;
  const lc = <usize>l * layer_cache_bytes(desc), kc = <usize>wi(desc, D_K_CACHE) + lc, vc = <usize>wi(desc, D_V_CACHE) + lc;
  // Each token's RoPE and cache rows are its own (its table in the running thread's scratch): a
  // batch's tokens split among the threads. Work: the table's sin/cos and the rotations, roughly.
  let tr = n > 1 ? pool_threads_of(<f64>n * (<f64>rd * 30 + <f64>(nh + nkv) * <f64>rd * 3 + <f64>(4 * kd)), n) : 1;
  if (tr > 1 && pool_wscratch_bytes() < rope_table_bytes(rd)) tr = 1;
  if (tr > 1) {
    const ar = pool_args();
    store<i32>(ar, ROWS_ROPE); store<usize>(ar, k, 4); store<usize>(ar, v, 8); store<i32>(ar, n, 12);
    store<i32>(ar, l, 16); store<i32>(ar, pos0, 20); store<usize>(ar, q, 24); store<usize>(ar, desc, 28);
    pool_run_pieces(POOL_OP_ROWS, tr, min(n, tr * PIECES_PER_THREAD));
  } else rope_store(desc, l, q, k, v, pos0, 0, n, rope);
  // Multiply-adds: scores and values, nh * hd each per (token, position) pair.
  const work = 2 * <f64>nh * <f64>hd * (<f64>n * <f64>pos0 + <f64>n * <f64>(n + 1) / 2);
  let t = pool_threads_of(work, n * nh);
  // A worker needs an attention scratch of its own (sized at model load; without one, one thread).
  if (t > 1 && pool_wscratch_bytes() < attention_scratch_bytes(nh, nkv, hd, pos0 + n)) t = 1;
  if (t > 1) {
    const u = head_ranges(n, nh, nkv, t, t * PIECES_PER_THREAD), ar = pool_args();
    store<usize>(ar, desc); store<i32>(ar, l, 4); store<usize>(ar, q, 8); store<usize>(ar, a, 12);
    store<usize>(ar, att, 16); store<i32>(ar, pos0, 20); store<i32>(ar, n, 24); store<i32>(ar, u, 28);
    pool_run_pieces(POOL_OP_ATTENTION, t, n * u);
  } else {
    for (let j = 0; j < n; j++) attend_heads(desc, kc, vc, q, a, pos0, j, 0, nh, att);
  }
}

/** Head ranges per token for a job of n tokens on t threads that wants `goal` pieces: 1 (whole
 *  tokens) when there are enough tokens; else ranges of whole kv groups (a group's K and V rows are
 *  then read by one thread, and its heads share each load in the score tiles), as many as wanted or
 *  one group each; only when there are fewer groups than threads, every group cut into the same
 *  number of parts (none straddles two groups). */
// @ts-ignore: decorator
@inline function head_ranges(n: i32, nh: i32, nkv: i32, t: i32, goal: i32): i32 {
  const want = (goal + n - 1) / n;
  if (want <= nkv || n * nkv >= t) return min(want, nkv);
  return nkv * min(nh / nkv, (t + n * nkv - 1) / (n * nkv));
}

/** First head of range r of u (head_ranges): u <= nkv, ranges of whole groups; else each group in
 *  u / nkv parts. */
// @ts-ignore: decorator
@inline function range_start(r: i32, u: i32, nh: i32, nkv: i32): i32 {
  const group = nh / nkv;
  if (u <= nkv) return <i32>(<i64>r * <i64>nkv / <i64>u) * group;
  const parts = u / nkv;
  return (r / parts) * group + (r % parts) * group / parts;
}

/** Heads [h0, h1) of token j's attention (q[j], positions 0..pos0+j of the layer's cache kc, vc)
 *  into a[j], with `scratch` (attention_scratch_bytes for the context) to itself. */
// @ts-ignore: decorator
@inline function attend_heads(desc: usize, kc: usize, vc: usize, q: usize, a: usize, pos0: i32, j: i32, h0: i32, h1: i32, scratch: usize): void {
  const nh = wi(desc, D_N_HEAD), nkv = wi(desc, D_N_HEAD_KV), hd = wi(desc, D_HEAD_DIM);
  const row = (<usize>j * <usize>(nh * hd)) << 2;
  attention_heads(q + row, kc, vc, nh, nkv, hd, pos0 + j + 1, a + row, scratch, h0, h1, wi(desc, D_KV_TYPE) == KV_F16);
}

/** Piece i of `pieces` of the attention whose arguments attend wrote at `a`: one head range of one
 *  token, the batch's last (longest) tokens first, so the pieces claimed last are short ones and the
 *  threads finish close together. `ws`: the running worker's scratch (0: the caller's, S_ATT). */
export function attention_part(a: usize, i: i32, pieces: i32, ws: usize): void {
  const desc = load<usize>(a), l = load<i32>(a, 4), n = load<i32>(a, 24), u = load<i32>(a, 28);
  const nh = wi(desc, D_N_HEAD), nkv = wi(desc, D_N_HEAD_KV);
  const j = n - 1 - i / u, r = i % u;
  const lc = <usize>l * layer_cache_bytes(desc);
  attend_heads(desc, <usize>wi(desc, D_K_CACHE) + lc, <usize>wi(desc, D_V_CACHE) + lc, load<usize>(a, 8), load<usize>(a, 12),
               load<i32>(a, 20), j, range_start(r, u, nh, nkv), range_start(r + 1, u, nh, nkv), ws ? ws : load<usize>(a, 16));
}

/** logits = head . (rmsnorm(x) * output_norm) for the row at xl (the head is the embedding when
 *  the model ties them); FORWARD_NONFINITE for a non-finite logit. */
// @ts-ignore: decorator
@inline function logits_of(desc: usize, xl: usize, hb: usize, qrow: usize, logits: usize): i32 {
  const e = wi(desc, D_N_EMBD), vocab = wi(desc, D_N_VOCAB);
  rmsnorm(xl, <usize>wi(desc, D_OUT_NORM), e, wf(desc, D_EPS), hb);
  let head = <usize>wi(desc, D_HEAD), hfmt = wi(desc, D_HEAD_FMT), hscales = <usize>wi(desc, D_HEAD_SCALES);
  if (!head) { head = <usize>wi(desc, D_EMBD); hfmt = wi(desc, D_EMBD_FMT); hscales = <usize>wi(desc, D_EMBD_SCALES); }
  let hx = hb, step: f32 = 1;
  if (hfmt != DENSE_F32) {
    step = quantize_row(hb, e, qrow, e);
    if (step < 0) return FORWARD_NONFINITE;
    hx = qrow;
  }
  // The vocabulary's rows split among the threads (each row's dot product is the same code).
  const t = pool_threads(<f64>vocab * <f64>e, vocab);
  if (t > 1) {
    const a = pool_args();
    store<i32>(a, hfmt); store<usize>(a, head, 4); store<i32>(a, vocab, 8); store<i32>(a, e, 12);
    store<usize>(a, hx, 16); store<usize>(a, logits, 20); store<f32>(a, step, 24); store<usize>(a, hscales, 28);
    pool_run(POOL_OP_HEAD, t, vocab);
  } else head_rows(hfmt, head, e, hx, logits, step, hscales, 0, vocab);
  // A non-finite logit (finite weights can still overflow) is an error, never a silent sample.
  if (first_nonfinite_f32(logits, vocab) >= 0) return FORWARD_NONFINITE;
  return FORWARD_OK;
}

/** Rows [r0, r1) of the output head: logits = head . x (DENSE_F32, x = the normed f32 row) or
 *  f32(head_i8 . x) * (step * scale_r) (DENSE_I8, x = its int8 quantization with that step). */
function head_rows(fmt: i32, head: usize, e: i32, x: usize, logits: usize, step: f32, scales: usize, r0: i32, r1: i32): void {
  if (r1 <= r0) return;
  if (fmt == DENSE_F32) { gemv_f32(head + ((<usize>r0 * <usize>e) << 2), r1 - r0, e, x, logits + (<usize>r0 << 2)); return; }
  gemv_i8(head + <usize>r0 * <usize>e, r1 - r0, e, x, logits + (<usize>r0 << 2), 1);
  for (let r = r0; r < r1; r++) {
    const o = logits + (<usize>r << 2);
    store<f32>(o, <f32>load<i32>(o) * (step * load<f32>(scales + (<usize>r << 2))));
  }
}

/** Piece i of `pieces` of the output head whose arguments logits_of wrote at `a`. */
export function head_part(a: usize, i: i32, pieces: i32): void {
  const vocab = load<i32>(a, 8);
  head_rows(load<i32>(a), load<usize>(a, 4), load<i32>(a, 12), load<usize>(a, 16), load<usize>(a, 20), load<f32>(a, 24), load<usize>(a, 28),
            pool_split(i, pieces, vocab), pool_split(i + 1, pieces, vocab));
}

/** Runs tokens[0..n) at positions pos0..pos0+n-1 and writes the last token's logits.
 *  Returns FORWARD_OK, or FORWARD_NONFINITE (a NaN or an infinity: a broken model), FORWARD_BAD_POS
 *  (no tokens, or positions outside the context) or FORWARD_BAD_TOKEN (an id outside the vocabulary). */
export function forward(desc: usize, tokens: usize, n: i32, pos0: i32, logits: usize): i32 {
  const e = wi(desc, D_N_EMBD), nl = wi(desc, D_N_LAYER), hd = wi(desc, D_HEAD_DIM), ff = wi(desc, D_N_FF);
  const qd = wi(desc, D_N_HEAD) * hd, kd = wi(desc, D_N_HEAD_KV) * hd, ctx = wi(desc, D_N_CTX);
  const eps = wf(desc, D_EPS), act = wi(desc, D_ACT);
  if (n < 1 || pos0 < 0 || pos0 + n > ctx) return FORWARD_BAD_POS;
  layout(desc, n);
  const s = <usize>wi(desc, D_SCRATCH);
  const x = s + off(S_X), h = s + off(S_H), hb = s + off(S_HB), q = s + off(S_Q), k = s + off(S_K), v = s + off(S_V);
  const a = s + off(S_A), g = s + off(S_G), u = s + off(S_U), rope = s + off(S_ROPE), att = s + off(S_ATT);
  const qrow = s + off(S_QROW), mm = s + off(S_MM);
  if (embed(desc, tokens, n, x) != FORWARD_OK) return FORWARD_BAD_TOKEN;
  for (let l = 0; l < nl; l++) {
    const L = desc + ((<usize>D_LAYERS + <usize>l * L_WORDS) << 2);
    // Attention.
    rmsnorm_rows(x, <usize>wi(L, L_ATTN_NORM), n, e, eps, h);
    if (matmuls(desc, L, SLOT_Q, qd, kd, kd, e, h, n, q, k, v, mm) != FORWARD_OK) return FORWARD_NONFINITE;
    attend(desc, l, q, k, v, a, n, pos0, rope, att);
    const asub = <usize>wi(L, L_ATTN_SUB_NORM);
    if (asub) rmsnorm_rows(a, asub, n, qd, eps, a);
    if (matmul(desc, L, SLOT_O, e, qd, a, n, h, mm) < 0) return FORWARD_NONFINITE;
    add(x, h, n * e, x);
    // Feed-forward.
    rmsnorm_rows(x, <usize>wi(L, L_FFN_NORM), n, e, eps, h);
    if (matmuls(desc, L, SLOT_GATE, ff, ff, 0, e, h, n, g, u, 0, mm) != FORWARD_OK) return FORWARD_NONFINITE;
    glu_rows(act, g, u, n, ff);
    const fsub = <usize>wi(L, L_FFN_SUB_NORM);
    if (fsub) rmsnorm_rows(g, fsub, n, ff, eps, g);
    if (matmul(desc, L, SLOT_DOWN, e, ff, g, n, h, mm) < 0) return FORWARD_NONFINITE;
    add(x, h, n * e, x);
  }
  // Output head on the last token.
  return logits_of(desc, x + ((<usize>(n - 1) * <usize>e) << 2), hb, qrow, logits);
}

/** K-shift (llama.cpp's context shift): in every layer's cache, positions [keep + drop, n) move to
 *  [keep, n - drop); each moved key is rotated by -drop positions (rope_table(-drop) and the same
 *  f64 rotation as forward), values just move. An f16 cache is decoded, rotated and rounded back.
 *  The kept keys and values were computed with the dropped tokens in their context, so the result
 *  is not what a fresh prefill gives; it is the same in every engine. 0, or -2 for bad positions. */
export function kv_shift(desc: usize, keep: i32, drop: i32, n: i32): i32 {
  const nl = wi(desc, D_N_LAYER), nkv = wi(desc, D_N_HEAD_KV), hd = wi(desc, D_HEAD_DIM), ctx = wi(desc, D_N_CTX);
  const rd = wi(desc, D_ROPE_DIM), base = wf(desc, D_ROPE_BASE), ropeType = wi(desc, D_ROPE_TYPE);
  if (keep < 0 || drop < 1 || keep + drop > n || n > ctx) return FORWARD_BAD_POS;
  const kd = nkv * hd;
  layout(desc, 1);
  const s = <usize>wi(desc, D_SCRATCH), rope = s + off(S_ROPE), buf = s + off(S_K);
  rope_table(-drop, rd, base, rope);
  const f16 = wi(desc, D_KV_TYPE) == KV_F16;
  const cshift: usize = f16 ? 1 : 2;
  const rowBytes = <usize>kd << cshift, layerCache = <usize>ctx * rowBytes;
  const kc0 = <usize>wi(desc, D_K_CACHE), vc0 = <usize>wi(desc, D_V_CACHE);
  for (let l = 0; l < nl; l++) {
    const kc = kc0 + <usize>l * layerCache, vc = vc0 + <usize>l * layerCache;
    // Ascending p: each destination row is either kept-free or a source already moved.
    for (let p = keep + drop; p < n; p++) {
      const src = kc + <usize>p * rowBytes, dst = kc + <usize>(p - drop) * rowBytes;
      if (f16) kv_load_f16(src, kd, buf); else memory.copy(buf, src, <usize>kd << 2);
      rope_heads(ropeType, buf, nkv, hd, rd, rope);
      if (f16) kv_store_f16(buf, kd, dst); else memory.copy(dst, buf, <usize>kd << 2);
    }
    memory.copy(vc + <usize>keep * rowBytes, vc + <usize>(keep + drop) * rowBytes, <usize>(n - keep - drop) * rowBytes);
  }
  return 0;
}
