// Deterministic exp. Only operations wasm defines bit-exactly (+ - * /, compares and selects,
// reinterpret, integer shifts) and fixed polynomials: no tables, no JS Math, no FMA (relaxed_madd is
// never used), so every engine and both builds give the same bits. The one thing wasm leaves
// open is the payload/sign of a NaN result.
//
// Three routines:
// - exp64: fdlibm's e_exp.c (musl's form), |error| < 1 ulp of f64. For pow and the RoPE
//   frequencies, where the f64 result itself matters.
// - exp_core / expf / expf4: f32-oriented. Evaluated in f64 without a table or a division so it
//   vectorizes as f64x2 (wasm SIMD has no gather): k = round(x / ln2) by the 1.5*2^52 shift
//   trick, r = x - k*ln2 (two-part ln2, |r| <= ln2/2), Taylor polynomial of degree 9 (remainder
//   |r|^10/10! < 7e-12 relative), times 2^k built from the bits of the shifted value. The f64
//   value is rounded to f32 once, so expf is within 0.5 ulp + 7e-12 relative (0.5001 ulp) of
//   exp(x); measured in test/nn/math.test.ts over [-104, 89].
//   Overflow (x > 88.72) and underflow, including the f32 subnormal range, come out of the single
//   f64 -> f32 rounding. The scalar and the SIMD forms run the same operations, so they agree
//   bit for bit and a SIMD loop may finish its tail with the scalar form.
// - expf4_f32: f32 lanes throughout, four at a time, for attention's softmax (x <= 0 there), where it
//   is ~2.3x fewer operations than exp_core on two f64x2: k = round(x / ln2) by the 1.5*2^23 shift,
//   r = (x - k*C1) - k*C2 (C1 = 355/512: k*C1 is exact), Cephes' expf polynomial
//   1 + r + r^2 P(r) (degree 5), times 2^k from the bits of the shifted value. x < -87.33 (2^k would
//   leave the normal range) gives 0, NaN stays NaN; meant for x <= 0 (x > 88 is not handled). Error
//   measured in test/nn/math.test.ts against f64 (under 1 ulp; 0.96). Fixed operations, no FMA: the same
//   bits in every engine; its scalar form is the SIMD form on lane 0.

// @ts-ignore: decorator
@lazy const EXPC = memory.data<f64>([
  -708.0, -708.0,                                   // +0   lower clamp (2^k stays normal)
  708.0, 708.0,                                     // +16  upper clamp
  1.4426950408889634, 1.4426950408889634,           // +32  1/ln2
  6755399441055744.0, 6755399441055744.0,           // +48  1.5 * 2^52: adding it rounds to an integer
  0.6931471803691238, 0.6931471803691238,           // +64  ln2 high part (32 bits: k*hi is exact)
  1.9082149292705877e-10, 1.9082149292705877e-10,   // +80  ln2 low part
  2.7557319223985893e-6, 2.7557319223985893e-6,   // +96  1/9!
  2.48015873015873e-5, 2.48015873015873e-5,         // +112 1/8!
  1.984126984126984e-4, 1.984126984126984e-4,       // +128 1/7!
  1.388888888888889e-3, 1.388888888888889e-3,       // +144 1/6!
  8.333333333333333e-3, 8.333333333333333e-3,       // +160 1/5!
  4.1666666666666664e-2, 4.1666666666666664e-2,     // +176 1/4!
  0.16666666666666666, 0.16666666666666666,         // +192 1/3!
  0.5, 0.5,                                         // +208 1/2!
  1.0, 1.0,                                         // +224 1/1!, 1/0!
  1023.0, 1023.0,                                   // +240 exponent bias
], 16);

const LO: f64 = -708.0;
const HI: f64 = 708.0;
const INV_LN2: f64 = 1.4426950408889634;
const SHIFT: f64 = 6755399441055744.0;
const LN2_HI: f64 = 0.6931471803691238;   // 0x3fe62e42fee00000
const LN2_LO: f64 = 1.9082149292705877e-10; // 0x3dea39ef35793c76
const C9: f64 = 2.7557319223985893e-6;
const C8: f64 = 2.48015873015873e-5;
const C7: f64 = 1.984126984126984e-4;
const C6: f64 = 1.388888888888889e-3;
const C5: f64 = 8.333333333333333e-3;
const C4: f64 = 4.1666666666666664e-2;
const C3: f64 = 0.16666666666666666;
const C2: f64 = 0.5;
const C1: f64 = 1.0;

