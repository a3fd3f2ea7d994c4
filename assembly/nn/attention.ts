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
//   score = dot(q_h, k_p) * scale, scale = f32(1/sqrt(headDim)) correctly rounded; the dot uses
//   four f32x4 partial sums over 16-element blocks, then 4-element blocks into the first, combined
//   (a0+a1)+(a2+a3), lanes (0+1)+(2+3), then a scalar tail in index order.
//   probabilities: nn/softmax_f32 (f32 exponentials) over the nPos scores.
//   out[d] = p_0 v_0[d], then += p_t v_t[d] for t = 1..nPos-1 in order (f32), the same per-element
//   sequence for every headDim and chunking, so nPos = 1 returns v_0 exactly.
// Loop order (flash-decoding's blocking, with an exact two-pass softmax instead of its online
// rescaling, which would change the bits). Every K and V row is read from memory once for all
// the query heads that use it, front to back:
//   pass 1, scores: four positions at a time (four contiguous cache rows), every kv head, its
//     query heads in tiles (below) that share each q load across positions and each k load
//     across heads; the four positions' lane sums are reduced together (reduce4).
//   pass 2: the softmax of each head's row.
//   pass 3, values: blocks of BLOCK positions; for each kv head, its query heads add the block's
//     v rows into their outputs (kept in out between blocks: exact, the per-element order is
//     still p = 0, 1, 2, ...). A kv head's block (BLOCK x headDim f32, 16 KB at headDim 128)
//     stays in L1 while its heads use it; pairs of heads share each v load.
// An f16 cache is decoded into scratch (four rows, or one kv head's block) and then runs the same
// code, so its output is bit-identical to attention() on the decoded cache. The next rows are
// touched ahead (one load per line) while the current ones compute: wasm has no prefetch.
import { softmax_f32 } from "./softmax";
import { kv_load_f16 } from "./kv_f16";
import { touch } from "../ternary/lut_tl3";

/** Positions per block of the value pass. */
const BLOCK = 32;
/** The score pass touches the cache rows ahead in batches: every K_BATCH positions, the next
 *  K_BATCH rows. Large batches keep many lines in flight at once (one 2B4T layer at 4096 positions,
 *  score pass alone from DRAM: 1.2 ms touching four rows at a time, 0.93-1.0 ms with 64). */
const K_BATCH = 64;

/** Scratch bytes for attention / attention_f16 / attention_heads (any head range): decoded f16
 *  rows, the four accumulators of four positions per head, the re-laid q rows, and one row of nPos
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
  let acc = lane_sum(f32x4.add(f32x4.add(a0, a1), f32x4.add(a2, a3)));
  for (; i < n; i++) acc += load<f32>(a + (<usize>i << 2)) * load<f32>(b + (<usize>i << 2));
  return acc;
}

// Score tiles (headDim % 16 == 0). dot_f32's four accumulators are independent sums: a_i adds
// q[16b+4i..16b+4i+4) * k[...] over b = 0, 1, 2, ... So a tile computes one accumulator index i
// at a time for several (head, position) pairs, sharing each q load across positions and each k
// load across heads, and stores the four accumulators of a pair to a 64-byte slot; reduce4 then
// combines them exactly as dot_f32 does. Same bits, half the loads of one dot at a time.
// Slot of (head j, position p of a quad): parts + ((j * 4 + p) << 6).

// @ts-ignore: decorator
@inline function slot(parts: usize, j: i32, p: i32): usize { return parts + (<usize>(j * 4 + p) << 6); }

/** Copies the q rows of heads h..h+3 (row bytes apart, nb 16-element blocks each) to qt in the
 *  order tile4x2 reads them: element (head j, accumulator i, block b) at ((i * nb + b) * 4 + j) * 16
 *  bytes, so each step of the tile loads its four heads' q at fixed offsets from one pointer. */
// @ts-ignore: decorator
@inline function relay_q(q: usize, row: usize, nb: usize, qt: usize): void {
  for (let j: usize = 0; j < 4; j++) {
    for (let i: usize = 0; i < 4; i++) {
      for (let b: usize = 0; b < nb; b++) v128.store(qt + ((((i * nb + b) << 2) + j) << 4), v128.load(q + j * row + (b << 6) + (i << 4)));
    }
  }
}

