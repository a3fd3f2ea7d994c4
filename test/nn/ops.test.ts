// nn/: rmsnorm, softmax, logsumexp, activations, elementwise ops and argmax against plain-JS
// float64 references. Tolerances are in f32 ulps of the exact value unless stated.
import { beforeAll, describe, expect, it } from 'vitest';
import { bits, getF32, prng, put, randF32, buildUnderTest, ulpErr, type Raw } from './helpers.js';
import type { WasmRuntime } from '../../bindings/runtime.js';

let rt: WasmRuntime;
let e: Raw;
beforeAll(async () => { ({ rt, e } = await buildUnderTest()); });

const fr = Math.fround;
const SIZES = [1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 33, 100, 2560, 2563, 6912];

function maxUlp(got: Float32Array, want: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < got.length; i++) m = Math.max(m, ulpErr(got[i], want[i]));
  return m;
}

/** Runs a unary kernel f(x, n, out) on x; returns out. */
function unary(name: string, x: Float32Array): Float32Array {
  const px = put(rt, x), po = rt.alloc(4 * x.length);
  e[name](px, x.length, po);
  const y = getF32(rt, po, x.length);
  rt.free(px); rt.free(po);
  return y;
}

function binary(name: string, a: Float32Array, b: Float32Array): Float32Array {
  const pa = put(rt, a), pb = put(rt, b), po = rt.alloc(4 * a.length);
  e[name](pa, pb, a.length, po);
  const y = getF32(rt, po, a.length);
  rt.free(pa); rt.free(pb); rt.free(po);
  return y;
}

describe('rmsnorm', () => {
  function ref(x: Float32Array, w: Float32Array | null, eps: number): number[] {
    let s = 0;
    for (const v of x) s += v * v;
    const scale = 1 / Math.sqrt(s / x.length + fr(eps));
    return Array.from(x, (v, i) => v * scale * (w ? w[i] : 1));
  }

  it('is within 0.501 ulp of the float64 reference, with and without weight, every tail length', () => {
    const rnd = prng(11);
    let worst = 0;
    for (const n of SIZES) {
      const x = randF32(n, rnd, 3), w = randF32(n, rnd, 0.5);
      const px = put(rt, x), pw = put(rt, w), po = rt.alloc(4 * n);
      e.rmsnorm(px, pw, n, 1e-5, po);
      worst = Math.max(worst, maxUlp(getF32(rt, po, n), ref(x, w, 1e-5)));
      e.rmsnorm(px, 0, n, 1e-6, po);
      worst = Math.max(worst, maxUlp(getF32(rt, po, n), ref(x, null, 1e-6)));
      // in place gives the same bits
      const before = getF32(rt, po, n);
      e.rmsnorm(px, 0, n, 1e-6, px);
      expect(bits(getF32(rt, px, n))).toEqual(bits(before));
      rt.free(px); rt.free(pw); rt.free(po);
    }
    console.log(`rmsnorm: max ${worst.toFixed(4)} ulp`);
    expect(worst).toBeLessThan(0.501);
  });

  it('handles an all-zero row (eps only) and large magnitudes without overflow', () => {
    const z = new Float32Array(37);
    const px = put(rt, z), po = rt.alloc(4 * 37);
    e.rmsnorm(px, 0, 37, 1e-5, po);
    expect(Array.from(getF32(rt, po, 37))).toEqual(Array.from(z));
    const big = new Float32Array(37).fill(3e38);
    const pb = put(rt, big);
    e.rmsnorm(pb, 0, 37, 1e-5, po);
    expect(Array.from(getF32(rt, po, 37))).toEqual(new Array(37).fill(1));
    rt.free(px); rt.free(pb); rt.free(po);
  });
});

