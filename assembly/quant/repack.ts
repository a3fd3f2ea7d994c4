// GGUF ternary rows (TQ2_0, TQ1_0, I2_S) straight into a kernel's layout, a range of row blocks at a time,
// so a loader can repack each piece of a tensor as it arrives. Same bits as decode_* then pack(), and
// the same answer for the piece's blocks: their one scale, SCALES_DIFFER or BAD_CODE (the caller
// combines the pieces' scales: a piece of zero blocks answers 0).
//   TQ2_0 -> I2: both are 2-bit codes t + 1, only their order differs, so bytes are shuffled in
//                registers without forming trits.
//   TQ2_0 -> TL3: 16 rows' codes transposed so that lanes are rows (below), no trits either.
//   otherwise:  one row block is decoded into tmp (padded_rows(layout, 1) * cols trits, in cache)
//               and packed from there, never the whole tensor's trits.
import { DECODE_BAD_CODE, DECODE_SCALES_DIFFER, LAYOUT_I2, LAYOUT_TL3 } from "../abi";
const BAD_CODE = <f32>DECODE_BAD_CODE, SCALES_DIFFER = <f32>DECODE_SCALES_DIFFER;
import { pack_rows, padded_cols, padded_rows } from "../ternary/layouts";
import { i2_s_blocks, noteScale, ternary_scale_begin, ternary_scale_f16, tq1_0_blocks, tq2_0_blocks } from "./ggml_ternary";

/** Rows [r0, r1) of a TQ2_0 tensor (rows x cols, cols % 256 == 0) at src (row r0's first block)
 *  into the packing of the whole matrix at dst; r0, r1 as pack_rows. Returns the rows' scale as
 *  decode_tq2_0 does. tmp: repack_tmp_bytes(layout, cols) bytes. */
export function repack_tq2_0(src: usize, rows: i32, cols: i32, layout: i32, dst: usize, r0: i32, r1: i32, tmp: usize): f32 {
  ternary_scale_begin();
  const bad = layout == LAYOUT_I2 ? codes_to_i2(src, rows, cols, dst, r0, r1, false, false)
    : layout == LAYOUT_TL3 ? codes_to_tl3(src, rows, cols, dst, r0, r1, tmp, false, false) : viaTrits(0, src, rows, cols, layout, dst, r0, r1, tmp);
  return bad ? BAD_CODE : ternary_scale_f16();
}

/** Same for I2_S (cols % 256 == 0), whose one f32 scale follows the last row: src (row r0) must reach
 *  it, i.e. hold rows r0 .. rows - 1 and the scale. Returns decode_i2_s's answer for the tensor. */
export function repack_i2_s(src: usize, rows: i32, cols: i32, layout: i32, dst: usize, r0: i32, r1: i32, tmp: usize): f32 {
  const s = load<f32>(src + (<usize>(rows - r0) * <usize>cols >> 2)), neg = s < 0;
  const bad = layout == LAYOUT_I2 ? codes_to_i2(src, rows, cols, dst, r0, r1, true, neg)
    : layout == LAYOUT_TL3 ? codes_to_tl3(src, rows, cols, dst, r0, r1, tmp, true, neg) : viaTrits(2, src, rows, cols, layout, dst, r0, r1, tmp, neg);
  if (bad) return BAD_CODE;
  if (!(s - s == 0)) return SCALES_DIFFER;
  return abs(s);
}

/** Same for TQ1_0 (every byte is a valid code). */
export function repack_tq1_0(src: usize, rows: i32, cols: i32, layout: i32, dst: usize, r0: i32, r1: i32, tmp: usize): f32 {
  ternary_scale_begin();
  viaTrits(1, src, rows, cols, layout, dst, r0, r1, tmp);
  return ternary_scale_f16();
}