/** Heads j..j+3 (q re-laid at qt by relay_q) x two positions (k rows k0, k1); sl = slot(parts, j, p0)
 *  for the pair's first position p0. Pointers only step by 64 and every other offset is a constant:
 *  no address arithmetic per load. */
// @ts-ignore: decorator
@inline function tile4x2(qt: usize, nb: usize, k0: usize, k1: usize, sl: usize): void {
  let qp = qt;
  for (let i: usize = 0; i < 64; i += 16) {
    let a0 = f32x4.splat(0), a1 = f32x4.splat(0), b0 = f32x4.splat(0), b1 = f32x4.splat(0);
    let c0 = f32x4.splat(0), c1 = f32x4.splat(0), d0 = f32x4.splat(0), d1 = f32x4.splat(0);
    let x = k0 + i, y = k1 + i;
    const end = qp + (nb << 6);
    do {
      const x0 = v128.load(x), x1 = v128.load(y);
      let w = v128.load(qp); a0 = f32x4.add(a0, f32x4.mul(w, x0)); a1 = f32x4.add(a1, f32x4.mul(w, x1));
      w = v128.load(qp, 16); b0 = f32x4.add(b0, f32x4.mul(w, x0)); b1 = f32x4.add(b1, f32x4.mul(w, x1));
      w = v128.load(qp, 32); c0 = f32x4.add(c0, f32x4.mul(w, x0)); c1 = f32x4.add(c1, f32x4.mul(w, x1));
      w = v128.load(qp, 48); d0 = f32x4.add(d0, f32x4.mul(w, x0)); d1 = f32x4.add(d1, f32x4.mul(w, x1));
      qp += 64; x += 64; y += 64;
    } while (qp < end);
    // slot(j + u, p0 + t) = sl + (u * 4 + t) * 64
    const o = sl + i;
    v128.store(o, a0); v128.store(o, a1, 64); v128.store(o, b0, 256); v128.store(o, b1, 320);
    v128.store(o, c0, 512); v128.store(o, c1, 576); v128.store(o, d0, 768); v128.store(o, d1, 832);
  }
}

/** Head j x the quad's four positions (k rows k0..k3). */
// @ts-ignore: decorator
@inline function tile_h1p4(q: usize, row: usize, k0: usize, k1: usize, k2: usize, k3: usize, parts: usize, j: i32): void {
  for (let i: usize = 0; i < 64; i += 16) {
    let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0);
    for (let o = i; o < row; o += 64) {
      const y = v128.load(q + o);
      a0 = f32x4.add(a0, f32x4.mul(y, v128.load(k0 + o))); a1 = f32x4.add(a1, f32x4.mul(y, v128.load(k1 + o)));
      a2 = f32x4.add(a2, f32x4.mul(y, v128.load(k2 + o))); a3 = f32x4.add(a3, f32x4.mul(y, v128.load(k3 + o)));
    }
    v128.store(slot(parts, j, 0) + i, a0); v128.store(slot(parts, j, 1) + i, a1);
    v128.store(slot(parts, j, 2) + i, a2); v128.store(slot(parts, j, 3) + i, a3);
  }
}

// @ts-ignore: decorator
@inline function lanes_of(sl: usize): v128 {
  return f32x4.add(f32x4.add(v128.load(sl), v128.load(sl, 16)), f32x4.add(v128.load(sl, 32), v128.load(sl, 48)));
}

/** Scores of four consecutive slots (one head, positions p..p+3): ((x0+x1)+(x2+x3)) * scale of
 *  each slot's lane vector (a0+a1)+(a2+a3), the lane order of dot_f32, four at once. */
