// Causal attention of one new token over the KV cache (decode step), with grouped-query heads.
//
// Layouts (f32 cache; the f16 cache has the same shape in binary16, see nn/kv_f16.ts):
//   q:      [nHead][headDim]            (the token's queries, after RoPE)
//   kCache: [pos][nHeadKv][headDim]     (positions 0..nPos-1; the token's own k is at nPos-1)
//   vCache: [pos][nHeadKv][headDim]
//   out:    [nHead][headDim]
//   scratch: attention_scratch_bytes(nHead, nHeadKv, headDim, nPos) bytes (one per concurrent call)
// Query head h reads kv head h / (nHead / nHeadKv). The new token sits at position nPos-1 and
// sees every cached position, so the causal mask is just "p < nPos".
//
// Arithmetic (fixed order, identical bits everywhere, for any head range and block size):
//   score = dot(q_h, k_p) * scale, scale = f32(1/sqrt(headDim)) correctly rounded; the dot is one
//   f32x4 sum a = 0, a += q[i..i+4) * k[i..i+4) for i = 0, 4, 8, ... in order, its lanes
//   (a0+a1)+(a2+a3), then a scalar tail in index order. (One sum rather than four: combining four
//   partial sums cost 12 of every 15 additions of the tiles' reduction, ~15% of the score pass.)
//   weights: nn/exp_sum_f32 over the nPos scores: e_t = expf_f32(f32(s_t - max)) (f32) and their
//   sum S in f64 (softmax_f32 without its division: the softmax is e_t / S).
//   acc[d] = e_0 v_0[d], then += e_t v_t[d] for t = 1..nPos-1 in order (f32), the same per-element
//   sequence for every headDim and chunking; out[d] = f32(f64(acc[d]) / S), one rounding. So
//   nPos = 1 returns v_0 exactly (e_0 = 1, S = 1). Dividing once per output instead of
//   normalising each weight saves softmax's pass over the weights (its f64 products).
// Loop order (flash-decoding's blocking, with an exact two-pass softmax instead of its online
// rescaling, which would change the bits). Every K and V row is read from memory once for all
// the query heads that use it, front to back:
//   pass 1, scores: four positions at a time (four contiguous cache rows), every kv head, its
//     query heads in tiles of two heads x four positions (below) that share each q load across
//     positions and each k load across heads; the four positions' lane sums are reduced
//     together (reduce4) in registers.
//   pass 2: each head's row of scores becomes its weights e_t; S goes to scratch.
//   pass 3, values: blocks of BLOCK positions; for each kv head, its query heads add the block's
//     v rows into their outputs (kept in out between blocks: exact, the per-element order is
//     still p = 0, 1, 2, ...). A kv head's block (BLOCK x headDim f32, 16 KB at headDim 128)
//     stays in L1 while its heads use it; pairs of heads share each v load. Then each output
//     row is divided by its head's S.
// An f16 cache is decoded into scratch (four rows, or one kv head's block) and then runs the same
// code, so its output is bit-identical to attention() on the decoded cache. The next rows are
// touched ahead (one load per line) while the current ones compute: wasm has no prefetch.
import { exp_sum_f32 } from "./softmax";
import { kv_load_f16_rows } from "./kv_f16";
import { hi_f64, join_f32, lo_f64 } from "../math/exp";
import { touch } from "../ternary/lut_tl3";

/** Positions per block of the value pass. */
const BLOCK = 32;
/** The score pass touches the cache rows ahead in batches: every K_BATCH positions, the next
 *  K_BATCH rows. Large batches keep many lines in flight at once (one 2B4T layer at 4096 positions,
 *  score pass alone from DRAM: 1.2 ms touching four rows at a time, 0.93-1.0 ms with 64). */
const K_BATCH = 64;

