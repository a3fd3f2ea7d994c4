// Dense matrices (the embedding and the output head): f32 x f32 and int8 x int8 GEMV, and rows
// written from f32 / f16. Fixed summation order, so results are identical on every engine.

/** out[r] = sum_k w[r][k] * x[k]; four f32x4 partial sums per row, then a scalar tail. */
export function gemv_f32(w: usize, rows: i32, cols: i32, x: usize, out: usize): void {
  const c16 = cols & ~15;
  for (let r = 0; r < rows; r++) {
    const wr = w + ((<usize>r * <usize>cols) << 2);
    let a = f32x4.splat(0), b = f32x4.splat(0), c = f32x4.splat(0), d = f32x4.splat(0);
    for (let k = 0; k < c16; k += 16) {
      const o = <usize>k << 2;
      a = f32x4.add(a, f32x4.mul(v128.load(wr + o), v128.load(x + o)));
      b = f32x4.add(b, f32x4.mul(v128.load(wr + o, 16), v128.load(x + o, 16)));
      c = f32x4.add(c, f32x4.mul(v128.load(wr + o, 32), v128.load(x + o, 32)));
      d = f32x4.add(d, f32x4.mul(v128.load(wr + o, 48), v128.load(x + o, 48)));
    }
    const s = f32x4.add(f32x4.add(a, b), f32x4.add(c, d));
    let acc: f32 = (f32x4.extract_lane(s, 0) + f32x4.extract_lane(s, 1)) + (f32x4.extract_lane(s, 2) + f32x4.extract_lane(s, 3));
    for (let k = c16; k < cols; k++) acc += load<f32>(wr + (<usize>k << 2)) * load<f32>(x + (<usize>k << 2));
    store<f32>(out + (<usize>r << 2), acc);
  }
}

/** out[r] = sum_k w[r][k] * q[k] exactly (int32), with i32x4.dot_i16x8_s on sign-extended halves.
 *  ahead != 0: touch the cache lines of the next 16 rows every 16 rows (large heads stream from DRAM). */
export function gemv_i8(w: usize, rows: i32, cols: i32, q: usize, out: usize, ahead: i32): void {
  const c16 = cols & ~15;
  for (let r = 0; r < rows; r++) {
    if (ahead && (r & 15) == 0 && r + 16 < rows) touch(w + <usize>(r + 16) * <usize>cols, <usize>min(16, rows - r - 16) * <usize>cols);
    const wr = w + <usize>r * <usize>cols;
    let a = i32x4.splat(0), b = i32x4.splat(0);
    for (let k = 0; k < c16; k += 16) {
      const wv = v128.load(wr + <usize>k), xv = v128.load(q + <usize>k);
      a = i32x4.add(a, i32x4.dot_i16x8_s(i16x8.extend_low_i8x16_s(wv), i16x8.extend_low_i8x16_s(xv)));
      b = i32x4.add(b, i32x4.dot_i16x8_s(i16x8.extend_high_i8x16_s(wv), i16x8.extend_high_i8x16_s(xv)));
    }
    const s = i32x4.add(a, b);
    let acc = i32x4.extract_lane(s, 0) + i32x4.extract_lane(s, 1) + i32x4.extract_lane(s, 2) + i32x4.extract_lane(s, 3);
    for (let k = c16; k < cols; k++) acc += <i32>load<i8>(wr + <usize>k) * <i32>load<i8>(q + <usize>k);
    store<i32>(out + (<usize>r << 2), acc);
  }
}

import { quantize_one, quantize_row } from "../quant/absmax_i8";
import { touch } from "../ternary/lut_tl3";
import { f16_to_f32 } from "../quant/ggml_ternary";

/** Writes k rows (starting at row r0) of a dense matrix from f32 rows at src: format 0 = f32 copy,
 *  1 = int8 with one f32 scale per row (the activation quantizer). Returns 0, or -1 - i when row
 *  i of the batch holds a NaN or an infinity. */
export function dense_rows_from_f32(src: usize, k: i32, cols: i32, fmt: i32, dst: usize, scales: usize, r0: i32): i32 {
  for (let i = 0; i < k; i++) {
    const row = src + ((<usize>i * <usize>cols) << 2), r = <usize>(r0 + i);
    if (fmt == 0) { memory.copy(dst + ((r * <usize>cols) << 2), row, <usize>cols << 2); continue; }
    const step = quantize_row(row, cols, dst + r * <usize>cols, cols);
    if (step < 0) return -1 - i;
    store<f32>(scales + (r << 2), step);
  }
  return 0;
}

/** Same from IEEE half rows (GGUF F16 embeddings), converted exactly. */
export function dense_rows_from_f16(src: usize, k: i32, cols: i32, fmt: i32, dst: usize, scales: usize, r0: i32): i32 {
  for (let i = 0; i < k; i++) {
    const row = src + ((<usize>i * <usize>cols) << 1), r = <usize>(r0 + i);
    if (fmt == 0) { f16_row_to_f32(row, cols, dst + ((r * <usize>cols) << 2)); continue; }
    const step = quantize_row_f16(row, cols, dst + r * <usize>cols);
    if (step < 0) return -1 - i;
    store<f32>(scales + (r << 2), step);
  }
  return 0;
}

/** quantize_row of the f32 values of n halves, without forming them in memory: same bits. max|x| is
 *  read off the halves' magnitude bits (the conversion is exact and monotone; exponent 31 = an
 *  infinity or NaN, refused as quantize_row refuses them); then each quotient as quantize_row's. */
