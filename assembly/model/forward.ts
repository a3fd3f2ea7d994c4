// The decoder's forward pass: one call into wasm per step (one token, or a prefill batch).
// JS lays the model out once at load time and writes a descriptor of words (below); every op of
// the BitNet block runs here, in a fixed order, so every engine and build gives identical bits.
//
// One block (llama.cpp's `bitnet` graph; `llama` skips the two sub-norms):
//   h = rmsnorm(x) * attn_norm;  q,k,v = Wq h, Wk h, Wv h;  rope_neox(q, k);  kv cache <- k, v
//   a = attention(q, cache);  a = rmsnorm(a) * attn_sub_norm;  x += Wo a
//   h = rmsnorm(x) * ffn_norm;  g = act(Wgate h) * (Wup h);  g = rmsnorm(g) * ffn_sub_norm;  x += Wdown g
// then logits = head . (rmsnorm(x) * output_norm), for the last token of the batch only.
import { quantize_row } from "../quant/activations";
import { first_nonfinite_f32, gemv_f32, gemv_i8 } from "../quant/dense";
import { MATMUL_STREAMING, ternary_matmul } from "../ternary/matmul";
import { rmsnorm } from "../nn/rmsnorm";
import { rope_apply, rope_apply_interleaved, rope_table } from "../nn/rope";
import { attention } from "../nn/attention";
import { attention_f16, kv_store_f16 } from "../nn/kv_f16";
import { add } from "../nn/elementwise";
import { relu_sq_mul, silu_mul } from "../nn/activation";

// Descriptor words (i32 unless noted f32).
export const D_N_EMBD = 0;
export const D_N_LAYER = 1;
export const D_N_HEAD = 2;
export const D_N_HEAD_KV = 3;
export const D_HEAD_DIM = 4;
export const D_N_FF = 5;
export const D_N_VOCAB = 6;
export const D_N_CTX = 7;
export const D_ROPE_DIM = 8;
export const D_EPS = 9;          // f32
export const D_ROPE_BASE = 10;   // f32
export const D_ACT = 11;         // 0 SiLU, 1 squared ReLU
export const D_KERNEL = 12;      // kernel of one-token products (decode: GEMV)
export const D_EMBD = 13;        // token embedding rows [n_vocab][n_embd]
export const D_EMBD_FMT = 14;    // DENSE_F32 or DENSE_I8
export const D_EMBD_SCALES = 15; // f32 per row (DENSE_I8)
export const D_OUT_NORM = 16;
export const D_HEAD = 17;        // output head rows [n_vocab][n_embd]; 0 = tied to the embedding
export const D_HEAD_FMT = 18;
export const D_HEAD_SCALES = 19;
export const D_K_CACHE = 20;     // f32 or f16 (D_KV_F16) [layer][pos][kv_head][head_dim]
export const D_V_CACHE = 21;
export const D_SCRATCH = 22;     // forward_scratch_bytes(desc, n)
export const D_ROPE_TYPE = 23;   // 0 NEOX (halves: bitnet), 1 interleaved pairs (llama)
export const D_KV_F16 = 24;      // 0: f32 KV cache; 1: f16 (nn/kv_f16.ts; attention bits as on the decoded f32 cache)
export const D_KERNEL_GEMM = 25; // kernel of n > 1 products (prefill), same layout as D_KERNEL (bit-identical)
export const D_LAYERS = 26;      // LAYER_WORDS words per layer follow
export const DESC_WORDS = 27;

// Layer words: norms (f32 vectors; 0 = absent) and 7 matrices (q, k, v, o, gate, up, down) as
// (ptr, f32 scale, format): MAT_TERNARY = packed for the model's kernel; MAT_F32 = dense f32 rows,
// the exact fallback for ternary tensors whose blocks carry different scales.
export const L_ATTN_NORM = 0;
export const L_ATTN_SUB_NORM = 1;
export const L_FFN_NORM = 2;
export const L_FFN_SUB_NORM = 3;
export const L_MATS = 4;
export const LAYER_WORDS = 25;
export const MAT_TERNARY: i32 = 0;
export const MAT_F32: i32 = 1;

export const DENSE_F32: i32 = 0;
export const DENSE_I8: i32 = 1;

// @ts-ignore: decorator
@inline function wi(d: usize, k: i32): i32 { return load<i32>(d + (<usize>k << 2)); }
// @ts-ignore: decorator
@inline function wf(d: usize, k: i32): f32 { return load<f32>(d + (<usize>k << 2)); }
// @ts-ignore: decorator
@inline function al16(n: usize): usize { return (n + 15) & ~15; }
// @ts-ignore: decorator
@inline function f4(n: i32): usize { return al16(<usize>n << 2); }

import { matmul_scratch_bytes } from "../ternary/matmul";
import { attention_scratch_bytes } from "../nn/attention";
import { rope_table_bytes } from "../nn/rope";