/** Scratch bytes for attention / attention_f16 / attention_heads (any head range): decoded f16
 *  rows, 256 bytes per head of which its weight sum S takes 8 (the score tiles' former slots; the
 *  size is kept, which src/model/inspect.ts mirrors), the re-laid q rows, and one row of nPos
 *  scores per head. */
export function attention_scratch_bytes(nHead: i32, nHeadKv: i32, headDim: i32, nPos: i32): i32 {
  return <i32>bufBytes(nHeadKv, headDim) + ((((nHead << 6) + nHead * headDim + nHead * nPos) << 2) + 15) & ~15;
}

/** Bytes of the decoded f16 rows: four positions of every kv head, or one block of one kv head. */
// @ts-ignore: decorator
@inline function bufBytes(nHeadKv: i32, headDim: i32): usize { return <usize>(max(4 * nHeadKv, BLOCK) * headDim) << 2; }

/** Touches `n` bytes at p of each of `rows` rows `stride` bytes apart (one span when that is the
 *  whole row): a head range reads only its kv heads' columns, so it touches no other thread's. */
// @ts-ignore: decorator
@inline function touch_rows(p: usize, rows: i32, stride: usize, n: usize): void {
  if (n == stride) { touch(p, <usize>rows * stride); return; }
  for (let r = 0; r < rows; r++) touch(p + <usize>r * stride, n);
}

/** (x0+x1)+(x2+x3) of a lane vector: dot_f32's last step. */
// @ts-ignore: decorator
@inline function lane_sum(v: v128): f32 {
  return (f32x4.extract_lane(v, 0) + f32x4.extract_lane(v, 1)) + (f32x4.extract_lane(v, 2) + f32x4.extract_lane(v, 3));
}

/** The f32 dot product of attention (order documented above). */
// @ts-ignore: decorator
@inline function dot_f32(a: usize, b: usize, n: i32): f32 {
  let acc4 = f32x4.splat(0);
  let i = 0;
  for (; i + 4 <= n; i += 4) acc4 = f32x4.add(acc4, f32x4.mul(v128.load(a + (<usize>i << 2)), v128.load(b + (<usize>i << 2))));
  let acc = lane_sum(acc4);
  for (; i < n; i++) acc += load<f32>(a + (<usize>i << 2)) * load<f32>(b + (<usize>i << 2));
  return acc;
}

// Score tiles (headDim % 4 == 0): dot_f32 for two heads x four positions (or one head x four) at
// once, sharing each q load across positions and each k load across heads; the four positions'
// lane sums are reduced together into one f32x4 of scores. Same bits as dot_f32 one at a time.

/** Copies the q rows of heads h, h+1 (row bytes apart, nb 4-element blocks each) to qt in the order
 *  tile2x4 reads them: block b of head u at (b * 2 + u) * 16 bytes (one pointer, fixed offsets). */
// @ts-ignore: decorator
@inline function relay_q2(q: usize, row: usize, nb: usize, qt: usize): void {
  for (let b: usize = 0; b < nb; b++) {
    v128.store(qt + (b << 5), v128.load(q + (b << 4)));
    v128.store(qt + (b << 5), v128.load(q + row + (b << 4)), 16);
  }
}

/** [lane sum of a, of b, of c, of d] * scale, each lane sum ((x0+x1)+(x2+x3)) as lane_sum. */
// @ts-ignore: decorator
@inline function reduce4(a: v128, b: v128, c: v128, d: v128, scale: v128): v128 {
  // A 4x4 transpose by interleaves (one instruction each in V8; other two-input f32 shuffles take
  // three): u_i = [a_i, b_i, c_i, d_i], then (u0 + u1) + (u2 + u3).
  const t0 = v128.shuffle<f32>(a, b, 0, 4, 1, 5), t1 = v128.shuffle<f32>(a, b, 2, 6, 3, 7);
  const t2 = v128.shuffle<f32>(c, d, 0, 4, 1, 5), t3 = v128.shuffle<f32>(c, d, 2, 6, 3, 7);
  const u01 = f32x4.add(i64x2.shuffle(t0, t2, 0, 2), i64x2.shuffle(t0, t2, 1, 3));
  const u23 = f32x4.add(i64x2.shuffle(t1, t3, 0, 2), i64x2.shuffle(t1, t3, 1, 3));
  return f32x4.mul(f32x4.add(u01, u23), scale);
}

