// Softmax over one row, in place, and logsumexp (for log-probabilities and perplexity).
// This header describes `softmax`; `softmax_f32` (f32 difference and exponentials, expf4_f32)
// differs as its JSDoc says, and attention uses its first half, `exp_sum_f32`. softmax: max-subtracted, with x_i - max taken in f64 (exact in practice: an f32 difference would cost up
// to |x_i - max| * 2^-24 relative in e_i); e_i = exp(x_i - max) by math/exp's core, rounded once
// to f32 and stored; their sum is taken in f64 (two f64x2 partial sums, lanes combined in a
// fixed order, then the scalar tail in index order); each output is f32(e_i * (1/sum)) rounded
// from f64. Two roundings (e_i to f32, then the output): every output is within 1.5 ulp of the
// exact softmax (measured 1.46), and the bits depend only on (x, n): every engine and build agrees.
import { exp_consts, exp_core, exp_core2, expf4_f32, expf_f32, hi_f64, join_f32, lo_f64 } from "../math/exp";
import { log64 } from "../math/log";

/** max of n f32 values (NaN if any is NaN); -Inf when n == 0. max is associative and commutative
 *  (NaN wins, +0 > -0), so any grouping gives the same bits: four chains, as f32x4.max is a long
 *  instruction sequence in V8 (one chain: ~4 ns per 4 values, half of attention's softmax). */
export function max_f32(x: usize, n: i32): f32 {
  let m: f32 = -Infinity;
  let i = 0;
  if (n >= 4) {
    let vm = v128.load(x);
    i = 4;
    if (n >= 16) {
      let v1 = v128.load(x, 16), v2 = v128.load(x, 32), v3 = v128.load(x, 48);
      for (i = 16; i + 16 <= n; i += 16) {
        const p = x + (<usize>i << 2);
        vm = f32x4.max(vm, v128.load(p)); v1 = f32x4.max(v1, v128.load(p, 16));
        v2 = f32x4.max(v2, v128.load(p, 32)); v3 = f32x4.max(v3, v128.load(p, 48));
      }
      vm = f32x4.max(f32x4.max(vm, v1), f32x4.max(v2, v3));
    }
    for (; i + 4 <= n; i += 4) vm = f32x4.max(vm, v128.load(x + (<usize>i << 2)));
    m = max<f32>(max<f32>(f32x4.extract_lane(vm, 0), f32x4.extract_lane(vm, 1)),
                 max<f32>(f32x4.extract_lane(vm, 2), f32x4.extract_lane(vm, 3)));
  }
  for (; i < n; i++) m = max<f32>(m, load<f32>(x + (<usize>i << 2)));
  return m;
}

/**
 * x[0..n) <- softmax(x), in place. A row of all -Inf (fully masked) becomes uniform 1/n;
 * a NaN or +Inf in the row gives NaNs.
 */
export function softmax(x: usize, n: i32): void {
  softmaxBody(x, n, false);
}

/**
 * softmax with f32 exponentials, for attention: e_i = expf_f32(f32(x_i - max)) (math/exp; the
 * difference rounded to f32 moves e_i by up to |x_i - max| * 2^-24 relative), sum and outputs as
 * softmax; x_i - max < -87.33 gives 0. Outputs within 2 ulp of the exact softmax plus that term (measured 0.63) (test/nn/ops.test.ts).
 */
export function softmax_f32(x: usize, n: i32): void {
  softmaxBody(x, n, true);
}

/**
 * softmax_f32 without the division: x[0..n) <- e_i = expf_f32(f32(x_i - max)), returns sum_i e_i
 * taken in f64 in softmax's order (so softmax_f32 = e_i * (1 / this), rounded once). A row of all
 * -Inf gives e_i = 1 and n; a NaN or +Inf in the row gives NaNs. Attention divides its value sums
 * by it once per output instead of normalising every weight.
 */
export function exp_sum_f32(x: usize, n: i32): f64 {
  return expSum(x, n, true);
}