/** type 0 TQ2_0, 1 TQ1_0, 2 I2_S (negated when neg). */
function viaTrits(type: i32, src: usize, rows: i32, cols: i32, layout: i32, dst: usize, r0: i32, r1: i32, tmp: usize, neg: bool = false): bool {
  const block = padded_rows(layout, 1), bpr = cols >> 8;
  const rowBytes = <usize>bpr * (type == 0 ? 66 : type == 1 ? 54 : 64);
  for (let r = r0; r < r1; r += block) {
    const real = min(block, rows - r);
    if (real > 0) {
      const from = src + <usize>(r - r0) * rowBytes;
      if (type == 0) { if (tq2_0_blocks(from, real * bpr, tmp)) return true; }
      else if (type == 1) tq1_0_blocks(from, real * bpr, tmp);
      else if (i2_s_blocks(from, real * cols, tmp, neg)) return true;
    }
    pack_rows(layout, tmp - <usize>r * <usize>cols, rows, cols, dst, r, min(r + block, r1));
  }
  return false;
}

// TQ2_0 half-block (32 bytes A = qs[0..16), B = qs[16..32)): A byte m holds elements m, 32+m, 64+m,
// 96+m in bits 0, 2, 4, 6, B byte m elements 16+m, 48+m, 80+m, 112+m. I2 chunk byte j holds columns
// j, 16+j, 32+j, 48+j in bits 0, 2, 4, 6. So chunk 0 = A.b0 | B.b0 << 2 | A.b2 << 2 | B.b2 << 4
// (bit pairs renamed) and chunk 1 the same from bits 4 and 6. Masked first, so the 16-bit shifts
// never carry between bytes.
// @ts-ignore: decorator
@inline function i2Lo(a: v128, b: v128): v128 {
  const m03 = i8x16.splat(0x03), m0c = i8x16.splat(0x0c);
  return v128.or(v128.or(v128.and(a, m03), i16x8.shl(v128.and(a, m0c), 2)),
                 v128.or(i16x8.shl(v128.and(b, m03), 2), i16x8.shl(v128.and(b, m0c), 4)));
}
// @ts-ignore: decorator
@inline function i2Hi(a: v128, b: v128): v128 {
  const m30 = i8x16.splat(0x30), mc0 = i8x16.splat(<i8>0xc0);
  return v128.or(v128.or(i16x8.shr_u(v128.and(a, m30), 4), i16x8.shr_u(v128.and(a, mc0), 2)),
                 v128.or(i16x8.shr_u(v128.and(b, m30), 2), v128.and(b, mc0)));
}

// A block's codes as the decoder would leave them: all 1 (zero) when d == 0, 2 - q when d < 0.
// @ts-ignore: decorator
@inline function fix(x: v128, zero: bool, flip: bool): v128 {
  if (zero) return i8x16.splat(0x55);
  // 2 - q for q in {0, 1, 2}: bit 1 toggles exactly when bit 0 is clear.
  return flip ? v128.xor(x, i16x8.shl(v128.andnot(i8x16.splat(0x55), x), 1)) : x;
}

/** The decoder's checks on one 256-column block whose code vectors (TQ2_0 order) are a0, b0, a1, b1
 *  (blk: the block, for TQ2_0's d; I2_S: one sign for the tensor, neg): -1 when a code 3 is found,
 *  else fix()'s flags, 1 = zero, 2 = flip; notes the block's scale. */
// @ts-ignore: decorator
@inline function check(a0: v128, b0: v128, a1: v128, b1: v128, blk: usize, i2s: bool, neg: bool): i32 {
  const ones = i8x16.splat(0x55);
  // code 3 = both bits of a pair set
  const and = v128.or(v128.or(v128.and(a0, i16x8.shr_u(a0, 1)), v128.and(b0, i16x8.shr_u(b0, 1))),
                      v128.or(v128.and(a1, i16x8.shr_u(a1, 1)), v128.and(b1, i16x8.shr_u(b1, 1))));
  if (v128.any_true(v128.and(and, ones))) return -1;
  if (i2s) return neg ? 2 : 0;
  const nz = v128.any_true(v128.or(v128.or(i8x16.ne(a0, ones), i8x16.ne(b0, ones)), v128.or(i8x16.ne(a1, ones), i8x16.ne(b1, ones))));
  const d = <u32>load<u16>(blk + 64), mag = d & 0x7fff;
  if (nz && mag != 0) noteScale(mag, true);
  return (nz && mag == 0 ? 1 : 0) | (nz && (d & 0x8000) != 0 ? 2 : 0);
}

