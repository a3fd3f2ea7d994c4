// f16 KV cache: half the memory of the f32 cache (2B4T at 4096 positions: 30 layers x 2 x 4096 x
// 640 values = 315 MB in f16 instead of 629 MB in f32; edge isolates have 128 MB in total).
// Layout as the f32 cache, [pos][nHeadKv][headDim], of IEEE binary16 (u16) values.
//
// kv_store_f16 rounds f32 to f16 to nearest even (overflow to +-Inf, f16 subnormals kept, NaN
// becomes a quiet NaN). Decoding is exact, with integer and bit operations plus one multiply by
// 2^112 (exact: it only moves the exponent; f16 subnormals become f32 normals).
// attention_f16 (nn/attention.ts) decodes each block of k / v rows into scratch and then runs
// exactly the arithmetic of the f32 cache: bit-identical to attention() on the decoded cache.

// @ts-ignore: decorator
@lazy const F16C = memory.data<u32>([
  0x7fff, 0x7fff, 0x7fff, 0x7fff,                 // +0  exponent and mantissa
  0x77800000, 0x77800000, 0x77800000, 0x77800000, // +16 2^112 (f32): rebias 15 -> 127
  0x7bff, 0x7bff, 0x7bff, 0x7bff,                 // +32 largest finite f16 magnitude
  0x7f800000, 0x7f800000, 0x7f800000, 0x7f800000, // +48 f32 Inf exponent
], 16);

// @ts-ignore: decorator
@inline function decode4(h: v128, mask: v128, two112: v128, maxFinite: v128, inf: v128): v128 {
  const em = v128.and(h, mask);
  const sign = i32x4.shl(v128.xor(h, em), 16);
  const sh = i32x4.shl(em, 13);
  const fin = f32x4.mul(sh, two112);
  // Inf / NaN (em > 0x7bff): fin has exponent 143 and the right mantissa; or-ing in all exponent bits makes it Inf / NaN.
  return v128.or(v128.or(fin, v128.and(i32x4.gt_s(em, maxFinite), inf)), sign);
}

// @ts-ignore: decorator
@inline export function f16_to_f32(h: u32): f32 {
  const em = h & 0x7fff;
  const sh = em << 13;
  const r = em > 0x7bff ? sh | 0x7f800000 : reinterpret<u32>(reinterpret<f32>(sh) * reinterpret<f32>(<u32>0x77800000));
  return reinterpret<f32>(r | ((h ^ em) << 16));
}

export function f32_to_f16(x: f32): u32 {
  const b = reinterpret<u32>(x);
  const sign = (b >> 16) & 0x8000;
  let a = b & 0x7fffffff;
  if (a > 0x7f800000) return sign | 0x7e00;           // NaN: quiet
  if (a >= 0x477ff000) return sign | 0x7c00;          // rounds to Inf (>= 65520)
  if (a < 0x38800000) {                               // f16 subnormal or zero: let the f32 add round
    const f = reinterpret<f32>(a) + 0.5;              // ulp of 0.5 is 2^-24, the f16 subnormal step
    return sign | (reinterpret<u32>(f) - 0x3f000000);
  }
  a += 0xc8000fff + ((a >> 13) & 1);                 // rebias 127 -> 15, round to nearest even
  return sign | (a >> 13);
}

/** dst[0..n) (u16) <- f16(src[0..n) f32), round to nearest even. */
export function kv_store_f16(src: usize, n: i32, dst: usize): void {
  for (let i = 0; i < n; i++) store<u16>(dst + (<usize>i << 1), <u16>f32_to_f16(load<f32>(src + (<usize>i << 2))));
}

/** dst[0..n) (f32) <- src[0..n) (u16 f16), exact. Eight values at a time: the f32 bits of the value
 *  times 2^-112 are built in 16-bit halves (high: sign, exponent and top mantissa bits = (h >> 3
 *  arithmetic) & 0x8fff; low: h << 13), interleaved, and one multiply by 2^112 rebiases them (exact,
 *  sign kept, subnormals become normals). That is wrong only for Inf / NaN (it gives 65536 x 1.m),
 *  so when the row holds any of them (its largest h & 0x7fff is over 0x7bff) it is decoded again
 *  with decode4, which handles every value. */
export function kv_load_f16(src: usize, n: i32, dst: usize): void {
  kv_load_f16_rows(src, n, 1, 0, dst, 0);
}

/** kv_load_f16 of `rows` rows of n values, row r from src + r * srcStride to dst + r * dstStride
 *  bytes (one call for a block of cache rows; any Inf / NaN in the block decodes all of it again). */
export function kv_load_f16_rows(src: usize, n: i32, rows: i32, srcStride: usize, dst: usize, dstStride: usize): void {
  const c = F16C;
  const two112 = v128.load(c, 16);
  const emMask = i16x8.splat(0x7fff), hiMask = i16x8.splat(<i16>0x8fff);
  // The largest exponent-and-mantissa of the rows (one max per 8 values): Inf / NaN if > 0x7bff.
  let top = i16x8.splat(0);
  const n8 = n & ~7;
  for (let r = 0; r < rows; r++) {
    const sr = src + <usize>r * srcStride, dr = dst + <usize>r * dstStride;
    // Pointers step (no index arithmetic per load or store).
    for (let s = sr, o = dr, end = sr + (<usize>n8 << 1); s < end; s += 16, o += 32) {
      const h = v128.load(s);
      top = i16x8.max_s(top, v128.and(h, emMask));
      const hi = v128.and(i16x8.shr_s(h, 3), hiMask), lo = i16x8.shl(h, 13);
      v128.store(o, f32x4.mul(v128.shuffle<i16>(lo, hi, 0, 8, 1, 9, 2, 10, 3, 11), two112));
      v128.store(o, f32x4.mul(v128.shuffle<i16>(lo, hi, 4, 12, 5, 13, 6, 14, 7, 15), two112), 16);
    }
    for (let i = n8; i < n; i++) store<f32>(dr + (<usize>i << 2), f16_to_f32(<u32>load<u16>(sr + (<usize>i << 1))));
  }
  if (v128.any_true(i16x8.gt_s(top, i16x8.splat(0x7bff)))) {
    const mask = v128.load(c), maxFinite = v128.load(c, 32), inf = v128.load(c, 48);
    for (let r = 0; r < rows; r++) {
      const sr = src + <usize>r * srcStride, dr = dst + <usize>r * dstStride;
      for (let j = 0; j < n8; j += 8) {
        const v = v128.load(sr + (<usize>j << 1));
        const o = dr + (<usize>j << 2);
        v128.store(o, decode4(i32x4.extend_low_i16x8_u(v), mask, two112, maxFinite, inf));
        v128.store(o, decode4(i32x4.extend_high_i16x8_u(v), mask, two112, maxFinite, inf), 16);
      }
    }
  }
}
