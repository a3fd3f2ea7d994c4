// math/: deterministic expf, logf, sinf/cosf, powf and their f64 cores, against JS float64
// Math.* as the reference (its own error, ~1e-16 relative, is negligible at f32 precision).
// Measured maxima are printed; the asserted bounds are the documented ones.
import { beforeAll, describe, expect, it } from 'vitest';
import { f32FromBits, getF32, prng, put, buildUnderTest, ulpErr, ulpF64, type Raw } from './helpers.js';
import type { WasmRuntime } from '../../bindings/runtime.js';

let rt: WasmRuntime;
let e: Raw;
beforeAll(async () => { ({ rt, e } = await buildUnderTest()); });

const fr = Math.fround;

/** Max ulp error of f over xs against exact, plus how often it differs from the correctly rounded value. */
function sweep(xs: number[], f: (x: number) => number, exact: (x: number) => number) {
  let max = 0, at = NaN, wrong = 0;
  for (const x of xs) {
    const want = exact(x), got = f(x);
    if (!Number.isFinite(fr(want))) { expect([x, got]).toEqual([x, fr(want)]); continue; }
    const err = ulpErr(got, want);
    if (err > max) { max = err; at = x; }
    if (got !== fr(want)) wrong++;
  }
  return { max, at, wrong, n: xs.length };
}

function grid(lo: number, hi: number, n: number, rnd: () => number): number[] {
  const xs: number[] = [];
  for (let i = 0; i <= n; i++) xs.push(fr(lo + ((hi - lo) * i) / n));
  for (let i = 0; i < n; i++) xs.push(fr(lo + (hi - lo) * rnd()));
  return xs;
}

describe('expf', () => {
  it('is within 0.5002 ulp over [-104, 89], subnormal results included', () => {
    const xs = grid(-104, 89, 100_000, prng(1));
    const r = sweep(xs, e.expf, Math.exp);
    console.log(`expf: max ${r.max.toFixed(4)} ulp at ${r.at}; ${r.wrong}/${r.n} not correctly rounded`);
    expect(r.max).toBeLessThan(0.5002);
  });

  it('is within 0.5002 ulp near 0 (|x| < 1e-3) and at every f32 in [-1, 1] step 2^-10', () => {
    const rnd = prng(2);
    const xs: number[] = [];
    for (let i = 0; i < 20_000; i++) xs.push(fr((rnd() - 0.5) * 2e-3));
    for (let i = -1024; i <= 1024; i++) xs.push(i / 1024);
    const r = sweep(xs, e.expf, Math.exp);
    expect(r.max).toBeLessThan(0.5002);
  });

  it('handles the edges: overflow threshold, underflow to subnormal and zero, specials', () => {
    const big = f32FromBits(0x42b17217); // 88.72283, the largest x with a finite expf
    expect(e.expf(big)).toBe(fr(Math.exp(big)));
    expect(Number.isFinite(e.expf(big))).toBe(true);
    expect(e.expf(f32FromBits(0x42b17218))).toBe(Infinity);
    expect(e.expf(1000)).toBe(Infinity);
    expect(e.expf(Infinity)).toBe(Infinity);
    expect(e.expf(-Infinity)).toBe(0);
    expect(e.expf(-1000)).toBe(0);
    expect(e.expf(-103.97)).toBe(fr(Math.exp(fr(-103.97)))); // rounds to the smallest subnormal or 0
    expect(e.expf(-87.5)).toBe(fr(Math.exp(-87.5))); // subnormal result
    expect(e.expf(0)).toBe(1);
    expect(e.expf(-0)).toBe(1);
    expect(e.expf(NaN)).toBeNaN();
  });

  it('vexpf is bit-identical to expf lane by lane (SIMD body and scalar tail)', () => {
    const n = 1003;
    const x = new Float32Array(n);
    const rnd = prng(3);
    for (let i = 0; i < n; i++) x[i] = (rnd() - 0.5) * 220;
    x[5] = NaN; x[6] = Infinity; x[7] = -Infinity; x[1001] = -0;
    const px = put(rt, x), po = rt.alloc(4 * n);
    e.vexpf(px, n, po);
    const y = getF32(rt, po, n);
    for (let i = 0; i < n; i++) expect(Object.is(y[i], e.expf(x[i])) || (isNaN(y[i]) && isNaN(x[i]))).toBe(true);
    rt.free(px); rt.free(po);
  });
});