// @ts-ignore: decorator
@inline function softmaxBody(x: usize, n: i32, f32exp: bool): void {
  if (n <= 0) return;
  const inv = 1.0 / expSum(x, n, f32exp);
  const vinv = f64x2.splat(inv);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const p = x + (<usize>i << 2);
    const e = v128.load(p);
    v128.store(p, join_f32(f64x2.mul(lo_f64(e), vinv), f64x2.mul(hi_f64(e), vinv)));
  }
  for (; i < n; i++) {
    const p = x + (<usize>i << 2);
    store<f32>(p, <f32>(<f64>load<f32>(p) * inv));
  }
}

/** The exponentials of softmax / softmax_f32, in place, and their f64 sum (an all -Inf row: ones, n). */
// @ts-ignore: decorator
@inline function expSum(x: usize, n: i32, f32exp: bool): f64 {
  if (n <= 0) return 0;
  const m = max_f32(x, n);
  if (m == -Infinity) {
    for (let i = 0; i < n; i++) store<f32>(x + (<usize>i << 2), 1);
    return <f64>n;
  }
  const c = exp_consts();
  const m64 = <f64>m;
  const vm = f64x2.splat(m64), vm32 = f32x4.splat(m);
  let a0 = f64x2.splat(0), a1 = f64x2.splat(0);
  let i = 0;
  if (f32exp) {
    // Exponentials first, then their sum: the polynomial's registers leave none for the sums.
    for (; i + 4 <= n; i += 4) {
      const p = x + (<usize>i << 2);
      v128.store(p, expf4_f32(f32x4.sub(v128.load(p), vm32)));
    }
    for (let j = 0; j < i; j += 4) {
      const e = v128.load(x + (<usize>j << 2));
      a0 = f64x2.add(a0, lo_f64(e));
      a1 = f64x2.add(a1, hi_f64(e));
    }
  } else {
    for (; i + 4 <= n; i += 4) {
      const p = x + (<usize>i << 2);
      const v = v128.load(p);
      const e = join_f32(exp_core2(f64x2.sub(lo_f64(v), vm), c), exp_core2(f64x2.sub(hi_f64(v), vm), c));
      v128.store(p, e);
      a0 = f64x2.add(a0, lo_f64(e));
      a1 = f64x2.add(a1, hi_f64(e));
    }
  }
  let sum = (f64x2.extract_lane(a0, 0) + f64x2.extract_lane(a0, 1)) + (f64x2.extract_lane(a1, 0) + f64x2.extract_lane(a1, 1));
  for (let j = i; j < n; j++) {
    const p = x + (<usize>j << 2);
    const e = f32exp ? expf_f32(load<f32>(p) - m) : <f32>exp_core(<f64>load<f32>(p) - m64);
    store<f32>(p, e);
    sum += <f64>e;
  }
  return sum;
}

/**
 * log(sum_i exp(x_i)) in f64 (x unchanged): max + log(sum exp(x_i - max)), differences and
 * exponentials in f64 (relative error ~2e-10 per term), fixed summation order. The
 * log-probability of token t is x[t] - logsumexp(x, n). -Inf for n == 0 or an all -Inf row.
 */
export function logsumexp(x: usize, n: i32): f64 {
  const m = <f64>max_f32(x, n);
  if (m == -Infinity) return m;
  const c = exp_consts();
  const vm = f64x2.splat(m);
  let a0 = f64x2.splat(0), a1 = f64x2.splat(0);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const v = v128.load(x + (<usize>i << 2));
    a0 = f64x2.add(a0, exp_core2(f64x2.sub(lo_f64(v), vm), c));
    a1 = f64x2.add(a1, exp_core2(f64x2.sub(hi_f64(v), vm), c));
  }
  let sum = (f64x2.extract_lane(a0, 0) + f64x2.extract_lane(a0, 1)) + (f64x2.extract_lane(a1, 0) + f64x2.extract_lane(a1, 1));
  for (; i < n; i++) sum += exp_core(<f64>load<f32>(x + (<usize>i << 2)) - m);
  return m + log64(sum);
}