// I2_S keeps a 32-byte block's four 32-element runs in bits 6, 4, 2, 0 where TQ2_0 keeps them in bits
// 0, 2, 4, 6: reversing the bit pairs of each byte gives TQ2_0's order (and 64 bytes = 256 columns).
// @ts-ignore: decorator
@inline function revPairs(x: v128): v128 {
  return v128.or(v128.or(i16x8.shl(v128.and(x, i8x16.splat(0x03)), 6), i16x8.shl(v128.and(x, i8x16.splat(0x0c)), 2)),
                 v128.or(i16x8.shr_u(v128.and(x, i8x16.splat(0x30)), 2), i16x8.shr_u(v128.and(x, i8x16.splat(<i8>0xc0)), 6)));
}

/** Rows [r0, r1) of TQ2_0 (i2s false: 66-byte blocks, each with its d) or I2_S (i2s true: 64 bytes
 *  per 256 columns, one sign for the tensor: neg) into I2. True when a code 3 is found. */
function codes_to_i2(src: usize, rows: i32, cols: i32, dst: usize, r0: i32, r1: i32, i2s: bool, neg: bool): bool {
  const stride: usize = i2s ? 64 : 66;
  const bpr = cols >> 8, rowBytes = <usize>bpr * stride, kp = <usize>cols; // cols % 256 == 0: no column padding
  const ones = i8x16.splat(0x55);
  for (let rb = r0; rb < r1; rb += 4) {
    const base = dst + <usize>rb * (kp >> 2);
    for (let i = 0; i < 4; i++) {
      const r = rb + i;
      // (rb, chunk c, row i) -> 16 bytes at base + (c * 4 + i) * 16; block b holds chunks 4b .. 4b+3.
      let o = base + (<usize>i << 4);
      if (r >= rows) { // padding rows: code 1
        for (let c = 0; c < (cols >> 6); c++) v128.store(o + (<usize>c << 6), ones);
        continue;
      }
      const row = src + <usize>(r - r0) * rowBytes;
      for (let b = 0; b < bpr; b++) {
        const blk = row + <usize>b * stride;
        let a0 = v128.load(blk), b0 = v128.load(blk, 16), a1 = v128.load(blk, 32), b1 = v128.load(blk, 48);
        if (i2s) { a0 = revPairs(a0); b0 = revPairs(b0); a1 = revPairs(a1); b1 = revPairs(b1); }
        const f = check(a0, b0, a1, b1, blk, i2s, neg);
        if (f < 0) return true;
        const zero = (f & 1) != 0, flip = (f & 2) != 0;
        const x0 = fix(a0, zero, flip), y0 = fix(b0, zero, flip), x1 = fix(a1, zero, flip), y1 = fix(b1, zero, flip);
        v128.store(o, i2Lo(x0, y0));
        v128.store(o, i2Hi(x0, y0), 64);
        v128.store(o, i2Lo(x1, y1), 128);
        v128.store(o, i2Hi(x1, y1), 192);
        o += 256;
      }
    }
  }
  return false;
}

// A 16 x 16 byte transpose by four perfect shuffles (Y[2i] = lo(X[i], X[i+8]), Y[2i+1] = hi(..));
// byte interleaves are single instructions (punpck*bw) on x86 and zip1/zip2 on Arm.
// @ts-ignore: decorator
@inline function ilo(a: v128, b: v128): v128 { return i8x16.shuffle(a, b, 0,16,1,17,2,18,3,19,4,20,5,21,6,22,7,23); }
// @ts-ignore: decorator
@inline function ihi(a: v128, b: v128): v128 { return i8x16.shuffle(a, b, 8,24,9,25,10,26,11,27,12,28,13,29,14,30,15,31); }