// Scratch layout for a batch of n tokens, as offsets from the scratch base (one definition, used
// both to size the scratch and to run): x, h, q, k, v, a, g, u (n rows each), the head input,
// the rope table, attention scratch, one int8 row, then the ternary matmul scratch.
const S_X = 0, S_H = 1, S_HB = 2, S_Q = 3, S_K = 4, S_V = 5, S_A = 6, S_G = 7, S_U = 8, S_ROPE = 9,
  S_ATT = 10, S_QROW = 11, S_DQ = 12, S_MM = 13, S_END = 14;
// @ts-ignore: decorator
@lazy const OFFSETS = memory.data(15 * 8, 16);

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
  o = put(S_MM, o, <usize>Math.max(Math.max(matmul_scratch_bytes(kernel, qd, e, n), matmul_scratch_bytes(kernel, e, qd, n)),
                                   Math.max(matmul_scratch_bytes(kernel, ff, e, n), matmul_scratch_bytes(kernel, e, ff, n))));
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
  const word = L_MATS + 3 * mat, w = <usize>wi(layer, word);
  if (wi(layer, word + 2) == MAT_F32) {
    // Per-block scales: the f32 matrix holds t * d exactly; the activations go through the same
    // int8 quantization as everywhere (BitNet's y = step * sum_b d_b sum_k t_k q_k, in f32).
    const s = <usize>wi(desc, D_SCRATCH), qrow = s + off(S_QROW), dq = s + off(S_DQ);
    for (let j = 0; j < n; j++) {
      const step = quantize_row(x + ((<usize>j * <usize>cols) << 2), cols, qrow, cols);
      if (step < 0) return -1;
      for (let k = 0; k < cols; k++) store<f32>(dq + (<usize>k << 2), <f32>load<i8>(qrow + <usize>k) * step);
      gemv_f32(w, rows, cols, dq, out + ((<usize>j * <usize>rows) << 2));
    }
    return 0;
  }
  return ternary_matmul(wi(desc, n == 1 ? D_KERNEL : D_KERNEL_GEMM) | MATMUL_STREAMING, w, rows, cols, x, n, out, wf(layer, word + 1), scratch);
}

/** Runs tokens[0..n) at positions pos0..pos0+n-1 and writes the last token's logits.
 *  Returns 0; -1 for a non-finite activation (a broken model), -2 for positions past the context. */
