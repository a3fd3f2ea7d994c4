// Dot-product kernels over LAYOUT_I2 (2-bit codes c = t + 1) for the relaxed-SIMD build.
// i8x16.relaxed_dot is exact on every engine when the second operand's lanes are 0..127 and no
// i16 pair sum saturates: codes are 0..2 and |q| <= 127, so each pair sum is within +-508.
// The codes add sum(q) to each dot product; it is subtracted once per row.
import { sum_i8 } from "../quant/absmax_i8";
import { mask2 } from "../consts";
import { touch } from "./lut_tl3";

// @ts-ignore: decorator
@inline function codes(v: v128, k: i32, m3: v128): v128 {
  // i16 shifts move bits across byte lanes, but the mask keeps only each byte's own two bits.
  return v128.and(k == 0 ? v : i16x8.shr_u(v, <u32>(2 * k)), m3);
}

// @ts-ignore: decorator
@inline function hsum(a: v128): i32 {
  return i32x4.extract_lane(a, 0) + i32x4.extract_lane(a, 1) + i32x4.extract_lane(a, 2) + i32x4.extract_lane(a, 3);
}

/** GEMV, i32 accumulation (i32x4.relaxed_dot_i8x16_i7x16_add_s): 4 rows per block, 2 chains per row.
 *  ahead: touch the weights 16 rows ahead every 16 rows (weights streamed from DRAM; see lut_tl3.ts). */
export function gemv_i2_dot32(w: usize, rp: i32, kp: i32, q: usize, acc: usize, ahead: bool, r0: i32, r1: i32): void {
  if (!ASC_FEATURE_RELAXED_SIMD) { unreachable(); return; }
  const sq = sum_i8(q, kp);
  const m3 = mask2();
  let p = w + <usize>(r0 >> 2) * <usize>kp;
  for (let rb = r0; rb < r1; rb += 4) {
    if (ahead && ((rb - r0) & 15) == 0 && rb + 16 < r1) touch(p + (<usize>kp << 2), <usize>min(16, r1 - rb - 16) * <usize>(kp >> 2));
    let a0 = i32x4.splat(0), b0 = i32x4.splat(0), a1 = i32x4.splat(0), b1 = i32x4.splat(0);
    let a2 = i32x4.splat(0), b2 = i32x4.splat(0), a3 = i32x4.splat(0), b3 = i32x4.splat(0);
    for (let c = 0; c < kp; c += 64) {
      const qc = q + <usize>c;
      const x0 = v128.load(qc), x1 = v128.load(qc, 16), x2 = v128.load(qc, 32), x3 = v128.load(qc, 48);
      let v = v128.load(p);
      a0 = i32x4.relaxed_dot_i8x16_i7x16_add_s(x0, codes(v, 0, m3), a0);
      b0 = i32x4.relaxed_dot_i8x16_i7x16_add_s(x1, codes(v, 1, m3), b0);
      a0 = i32x4.relaxed_dot_i8x16_i7x16_add_s(x2, codes(v, 2, m3), a0);
      b0 = i32x4.relaxed_dot_i8x16_i7x16_add_s(x3, codes(v, 3, m3), b0);
      v = v128.load(p, 16);
      a1 = i32x4.relaxed_dot_i8x16_i7x16_add_s(x0, codes(v, 0, m3), a1);
      b1 = i32x4.relaxed_dot_i8x16_i7x16_add_s(x1, codes(v, 1, m3), b1);
      a1 = i32x4.relaxed_dot_i8x16_i7x16_add_s(x2, codes(v, 2, m3), a1);
      b1 = i32x4.relaxed_dot_i8x16_i7x16_add_s(x3, codes(v, 3, m3), b1);
      v = v128.load(p, 32);
      a2 = i32x4.relaxed_dot_i8x16_i7x16_add_s(x0, codes(v, 0, m3), a2);
      b2 = i32x4.relaxed_dot_i8x16_i7x16_add_s(x1, codes(v, 1, m3), b2);
      a2 = i32x4.relaxed_dot_i8x16_i7x16_add_s(x2, codes(v, 2, m3), a2);
      b2 = i32x4.relaxed_dot_i8x16_i7x16_add_s(x3, codes(v, 3, m3), b2);
      v = v128.load(p, 48);
      a3 = i32x4.relaxed_dot_i8x16_i7x16_add_s(x0, codes(v, 0, m3), a3);
      b3 = i32x4.relaxed_dot_i8x16_i7x16_add_s(x1, codes(v, 1, m3), b3);
      a3 = i32x4.relaxed_dot_i8x16_i7x16_add_s(x2, codes(v, 2, m3), a3);
      b3 = i32x4.relaxed_dot_i8x16_i7x16_add_s(x3, codes(v, 3, m3), b3);
      p += 64;
    }
    const o = acc + (<usize>rb << 2);
    store<i32>(o, hsum(i32x4.add(a0, b0)) - sq);
    store<i32>(o, hsum(i32x4.add(a1, b1)) - sq, 4);
    store<i32>(o, hsum(i32x4.add(a2, b2)) - sq, 8);
    store<i32>(o, hsum(i32x4.add(a3, b3)) - sq, 12);
  }
}

