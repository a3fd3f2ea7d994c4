// Lookup-table kernels over LAYOUT_TL3 (3 trits in 5 bits; see layouts.ts).
//
// Per activation vector, each group of 3 activations gets a 14-entry table T[i] = value of the
// trit pattern i + 13 (the patterns whose negations cover the other 13). |T| <= 381 needs more than
// 8 bits, so T = 32*h + l is split into two 16-byte tables, l in [-16, 15] and h in [-12, 12];
// i8x16.swizzle looks up 16 rows at once. A minus sign is applied as x ^ m (m = 0 or -1 per lane),
// which gives -x - 1: the -1's are the row's count of minus signs, known when packing, so
//   sum_g sgn*T = 32*H + L + 33*minusCount,  H = sum(h ^ m), L = sum(l ^ m).
// Over a super-block of 8 groups H stays in [-104, 96] and L in [-128, 120]: both fit i8 lanes,
// so lookups accumulate in i8 and widen once per 8 groups; i16 partial sums (|.| <= 3456 per
// super-block) are flushed to i32 every 9 super-blocks.

import { mask4, zero } from "../consts";

// Trits of the 16 table patterns (entries 14 and 15 are unused: all-zero).
// @ts-ignore: decorator
@lazy const TA_LO = i16x8(0, 0, 0, 0, 0, 1, 1, 1);
// @ts-ignore: decorator
@lazy const TA_HI = i16x8(1, 1, 1, 1, 1, 1, 0, 0);
// @ts-ignore: decorator
@lazy const TB_LO = i16x8(0, 0, 1, 1, 1, -1, -1, -1);
// @ts-ignore: decorator
@lazy const TB_HI = i16x8(0, 0, 0, 1, 1, 1, 0, 0);
// @ts-ignore: decorator
@lazy const TC_LO = i16x8(0, 1, -1, 0, 1, -1, 0, 1);
// @ts-ignore: decorator
@lazy const TC_HI = i16x8(-1, 0, 1, -1, 0, 1, 0, 0);

/** Builds the lo/hi tables (32 bytes per group) of one activation vector q (kp int8, kp % 3 == 0). */
export function tl3_tables(q: usize, kp: i32, tbl: usize): void {
  const k16 = i16x8.splat(16), k31 = i16x8.splat(31);
  let t = tbl;
  for (let k = 0; k < kp; k += 3) {
    const qa = i16x8.splat(<i16>load<i8>(q + <usize>k));
    const qb = i16x8.splat(<i16>load<i8>(q + <usize>k, 1));
    const qc = i16x8.splat(<i16>load<i8>(q + <usize>k, 2));
    const tl = i16x8.add(i16x8.add(i16x8.mul(TA_LO, qa), i16x8.mul(TB_LO, qb)), i16x8.mul(TC_LO, qc));
    const th = i16x8.add(i16x8.add(i16x8.mul(TA_HI, qa), i16x8.mul(TB_HI, qb)), i16x8.mul(TC_HI, qc));
    const ll = i16x8.sub(v128.and(i16x8.add(tl, k16), k31), k16);
    const lh = i16x8.sub(v128.and(i16x8.add(th, k16), k31), k16);
    v128.store(t, i8x16.narrow_i16x8_s(ll, lh));
    v128.store(t, i8x16.narrow_i16x8_s(i16x8.shr_s(i16x8.sub(tl, ll), 5), i16x8.shr_s(i16x8.sub(th, lh), 5)), 16);
    t += 32;
  }
}

// @ts-ignore: decorator
@inline function lookup(table: v128, idx: v128, relaxed: bool): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) {
    // idx is masked to 0..15, where relaxed_swizzle is defined exactly.
    if (relaxed) return i8x16.relaxed_swizzle(table, idx);
  }
  return i8x16.swizzle(table, idx);
}

// @ts-ignore: decorator
@inline function nibble(n: v128, high: bool, m15: v128): v128 {
  return v128.and(high ? i16x8.shr_u(n, 4) : n, m15);
}

// @ts-ignore: decorator
@inline function signMask(s: v128, bit: i32, z: v128): v128 {
  // Move sign bit `bit` of every byte to the byte's top bit, then compare < 0.
  return i8x16.lt_s(bit == 7 ? s : i16x8.shl(s, <u32>(7 - bit)), z);
}