function transpose16(p: usize): void {
  let x0 = v128.load(p, 0);
  let x1 = v128.load(p, 16);
  let x2 = v128.load(p, 32);
  let x3 = v128.load(p, 48);
  let x4 = v128.load(p, 64);
  let x5 = v128.load(p, 80);
  let x6 = v128.load(p, 96);
  let x7 = v128.load(p, 112);
  let x8 = v128.load(p, 128);
  let x9 = v128.load(p, 144);
  let x10 = v128.load(p, 160);
  let x11 = v128.load(p, 176);
  let x12 = v128.load(p, 192);
  let x13 = v128.load(p, 208);
  let x14 = v128.load(p, 224);
  let x15 = v128.load(p, 240);
  for (let round = 0; round < 4; round++) {
    const y0 = ilo(x0, x8), y1 = ihi(x0, x8),
          y2 = ilo(x1, x9), y3 = ihi(x1, x9),
          y4 = ilo(x2, x10), y5 = ihi(x2, x10),
          y6 = ilo(x3, x11), y7 = ihi(x3, x11),
          y8 = ilo(x4, x12), y9 = ihi(x4, x12),
          y10 = ilo(x5, x13), y11 = ihi(x5, x13),
          y12 = ilo(x6, x14), y13 = ihi(x6, x14),
          y14 = ilo(x7, x15), y15 = ihi(x7, x15);
    x0 = y0; x1 = y1; x2 = y2; x3 = y3; x4 = y4; x5 = y5; x6 = y6; x7 = y7; x8 = y8; x9 = y9; x10 = y10; x11 = y11; x12 = y12; x13 = y13; x14 = y14; x15 = y15;
  }
  v128.store(p, x0, 0);
  v128.store(p, x1, 16);
  v128.store(p, x2, 32);
  v128.store(p, x3, 48);
  v128.store(p, x4, 64);
  v128.store(p, x5, 80);
  v128.store(p, x6, 96);
  v128.store(p, x7, 112);
  v128.store(p, x8, 128);
  v128.store(p, x9, 144);
  v128.store(p, x10, 160);
  v128.store(p, x11, 176);
  v128.store(p, x12, 192);
  v128.store(p, x13, 208);
  v128.store(p, x14, 224);
  v128.store(p, x15, 240);
}

// TQ2_0 -> TL3, 16 rows (one TL3 row block) at a time, in segments of 768 columns (3 TQ2_0 blocks,
// 32 TL3 super-blocks): each block's 64 bytes of the 16 rows are transposed so that a vector holds
// one byte position of all 16 rows, whose bit pairs are then the codes of one column for all 16
// rows (lane = row, as the TL3 layout stores them). A group's v = 9 c0 + 3 c1 + c2 - 13 then gives
// the nibble |v| and the sign v < 0 for 16 rows in a few vector ops, with no trits and no scalar
// stores. tmp: 1 KiB of transposed bytes, then one code vector per column of the segment.
const SEG = 768;

/** Bytes of tmp repack_* needs for this layout and width (a row block of trits, or TQ2_0 -> TL3's). */
export function repack_tmp_bytes(layout: i32, cols: i32): i32 {
  const pc = padded_cols(layout, cols), trits = padded_rows(layout, 1) * pc;
  return layout == LAYOUT_TL3 ? max(trits, 1024 + (min(pc, SEG) << 4)) : trits;
}

