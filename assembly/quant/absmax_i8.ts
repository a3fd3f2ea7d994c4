// Per-token int8 absmax quantization of activations (BitNet b1.58):
//   amax = max|x|, step = amax / 127, q = clamp(roundHalfEven(x / step), -127, 127)
// in f32 at every step. -128 is never produced: the relaxed dot kernels need |q| <= 127 so that
// no i16 pair sum can saturate. A NaN quotient (0/0 cannot happen, but keep the rule total)
// becomes 0 exactly as i32x4.trunc_sat does.

/** Returns step (>= 0), or -1 when x holds a NaN or an infinity. Writes n q's, then zeros up to nPad. */
export function quantize_row(x: usize, n: i32, q: usize, nPad: i32): f32 {
  // max |x| with pmax (one instruction; f32x4.max is a long sequence on x86 for its NaN and
  // signed-zero rules), NaNs caught separately; an infinity shows in amax.
  let vmax = f32x4.splat(0), nan = i32x4.splat(0);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const v = v128.load(x + (<usize>i << 2));
    vmax = f32x4.pmax(vmax, f32x4.abs(v));
    nan = v128.or(nan, f32x4.ne(v, v));
  }
  let amax: f32 = max(max(f32x4.extract_lane(vmax, 0), f32x4.extract_lane(vmax, 1)),
                      max(f32x4.extract_lane(vmax, 2), f32x4.extract_lane(vmax, 3)));
  for (; i < n; i++) amax = max(amax, abs(load<f32>(x + (<usize>i << 2))));
  if (v128.any_true(nan) || !(amax - amax == 0)) return -1; // NaN or +Inf
  if (amax == 0) {
    memory.fill(q, 0, <usize>nPad);
    return 0;
  }
  const step: f32 = amax / 127;
  const vstep = f32x4.splat(step);
  i = 0;
  for (; i + 16 <= n; i += 16) {
    const p = x + (<usize>i << 2);
    v128.store(q + <usize>i, quantize16(v128.load(p), v128.load(p, 16), v128.load(p, 32), v128.load(p, 48), vstep));
  }
  for (; i < n; i++) store<i8>(q + <usize>i, <i8>quantize_one(load<f32>(x + (<usize>i << 2)), step));
  if (nPad > n) memory.fill(q + <usize>n, 0, <usize>(nPad - n));
  return step;
}

/** The q's of 16 values (four f32x4 vectors) as int8 lanes; vstep: the step in every lane. */
// @ts-ignore: decorator
@inline export function quantize16(a: v128, b: v128, c: v128, d: v128, vstep: v128): v128 {
  return i8x16.narrow_i16x8_s(i16x8.narrow_i32x4_s(quantize4(a, vstep), quantize4(b, vstep)),
                              i16x8.narrow_i32x4_s(quantize4(c, vstep), quantize4(d, vstep)));
}

// @ts-ignore: decorator
@inline function quantize4(v: v128, vstep: v128): v128 {
  // pmax/pmin keep a NaN quotient NaN (as max/min would), and trunc_sat turns it into 0.
  return i32x4.trunc_sat_f32x4_s(f32x4.pmin(f32x4.pmax(f32x4.nearest(f32x4.div(v, vstep)), f32x4.splat(-127)), f32x4.splat(127)));
}

// @ts-ignore: decorator
@inline export function quantize_one(v: f32, step: f32): i32 {
  let r = nearest<f32>(v / step);
  if (r != r) return 0;
  return <i32>min<f32>(max<f32>(r, -127), 127);
}

/** Exact int32 sum of n int8 values (n a multiple of 16). */
export function sum_i8(q: usize, n: i32): i32 {
  let acc = i32x4.splat(0);
  for (let i = 0; i < n; i += 16) {
    acc = i32x4.add(acc, i32x4.extadd_pairwise_i16x8_s(i16x8.extadd_pairwise_i8x16_s(v128.load(q + <usize>i))));
  }
  return i32x4.extract_lane(acc, 0) + i32x4.extract_lane(acc, 1) + i32x4.extract_lane(acc, 2) + i32x4.extract_lane(acc, 3);
}
