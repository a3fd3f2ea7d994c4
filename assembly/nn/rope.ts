// Rotary position embedding, NEOX style (BitNet/llama.cpp `bitnet` graph): within each head the
// pairs are (i, i + rotDim/2) for i < rotDim/2 (the two halves, not interleaved neighbours),
// rotated by angle pos * theta_i with theta_i = freqBase^(-2i/rotDim). Elements from rotDim to
// headDim pass through unchanged.
//
// Accuracy: theta_i and the angle are computed in f64 (math/pow, < 1e-15 relative) and cos/sin
// in f64 (math/trig), each rounded once to f32: the table holds cos/sin of the exact angle to
// within 0.5 ulp + 2^-27 relative for pos up to 4e8. (llama.cpp instead multiplies theta by
// theta_scale in f32 pair after pair; values agree to a few ulp for small pos, and ours do not
// drift with pos.) The rotation x0*c - x1*s, x0*s + x1*c runs in f64: f32 x f32 products are
// exact there, so each output is rounded once in f64 and once to f32.
//
// Table layout (rope_table): 2 * (rotDim/2) f32: cos[0..h) then sin[0..h), h = rotDim/2.
// Fill it once per position and reuse it for every head of q and of k (rope_apply).
import { hi_f64, join_f32, lo_f64 } from "../math/exp";
import { log64 } from "../math/log";
import { rope_theta } from "../math/pow";
import { sincos64, sincos_cos } from "../math/trig";

/** Bytes of the cos/sin table for rotDim. */
export function rope_table_bytes(rotDim: i32): i32 { return (rotDim >> 1) << 3; }

/** Fills table (cos then sin, rotDim/2 f32 each) for position pos. rotDim even. */
export function rope_table(pos: i32, rotDim: i32, freqBase: f32, table: usize): void {
  const half = rotDim >> 1;
  const lb = log64(<f64>freqBase);
  for (let i = 0; i < half; i++) {
    const s = sincos64(<f64>pos * rope_theta(i, rotDim, lb));
    store<f32>(table + (<usize>i << 2), <f32>sincos_cos());
    store<f32>(table + (<usize>(half + i) << 2), <f32>s);
  }
}

/** Rotates nHeads heads of headDim f32 each (contiguous) in place with a rope_table. */
export function rope_apply(vec: usize, nHeads: i32, headDim: i32, rotDim: i32, table: usize): void {
  const half = rotDim >> 1;
  const hb = <usize>half << 2;
  for (let h = 0; h < nHeads; h++) {
    const x = vec + ((<usize>h * <usize>headDim) << 2);
    let i = 0;
    for (; i + 4 <= half; i += 4) {
      const o = <usize>i << 2;
      const a = v128.load(x + o), b = v128.load(x + hb + o);
      const c = v128.load(table + o), s = v128.load(table + hb + o);
      const al = lo_f64(a), ah = hi_f64(a), bl = lo_f64(b), bh = hi_f64(b);
      const cl = lo_f64(c), ch = hi_f64(c), sl = lo_f64(s), sh = hi_f64(s);
      v128.store(x + o, join_f32(f64x2.sub(f64x2.mul(al, cl), f64x2.mul(bl, sl)),
                                 f64x2.sub(f64x2.mul(ah, ch), f64x2.mul(bh, sh))));
      v128.store(x + hb + o, join_f32(f64x2.add(f64x2.mul(al, sl), f64x2.mul(bl, cl)),
                                      f64x2.add(f64x2.mul(ah, sh), f64x2.mul(bh, ch))));
    }
    for (; i < half; i++) {
      const o = <usize>i << 2;
      rotate(x + o, x + hb + o, <f64>load<f32>(table + o), <f64>load<f32>(table + hb + o));
    }
  }
}

/** The "normal" (GPT-J style) rotation of llama.cpp's `llama` graph: pairs are neighbours
 *  (2i, 2i + 1), rotated by the same angles as rope_apply (table from rope_table). Scalar: it runs
 *  once per head and position, and the same f64 arithmetic as rope_apply keeps it exact-to-rule. */
export function rope_apply_interleaved(vec: usize, nHeads: i32, headDim: i32, rotDim: i32, table: usize): void {
  const half = rotDim >> 1;
  const hb = <usize>half << 2;
  for (let h = 0; h < nHeads; h++) {
    const x = vec + ((<usize>h * <usize>headDim) << 2);
    for (let i = 0; i < half; i++) {
      const o = <usize>i << 2, p = x + (<usize>i << 3);
      rotate(p, p + 4, <f64>load<f32>(table + o), <f64>load<f32>(table + hb + o));
    }
  }
}

// @ts-ignore: decorator
@inline function rotate(p0: usize, p1: usize, c: f64, s: f64): void {
  const a = <f64>load<f32>(p0), b = <f64>load<f32>(p1);
  store<f32>(p0, <f32>(a * c - b * s));
  store<f32>(p1, <f32>(a * s + b * c));
}

/**
 * rope_table + rope_apply without a table: computes each cos/sin once and applies it to every
 * head. Bit-identical to the table path.
 */
export function rope_neox(vec: usize, nHeads: i32, headDim: i32, rotDim: i32, pos: i32, freqBase: f32): void {
  const half = rotDim >> 1;
  const hb = <usize>half << 2;
  const lb = log64(<f64>freqBase);
  for (let i = 0; i < half; i++) {
    const s = <f64><f32>sincos64(<f64>pos * rope_theta(i, rotDim, lb));
    const c = <f64><f32>sincos_cos();
    for (let h = 0; h < nHeads; h++) {
      const p = vec + ((<usize>h * <usize>headDim + <usize>i) << 2);
      rotate(p, p + hb, c, s);
    }
  }
}