/** GEMM over blocks of 2 rows x 4 tokens, i32 accumulation: each weight unpack serves 4 tokens and
 *  each activation load 2 rows, and the 8 sums are 8 independent chains (a multiply-add that
 *  accumulates in place, as x86's VNNI dot does, has a latency of several cycles: 4 chains left it
 *  waiting). q: n rows of kp, acc: n rows of rp; r0, r1 multiples of 4, and so every tile bound
 *  (tile is one too: rp is a multiple of 4), which the 2-row step needs. */
export function gemm_i2_dot32(w: usize, rp: i32, kp: i32, q: usize, n: i32, acc: usize, r0: i32, r1: i32): void {
  if (!ASC_FEATURE_RELAXED_SIMD) { unreachable(); return; }
  const kq = <usize>kp;
  const m3 = mask2();
  const n4 = n & ~3;
  // Tiles of rows whose weights (tile * kp / 4 bytes) stay in L2 while every token block passes
  // over them: the matrix is read from memory once, not once per token block.
  const tile = max(4, min(rp, (<i32>(256 << 10) / max(1, kp >> 2)) & ~3));
  for (let t0 = r0; t0 < r1; t0 += tile) {
  const t1 = min(r1, t0 + tile);
  for (let j = 0; j < n4; j += 4) {
    const q0 = q + <usize>j * kq, q1 = q0 + kq, q2 = q1 + kq, q3 = q2 + kq;
    const s0 = sum_i8(q0, kp), s1 = sum_i8(q1, kp), s2 = sum_i8(q2, kp), s3 = sum_i8(q3, kp);
    for (let r = t0; r < t1; r += 2) {
      let p = w + <usize>(r >> 2) * kq + (<usize>(r & 3) << 4);
      let a0 = i32x4.splat(0), a1 = i32x4.splat(0), a2 = i32x4.splat(0), a3 = i32x4.splat(0);
      let b0 = i32x4.splat(0), b1 = i32x4.splat(0), b2 = i32x4.splat(0), b3 = i32x4.splat(0);
      // One plane (16 columns) per step: each sum gets one dot per step, the codes of 2 rows are live.
      for (let c = 0; c < kp; c += 64) {
        let va = v128.load(p), vb = v128.load(p, 16);
        for (let k = 0; k < 64; k += 16) {
          const ca = v128.and(va, m3), cb = v128.and(vb, m3);
          va = i16x8.shr_u(va, 2); vb = i16x8.shr_u(vb, 2);
          const o = <usize>(c + k);
          let x = v128.load(q0 + o);
          a0 = i32x4.relaxed_dot_i8x16_i7x16_add_s(x, ca, a0); b0 = i32x4.relaxed_dot_i8x16_i7x16_add_s(x, cb, b0);
          x = v128.load(q1 + o);
          a1 = i32x4.relaxed_dot_i8x16_i7x16_add_s(x, ca, a1); b1 = i32x4.relaxed_dot_i8x16_i7x16_add_s(x, cb, b1);
          x = v128.load(q2 + o);
          a2 = i32x4.relaxed_dot_i8x16_i7x16_add_s(x, ca, a2); b2 = i32x4.relaxed_dot_i8x16_i7x16_add_s(x, cb, b2);
          x = v128.load(q3 + o);
          a3 = i32x4.relaxed_dot_i8x16_i7x16_add_s(x, ca, a3); b3 = i32x4.relaxed_dot_i8x16_i7x16_add_s(x, cb, b3);
        }
        p += 64;
      }
      const o = acc + ((<usize>j * <usize>rp + <usize>r) << 2), rs = <usize>rp << 2;
      store<i32>(o, hsum(a0) - s0); store<i32>(o, hsum(b0) - s0, 4);
      store<i32>(o + rs, hsum(a1) - s1); store<i32>(o + rs, hsum(b1) - s1, 4);
      store<i32>(o + 2 * rs, hsum(a2) - s2); store<i32>(o + 2 * rs, hsum(b2) - s2, 4);
      store<i32>(o + 3 * rs, hsum(a3) - s3); store<i32>(o + 3 * rs, hsum(b3) - s3, 4);
    }
  }
  }
  for (let j = n4; j < n; j++) gemv_i2_dot32(w, rp, kp, q + <usize>j * kq, acc + ((<usize>j * <usize>rp) << 2), false, r0, r1);
}

/** GEMM over tokens in blocks of 4 with i16 accumulation: one unpack of each weight vector serves
 *  4 tokens at 2 instructions per 16 weights each. Widened to i32 every 16 chunks
 *  (16 chunks x 4 dots x 508 = 32512 <= 32767). Tokens past the last block of 4 (so every GEMV) run
 *  gemv_i2_dot32: the same sums. */