// @ts-ignore: decorator
@inline function reduce4(sl: usize, scale: v128): v128 {
  const s0 = lanes_of(sl), s1 = lanes_of(sl + 64), s2 = lanes_of(sl + 128), s3 = lanes_of(sl + 192);
  // [x0+x1 of s0, of s1, x2+x3 of s0, of s1], then the same for s2, s3.
  const h01 = f32x4.add(v128.shuffle<f32>(s0, s1, 0, 4, 2, 6), v128.shuffle<f32>(s0, s1, 1, 5, 3, 7));
  const h23 = f32x4.add(v128.shuffle<f32>(s2, s3, 0, 4, 2, 6), v128.shuffle<f32>(s2, s3, 1, 5, 3, 7));
  return f32x4.mul(f32x4.add(v128.shuffle<f32>(h01, h23, 0, 1, 4, 5), v128.shuffle<f32>(h01, h23, 2, 3, 6, 7)), scale);
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
  const buf = scratch, parts = buf + bufBytes(nHeadKv, headDim);
  const qt = parts + (<usize>(nHead * 4) << 6);
  const scores = qt + <usize>nHead * row;
  const vs = f32x4.splat(scale);
  const nb = <usize>headDim >> 4;
  // The range's q in the score tiles' order (tile at head h: qt + (h - h0) * row).
  if ((headDim & 15) == 0) {
    for (let g = g0; g < g1; g++) {
      const ha = max(h0, g * group), hb = min(h1, g * group + group);
      for (let h = ha; h + 4 <= hb; h += 4) relay_q(q + <usize>h * row, row, nb, qt + <usize>(h - h0) * row);
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
      for (let r = 0; r < m; r++) kv_load_f16(kq + <usize>r * posStride + <usize>g0 * cacheRow, ng * headDim, buf + <usize>(r * ng) * row);
      kq = buf - <usize>g0 * row; rs = <usize>ng * row; gs = row;
    }
    for (let g = g0; g < g1; g++) {
      const ha = max(h0, g * group), hb = min(h1, g * group + group);
      // Rows of the quad; a short tail repeats its last row (its slots are never read).
      const k0 = kq + <usize>g * gs, k1 = k0 + <usize>min(1, m - 1) * rs, k2 = k0 + <usize>min(2, m - 1) * rs, k3 = k0 + <usize>(m - 1) * rs;
      let h = ha;
      if ((headDim & 15) == 0) {
        for (; h + 4 <= hb; h += 4) {
          const qh = qt + <usize>(h - h0) * row;
          tile4x2(qh, nb, k0, k1, slot(parts, h - h0, 0));
          tile4x2(qh, nb, k2, k3, slot(parts, h - h0, 2));
        }
        for (; h < hb; h++) tile_h1p4(q + <usize>h * row, row, k0, k1, k2, k3, parts, h - h0);
      } else {
        for (; h < hb; h++) {
          const sh = scores + <usize>(h - h0) * rowsBytes + (<usize>p << 2), qh = q + <usize>h * row;
          for (let r = 0; r < m; r++) store<f32>(sh + (<usize>r << 2), dot_f32(qh, k0 + <usize>r * rs, headDim) * scale);
        }
      }
    }
    if ((headDim & 15) == 0) {
      for (let h = h0; h < h1; h++) {
        const sh = scores + <usize>(h - h0) * rowsBytes + (<usize>p << 2), sl = slot(parts, h - h0, 0);
        if (m == 4) v128.store(sh, reduce4(sl, vs));
        else for (let r = 0; r < m; r++) store<f32>(sh + (<usize>r << 2), lane_sum(lanes_of(sl + (<usize>r << 6))) * scale);
      }
    }
  }
  for (let h = h0; h < h1; h++) softmax_f32(scores + <usize>(h - h0) * rowsBytes, nPos);
  const stride = f16 ? row : posStride;
  for (let p0 = 0; p0 < nPos; p0 += BLOCK) {
    const n = min(BLOCK, nPos - p0);
    if (p0 + 2 * BLOCK <= nPos) touch_rows(vCache + <usize>(p0 + BLOCK) * posStride + colOff, BLOCK, posStride, cols);
    for (let g = g0; g < g1; g++) {
      const ha = max(h0, g * group), hb = min(h1, g * group + group);
      let vb = vCache + <usize>g * cacheRow + <usize>p0 * posStride;
      if (f16) { for (let p = 0; p < n; p++) kv_load_f16(vb + <usize>p * posStride, headDim, buf + <usize>p * row); vb = buf; }
      value_block(scores + <usize>(ha - h0) * rowsBytes + (<usize>p0 << 2), rowsBytes, vb, stride, n, headDim, hb - ha, out + <usize>ha * row, p0 == 0);
    }
  }
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