describe('expf_f32 (f32 lanes: attention softmax)', () => {
  const expF32 = (xs: number[]) => {
    const px = put(rt, new Float32Array(xs)), po = rt.alloc(4 * xs.length);
    e.vexpf_f32(px, xs.length, po);
    const y = getF32(rt, po, xs.length);
    rt.free(px); rt.free(po);
    return y;
  };

  it('is within 1 ulp of exp over [-87.33, 0] (dense grid, random points, every f32 in [-1, 0] step 2^-12)', () => {
    const rnd = prng(21);
    const xs = grid(-87.33, 0, 200_000, rnd);
    for (let i = -4096; i <= 0; i++) xs.push(i / 4096);
    for (let i = 0; i < 20_000; i++) xs.push(fr(-rnd() * 1e-3));
    const y = expF32(xs);
    let max = 0, at = NaN, wrong = 0;
    for (let i = 0; i < xs.length; i++) {
      const want = Math.exp(xs[i]);
      // Results below 2^-126 are subnormal: compare in absolute terms (one subnormal step).
      const err = want < 2 ** -126 ? Math.abs(y[i] - want) / 2 ** -149 : ulpErr(y[i], want);
      if (err > max) { max = err; at = xs[i]; }
      if (y[i] !== fr(want)) wrong++;
    }
    console.log(`expf_f32: max ${max.toFixed(4)} ulp at ${at}; ${wrong}/${xs.length} not correctly rounded`);
    expect(max).toBeLessThan(1);
  });

  it('edges: 0 and -0 give 1, below -87.34 and -Inf give 0, NaN stays NaN; SIMD body and scalar tail agree', () => {
    const y = expF32([0, -0, -87.34, -88, -1e30, -Infinity, NaN]);
    expect(Array.from(y.subarray(0, 6))).toEqual([1, 1, 0, 0, 0, 0]);
    expect(y[6]).toBeNaN();
    const rnd = prng(22);
    const xs = Array.from({ length: 1003 }, () => fr(-rnd() * 90));
    const all = expF32(xs);
    for (let i = 0; i < xs.length; i += 97) expect(Object.is(expF32([xs[i]])[0], all[i])).toBe(true); // n = 1: the scalar form
  });
});

describe('logf', () => {
  it('is within 0.501 ulp over all positive f32 magnitudes (random bit patterns, subnormals too)', () => {
    const rnd = prng(4);
    const xs: number[] = [];
    for (let i = 0; i < 100_000; i++) xs.push(f32FromBits(Math.floor(rnd() * 0x7f800000)));
    for (let i = 0; i < 20_000; i++) xs.push(fr(1 + (rnd() - 0.5) * 1e-3)); // near 1: cancellation
    const r = sweep(xs, e.logf, Math.log);
    console.log(`logf: max ${r.max.toFixed(4)} ulp at ${r.at}; ${r.wrong}/${r.n} not correctly rounded`);
    expect(r.max).toBeLessThan(0.501);
  });

  it('specials', () => {
    expect(e.logf(1)).toBe(0);
    expect(e.logf(0)).toBe(-Infinity);
    expect(e.logf(-0)).toBe(-Infinity);
    expect(e.logf(-1)).toBeNaN();
    expect(e.logf(Infinity)).toBe(Infinity);
    expect(e.logf(-Infinity)).toBeNaN();
    expect(e.logf(NaN)).toBeNaN();
    expect(e.logf(2 ** -149)).toBe(fr(Math.log(2 ** -149)));
  });
});

describe('exp64 / log64 (the f64 cores of pow and RoPE)', () => {
  it('are within 1 ulp of f64 (2 against Math.*, which has its own < 1 ulp)', () => {
    const rnd = prng(5);
    let mx = 0, ml = 0;
    for (let i = 0; i < 50_000; i++) {
      const x = (rnd() - 0.5) * 1400;
      mx = Math.max(mx, Math.abs(e.exp64(x) - Math.exp(x)) / ulpF64(Math.exp(x)));
      const y = Math.exp((rnd() - 0.5) * 1400);
      ml = Math.max(ml, Math.abs(e.log64(y) - Math.log(y)) / ulpF64(Math.log(y)));
    }
    console.log(`exp64: max ${mx.toFixed(3)} ulp(f64); log64: max ${ml.toFixed(3)} ulp(f64) vs Math`);
    expect(mx).toBeLessThanOrEqual(2);
    expect(ml).toBeLessThanOrEqual(2);
    expect(e.exp64(0)).toBe(1);
    expect(e.exp64(710)).toBe(Infinity);
    expect(e.exp64(-746)).toBe(0);
    expect(e.log64(1)).toBe(0);
    expect(e.log64(5e-324)).toBe(Math.log(5e-324));
  });
});