function codes_to_tl3(src: usize, rows: i32, cols: i32, dst: usize, r0: i32, r1: i32, tmp: usize, i2s: bool, neg: bool): bool {
  const stride: usize = i2s ? 64 : 66;
  const bpr = cols >> 8, rowBytes = <usize>bpr * stride, kp = padded_cols(LAYOUT_TL3, cols), nsb = kp / 24;
  const counts = dst + <usize>padded_rows(LAYOUT_TL3, rows) * <usize>nsb * 5;
  const stage = tmp, code = tmp + 1024;
  const ones = i8x16.splat(0x55), three = i8x16.splat(3), one = i8x16.splat(1), zero = i8x16.splat(0);
  const thirteen = i8x16.splat(13);
  for (let rb = r0; rb < r1; rb += 16) {
    let c0 = i32x4.splat(0), c1 = i32x4.splat(0), c2 = i32x4.splat(0), c3 = i32x4.splat(0); // minus signs per row
    for (let seg = 0; seg < kp; seg += SEG) {
      const nb = min(3, bpr - seg / 256); // TQ2_0 blocks in this segment
      for (let b = 0; b < nb; b++) {
        // The 16 rows' bytes of this block, fixed as the decoder would, in 4 quarters of 16 x 16.
        for (let i = 0; i < 16; i++) {
          const r = rb + i, o = stage + (<usize>i << 4);
          if (r >= rows) { for (let q = 0; q < 4; q++) v128.store(o + (<usize>q << 8), ones); continue; }
          const blk = src + <usize>(r - r0) * rowBytes + <usize>(seg / 256 + b) * stride;
          let a0 = v128.load(blk), b0 = v128.load(blk, 16), a1 = v128.load(blk, 32), b1 = v128.load(blk, 48);
          if (i2s) { a0 = revPairs(a0); b0 = revPairs(b0); a1 = revPairs(a1); b1 = revPairs(b1); }
          const f = check(a0, b0, a1, b1, blk, i2s, neg);
          if (f < 0) return true;
          const z = (f & 1) != 0, flip = (f & 2) != 0;
          v128.store(o, fix(a0, z, flip));
          v128.store(o, fix(b0, z, flip), 256);
          v128.store(o, fix(a1, z, flip), 512);
          v128.store(o, fix(b1, z, flip), 768);
        }
        for (let q = 0; q < 4; q++) transpose16(stage + (<usize>q << 8));
        // Byte B of the block (vector B of stage) holds columns (B >> 5) * 128 + 32n + (B & 31) in bits 2n.
        for (let B = 0; B < 64; B++) {
          const t = v128.load(stage + (<usize>B << 4));
          const col = code + (<usize>(b * 256 + (B >> 5) * 128 + (B & 31)) << 4);
          v128.store(col, v128.and(t, three));
          v128.store(col, v128.and(i16x8.shr_u(t, 2), three), 32 * 16);
          v128.store(col, v128.and(i16x8.shr_u(t, 4), three), 64 * 16);
          v128.store(col, v128.and(i16x8.shr_u(t, 6), three), 96 * 16);
        }
      }
      const real = nb * 256, end = min(SEG, kp - seg);
      for (let c = real; c < end; c++) v128.store(code + (<usize>c << 4), one); // padding columns: zero weights
      let o = dst + <usize>rb * <usize>nsb * 5 + <usize>(seg / 24) * 80;
      let acc = zero; // minus signs of up to 16 super-blocks (<= 128 per lane)
      for (let s = 0; s < end / 24; s++) {
        const p = code + <usize>(s * 24 * 16);
        let sg = zero;
        // groups g = 0..7: columns 3g, 3g+1, 3g+2; 9x and 3x from byte-safe 16-bit shifts (codes <= 2)
        let n0 = zero, n1 = zero, n2 = zero, n3 = zero, bit = one;
        for (let g = 0; g < 8; g++) {
          const x = v128.load(p + <usize>(g * 48)), y = v128.load(p + <usize>(g * 48), 16), w = v128.load(p + <usize>(g * 48), 32);
          const v = i8x16.sub(i8x16.add(i8x16.add(i16x8.shl(x, 3), x), i8x16.add(i8x16.add(i16x8.shl(y, 1), y), w)), thirteen);
          const neg = i8x16.lt_s(v, zero);
          acc = i8x16.sub(acc, neg);
          sg = v128.or(sg, v128.and(neg, bit));
          bit = i8x16.add(bit, bit);
          const idx = i8x16.abs(v);
          if (g == 0) n0 = idx; else if (g == 1) n0 = v128.or(n0, i16x8.shl(idx, 4));
          else if (g == 2) n1 = idx; else if (g == 3) n1 = v128.or(n1, i16x8.shl(idx, 4));
          else if (g == 4) n2 = idx; else if (g == 5) n2 = v128.or(n2, i16x8.shl(idx, 4));
          else if (g == 6) n3 = idx; else n3 = v128.or(n3, i16x8.shl(idx, 4));
        }
        v128.store(o, n0); v128.store(o, n1, 16); v128.store(o, n2, 32); v128.store(o, n3, 48); v128.store(o, sg, 64);
        o += 80;
        if ((s & 15) == 15 || s == end / 24 - 1) {
          const lo = i16x8.extend_low_i8x16_u(acc), hi = i16x8.extend_high_i8x16_u(acc);
          c0 = i32x4.add(c0, i32x4.extend_low_i16x8_u(lo)); c1 = i32x4.add(c1, i32x4.extend_high_i16x8_u(lo));
          c2 = i32x4.add(c2, i32x4.extend_low_i16x8_u(hi)); c3 = i32x4.add(c3, i32x4.extend_high_i16x8_u(hi));
          acc = zero;
        }
      }
    }
    const cp = counts + (<usize>rb << 2);
    v128.store(cp, c0); v128.store(cp, c1, 16); v128.store(cp, c2, 32); v128.store(cp, c3, 48);
  }
  return false;
}