// @ts-ignore: decorator
@inline function widen(h: v128, l: v128, high: bool): v128 {
  // 32*H + L of 8 rows in i16
  return high
    ? i16x8.add(i16x8.shl(i16x8.extend_high_i8x16_s(h), 5), i16x8.extend_high_i8x16_s(l))
    : i16x8.add(i16x8.shl(i16x8.extend_low_i8x16_s(h), 5), i16x8.extend_low_i8x16_s(l));
}

// @ts-ignore: decorator
@inline function gemvBody(w: usize, rp: i32, kp: i32, tbl: usize, acc: usize, relaxed: bool, ahead: bool, r0: i32, r1: i32): void {
  const nsb = kp / 24;
  const counts = w + <usize>rp * <usize>nsb * 5;
  const m15 = mask4(), z = zero();
  const blockBytes = <usize>nsb * 80;
  let p = w + <usize>(r0 >> 4) * blockBytes;
  for (let rb = r0; rb < r1; rb += 16) {
    // Touch every cache line of the next row block now: a tight loop of loads puts many misses
    // in flight at once, which the compute loop (tens of instructions per line) cannot; the
    // next block then computes from cache. See README "DRAM".
    if (ahead && rb + 16 < r1) touch(p + blockBytes, blockBytes);
    let s0 = i32x4.splat(0), s1 = i32x4.splat(0), s2 = i32x4.splat(0), s3 = i32x4.splat(0);
    let va = i16x8.splat(0), vb = i16x8.splat(0);
    let t = tbl;
    let pending = 0;
    for (let sb = 0; sb < nsb; sb++) {
      const S = v128.load(p, 64);
      let L = i8x16.splat(0), H = i8x16.splat(0);
      let N = v128.load(p);
      let idx = nibble(N, false, m15), m = signMask(S, 0, z);
      L = i8x16.add(L, v128.xor(lookup(v128.load(t), idx, relaxed), m));
      H = i8x16.add(H, v128.xor(lookup(v128.load(t, 16), idx, relaxed), m));
      idx = nibble(N, true, m15); m = signMask(S, 1, z);
      L = i8x16.add(L, v128.xor(lookup(v128.load(t, 32), idx, relaxed), m));
      H = i8x16.add(H, v128.xor(lookup(v128.load(t, 48), idx, relaxed), m));
      N = v128.load(p, 16);
      idx = nibble(N, false, m15); m = signMask(S, 2, z);
      L = i8x16.add(L, v128.xor(lookup(v128.load(t, 64), idx, relaxed), m));
      H = i8x16.add(H, v128.xor(lookup(v128.load(t, 80), idx, relaxed), m));
      idx = nibble(N, true, m15); m = signMask(S, 3, z);
      L = i8x16.add(L, v128.xor(lookup(v128.load(t, 96), idx, relaxed), m));
      H = i8x16.add(H, v128.xor(lookup(v128.load(t, 112), idx, relaxed), m));
      N = v128.load(p, 32);
      idx = nibble(N, false, m15); m = signMask(S, 4, z);
      L = i8x16.add(L, v128.xor(lookup(v128.load(t, 128), idx, relaxed), m));
      H = i8x16.add(H, v128.xor(lookup(v128.load(t, 144), idx, relaxed), m));
      idx = nibble(N, true, m15); m = signMask(S, 5, z);
      L = i8x16.add(L, v128.xor(lookup(v128.load(t, 160), idx, relaxed), m));
      H = i8x16.add(H, v128.xor(lookup(v128.load(t, 176), idx, relaxed), m));
      N = v128.load(p, 48);
      idx = nibble(N, false, m15); m = signMask(S, 6, z);
      L = i8x16.add(L, v128.xor(lookup(v128.load(t, 192), idx, relaxed), m));
      H = i8x16.add(H, v128.xor(lookup(v128.load(t, 208), idx, relaxed), m));
      idx = nibble(N, true, m15); m = signMask(S, 7, z);
      L = i8x16.add(L, v128.xor(lookup(v128.load(t, 224), idx, relaxed), m));
      H = i8x16.add(H, v128.xor(lookup(v128.load(t, 240), idx, relaxed), m));
      va = i16x8.add(va, widen(H, L, false));
      vb = i16x8.add(vb, widen(H, L, true));
      if (++pending == 9) {
        s0 = i32x4.add(s0, i32x4.extend_low_i16x8_s(va)); s1 = i32x4.add(s1, i32x4.extend_high_i16x8_s(va));
        s2 = i32x4.add(s2, i32x4.extend_low_i16x8_s(vb)); s3 = i32x4.add(s3, i32x4.extend_high_i16x8_s(vb));
        va = i16x8.splat(0); vb = i16x8.splat(0); pending = 0;
      }
      p += 80;
      t += 256;
    }
    s0 = i32x4.add(s0, i32x4.extend_low_i16x8_s(va)); s1 = i32x4.add(s1, i32x4.extend_high_i16x8_s(va));
    s2 = i32x4.add(s2, i32x4.extend_low_i16x8_s(vb)); s3 = i32x4.add(s3, i32x4.extend_high_i16x8_s(vb));
    const c = counts + (<usize>rb << 2), o = acc + (<usize>rb << 2), k33 = i32x4.splat(33);
    v128.store(o, i32x4.add(s0, i32x4.mul(v128.load(c), k33)));
    v128.store(o, i32x4.add(s1, i32x4.mul(v128.load(c, 16), k33)), 16);
    v128.store(o, i32x4.add(s2, i32x4.mul(v128.load(c, 32), k33)), 32);
    v128.store(o, i32x4.add(s3, i32x4.mul(v128.load(c, 48), k33)), 48);
  }
}