/** Stores the first m (1..4) lanes of v at p. */
// @ts-ignore: decorator
@inline function store_scores(p: usize, v: v128, m: i32): void {
  if (m == 4) { v128.store(p, v); return; }
  store<f32>(p, f32x4.extract_lane(v, 0));
  if (m > 1) store<f32>(p, f32x4.extract_lane(v, 1), 4);
  if (m > 2) store<f32>(p, f32x4.extract_lane(v, 2), 8);
}

/** Scores of heads u = 0, 1 (q re-laid at qt by relay_q2, nb blocks) x positions k0..k3 -> m (1..4)
 *  scores at sc + u * rowsBytes. Pointers step by 16 or 32, every other offset is a constant. */
// @ts-ignore: decorator
@inline function tile2x4(qt: usize, nb: usize, k0: usize, k1: usize, k2: usize, k3: usize, sc: usize, rowsBytes: usize,
                         scale: v128, m: i32): void {
  let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0);
  let b0 = f32x4.splat(0), b1 = f32x4.splat(0), b2 = f32x4.splat(0), b3 = f32x4.splat(0);
  let qp = qt, x0 = k0, x1 = k1, x2 = k2, x3 = k3;
  const end = qt + (nb << 5);
  do {
    const y0 = v128.load(x0), y1 = v128.load(x1), y2 = v128.load(x2), y3 = v128.load(x3);
    let w = v128.load(qp);
    a0 = f32x4.add(a0, f32x4.mul(w, y0)); a1 = f32x4.add(a1, f32x4.mul(w, y1));
    a2 = f32x4.add(a2, f32x4.mul(w, y2)); a3 = f32x4.add(a3, f32x4.mul(w, y3));
    w = v128.load(qp, 16);
    b0 = f32x4.add(b0, f32x4.mul(w, y0)); b1 = f32x4.add(b1, f32x4.mul(w, y1));
    b2 = f32x4.add(b2, f32x4.mul(w, y2)); b3 = f32x4.add(b3, f32x4.mul(w, y3));
    qp += 32; x0 += 16; x1 += 16; x2 += 16; x3 += 16;
  } while (qp < end);
  store_scores(sc, reduce4(a0, a1, a2, a3, scale), m);
  store_scores(sc + rowsBytes, reduce4(b0, b1, b2, b3, scale), m);
}

/** One head (q row at qh, nb blocks) x positions k0..k3 -> m scores at sc. */
// @ts-ignore: decorator
@inline function tile1x4(qh: usize, nb: usize, k0: usize, k1: usize, k2: usize, k3: usize, sc: usize, scale: v128, m: i32): void {
  let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0);
  let qp = qh, x0 = k0, x1 = k1, x2 = k2, x3 = k3;
  const end = qh + (nb << 4);
  do {
    const w = v128.load(qp);
    a0 = f32x4.add(a0, f32x4.mul(w, v128.load(x0))); a1 = f32x4.add(a1, f32x4.mul(w, v128.load(x1)));
    a2 = f32x4.add(a2, f32x4.mul(w, v128.load(x2))); a3 = f32x4.add(a3, f32x4.mul(w, v128.load(x3)));
    qp += 16; x0 += 16; x1 += 16; x2 += 16; x3 += 16;
  } while (qp < end);
  store_scores(sc, reduce4(a0, a1, a2, a3, scale), m);
}

/** f32(1 / sqrt(headDim)), correctly rounded. */
// @ts-ignore: decorator
@inline function attn_scale(headDim: i32): f32 { return <f32>(1.0 / sqrt<f64>(<f64>headDim)); }

