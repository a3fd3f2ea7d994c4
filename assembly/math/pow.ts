// Deterministic pow: exp64(y * log64(|x|)) in f64 (both fdlibm, < 1 ulp each), with C99's special
// cases. For f32 results the f64 error (about |y ln x| * 2^-52 relative, below 2e-14 whenever the
// result is a finite non-zero f32) is far below the final rounding: powf is within 0.5 ulp +
// 2^-30 relative. Used for the RoPE frequencies base^(-2i/d), computed in f64 (rope_theta).
import { exp64 } from "./exp";
import { log64 } from "./log";

/** x^y for f32, with C99 pow's special cases (pow(x, 0) = 1, pow(1, y) = 1, negative x needs integer y, ...). */
export function powf(x: f32, y: f32): f32 {
  return <f32>pow64(<f64>x, <f64>y);
}

/** x^y in f64 via exp64(y * log64(|x|)): accurate to about |y ln x| * 2^-52 relative (not a full f64 pow). */
export function pow64(x: f64, y: f64): f64 {
  if (y == 0) return 1;
  if (x == 1) return 1;
  if (x != x || y != y) return x + y;
  const ax = abs<f64>(x);
  let sign: f64 = 1;
  if ((reinterpret<u64>(x) >> 63) != 0) {
    const integral = floor<f64>(y) == y; // true for +-Inf too (treated as even)
    if (integral) {
      if (floor<f64>(y * 0.5) != y * 0.5) sign = -1;
    } else if (ax != 0 && ax != Infinity) {
      return (x - x) / 0.0; // negative base, non-integer exponent: NaN
    }
  }
  if (ax == 1) return sign; // (-1)^integer, and (-1)^+-Inf = 1
  return sign * exp64(y * log64(ax));
}

/** theta_i = base^(-2i/dim) in f64 (the RoPE frequency of pair i), given logBase = log64(base). */
// @ts-ignore: decorator
@inline export function rope_theta(i: i32, dim: i32, logBase: f64): f64 {
  return exp64((<f64>(-2 * i) / <f64>dim) * logBase);
}