// @ts-ignore: decorator
@lazy let touchSink: i32 = 0;


/** Loads one byte of every 64-byte line of [p, p + n) (into a global, so the loads stay). */
export function touch(p: usize, n: usize): void {
  let x: i32 = 0;
  for (let o: usize = 0; o < n; o += 64) x ^= <i32>load<u8>(p + o);
  touchSink ^= x;
}

/** ahead: touch the next row block's weights first (pays when weights stream from DRAM, costs
 *  ~20% when they are in cache: the decoder turns it on for models, see ternary_matmul). */
export function gemv_tl3(w: usize, rp: i32, kp: i32, tbl: usize, acc: usize, ahead: bool, r0: i32, r1: i32): void {
  gemvBody(w, rp, kp, tbl, acc, false, ahead, r0, r1);
}

export function gemv_tl3_relaxed(w: usize, rp: i32, kp: i32, tbl: usize, acc: usize, ahead: bool, r0: i32, r1: i32): void {
  if (!ASC_FEATURE_RELAXED_SIMD) { unreachable(); return; }
  gemvBody(w, rp, kp, tbl, acc, true, ahead, r0, r1);
}

/** Bytes of scratch gemm_tl3 needs for its decoded weights: 8 (index, mask) pairs per super-block. */
export function tl3_decoded_bytes(kp: i32): i32 {
  return kp / 24 * 256;
}

// @ts-ignore: decorator
@inline function look2(L: v128, t: usize, off: usize, idx: v128, m: v128, relaxed: bool): v128 {
  return i8x16.add(L, v128.xor(lookup(v128.load(t + off), idx, relaxed), m));
}