/** e^x in f64 with about 7e-12 relative error, for x in [-708, 708] (clamped there; NaN stays NaN). */
// @ts-ignore: decorator
@inline export function exp_core(x: f64): f64 {
  // Clamp as select, not min/max: f64x2.pmin/pmax are one instruction on x64 where the NaN-exact
  // min/max take several; a NaN x passes through both and stays NaN.
  x = x < LO ? LO : x;
  x = HI < x ? HI : x;
  const t = x * INV_LN2 + SHIFT;
  const k = t - SHIFT;
  const r = (x - k * LN2_HI) - k * LN2_LO;
  let p = C9 * r + C8;
  p = p * r + C7;
  p = p * r + C6;
  p = p * r + C5;
  p = p * r + C4;
  p = p * r + C3;
  p = p * r + C2;
  p = p * r + C1;
  p = p * r + C1;
  // t = 1.5*2^52 + k, so the low bits of t + 1023 (exact) hold k + 1023: shifted up 52, 2^k.
  const s = reinterpret<f64>(reinterpret<i64>(t + 1023.0) << 52);
  return p * s;
}

/** exp_core on both lanes of an f64x2; c = EXPC. Same operations, same bits as the scalar form. */
// @ts-ignore: decorator
@inline export function exp_core2(x: v128, c: usize): v128 {
  x = f64x2.pmin(f64x2.pmax(x, v128.load(c)), v128.load(c, 16)); // pmax(a, b) = a < b ? b : a
  const t = f64x2.add(f64x2.mul(x, v128.load(c, 32)), v128.load(c, 48));
  const k = f64x2.sub(t, v128.load(c, 48));
  const r = f64x2.sub(f64x2.sub(x, f64x2.mul(k, v128.load(c, 64))), f64x2.mul(k, v128.load(c, 80)));
  let p = f64x2.add(f64x2.mul(v128.load(c, 96), r), v128.load(c, 112));
  p = f64x2.add(f64x2.mul(p, r), v128.load(c, 128));
  p = f64x2.add(f64x2.mul(p, r), v128.load(c, 144));
  p = f64x2.add(f64x2.mul(p, r), v128.load(c, 160));
  p = f64x2.add(f64x2.mul(p, r), v128.load(c, 176));
  p = f64x2.add(f64x2.mul(p, r), v128.load(c, 192));
  p = f64x2.add(f64x2.mul(p, r), v128.load(c, 208));
  p = f64x2.add(f64x2.mul(p, r), v128.load(c, 224));
  p = f64x2.add(f64x2.mul(p, r), v128.load(c, 224));
  const s = i64x2.shl(f64x2.add(t, v128.load(c, 240)), 52);
  return f64x2.mul(p, s);
}

/** e^x on four f32 lanes for x <= 0 (expf4_f32 in the header). */
// @ts-ignore: decorator
@inline export function expf4_f32(x: v128): v128 {
  const shift = f32x4.splat(12582912.0); // 1.5 * 2^23: adding it rounds to an integer
  const t = f32x4.add(f32x4.mul(x, f32x4.splat(1.44269504088896341)), shift);
  const k = f32x4.sub(t, shift);
  const r = f32x4.sub(f32x4.sub(x, f32x4.mul(k, f32x4.splat(0.693359375))), f32x4.mul(k, f32x4.splat(-2.12194440e-4)));
  let p = f32x4.add(f32x4.mul(f32x4.splat(1.9875691500e-4), r), f32x4.splat(1.3981999507e-3));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(8.3334519073e-3));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(4.1665795894e-2));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(1.6666665459e-1));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(5.0000001201e-1));
  const y = f32x4.add(f32x4.add(f32x4.mul(p, f32x4.mul(r, r)), r), f32x4.splat(1.0));
  // t's bits are 0x4b400000 + k: (k + 127) << 23 is 2^k.
  const s = i32x4.shl(i32x4.add(t, i32x4.splat(127 - 0x4b400000)), 23);
  return v128.andnot(f32x4.mul(y, s), f32x4.lt(x, f32x4.splat(-87.33654475)));
}