export function gemm_i2_dot16(w: usize, rp: i32, kp: i32, q: usize, n: i32, acc: usize, r0: i32, r1: i32): void {
  if (!ASC_FEATURE_RELAXED_SIMD) { unreachable(); return; }
  const kq = <usize>kp;
  const m3 = mask2();
  const n4 = n & ~3;
  // Tiles of rows whose weights (tile * kp / 4 bytes) stay in L2 while every token block passes
  // over them: the matrix is read from memory once, not once per token block.
  const tile = max(4, min(rp, (<i32>(256 << 10) / max(1, kp >> 2)) & ~3));
  for (let t0 = r0; t0 < r1; t0 += tile) {
  const t1 = min(r1, t0 + tile);
  for (let j = 0; j < n4; j += 4) {
    const q0 = q + <usize>j * kq, q1 = q0 + kq, q2 = q1 + kq, q3 = q2 + kq;
    const s0 = sum_i8(q0, kp), s1 = sum_i8(q1, kp), s2 = sum_i8(q2, kp), s3 = sum_i8(q3, kp);
    for (let r = t0; r < t1; r++) {
      let p = w + <usize>(r >> 2) * kq + (<usize>(r & 3) << 4);
      let w0 = i32x4.splat(0), w1 = i32x4.splat(0), w2 = i32x4.splat(0), w3 = i32x4.splat(0);
      for (let c0 = 0; c0 < kp; c0 += 1024) {
        const cEnd = min(kp, c0 + 1024);
        let a0 = i16x8.splat(0), a1 = i16x8.splat(0), a2 = i16x8.splat(0), a3 = i16x8.splat(0);
        for (let c = c0; c < cEnd; c += 64) {
          const v = v128.load(p);
          const c_0 = codes(v, 0, m3), c_1 = codes(v, 1, m3), c_2 = codes(v, 2, m3), c_3 = codes(v, 3, m3);
          const o = <usize>c;
          a0 = i16x8.add(a0, i16x8.add(i16x8.add(i16x8.relaxed_dot_i8x16_i7x16_s(v128.load(q0 + o), c_0), i16x8.relaxed_dot_i8x16_i7x16_s(v128.load(q0 + o, 16), c_1)),
                                       i16x8.add(i16x8.relaxed_dot_i8x16_i7x16_s(v128.load(q0 + o, 32), c_2), i16x8.relaxed_dot_i8x16_i7x16_s(v128.load(q0 + o, 48), c_3))));
          a1 = i16x8.add(a1, i16x8.add(i16x8.add(i16x8.relaxed_dot_i8x16_i7x16_s(v128.load(q1 + o), c_0), i16x8.relaxed_dot_i8x16_i7x16_s(v128.load(q1 + o, 16), c_1)),
                                       i16x8.add(i16x8.relaxed_dot_i8x16_i7x16_s(v128.load(q1 + o, 32), c_2), i16x8.relaxed_dot_i8x16_i7x16_s(v128.load(q1 + o, 48), c_3))));
          a2 = i16x8.add(a2, i16x8.add(i16x8.add(i16x8.relaxed_dot_i8x16_i7x16_s(v128.load(q2 + o), c_0), i16x8.relaxed_dot_i8x16_i7x16_s(v128.load(q2 + o, 16), c_1)),
                                       i16x8.add(i16x8.relaxed_dot_i8x16_i7x16_s(v128.load(q2 + o, 32), c_2), i16x8.relaxed_dot_i8x16_i7x16_s(v128.load(q2 + o, 48), c_3))));
          a3 = i16x8.add(a3, i16x8.add(i16x8.add(i16x8.relaxed_dot_i8x16_i7x16_s(v128.load(q3 + o), c_0), i16x8.relaxed_dot_i8x16_i7x16_s(v128.load(q3 + o, 16), c_1)),
                                       i16x8.add(i16x8.relaxed_dot_i8x16_i7x16_s(v128.load(q3 + o, 32), c_2), i16x8.relaxed_dot_i8x16_i7x16_s(v128.load(q3 + o, 48), c_3))));
          p += 64;
        }
        w0 = i32x4.add(w0, i32x4.extadd_pairwise_i16x8_s(a0));
        w1 = i32x4.add(w1, i32x4.extadd_pairwise_i16x8_s(a1));
        w2 = i32x4.add(w2, i32x4.extadd_pairwise_i16x8_s(a2));
        w3 = i32x4.add(w3, i32x4.extadd_pairwise_i16x8_s(a3));
      }
      const o = acc + ((<usize>j * <usize>rp + <usize>r) << 2), rs = <usize>rp << 2;
      store<i32>(o, hsum(w0) - s0);
      store<i32>(o + rs, hsum(w1) - s1);
      store<i32>(o + 2 * rs, hsum(w2) - s2);
      store<i32>(o + 3 * rs, hsum(w3) - s3);
    }
  }
  }
  for (let j = n4; j < n; j++) gemv_i2_dot32(w, rp, kp, q + <usize>j * kq, acc + ((<usize>j * <usize>rp) << 2), false, r0, r1);
}