// @ts-ignore: decorator
@inline function gemmBody(w: usize, rp: i32, kp: i32, tbl: usize, n: i32, acc: usize, dec: usize, relaxed: bool, r0: i32, r1: i32): void {
  // Per block of 16 rows, the indices and sign masks are decoded once into `dec`; then tokens go
  // in pairs, each pair sharing the loads of the decoded (index, mask) vectors.
  const nsb = kp / 24;
  const counts = w + <usize>rp * <usize>nsb * 5;
  const tstride = <usize>(kp / 3) * 32;
  const m15 = mask4(), z = zero();
  let p = w + <usize>(r0 >> 4) * <usize>nsb * 80;
  for (let rb = r0; rb < r1; rb += 16) {
    let d = dec;
    for (let sb = 0; sb < nsb; sb++) {
      const S = v128.load(p, 64);
      for (let k = 0; k < 4; k++) {
        const N = v128.load(p + (<usize>k << 4));
        v128.store(d, nibble(N, false, m15));
        v128.store(d, i8x16.lt_s(i16x8.shl(S, <u32>(7 - 2 * k)), z), 16);
        v128.store(d, nibble(N, true, m15), 32);
        v128.store(d, i8x16.lt_s(i16x8.shl(S, <u32>(6 - 2 * k)), z), 48);
        d += 64;
      }
      p += 80;
    }
    const c = counts + (<usize>rb << 2), k33 = i32x4.splat(33);
    const c0 = i32x4.mul(v128.load(c), k33), c1 = i32x4.mul(v128.load(c, 16), k33);
    const c2 = i32x4.mul(v128.load(c, 32), k33), c3 = i32x4.mul(v128.load(c, 48), k33);
    for (let j = 0; j < n; j += 2) {
      // An odd last token is paired with itself (computed twice, stored once).
      const j1 = j + 1 < n ? j + 1 : j;
      let ta = tbl + <usize>j * tstride, tb = tbl + <usize>j1 * tstride;
      let sa0 = i32x4.splat(0), sa1 = i32x4.splat(0), sa2 = i32x4.splat(0), sa3 = i32x4.splat(0);
      let sb0 = i32x4.splat(0), sb1 = i32x4.splat(0), sb2 = i32x4.splat(0), sb3 = i32x4.splat(0);
      let vaa = i16x8.splat(0), vab = i16x8.splat(0), vba = i16x8.splat(0), vbb = i16x8.splat(0);
      d = dec;
      let pending = 0;
      for (let sb = 0; sb < nsb; sb++) {
        let La = i8x16.splat(0), Ha = i8x16.splat(0), Lb = i8x16.splat(0), Hb = i8x16.splat(0);
        for (let g = 0; g < 8; g++) {
          const idx = v128.load(d), m = v128.load(d, 16);
          La = look2(La, ta, 0, idx, m, relaxed);
          Ha = look2(Ha, ta, 16, idx, m, relaxed);
          Lb = look2(Lb, tb, 0, idx, m, relaxed);
          Hb = look2(Hb, tb, 16, idx, m, relaxed);
          d += 32; ta += 32; tb += 32;
        }
        vaa = i16x8.add(vaa, widen(Ha, La, false)); vab = i16x8.add(vab, widen(Ha, La, true));
        vba = i16x8.add(vba, widen(Hb, Lb, false)); vbb = i16x8.add(vbb, widen(Hb, Lb, true));
        if (++pending == 9) {
          sa0 = i32x4.add(sa0, i32x4.extend_low_i16x8_s(vaa)); sa1 = i32x4.add(sa1, i32x4.extend_high_i16x8_s(vaa));
          sa2 = i32x4.add(sa2, i32x4.extend_low_i16x8_s(vab)); sa3 = i32x4.add(sa3, i32x4.extend_high_i16x8_s(vab));
          sb0 = i32x4.add(sb0, i32x4.extend_low_i16x8_s(vba)); sb1 = i32x4.add(sb1, i32x4.extend_high_i16x8_s(vba));
          sb2 = i32x4.add(sb2, i32x4.extend_low_i16x8_s(vbb)); sb3 = i32x4.add(sb3, i32x4.extend_high_i16x8_s(vbb));
          vaa = i16x8.splat(0); vab = i16x8.splat(0); vba = i16x8.splat(0); vbb = i16x8.splat(0); pending = 0;
        }
      }
      sa0 = i32x4.add(sa0, i32x4.extend_low_i16x8_s(vaa)); sa1 = i32x4.add(sa1, i32x4.extend_high_i16x8_s(vaa));
      sa2 = i32x4.add(sa2, i32x4.extend_low_i16x8_s(vab)); sa3 = i32x4.add(sa3, i32x4.extend_high_i16x8_s(vab));
      sb0 = i32x4.add(sb0, i32x4.extend_low_i16x8_s(vba)); sb1 = i32x4.add(sb1, i32x4.extend_high_i16x8_s(vba));
      sb2 = i32x4.add(sb2, i32x4.extend_low_i16x8_s(vbb)); sb3 = i32x4.add(sb3, i32x4.extend_high_i16x8_s(vbb));
      let o = acc + ((<usize>j * <usize>rp + <usize>rb) << 2);
      v128.store(o, i32x4.add(sa0, c0)); v128.store(o, i32x4.add(sa1, c1), 16);
      v128.store(o, i32x4.add(sa2, c2), 32); v128.store(o, i32x4.add(sa3, c3), 48);
      if (j1 != j) {
        o = acc + ((<usize>j1 * <usize>rp + <usize>rb) << 2);
        v128.store(o, i32x4.add(sb0, c0)); v128.store(o, i32x4.add(sb1, c1), 16);
        v128.store(o, i32x4.add(sb2, c2), 32); v128.store(o, i32x4.add(sb3, c3), 48);
      }
    }
  }
}

export function gemm_tl3(w: usize, rp: i32, kp: i32, tbl: usize, n: i32, acc: usize, dec: usize, r0: i32, r1: i32): void {
  gemmBody(w, rp, kp, tbl, n, acc, dec, false, r0, r1);
}

export function gemm_tl3_relaxed(w: usize, rp: i32, kp: i32, tbl: usize, n: i32, acc: usize, dec: usize, r0: i32, r1: i32): void {
  if (!ASC_FEATURE_RELAXED_SIMD) { unreachable(); return; }
  gemmBody(w, rp, kp, tbl, n, acc, dec, true, r0, r1);
}