describe('softmax / logsumexp', () => {
  function ref(x: Float32Array): number[] {
    let m = -Infinity;
    for (const v of x) m = Math.max(m, v);
    const ex = Array.from(x, (v) => Math.exp(v - m));
    const s = ex.reduce((a, b) => a + b, 0);
    return ex.map((v) => v / s);
  }

  function run(x: Float32Array): Float32Array {
    const p = put(rt, x);
    e.softmax(p, x.length);
    const y = getF32(rt, p, x.length);
    rt.free(p);
    return y;
  }

  it('is within 1.5 ulp of the float64 reference (1 subnormal step below 2^-126) and sums to 1 within n * 2^-24', () => {
    const rnd = prng(12);
    let worst = 0;
    for (const n of [...SIZES, 32000, 128256]) {
      for (const scale of [1, 8, 40]) {
        const x = randF32(n, rnd, scale);
        const y = run(x);
        // Probabilities below 2^-126 are subnormal f32: compare them in absolute terms.
        const want = ref(x);
        let subWorst = 0;
        for (let i = 0; i < n; i++) {
          if (want[i] < 2 ** -126) subWorst = Math.max(subWorst, Math.abs(y[i] - want[i]));
          else worst = Math.max(worst, ulpErr(y[i], want[i]));
        }
        expect(subWorst).toBeLessThan(2 ** -149);
        let s = 0;
        for (const v of y) s += v;
        expect(Math.abs(s - 1)).toBeLessThanOrEqual(Math.max(n, 4) * 2 ** -24);
      }
    }
    console.log(`softmax: max ${worst.toFixed(4)} ulp`);
    expect(worst).toBeLessThan(1.5);
  });

  it('softmax_f32 (f32 exponentials, attention) is within 2 + |x - max| ulp of the float64 reference and sums to 1 within n * 2^-24', () => {
    const rnd = prng(13);
    let worst = 0;
    for (const n of [1, 2, 3, 4, 5, 7, 31, 33, 100, 4096, 32000]) {
      for (const scale of [1, 8, 40]) {
        const x = randF32(n, rnd, scale);
        const p = put(rt, x);
        e.softmax_f32(p, n);
        const y = getF32(rt, p, n);
        rt.free(p);
        const want = ref(x);
        let m = -Infinity;
        for (const v of x) m = Math.max(m, v);
        for (let i = 0; i < n; i++) {
          // The difference x - max is rounded to f32 (|x - max| * 2^-24 relative); the rest is the exponential's
          // 2 ulp and the two roundings of softmax.
          // Below 2^-126 (subnormal): absolute, as x - max < -87.33 gives 0 (exp(-87.33) = 2^-126).
          if (want[i] < 2 ** -126) { expect(Math.abs(y[i] - want[i])).toBeLessThan(2 ** -126); continue; }
          const err = ulpErr(y[i], want[i]) - Math.abs(x[i] - m);
          worst = Math.max(worst, err);
        }
        let s = 0;
        for (const v of y) s += v;
        expect(Math.abs(s - 1)).toBeLessThanOrEqual(Math.max(n, 4) * 2 ** -24);
      }
    }
    console.log(`softmax_f32: max ${worst.toFixed(4)} ulp beyond |x - max|`);
    expect(worst).toBeLessThan(2);
    // Same special rows as softmax: one element, all -Inf (uniform), a -Inf entry (0).
    for (const [x, want] of [[[5], [1]], [[-Infinity, -Infinity], [0.5, 0.5]], [[1, -Infinity, 1], [0.5, 0, 0.5]]] as const) {
      const p = put(rt, new Float32Array(x));
      e.softmax_f32(p, x.length);
      expect(Array.from(getF32(rt, p, x.length))).toEqual(want);
      rt.free(p);
    }
  });

  it('exact cases: one element is 1, equal elements are fround(1/n), all -Inf is uniform, -Inf entries are 0', () => {
    expect(Array.from(run(new Float32Array([123.5])))).toEqual([1]);
    for (const n of [3, 7, 10, 1000]) {
      expect(Array.from(run(new Float32Array(n).fill(-2.5)))).toEqual(new Array(n).fill(fr(1 / n)));
      expect(Array.from(run(new Float32Array(n).fill(-Infinity)))).toEqual(new Array(n).fill(fr(1 / n)));
    }
    const y = run(new Float32Array([0, -Infinity, 0, -Infinity, 0, -Infinity, 0, -Infinity, 0]));
    expect(Array.from(y)).toEqual([0.2, 0, 0.2, 0, 0.2, 0, 0.2, 0, 0.2].map(fr));
    const big = run(new Float32Array([3e38, 3e38, -3e38, 0, 1]));
    expect(Array.from(big)).toEqual([0.5, 0.5, 0, 0, 0]);
  });

  it('one finite value among -Inf is one-hot wherever it sits (the row max reads every lane, chain and tail)', () => {
    // A max that skipped the value would be -Inf: the row would come out uniform instead.
    for (const fn of [e.softmax, e.softmax_f32]) {
      for (const n of [1, 3, 4, 5, 15, 16, 17, 31, 32, 33, 47, 48, 50, 64, 67]) {
        for (let at = 0; at < n; at++) {
          const x = new Float32Array(n).fill(-Infinity);
          x[at] = -1.5;
          const p = put(rt, x);
          fn(p, n);
          const want = new Array(n).fill(0);
          want[at] = 1;
          expect(Array.from(getF32(rt, p, n))).toEqual(want);
          rt.free(p);
        }
      }
    }
  });

  it('logsumexp is within 1e-12 relative of float64 (and log-probabilities follow)', () => {
    const rnd = prng(13);
    let worst = 0;
    for (const n of [1, 3, 8, 13, 1000, 128256]) {
      const x = randF32(n, rnd, 10);
      let m = -Infinity;
      for (const v of x) m = Math.max(m, v);
      let s = 0;
      for (const v of x) s += Math.exp(v - m);
      const want = m + Math.log(s);
      const p = put(rt, x);
      const got = e.logsumexp(p, n);
      rt.free(p);
      worst = Math.max(worst, Math.abs(got - want) / Math.abs(want));
    }
    console.log(`logsumexp: max relative error ${worst.toExponential(2)}`);
    expect(worst).toBeLessThan(1e-12);
    const p = put(rt, new Float32Array([-Infinity, -Infinity]));
    expect(e.logsumexp(p, 2)).toBe(-Infinity);
    expect(e.logsumexp(p, 0)).toBe(-Infinity);
    rt.free(p);
  });
});