/** out rows of heads [0, nh) (probabilities in rows w + j * rowsBytes) += their weights times the n
 *  v rows of one block (vStride bytes apart); first: the block holds position 0, so each element
 *  starts as p_0 v_0 (not 0 + p_0 v_0, which would turn -0 into +0). */
// @ts-ignore: decorator
@inline function value_block(w: usize, rowsBytes: usize, vb: usize, vStride: usize, n: i32, headDim: i32, nh: i32,
                             out: usize, first: bool): void {
  const row = <usize>headDim << 2;
  let j = 0;
  // Heads in pairs share each v load: 16 columns x 2 heads in registers over the block's rows.
  for (; j + 2 <= nh && (headDim & 15) == 0; j += 2) {
    const pa = w + <usize>j * rowsBytes, pb = pa + rowsBytes;
    const oa = out + <usize>j * row, ob = oa + row;
    for (let d = 0; d < headDim; d += 16) {
      const col = vb + (<usize>d << 2), da = oa + (<usize>d << 2), db = ob + (<usize>d << 2);
      let a0: v128, a1: v128, a2: v128, a3: v128, b0: v128, b1: v128, b2: v128, b3: v128;
      let p = 0, vp = col;
      if (first) {
        const v0 = v128.load(col), v1 = v128.load(col, 16), v2 = v128.load(col, 32), v3 = v128.load(col, 48);
        const wa = v128.load32_splat(pa), wb = v128.load32_splat(pb);
        a0 = f32x4.mul(wa, v0); a1 = f32x4.mul(wa, v1); a2 = f32x4.mul(wa, v2); a3 = f32x4.mul(wa, v3);
        b0 = f32x4.mul(wb, v0); b1 = f32x4.mul(wb, v1); b2 = f32x4.mul(wb, v2); b3 = f32x4.mul(wb, v3);
        p = 1; vp += vStride;
      } else {
        a0 = v128.load(da); a1 = v128.load(da, 16); a2 = v128.load(da, 32); a3 = v128.load(da, 48);
        b0 = v128.load(db); b1 = v128.load(db, 16); b2 = v128.load(db, 32); b3 = v128.load(db, 48);
      }
      for (; p < n; p++) {
        const v0 = v128.load(vp), v1 = v128.load(vp, 16), v2 = v128.load(vp, 32), v3 = v128.load(vp, 48);
        const wa = v128.load32_splat(pa + (<usize>p << 2)), wb = v128.load32_splat(pb + (<usize>p << 2));
        a0 = f32x4.add(a0, f32x4.mul(wa, v0)); a1 = f32x4.add(a1, f32x4.mul(wa, v1));
        a2 = f32x4.add(a2, f32x4.mul(wa, v2)); a3 = f32x4.add(a3, f32x4.mul(wa, v3));
        b0 = f32x4.add(b0, f32x4.mul(wb, v0)); b1 = f32x4.add(b1, f32x4.mul(wb, v1));
        b2 = f32x4.add(b2, f32x4.mul(wb, v2)); b3 = f32x4.add(b3, f32x4.mul(wb, v3));
        vp += vStride;
      }
      v128.store(da, a0); v128.store(da, a1, 16); v128.store(da, a2, 32); v128.store(da, a3, 48);
      v128.store(db, b0); v128.store(db, b1, 16); v128.store(db, b2, 32); v128.store(db, b3, 48);
    }
  }
  // Remaining heads: 4 columns at a time, then single columns.
  for (; j < nh; j++) {
    const pr = w + <usize>j * rowsBytes, o = out + <usize>j * row;
    let d = 0;
    for (; d + 4 <= headDim; d += 4) {
      const col = vb + (<usize>d << 2), od = o + (<usize>d << 2);
      let p = 0, vp = col;
      let a: v128;
      if (first) { a = f32x4.mul(v128.load32_splat(pr), v128.load(col)); p = 1; vp += vStride; } else a = v128.load(od);
      for (; p < n; p++) { a = f32x4.add(a, f32x4.mul(v128.load32_splat(pr + (<usize>p << 2)), v128.load(vp))); vp += vStride; }
      v128.store(od, a);
    }
    for (; d < headDim; d++) {
      const col = vb + (<usize>d << 2), od = o + (<usize>d << 2);
      let p = 0, vp = col;
      let a: f32;
      if (first) { a = load<f32>(pr) * load<f32>(col); p = 1; vp += vStride; } else a = load<f32>(od);
      for (; p < n; p++) { a += load<f32>(pr + (<usize>p << 2)) * load<f32>(vp); vp += vStride; }
      store<f32>(od, a);
    }
  }
}