describe('sinf / cosf', () => {
  it('are within 0.501 ulp for |x| <= 1e4 and within 1e-15 absolute up to 4e8', () => {
    const rnd = prng(6);
    const small = grid(-1e4, 1e4, 100_000, rnd);
    const rs = sweep(small, e.sinf, Math.sin), rc = sweep(small, e.cosf, Math.cos);
    console.log(`sinf: max ${rs.max.toFixed(4)} ulp at ${rs.at} (${rs.wrong} not correctly rounded); cosf: max ${rc.max.toFixed(4)} ulp at ${rc.at} (${rc.wrong})`);
    expect(rs.max).toBeLessThan(0.501);
    expect(rc.max).toBeLessThan(0.501);
    // Large arguments: the reduction's absolute error stays below 1e-15 (+ the final rounding).
    let abs = 0, ulpMax = 0;
    for (let i = 0; i < 20_000; i++) {
      const x = fr(rnd() * 4e8);
      for (const [f, g] of [[e.sinf, Math.sin], [e.cosf, Math.cos]] as const) {
        const got = f(x), want = g(x);
        abs = Math.max(abs, Math.abs(got - want) - Math.abs(fr(want) - want));
        ulpMax = Math.max(ulpMax, ulpErr(got, want));
      }
    }
    console.log(`sinf/cosf |x| < 4e8: excess absolute error ${abs.toExponential(2)}, max ${ulpMax.toFixed(3)} ulp`);
    expect(abs).toBeLessThan(1e-15);
  });

  it('specials: exact at 0, odd/even symmetry, NaN for non-finite', () => {
    expect(e.sinf(0)).toBe(0);
    expect(Object.is(e.sinf(-0), -0)).toBe(true);
    expect(e.cosf(0)).toBe(1);
    expect(e.cosf(-0)).toBe(1);
    for (const x of [0.5, 1, 2, 3, 10, 100.25, 12345.5]) {
      expect(e.sinf(-x)).toBe(-e.sinf(x));
      expect(e.cosf(-x)).toBe(e.cosf(x));
    }
    expect(e.sinf(Infinity)).toBeNaN();
    expect(e.cosf(-Infinity)).toBeNaN();
    expect(e.sinf(NaN)).toBeNaN();
  });
});

describe('powf', () => {
  it('is within 0.501 ulp for positive bases', () => {
    const rnd = prng(7);
    let max = 0, at = [0, 0], wrong = 0, n = 0;
    for (let i = 0; i < 60_000; i++) {
      const x = fr(Math.exp((rnd() - 0.5) * 30)), y = fr((rnd() - 0.5) * 20);
      const want = Math.pow(x, y);
      if (!(Math.abs(want) < 3.4e38)) continue;
      const got = e.powf(x, y);
      const err = ulpErr(got, want);
      if (err > max) { max = err; at = [x, y]; }
      if (got !== fr(want)) wrong++;
      n++;
    }
    // RoPE's use: base^(-2i/d)
    for (const base of [10000, 500000, 1e6]) {
      for (let i = 0; i < 64; i++) {
        const y = fr(-2 * i / 128), want = Math.pow(base, y);
        max = Math.max(max, ulpErr(e.powf(base, y), want));
      }
    }
    console.log(`powf: max ${max.toFixed(4)} ulp at ${at}; ${wrong}/${n} not correctly rounded`);
    expect(max).toBeLessThan(0.501);
  });

  it('follows C99 for the special cases', () => {
    const cases: [number, number, number][] = [
      [NaN, 0, 1], [2, 0, 1], [1, NaN, 1], [1, Infinity, 1], [-1, Infinity, 1], [-1, -Infinity, 1],
      [NaN, 1, NaN], [2, NaN, NaN], [-2, 0.5, NaN],
      [-2, 3, -8], [-2, 2, 4], [-2, -1, -0.5],
      [0, 3, 0], [-0, 3, -0], [-0, 2, 0], [0, -1, Infinity], [-0, -1, -Infinity], [-0, -2, Infinity], [-0, 0.5, 0],
      [Infinity, 2, Infinity], [Infinity, -2, 0], [-Infinity, 3, -Infinity], [-Infinity, 2, Infinity], [-Infinity, -3, -0],
      [0.5, Infinity, 0], [0.5, -Infinity, Infinity], [2, Infinity, Infinity], [2, -Infinity, 0],
      [4, 0.5, 2], [2, 10, 1024], [10, 38, fr(1e38)], [10, 39, Infinity], [2, -149, 2 ** -149], [2, -151, 0],
    ];
    for (const [x, y, want] of cases) expect([x, y, e.powf(x, y)]).toEqual([x, y, want]);
  });
});