export function forward(desc: usize, tokens: usize, n: i32, pos0: i32, logits: usize): i32 {
  const e = wi(desc, D_N_EMBD), nl = wi(desc, D_N_LAYER), nh = wi(desc, D_N_HEAD), nkv = wi(desc, D_N_HEAD_KV);
  const hd = wi(desc, D_HEAD_DIM), ff = wi(desc, D_N_FF), vocab = wi(desc, D_N_VOCAB), ctx = wi(desc, D_N_CTX);
  const rd = wi(desc, D_ROPE_DIM), eps = wf(desc, D_EPS), base = wf(desc, D_ROPE_BASE), act = wi(desc, D_ACT);
  const ropeType = wi(desc, D_ROPE_TYPE);
  if (n < 1 || pos0 < 0 || pos0 + n > ctx) return -2;
  const qd = nh * hd, kd = nkv * hd;
  layout(desc, n);
  const s = <usize>wi(desc, D_SCRATCH);
  const x = s + off(S_X), h = s + off(S_H), hb = s + off(S_HB), q = s + off(S_Q), k = s + off(S_K), v = s + off(S_V);
  const a = s + off(S_A), g = s + off(S_G), u = s + off(S_U), rope = s + off(S_ROPE), att = s + off(S_ATT);
  const qrow = s + off(S_QROW), mm = s + off(S_MM);
  // Embedding rows.
  const embd = <usize>wi(desc, D_EMBD), efmt = wi(desc, D_EMBD_FMT), escales = <usize>wi(desc, D_EMBD_SCALES);
  for (let j = 0; j < n; j++) {
    const t = load<i32>(tokens + (<usize>j << 2));
    if (t < 0 || t >= vocab) return -3;
    const xr = x + ((<usize>j * <usize>e) << 2);
    if (efmt == DENSE_F32) memory.copy(xr, embd + ((<usize>t * <usize>e) << 2), <usize>e << 2);
    else {
      const er = embd + <usize>t * <usize>e, st = load<f32>(escales + (<usize>t << 2));
      for (let i = 0; i < e; i++) store<f32>(xr + (<usize>i << 2), <f32>load<i8>(er + <usize>i) * st);
    }
  }
  const kc0 = <usize>wi(desc, D_K_CACHE), vc0 = <usize>wi(desc, D_V_CACHE);
  const f16 = wi(desc, D_KV_F16) == 1;
  const cshift: usize = f16 ? 1 : 2; // log2 bytes per cached value
  const layerCache = <usize>ctx * <usize>kd << cshift;
  for (let l = 0; l < nl; l++) {
    const L = desc + ((<usize>D_LAYERS + <usize>l * LAYER_WORDS) << 2);
    const kc = kc0 + <usize>l * layerCache, vc = vc0 + <usize>l * layerCache;
    // Attention.
    for (let j = 0; j < n; j++) rmsnorm(x + ((<usize>j * <usize>e) << 2), <usize>wi(L, L_ATTN_NORM), e, eps, h + ((<usize>j * <usize>e) << 2));
    if (matmul(desc, L, 0, qd, e, h, n, q, mm) < 0) return -1;
    if (matmul(desc, L, 1, kd, e, h, n, k, mm) < 0) return -1;
    if (matmul(desc, L, 2, kd, e, h, n, v, mm) < 0) return -1;
    for (let j = 0; j < n; j++) {
      const pos = pos0 + j;
      rope_table(pos, rd, base, rope);
      if (ropeType == 1) {
        rope_apply_interleaved(q + ((<usize>j * <usize>qd) << 2), nh, hd, rd, rope);
        rope_apply_interleaved(k + ((<usize>j * <usize>kd) << 2), nkv, hd, rd, rope);
      } else {
        rope_apply(q + ((<usize>j * <usize>qd) << 2), nh, hd, rd, rope);
        rope_apply(k + ((<usize>j * <usize>kd) << 2), nkv, hd, rd, rope);
      }
      const kj = k + ((<usize>j * <usize>kd) << 2), vj = v + ((<usize>j * <usize>kd) << 2);
      const qj = q + ((<usize>j * <usize>qd) << 2), aj = a + ((<usize>j * <usize>qd) << 2);
      if (f16) {
        kv_store_f16(kj, kd, kc + ((<usize>pos * <usize>kd) << 1));
        kv_store_f16(vj, kd, vc + ((<usize>pos * <usize>kd) << 1));
        attention_f16(qj, kc, vc, nh, nkv, hd, pos + 1, aj, att);
      } else {
        memory.copy(kc + ((<usize>pos * <usize>kd) << 2), kj, <usize>kd << 2);
        memory.copy(vc + ((<usize>pos * <usize>kd) << 2), vj, <usize>kd << 2);
        attention(qj, kc, vc, nh, nkv, hd, pos + 1, aj, att);
      }
    }
    const asub = <usize>wi(L, L_ATTN_SUB_NORM);
    if (asub) for (let j = 0; j < n; j++) rmsnorm(a + ((<usize>j * <usize>qd) << 2), asub, qd, eps, a + ((<usize>j * <usize>qd) << 2));
    if (matmul(desc, L, 3, e, qd, a, n, h, mm) < 0) return -1;
    add(x, h, n * e, x);
    // Feed-forward.
    for (let j = 0; j < n; j++) rmsnorm(x + ((<usize>j * <usize>e) << 2), <usize>wi(L, L_FFN_NORM), e, eps, h + ((<usize>j * <usize>e) << 2));
    if (matmul(desc, L, 4, ff, e, h, n, g, mm) < 0) return -1;
    if (matmul(desc, L, 5, ff, e, h, n, u, mm) < 0) return -1;
    if (act == 1) relu_sq_mul(g, u, n * ff, g); else silu_mul(g, u, n * ff, g);
    const fsub = <usize>wi(L, L_FFN_SUB_NORM);
    if (fsub) for (let j = 0; j < n; j++) rmsnorm(g + ((<usize>j * <usize>ff) << 2), fsub, ff, eps, g + ((<usize>j * <usize>ff) << 2));
    if (matmul(desc, L, 6, e, ff, g, n, h, mm) < 0) return -1;
    add(x, h, n * e, x);
  }
  // Output head on the last token.
  const xl = x + ((<usize>(n - 1) * <usize>e) << 2);
  rmsnorm(xl, <usize>wi(desc, D_OUT_NORM), e, eps, hb);
  let head = <usize>wi(desc, D_HEAD), hfmt = wi(desc, D_HEAD_FMT), hscales = <usize>wi(desc, D_HEAD_SCALES);
  if (!head) { head = embd; hfmt = efmt; hscales = escales; }
  if (hfmt == DENSE_F32) gemv_f32(head, vocab, e, hb, logits);
  else {
    const step = quantize_row(hb, e, qrow, e);
    if (step < 0) return -1;
    gemv_i8(head, vocab, e, qrow, logits, 1);
    for (let r = 0; r < vocab; r++) {
      const o = logits + (<usize>r << 2);
      store<f32>(o, <f32>load<i32>(o) * (step * load<f32>(hscales + (<usize>r << 2))));
    }
  }
  // A non-finite logit (finite weights can still overflow) is an error, never a silent sample.
  if (first_nonfinite_f32(logits, vocab) >= 0) return -1;
  return 0;
}
