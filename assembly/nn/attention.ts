// Causal attention of one new token over the KV cache (decode step), with grouped-query heads.
//
// Layouts (f32):
//   q:      [nHead][headDim]            (the token's queries, after RoPE)
//   kCache: [pos][nHeadKv][headDim]     (positions 0..nPos-1; the token's own k is at nPos-1)
//   vCache: [pos][nHeadKv][headDim]
//   out:    [nHead][headDim]
//   scratch: attention_scratch_bytes(nHead, nHeadKv, headDim, nPos) bytes
// Query head h reads kv head h / (nHead / nHeadKv). The new token sits at position nPos-1 and
// sees every cached position, so the causal mask is just "p < nPos".
//
// Arithmetic (fixed order, identical bits everywhere):
//   score = dot(q_h, k_p) * scale, scale = f32(1/sqrt(headDim)) correctly rounded; the dot uses
//   four f32x4 partial sums over 16-element blocks, then 4-element blocks into the first, combined
//   (a0+a1)+(a2+a3), lanes (0+1)+(2+3), then a scalar tail in index order.
//   probabilities: nn/softmax over the nPos scores.
//   out[d] = p_0 v_0[d], then += p_t v_t[d] for t = 1..nPos-1 in order (f32), the same per-element
//   sequence for every headDim and chunking, so nPos = 1 returns v_0 exactly.
// Loop order: the group's query heads share each k row while it is in L1 (two heads per load when
// headDim % 16 == 0). For V, each pass walks the positions over a column chunk with its sums in
// registers: pairs of heads share 16 columns (2 x 4 accumulators), the remaining head takes 32
// columns (8 accumulators), then 4 at a time.
import { softmax } from "./softmax";

/** Scratch bytes for attention / attention_f16: the group's score rows plus one f32 row. */
export function attention_scratch_bytes(nHead: i32, nHeadKv: i32, headDim: i32, nPos: i32): i32 {
  const group = nHeadKv > 0 ? nHead / nHeadKv : 0;
  return (((group * nPos + headDim) << 2) + 15) & ~15;
}

/** The f32 dot product of attention (order documented above). */
// @ts-ignore: decorator
@inline export function dot_f32(a: usize, b: usize, n: i32): f32 {
  let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0);
  let i = 0;
  for (; i + 16 <= n; i += 16) {
    const o = <usize>i << 2;
    a0 = f32x4.add(a0, f32x4.mul(v128.load(a + o), v128.load(b + o)));
    a1 = f32x4.add(a1, f32x4.mul(v128.load(a + o, 16), v128.load(b + o, 16)));
    a2 = f32x4.add(a2, f32x4.mul(v128.load(a + o, 32), v128.load(b + o, 32)));
    a3 = f32x4.add(a3, f32x4.mul(v128.load(a + o, 48), v128.load(b + o, 48)));
  }
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    a0 = f32x4.add(a0, f32x4.mul(v128.load(a + o), v128.load(b + o)));
  }
  const s = f32x4.add(f32x4.add(a0, a1), f32x4.add(a2, a3));
  let acc: f32 = (f32x4.extract_lane(s, 0) + f32x4.extract_lane(s, 1)) + (f32x4.extract_lane(s, 2) + f32x4.extract_lane(s, 3));
  for (; i < n; i++) acc += load<f32>(a + (<usize>i << 2)) * load<f32>(b + (<usize>i << 2));
  return acc;
}

/** dot_f32(qa, k, n) * scale and dot_f32(qb, k, n) * scale, stored to oa and ob, sharing each k
 *  load (n % 16 == 0; the same per-head order as dot_f32, so the same bits). */