/** x[0..n) <- f32(f64(x_i) / sum), each rounded once (f64 division, then to f32). */
// @ts-ignore: decorator
@inline function divide_row(x: usize, n: i32, sum: f64): void {
  const vs = f64x2.splat(sum);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const p = x + (<usize>i << 2), v = v128.load(p);
    v128.store(p, join_f32(f64x2.div(lo_f64(v), vs), f64x2.div(hi_f64(v), vs)));
  }
  for (; i < n; i++) { const p = x + (<usize>i << 2); store<f32>(p, <f32>(<f64>load<f32>(p) / sum)); }
}

/**
 * Attention for query heads [h0, h1) only (out rows h0..h1-1 written, the rest untouched), over
 * an f32 cache (f16 == false) or an f16 one. Disjoint head ranges with their own scratch may run
 * at the same time (threads); any split gives the same bits as one call over all heads.
 * Returns 0, or -1 for bad sizes (nHeadKv must divide nHead; sizes > 0; 0 <= h0 < h1 <= nHead).
 */
export function attention_heads(q: usize, kCache: usize, vCache: usize, nHead: i32, nHeadKv: i32, headDim: i32,
                                nPos: i32, out: usize, scratch: usize, h0: i32, h1: i32, f16: bool): i32 {
  if (nHead <= 0 || nHeadKv <= 0 || headDim <= 0 || nPos <= 0 || nHead % nHeadKv != 0) return -1;
  if (h0 < 0 || h1 > nHead || h0 >= h1) return -1;
  const group = nHead / nHeadKv;
  const row = <usize>headDim << 2;
  const cshift: usize = f16 ? 1 : 2;
  const cacheRow = <usize>headDim << cshift;
  const posStride = <usize>nHeadKv * cacheRow;
  const scale = attn_scale(headDim);
  const rowsBytes = <usize>nPos << 2;
  const g0 = h0 / group, g1 = (h1 + group - 1) / group, ng = g1 - g0;
  // The range's kv heads within each cache row: the only columns it reads (and touches ahead).
  const colOff = <usize>g0 * cacheRow, cols = <usize>ng * cacheRow;
  const buf = scratch, sums = buf + bufBytes(nHeadKv, headDim);
  const qt = sums + (<usize>(nHead * 4) << 6);
  const scores = qt + <usize>nHead * row;
  const vs = f32x4.splat(scale);
  const nb = <usize>headDim >> 2;
  const tiles = (headDim & 3) == 0;
  // The range's q in the score tiles' order (pair at head h: qt + (h - h0) * row).
  if (tiles) {
    for (let g = g0; g < g1; g++) {
      const ha = max(h0, g * group), hb = min(h1, g * group + group);
      for (let h = ha; h + 2 <= hb; h += 2) relay_q2(q + <usize>h * row, row, nb, qt + <usize>(h - h0) * row);
    }
  }
  // Pass 1: scores, four positions (contiguous rows) at a time, every kv head of the range.
  for (let p = 0; p < nPos; p += 4) {
    const m = min(4, nPos - p);
    if ((p & (K_BATCH - 1)) == 0 && p + K_BATCH < nPos) {
      touch_rows(kCache + <usize>(p + K_BATCH) * posStride + colOff, min(K_BATCH, nPos - p - K_BATCH), posStride, cols);
    }
    let kq = kCache + <usize>p * posStride, rs = posStride, gs = cacheRow;
    if (f16) {
      kv_load_f16_rows(kq + <usize>g0 * cacheRow, ng * headDim, m, posStride, buf, <usize>ng * row);
      kq = buf - <usize>g0 * row; rs = <usize>ng * row; gs = row;
    }
    for (let g = g0; g < g1; g++) {
      const ha = max(h0, g * group), hb = min(h1, g * group + group);
      // Rows of the quad; a short tail repeats its last row (its scores are not stored).
      const k0 = kq + <usize>g * gs, k1 = k0 + <usize>min(1, m - 1) * rs, k2 = k0 + <usize>min(2, m - 1) * rs, k3 = k0 + <usize>(m - 1) * rs;
      const sc = scores + (<usize>p << 2);
      let h = ha;
      if (tiles) {
        for (; h + 2 <= hb; h += 2) tile2x4(qt + <usize>(h - h0) * row, nb, k0, k1, k2, k3, sc + <usize>(h - h0) * rowsBytes, rowsBytes, vs, m);
        for (; h < hb; h++) tile1x4(q + <usize>h * row, nb, k0, k1, k2, k3, sc + <usize>(h - h0) * rowsBytes, vs, m);
      } else {
        for (; h < hb; h++) {
          const sh = sc + <usize>(h - h0) * rowsBytes, qh = q + <usize>h * row;
          for (let r = 0; r < m; r++) store<f32>(sh + (<usize>r << 2), dot_f32(qh, k0 + <usize>r * rs, headDim) * scale);
        }
      }
    }
  }
  for (let h = h0; h < h1; h++) store<f64>(sums + (<usize>(h - h0) << 3), exp_sum_f32(scores + <usize>(h - h0) * rowsBytes, nPos));
  const stride = f16 ? row : posStride;
  for (let p0 = 0; p0 < nPos; p0 += BLOCK) {
    const n = min(BLOCK, nPos - p0);
    if (p0 + 2 * BLOCK <= nPos) touch_rows(vCache + <usize>(p0 + BLOCK) * posStride + colOff, BLOCK, posStride, cols);
    for (let g = g0; g < g1; g++) {
      const ha = max(h0, g * group), hb = min(h1, g * group + group);
      let vb = vCache + <usize>g * cacheRow + <usize>p0 * posStride;
      if (f16) { kv_load_f16_rows(vb, headDim, n, posStride, buf, row); vb = buf; }
      value_block(scores + <usize>(ha - h0) * rowsBytes + (<usize>p0 << 2), rowsBytes, vb, stride, n, headDim, hb - ha, out + <usize>ha * row, p0 == 0);
    }
  }
  for (let h = h0; h < h1; h++) divide_row(out + <usize>h * row, headDim, load<f64>(sums + (<usize>(h - h0) << 3)));
  return 0;
}

/** Attention over all heads of an f32 cache (attention_heads over [0, nHead)). */
export function attention(q: usize, kCache: usize, vCache: usize, nHead: i32, nHeadKv: i32, headDim: i32,
                          nPos: i32, out: usize, scratch: usize): i32 {
  return attention_heads(q, kCache, vCache, nHead, nHeadKv, headDim, nPos, out, scratch, 0, nHead, false);
}

/** attention() over an f16 cache: same arguments, layouts, scratch size and result bits as
 *  attention() over the decoded f32 cache. */
export function attention_f16(q: usize, kCache: usize, vCache: usize, nHead: i32, nHeadKv: i32, headDim: i32,
                              nPos: i32, out: usize, scratch: usize): i32 {
  return attention_heads(q, kCache, vCache, nHead, nHeadKv, headDim, nPos, out, scratch, 0, nHead, true);
}