describe('activations', () => {
  const silu = (v: number) => v / (1 + Math.exp(-v));

  it('silu is within 0.501 ulp; silu_mul rounds silu(g)*u once (0.501 ulp)', () => {
    const rnd = prng(14);
    let w1 = 0, w2 = 0;
    for (const n of SIZES) {
      const g = randF32(n, rnd, 6), u = randF32(n, rnd, 2);
      w1 = Math.max(w1, maxUlp(unary('silu', g), Array.from(g, silu)));
      w2 = Math.max(w2, maxUlp(binary('silu_mul', g, u), Array.from(g, (v, i) => silu(v) * u[i])));
    }
    console.log(`silu: max ${w1.toFixed(4)} ulp; silu_mul: max ${w2.toFixed(4)} ulp`);
    expect(w1).toBeLessThan(0.501);
    expect(w2).toBeLessThan(0.501);
  });

  it('silu edges: 0, large |x|, infinities', () => {
    const x = new Float32Array([0, -0, 100, -100, 1e30, -1e30, Infinity, -Infinity, -750, 89]);
    const y = unary('silu', x);
    expect(Array.from(y)).toEqual([0, -0, 100, fr(-100 * Math.exp(-100)), fr(1e30), -0, Infinity, -0, -0, 89]);
  });

  it('relu_sq and relu_sq_mul are exact', () => {
    const rnd = prng(15);
    for (const n of SIZES) {
      const g = randF32(n, rnd, 3), u = randF32(n, rnd, 3);
      const r = (v: number) => Math.max(v, 0);
      expect(Array.from(unary('relu_sq', g))).toEqual(Array.from(g, (v) => fr(r(v) * r(v))));
      expect(Array.from(binary('relu_sq_mul', g, u))).toEqual(Array.from(g, (v, i) => fr(r(v) * r(v) * u[i])));
    }
    expect(Array.from(unary('relu_sq', new Float32Array([-0, -5, 2, 1e20])))).toEqual([0, 0, 4, Infinity]);
  });

  it('add and mul are exact f32 arithmetic', () => {
    const rnd = prng(16);
    for (const n of SIZES) {
      const a = randF32(n, rnd, 5), b = randF32(n, rnd, 5);
      expect(Array.from(binary('add', a, b))).toEqual(Array.from(a, (v, i) => fr(v + b[i])));
      expect(Array.from(binary('mul', a, b))).toEqual(Array.from(a, (v, i) => fr(v * b[i])));
    }
  });
});

describe('argmax', () => {
  function am(x: Float32Array): number {
    const p = put(rt, x);
    const r = e.argmax(p, x.length);
    rt.free(p);
    return r;
  }

  it('matches a plain scan (first index of the maximum) on random rows of every tail length', () => {
    const rnd = prng(17);
    for (const n of [...SIZES, 128256]) {
      const x = randF32(n, rnd);
      let best = 0;
      for (let i = 1; i < n; i++) if (x[i] > x[best]) best = i;
      expect(am(x)).toBe(best);
    }
  });

  it('ties go to the lowest index; NaN never wins; empty or all-NaN is -1', () => {
    expect(am(new Float32Array([1, 5, 3, 5, 5, 0, 5, 5, 5]))).toBe(1);
    const t = new Float32Array(100).fill(2);
    expect(am(t)).toBe(0);
    expect(am(new Float32Array([NaN, 1, NaN, 3, NaN, NaN, 2, NaN, NaN]))).toBe(3);
    expect(am(new Float32Array([NaN, NaN, NaN, NaN, NaN]))).toBe(-1);
    expect(am(new Float32Array([]))).toBe(-1);
    expect(am(new Float32Array([-Infinity, -Infinity, -Infinity, -Infinity, -Infinity]))).toBe(0);
    expect(am(new Float32Array([-0, 0, -1, -1, -1]))).toBe(0);
    const last = new Float32Array(1003).fill(-1);
    last[1002] = 7;
    expect(am(last)).toBe(1002);
  });
});