// @ts-ignore: decorator
@inline function dot2_f32(qa: usize, qb: usize, k: usize, n: i32, oa: usize, ob: usize, scale: f32): void {
  let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0);
  let b0 = f32x4.splat(0), b1 = f32x4.splat(0), b2 = f32x4.splat(0), b3 = f32x4.splat(0);
  for (let i = 0; i < n; i += 16) {
    const o = <usize>i << 2;
    const k0 = v128.load(k + o), k1 = v128.load(k + o, 16), k2 = v128.load(k + o, 32), k3 = v128.load(k + o, 48);
    a0 = f32x4.add(a0, f32x4.mul(v128.load(qa + o), k0)); b0 = f32x4.add(b0, f32x4.mul(v128.load(qb + o), k0));
    a1 = f32x4.add(a1, f32x4.mul(v128.load(qa + o, 16), k1)); b1 = f32x4.add(b1, f32x4.mul(v128.load(qb + o, 16), k1));
    a2 = f32x4.add(a2, f32x4.mul(v128.load(qa + o, 32), k2)); b2 = f32x4.add(b2, f32x4.mul(v128.load(qb + o, 32), k2));
    a3 = f32x4.add(a3, f32x4.mul(v128.load(qa + o, 48), k3)); b3 = f32x4.add(b3, f32x4.mul(v128.load(qb + o, 48), k3));
  }
  const sa = f32x4.add(f32x4.add(a0, a1), f32x4.add(a2, a3));
  const sb = f32x4.add(f32x4.add(b0, b1), f32x4.add(b2, b3));
  store<f32>(oa, ((f32x4.extract_lane(sa, 0) + f32x4.extract_lane(sa, 1)) + (f32x4.extract_lane(sa, 2) + f32x4.extract_lane(sa, 3))) * scale);
  store<f32>(ob, ((f32x4.extract_lane(sb, 0) + f32x4.extract_lane(sb, 1)) + (f32x4.extract_lane(sb, 2) + f32x4.extract_lane(sb, 3))) * scale);
}

/** f32(1 / sqrt(headDim)), correctly rounded. */
// @ts-ignore: decorator
@inline export function attn_scale(headDim: i32): f32 { return <f32>(1.0 / sqrt<f64>(<f64>headDim)); }

