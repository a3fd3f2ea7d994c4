// FFN activations: SiLU (1bitLLM models) and squared ReLU (BitNet b1.58 2B4T), plain and fused
// with the up projection (act(gate) * up). SiLU is x / (1 + exp(-x)) evaluated in f64 with
// math/exp's exp_core (f64 result, ~1e-11 relative) and rounded to f32 once: within 0.5 ulp +
// 1e-11 relative. The fused forms also multiply by up in f64 before the one rounding, so
// silu_mul(g, u) is not always bit-equal to mul(silu(g), u): it is the more accurate of the two.
// relu_sq is exact IEEE f32 (max(x, 0)^2, one rounding), as llama.cpp computes it.
import { exp_consts, exp_core, exp_core2, hi_f64, join_f32, lo_f64 } from "../math/exp";

// @ts-ignore: decorator
@inline function silu64(x: f64): f64 {
  x = max<f64>(x, -708.0); // silu(-Inf) = -0, not -Inf/Inf; the result is -0 in f32 below -104 anyway
  return x / (1.0 + exp_core(-x));
}

// @ts-ignore: decorator
@inline function silu2(x: v128, c: usize): v128 {
  // From exp's constant block: +0 is -708.0, +224 is 1.0 (both lanes).
  x = f64x2.max(x, v128.load(c));
  return f64x2.div(x, f64x2.add(v128.load(c, 224), exp_core2(f64x2.neg(x), c)));
}

/** out = x * sigmoid(x); out may equal x. */
export function silu(x: usize, n: i32, out: usize): void {
  const c = exp_consts();
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    const v = v128.load(x + o);
    v128.store(out + o, join_f32(silu2(lo_f64(v), c), silu2(hi_f64(v), c)));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(out + o, <f32>silu64(<f64>load<f32>(x + o)));
  }
}

/** out = silu(gate) * up, rounded once; out may equal gate or up. */
export function silu_mul(gate: usize, up: usize, n: i32, out: usize): void {
  const c = exp_consts();
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    const g = v128.load(gate + o), u = v128.load(up + o);
    v128.store(out + o, join_f32(f64x2.mul(silu2(lo_f64(g), c), lo_f64(u)),
                                 f64x2.mul(silu2(hi_f64(g), c), hi_f64(u))));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(out + o, <f32>(silu64(<f64>load<f32>(gate + o)) * <f64>load<f32>(up + o)));
  }
}

/** out = max(x, 0)^2 in f32 (NaN stays NaN); out may equal x. */
export function relu_sq(x: usize, n: i32, out: usize): void {
  const z = f32x4.splat(0);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    const r = f32x4.max(v128.load(x + o), z);
    v128.store(out + o, f32x4.mul(r, r));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    const r = max<f32>(load<f32>(x + o), 0);
    store<f32>(out + o, r * r);
  }
}

/** out = max(gate, 0)^2 * up, rounded once (the square is exact in f64); out may equal gate or up. */
export function relu_sq_mul(gate: usize, up: usize, n: i32, out: usize): void {
  const z = f32x4.splat(0);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    const r = f32x4.max(v128.load(gate + o), z), u = v128.load(up + o);
    const rl = lo_f64(r), rh = hi_f64(r);
    v128.store(out + o, join_f32(f64x2.mul(f64x2.mul(rl, rl), lo_f64(u)), f64x2.mul(f64x2.mul(rh, rh), hi_f64(u))));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    const r = <f64>max<f32>(load<f32>(gate + o), 0);
    store<f32>(out + o, <f32>((r * r) * <f64>load<f32>(up + o)));
  }
}