/** expf4_f32 of one value (lane 0 of the SIMD form: the same bits). */
// @ts-ignore: decorator
@inline export function expf_f32(x: f32): f32 { return f32x4.extract_lane(expf4_f32(f32x4.splat(x)), 0); }

/** out[i] = expf_f32(x[i]) for n f32 values (out may equal x). */
export function vexpf_f32(x: usize, n: i32, out: usize): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) v128.store(out + (<usize>i << 2), expf4_f32(v128.load(x + (<usize>i << 2))));
  for (; i < n; i++) store<f32>(out + (<usize>i << 2), expf_f32(load<f32>(x + (<usize>i << 2))));
}

/** Pointer to the constant block exp_core2 needs (load once per call, pass along). */
// @ts-ignore: decorator
@inline export function exp_consts(): usize { return EXPC; }

/** Lanes 0,1 and 2,3 of an f32x4 widened to two f64x2 (exact). */
// @ts-ignore: decorator
@inline export function lo_f64(v: v128): v128 { return f64x2.promote_low_f32x4(v); }
// @ts-ignore: decorator
@inline export function hi_f64(v: v128): v128 { return f64x2.promote_low_f32x4(i64x2.shuffle(v, v, 1, 1)); }
/** Two f64x2 rounded to one f32x4 (each lane rounded once). */
// @ts-ignore: decorator
@inline export function join_f32(lo: v128, hi: v128): v128 {
  return i64x2.shuffle(f32x4.demote_f64x2_zero(lo), f32x4.demote_f64x2_zero(hi), 0, 2);
}

/** expf on four lanes; bit-identical to expf lane by lane. */
// @ts-ignore: decorator
@inline export function expf4(x: v128, c: usize): v128 {
  return join_f32(exp_core2(lo_f64(x), c), exp_core2(hi_f64(x), c));
}

/** e^x for f32 x, rounded once from f64: error <= 0.5001 ulp (see the header). */
export function expf(x: f32): f32 {
  return <f32>exp_core(<f64>x);
}

/** out[i] = expf(x[i]) for n f32 values (out may equal x). */
export function vexpf(x: usize, n: i32, out: usize): void {
  const c = exp_consts();
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    v128.store(out + o, expf4(v128.load(x + o), c));
  }
  for (; i < n; i++) store<f32>(out + (<usize>i << 2), expf(load<f32>(x + (<usize>i << 2))));
}

// ---- exp64: fdlibm e_exp.c ----
const P1: f64 = 1.66666666666666019037e-01;
const P2: f64 = -2.77777777770155933842e-03;
const P3: f64 = 6.61375632143793436117e-05;
const P4: f64 = -1.65339022054652515390e-06;
const P5: f64 = 4.13813679705723846039e-08;

/** y * 2^n for integer n (scalbn), exact except when the result is subnormal. */
export function scalbn64(y: f64, n: i32): f64 {
  if (n > 1023) {
    y *= 8.98846567431158e307; // 2^1023
    n -= 1023;
    if (n > 1023) { y *= 8.98846567431158e307; n -= 1023; if (n > 1023) n = 1023; }
  } else if (n < -1022) {
    y *= 2.004168360008973e-292; // 2^-1022 * 2^53: keeps the intermediate normal
    n += 1022 - 53;
    if (n < -1022) { y *= 2.004168360008973e-292; n += 1022 - 53; if (n < -1022) n = -1022; }
  }
  return y * reinterpret<f64>(<i64>(0x3ff + n) << 52);
}

/** e^x in f64, error < 1 ulp (fdlibm). */
export function exp64(x: f64): f64 {
  if (x != x) return x;
  if (x > 709.782712893383973096) return Infinity;
  if (x < -745.13321910194110842) return 0;
  // k = round(x / ln2); hi - lo = x - k ln2 exactly enough (k*LN2_HI is exact).
  const k = nearest<f64>(x * INV_LN2);
  const hi = x - k * LN2_HI;
  const lo = k * LN2_LO;
  const r = hi - lo;
  const xx = r * r;
  const c = r - xx * (P1 + xx * (P2 + xx * (P3 + xx * (P4 + xx * P5))));
  const y = 1.0 + (r * c / (2.0 - c) - lo + hi);
  return scalbn64(y, <i32>k);
}
