// Deterministic natural logarithm: fdlibm's e_log.c (musl's form), IEEE basic operations and a
// fixed polynomial only, so every engine gives the same bits. f64 error < 1 ulp; logf rounds the
// f64 value once to f32 (max 0.5 ulp + 2^-29 relative; measured in test/nn/math.test.ts).
// For log-softmax and perplexity (see nn/softmax.ts logsumexp) and for pow.

const LN2_HI: f64 = 6.93147180369123816490e-01;
const LN2_LO: f64 = 1.90821492927058770002e-10;
const LG1: f64 = 6.666666666666735130e-01;
const LG2: f64 = 3.999999999940941908e-01;
const LG3: f64 = 2.857142874366239149e-01;
const LG4: f64 = 2.222219843214978396e-01;
const LG5: f64 = 1.818357216161805012e-01;
const LG6: f64 = 1.531383769920937332e-01;
const LG7: f64 = 1.479819860511658591e-01;

/** ln(x) in f64: -Inf at +-0, NaN below 0 and at NaN, +Inf at +Inf. */
export function log64(x: f64): f64 {
  let u = reinterpret<u64>(x);
  let hx = <u32>(u >> 32);
  let k: i32 = 0;
  if (hx < 0x00100000 || (hx >> 31) != 0) {
    if ((u << 1) == 0) return -Infinity;
    if ((hx >> 31) != 0) return (x - x) / 0.0; // negative (or -NaN): NaN
    // Subnormal: scale up by 2^54 (exact).
    k -= 54;
    x *= 18014398509481984.0;
    u = reinterpret<u64>(x);
    hx = <u32>(u >> 32);
  } else if (hx >= 0x7ff00000) {
    return x; // +Inf or NaN
  } else if (hx == 0x3ff00000 && (u << 32) == 0) {
    return 0;
  }
  // x = 2^k * m with m in [sqrt(2)/2, sqrt(2)); f = m - 1.
  hx += 0x3ff00000 - 0x3fe6a09e;
  k += <i32>(hx >> 20) - 0x3ff;
  hx = (hx & 0x000fffff) + 0x3fe6a09e;
  u = (<u64>hx << 32) | (u & 0xffffffff);
  const f = reinterpret<f64>(u) - 1.0;
  const hfsq = 0.5 * f * f;
  const s = f / (2.0 + f);
  const z = s * s;
  const w = z * z;
  const t1 = w * (LG2 + w * (LG4 + w * LG6));
  const t2 = z * (LG1 + w * (LG3 + w * (LG5 + w * LG7)));
  const r = t2 + t1;
  const dk = <f64>k;
  return s * (hfsq + r) + dk * LN2_LO - hfsq + f + dk * LN2_HI;
}

/** ln(x) for f32 x, rounded once from log64. */
export function logf(x: f32): f32 {
  return <f32>log64(<f64>x);
}