function quantize_row_f16(h: usize, n: i32, q: usize): f32 {
  const magMask = i16x8.splat(0x7fff);
  let vmax = i16x8.splat(0);
  let i = 0;
  for (; i + 8 <= n; i += 8) vmax = i16x8.max_u(vmax, v128.and(v128.load(h + (<usize>i << 1)), magMask));
  vmax = i16x8.max_u(vmax, i64x2.shuffle(vmax, vmax, 1, 0)); // (halves folded onto lanes 0..1)
  vmax = i16x8.max_u(vmax, i32x4.shuffle(vmax, vmax, 1, 0, 3, 2));
  let m: u32 = max(<u32>i16x8.extract_lane_u(vmax, 0), <u32>i16x8.extract_lane_u(vmax, 1));
  for (; i < n; i++) m = max(m, <u32>load<u16>(h + (<usize>i << 1)) & 0x7fff);
  if (m >= 0x7c00) return -1;
  const amax = f16_to_f32(m);
  if (amax == 0) { memory.fill(q, 0, <usize>n); return 0; }
  const step: f32 = amax / 127;
  const vstep = f32x4.splat(step);
  i = 0;
  for (; i + 16 <= n; i += 16) {
    const p = h + (<usize>i << 1);
    v128.store(q + <usize>i, quantizeHalves16(v128.load(p), v128.load(p, 16), vstep));
  }
  for (; i < n; i++) store<i8>(q + <usize>i, <i8>quantize_one(f16_to_f32(<u32>load<u16>(h + (<usize>i << 1))), step));
  return step;
}

/** quantize16 of 16 finite halves (no infinity or NaN: the row was checked), in a third of its
 *  operations, same bits. From the magnitudes: x / -step = -(x / step) and round-half-even is odd,
 *  so the sign is put back on the integer. The quotient is at most 127.00001 (|x| <= amax, step =
 *  amax / 127 rounded), so adding 1.5 * 2^23 rounds it half-to-even onto the sum's integer grid,
 *  whose low bits are then the integer; the narrowings clamp to 127 as quantize4's pmin did. */
// @ts-ignore: decorator
@inline function quantizeHalves16(h0: v128, h1: v128, vstep: v128): v128 {
  const mag = i16x8.splat(0x7fff);
  const m0 = v128.and(h0, mag), m1 = v128.and(h1, mag);
  const q = i8x16.narrow_i16x8_s(i16x8.narrow_i32x4_s(roundedQuotient4(i32x4.extend_low_i16x8_u(m0), vstep), roundedQuotient4(i32x4.extend_high_i16x8_u(m0), vstep)),
                                 i16x8.narrow_i32x4_s(roundedQuotient4(i32x4.extend_low_i16x8_u(m1), vstep), roundedQuotient4(i32x4.extend_high_i16x8_u(m1), vstep)));
  const neg = i8x16.narrow_i16x8_s(i16x8.shr_s(h0, 15), i16x8.shr_s(h1, 15)); // -1 where the half is negative
  return i8x16.sub(v128.xor(q, neg), neg);
}

// @ts-ignore: decorator
@inline function roundedQuotient4(m: v128, vstep: v128): v128 {
  // m: 4 half magnitudes (u32 lanes). m << 13 read as f32 is |x| / 2^112 exactly (see half4).
  const x = f32x4.mul(i32x4.shl(m, 13), f32x4.splat(reinterpret<f32>(0x77800000)));
  const MAGIC: f32 = 12582912; // 1.5 * 2^23
  return i32x4.sub(f32x4.add(f32x4.div(x, vstep), f32x4.splat(MAGIC)), i32x4.splat(reinterpret<i32>(MAGIC)));
}

// @ts-ignore: decorator
@inline function half4(h: v128): v128 {
  // h: 4 halves zero-extended to u32 lanes. (h & 0x7fff) << 13 read as f32 is the value / 2^112
  // for normal and subnormal halves alike, so one exact multiply by 2^112 finishes it; inf/NaN
  // (exponent 31) get the f32 all-ones exponent instead; then the sign.
  const mag = i32x4.shl(v128.and(h, i32x4.splat(0x7fff)), 13);
  const sign = i32x4.shl(v128.and(h, i32x4.splat(0x8000)), 16);
  const special = i32x4.eq(v128.and(h, i32x4.splat(0x7c00)), i32x4.splat(0x7c00));
  const finite = f32x4.mul(mag, f32x4.splat(reinterpret<f32>(0x77800000))); // 2^112
  return v128.or(sign, v128.bitselect(v128.or(mag, i32x4.splat(0x7f800000)), finite, special));
}

/** n IEEE halves -> f32, exactly. */
export function f16_row_to_f32(src: usize, n: i32, out: usize): void {
  let c = 0;
  for (; c + 8 <= n; c += 8) {
    const h = v128.load(src + (<usize>c << 1));
    v128.store(out + (<usize>c << 2), half4(i32x4.extend_low_i16x8_u(h)));
    v128.store(out + (<usize>c << 2), half4(i32x4.extend_high_i16x8_u(h)), 16);
  }
  for (; c < n; c++) store<f32>(out + (<usize>c << 2), f16_to_f32(<u32>load<u16>(src + (<usize>c << 1))));
}

/** Index of the first NaN or infinity among n f32 values, or -1: the loader's check that every
 *  float reaching the forward pass is finite (exponent bits all ones = not finite). */
export function first_nonfinite_f32(src: usize, n: i32): i32 {
  const exp = i32x4.splat(0x7f800000);
  let c = 0;
  for (; c + 4 <= n; c += 4) {
    const v = v128.and(v128.load(src + (<usize>c << 2)), exp);
    if (v128.any_true(i32x4.eq(v, exp))) break;
  }
  for (; c < n; c++) if ((load<u32>(src + (<usize>c << 2)) & 0x7f800000) == 0x7f800000) return c;
  return -1;
}