/** Returns 0, or -1 for bad sizes (nHeadKv must divide nHead; all sizes > 0). */
export function attention(q: usize, kCache: usize, vCache: usize, nHead: i32, nHeadKv: i32, headDim: i32,
                          nPos: i32, out: usize, scratch: usize): i32 {
  if (nHead <= 0 || nHeadKv <= 0 || headDim <= 0 || nPos <= 0 || nHead % nHeadKv != 0) return -1;
  const group = nHead / nHeadKv;
  const row = <usize>headDim << 2;
  const posStride = <usize>nHeadKv * row;
  const scale = attn_scale(headDim);
  const rowsBytes = <usize>nPos << 2;
  for (let g = 0; g < nHeadKv; g++) {
    const h0 = g * group;
    // Scores: each k row is read once for the whole group.
    let kp = kCache + <usize>g * row;
    for (let p = 0; p < nPos; p++) {
      const sp = scratch + (<usize>p << 2);
      let j = 0;
      // Two query heads per k load when headDim % 16 == 0 (dot2: each the bits of dot_f32).
      for (; j + 2 <= group && (headDim & 15) == 0; j += 2) {
        const qa = q + <usize>(h0 + j) * row;
        dot2_f32(qa, qa + row, kp, headDim, sp + <usize>j * rowsBytes, sp + <usize>(j + 1) * rowsBytes, scale);
      }
      for (; j < group; j++) store<f32>(sp + <usize>j * rowsBytes, dot_f32(q + <usize>(h0 + j) * row, kp, headDim) * scale);
      kp += posStride;
    }
    for (let j = 0; j < group; j++) softmax(scratch + <usize>j * rowsBytes, nPos);
    // Weighted sum of V.
    const vb = vCache + <usize>g * row;
    let j0 = 0;
    // Query heads in pairs share each V load (16 columns x 2 heads per pass over the positions).
    // Each element still sums p = 0, 1, 2, ... in order, so the bits are the same as one by one.
    for (; j0 + 2 <= group && headDim % 16 == 0; j0 += 2) {
      const pa = scratch + <usize>j0 * rowsBytes, pb = pa + rowsBytes;
      const oa = out + <usize>(h0 + j0) * row, ob = oa + row;
      for (let d = 0; d < headDim; d += 16) {
        const col = vb + (<usize>d << 2);
        let v0 = v128.load(col), v1 = v128.load(col, 16), v2 = v128.load(col, 32), v3 = v128.load(col, 48);
        let wa = f32x4.splat(load<f32>(pa)), wb = f32x4.splat(load<f32>(pb));
        let a0 = f32x4.mul(wa, v0), a1 = f32x4.mul(wa, v1), a2 = f32x4.mul(wa, v2), a3 = f32x4.mul(wa, v3);
        let b0 = f32x4.mul(wb, v0), b1 = f32x4.mul(wb, v1), b2 = f32x4.mul(wb, v2), b3 = f32x4.mul(wb, v3);
        let vp = col;
        for (let p = 1; p < nPos; p++) {
          vp += posStride;
          v0 = v128.load(vp); v1 = v128.load(vp, 16); v2 = v128.load(vp, 32); v3 = v128.load(vp, 48);
          wa = f32x4.splat(load<f32>(pa + (<usize>p << 2))); wb = f32x4.splat(load<f32>(pb + (<usize>p << 2)));
          a0 = f32x4.add(a0, f32x4.mul(wa, v0)); a1 = f32x4.add(a1, f32x4.mul(wa, v1));
          a2 = f32x4.add(a2, f32x4.mul(wa, v2)); a3 = f32x4.add(a3, f32x4.mul(wa, v3));
          b0 = f32x4.add(b0, f32x4.mul(wb, v0)); b1 = f32x4.add(b1, f32x4.mul(wb, v1));
          b2 = f32x4.add(b2, f32x4.mul(wb, v2)); b3 = f32x4.add(b3, f32x4.mul(wb, v3));
        }
        const da = oa + (<usize>d << 2), db = ob + (<usize>d << 2);
        v128.store(da, a0); v128.store(da, a1, 16); v128.store(da, a2, 32); v128.store(da, a3, 48);
        v128.store(db, b0); v128.store(db, b1, 16); v128.store(db, b2, 32); v128.store(db, b3, 48);
      }
    }
    for (let j = j0; j < group; j++) {
      const pr = scratch + <usize>j * rowsBytes;
      const o = out + <usize>(h0 + j) * row;
      let d = 0;
      // 32 columns per pass over the positions (8 accumulators), then 4 at a time.
      // Each element still sums p = 0, 1, 2, ... in order, so the bits are the same.
      for (; d + 32 <= headDim; d += 32) {
        const col = vb + (<usize>d << 2);
        let w = f32x4.splat(load<f32>(pr));
        let a0 = f32x4.mul(w, v128.load(col)), a1 = f32x4.mul(w, v128.load(col, 16));
        let a2 = f32x4.mul(w, v128.load(col, 32)), a3 = f32x4.mul(w, v128.load(col, 48));
        let a4 = f32x4.mul(w, v128.load(col, 64)), a5 = f32x4.mul(w, v128.load(col, 80));
        let a6 = f32x4.mul(w, v128.load(col, 96)), a7 = f32x4.mul(w, v128.load(col, 112));
        let vp = col;
        for (let p = 1; p < nPos; p++) {
          vp += posStride;
          w = f32x4.splat(load<f32>(pr + (<usize>p << 2)));
          a0 = f32x4.add(a0, f32x4.mul(w, v128.load(vp)));
          a1 = f32x4.add(a1, f32x4.mul(w, v128.load(vp, 16)));
          a2 = f32x4.add(a2, f32x4.mul(w, v128.load(vp, 32)));
          a3 = f32x4.add(a3, f32x4.mul(w, v128.load(vp, 48)));
          a4 = f32x4.add(a4, f32x4.mul(w, v128.load(vp, 64)));
          a5 = f32x4.add(a5, f32x4.mul(w, v128.load(vp, 80)));
          a6 = f32x4.add(a6, f32x4.mul(w, v128.load(vp, 96)));
          a7 = f32x4.add(a7, f32x4.mul(w, v128.load(vp, 112)));
        }
        const od = o + (<usize>d << 2);
        v128.store(od, a0); v128.store(od, a1, 16); v128.store(od, a2, 32); v128.store(od, a3, 48);
        v128.store(od, a4, 64); v128.store(od, a5, 80); v128.store(od, a6, 96); v128.store(od, a7, 112);
      }
      for (; d + 4 <= headDim; d += 4) {
        const col = vb + (<usize>d << 2);
        let a0 = f32x4.mul(f32x4.splat(load<f32>(pr)), v128.load(col));
        let vp = col;
        for (let p = 1; p < nPos; p++) {
          vp += posStride;
          a0 = f32x4.add(a0, f32x4.mul(f32x4.splat(load<f32>(pr + (<usize>p << 2))), v128.load(vp)));
        }
        v128.store(o + (<usize>d << 2), a0);
      }
      for (; d < headDim; d++) {
        const col = vb + (<usize>d << 2);
        let a: f32 = load<f32>(pr) * load<f32>(col);
        let vp = col;
        for (let p = 1; p < nPos; p++) {
          vp += posStride;
          a += load<f32>(pr + (<usize>p << 2)) * load<f32>(vp);
        }
        store<f32>(o + (<usize>d << 2), a);
      }
    }
  }
  return 0;
}
