// Deterministic sin/cos: IEEE basic operations and fixed Taylor polynomials, evaluated in f64,
// so every engine gives the same bits.
//
// Reduction (musl's __rem_pio2f medium case): n = round(x * 2/pi), r = (x - n*P1) - n*P1T with
// P1 = pi/2 to 25 bits (n*P1 is exact for |n| < 2^28) and P1T the next 53 bits. The absolute
// error of r is below 5e-16 for |x| < 2^28 * pi/2 (about 4.2e8): far below an f32 ulp of the
// result. Beyond that range the results stay deterministic but lose accuracy (RoPE angles are
// pos * theta <= pos, so any context below 4e8 positions is covered).
// Kernels on |r| <= pi/4: sin to r^13 (remainder < 2.1e-14 relative), cos to r^14 (< 1.1e-15).
// The f32 results (sinf, cosf, the RoPE table) are rounded once from f64: max 0.5 ulp + 2^-27
// relative; measured 0.5 ulp in test/nn/math.test.ts.

const INV_PIO2: f64 = 6.36619772367581382433e-01;  // 0x3fe45f306dc9c883
const PIO2_1: f64 = 1.57079631090164184570e+00;    // 0x3ff921fb50000000
const PIO2_1T: f64 = 1.58932547735281966916e-08;   // 0x3e5110b4611a6263

const S3: f64 = -0.16666666666666666;
const S5: f64 = 0.008333333333333333;
const S7: f64 = -0.0001984126984126984;
const S9: f64 = 0.0000027557319223985893;
const S11: f64 = -2.505210838544172e-8;
const S13: f64 = 1.6059043836821613e-10;
const C2: f64 = -0.5;
const C4: f64 = 0.041666666666666664;
const C6: f64 = -0.001388888888888889;
const C8: f64 = 0.0000248015873015873;
const C10: f64 = -2.755731922398589e-7;
const C12: f64 = 2.08767569878681e-9;
const C14: f64 = -1.1470745597729725e-11;

// The second result of sincos64 (no multi-value returns in this build).
let cosOut: f64 = 0;

// @ts-ignore: decorator
@inline function sin_k(r: f64, z: f64): f64 {
  return r + r * z * (S3 + z * (S5 + z * (S7 + z * (S9 + z * (S11 + z * S13)))));
}
// @ts-ignore: decorator
@inline function cos_k(z: f64): f64 {
  return 1.0 + z * (C2 + z * (C4 + z * (C6 + z * (C8 + z * (C10 + z * (C12 + z * C14))))));
}

/** sin(x); cos(x) is left in sincos_cos(). NaN for NaN and +-Inf. */
export function sincos64(x: f64): f64 {
  if (!(x - x == 0)) { cosOut = x - x; return x - x; }
  if (x == 0) { cosOut = 1; return x; } // keeps sin(-0) = -0
  if (abs<f64>(x) <= 0.7853981633974483) { // |x| <= pi/4: no reduction
    const z = x * x;
    cosOut = cos_k(z);
    return sin_k(x, z);
  }
  const n = nearest<f64>(x * INV_PIO2);
  const r = (x - n * PIO2_1) - n * PIO2_1T;
  const z = r * r;
  const s = sin_k(r, z), c = cos_k(z);
  const q = <i32>(n - 4.0 * floor<f64>(n * 0.25)); // n mod 4, exact
  if (q == 0) { cosOut = c; return s; }
  if (q == 1) { cosOut = -s; return c; }
  if (q == 2) { cosOut = -c; return -s; }
  cosOut = s;
  return -c;
}

/** cos of the last sincos64 argument. */
// @ts-ignore: decorator
@inline export function sincos_cos(): f64 { return cosOut; }

export function sinf(x: f32): f32 {
  return <f32>sincos64(<f64>x);
}

export function cosf(x: f32): f32 {
  sincos64(<f64>x);
  return <f32>cosOut;
}
