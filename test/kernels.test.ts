// Every kernel of every build available in this runtime equals the JS reference bit for bit.
// Node 20 runs the simd128 build; scripts/test.mjs runs this file again under Node 24 for relaxed.
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import type { WasmRuntime } from '../bindings/runtime.js';
import { createRuntime, KERNEL_IDS, KERNEL_NAMES, quantizeActivations, TernaryMatrix, type KernelName } from '../src/index.js';
import { bits, randomFloats, randomTrits, refAbsmean, refGemm, refQuantize, rng } from './helpers/reference.js';

const runtimes: { build: string; rt: WasmRuntime; kernels: KernelName[] }[] = [];

beforeAll(async () => {
  for (const build of ['simd128', 'relaxed'] as const) {
    let rt: WasmRuntime;
    try { rt = await createRuntime({ build }); } catch (e) {
      if (build === 'relaxed' && (e as { code?: string }).code === 'UNSUPPORTED_BUILD') {
        console.log(`relaxed build not available on ${process.version}: its kernels are checked in the Node 24 run`);
        continue;
      }
      throw e;
    }
    runtimes.push({ build, rt, kernels: KERNEL_NAMES.filter((k) => rt.exports.kernel_available(KERNEL_IDS[k]) === 1) });
  }
});

function checkAll(t: Int8Array, rows: number, cols: number, scale: number, X: Float32Array, n: number) {
  const want = bits(refGemm(t, rows, cols, scale, X, n));
  for (const { build, rt, kernels } of runtimes) {
    for (const kernel of kernels) {
      // streaming (touch-ahead for weights from DRAM) must not change a bit either
      for (const streaming of n === 1 ? [false, true] : [false]) {
        const m = TernaryMatrix.fromTernary(t, rows, cols, scale, { runtime: rt, kernel, streaming });
        try {
          const got = n === 1 ? m.gemv(X) : m.gemm(X, n);
          const g = bits(got);
          let bad = -1;
          for (let i = 0; i < want.length; i++) if (g[i] !== want[i]) { bad = i; break; }
          expect(bad, `${build}/${kernel}${streaming ? ' streaming' : ''} ${rows}x${cols} n=${n}: first difference at ${bad}`).toBe(-1);
        } finally { m.dispose(); }
      }
    }
  }
}

describe('ternary kernels equal the reference bit for bit', () => {
  it('has the expected builds and kernels', () => {
    expect(runtimes[0].build).toBe('simd128');
    expect(runtimes[0].kernels).toEqual(['scalar', 'tl3']);
    const relaxed = runtimes.find((r) => r.build === 'relaxed');
    if (relaxed) expect(relaxed.kernels).toEqual(['scalar', 'tl3', 'tl3-relaxed', 'i2-dot32', 'i2-dot16', 'i2-dot']);
  });

  const shapes: [number, number][] = [[1, 1], [1, 3], [3, 1], [2, 2], [16, 24], [17, 23], [15, 25], [31, 65], [4, 64],
    [64, 64], [33, 127], [100, 257], [255, 1023], [16, 1025], [7, 2049]];
  for (const [rows, cols] of shapes) {
    it(`gemv and gemm on ${rows}x${cols}`, () => {
      const t = randomTrits(rows * cols, rows * 1000 + cols);
      checkAll(t, rows, cols, 0.75, randomFloats(cols, cols), 1);
      for (const n of [2, 3, 4, 5, 6, 7, 8, 9]) checkAll(t, rows, cols, 1.25, randomFloats(n * cols, n + cols, 3), n);
    });
  }

  // GEMM over several row tiles (each matrix packs past one tile), with one and two blocks of 4
  // tokens and a tail of 0-3 tokens after them: every tile bound, block and tail path.
  for (const [rows, cols] of [[301, 4100], [1023, 1100]] as const) {
    it(`gemm over several row tiles on ${rows}x${cols}, n = 4..9`, () => {
      const t = randomTrits(rows * cols, rows + cols), ns = [4, 5, 6, 7, 8, 9];
      const X = ns.map((n) => randomFloats(n * cols, n * 7 + rows, 3));
      const want = ns.map((n, i) => bits(refGemm(t, rows, cols, 0.5, X[i], n)));
      for (const { build, rt, kernels } of runtimes) {
        for (const kernel of kernels) {
          const m = TernaryMatrix.fromTernary(t, rows, cols, 0.5, { runtime: rt, kernel });
          try {
            ns.forEach((n, i) => {
              const g = bits(m.gemm(X[i], n));
              const bad = want[i].findIndex((w, j) => g[j] !== w);
              expect(bad, `${build}/${kernel} ${rows}x${cols} n=${n}: first difference at ${bad}`).toBe(-1);
            });
          } finally { m.dispose(); }
        }
      }
    });
  }

  it('BitNet shape 2560x6912 (gemv, and gemm with n=4)', () => {
    const t = randomTrits(2560 * 6912, 42);
    checkAll(t, 2560, 6912, 0.0123, randomFloats(6912, 1), 1);
    checkAll(t, 2560, 6912, 0.0123, randomFloats(4 * 6912, 2), 4);
  });

  it('all-zero rows, all-zero x, all-minus and all-plus rows', () => {
    const rows = 40, cols = 300;
    const t = randomTrits(rows * cols, 9);
    t.fill(0, 0, cols * 3);
    t.fill(-1, cols * 10, cols * 12);
    t.fill(1, cols * 20, cols * 21);
    checkAll(t, rows, cols, 2, randomFloats(cols, 3), 1);
    checkAll(t, rows, cols, 2, new Float32Array(cols), 1);
    const X = randomFloats(3 * cols, 4);
    X.fill(0, cols, 2 * cols); // a zero row inside a gemm
    checkAll(t, rows, cols, 2, X, 3);
  });

  // Full magnitude: int8 activations at +-127 against rows of one sign over the largest K the
  // models use (6912, 2B4T's FFN) and twice that, where an accumulator that saturates or is flushed
  // too late (TL3's i16 partial sums) shows. Known answers, not just the reference: a row of all +1
  // times x = 1 is K (times the scale), all -1 is -K, alternating signs 0.
  for (const K of [6912, 13824]) {
    it(`full-scale x (+-127) and one-sign rows at K = ${K}: gemv and gemm, every kernel`, () => {
      const rows = 8;
      const t = new Int8Array(rows * K);
      const row = (r: number, f: (i: number) => number) => { for (let i = 0; i < K; i++) t[r * K + i] = f(i); };
      row(0, () => 1); row(1, () => -1); row(2, (i) => (i % 2 ? -1 : 1)); row(3, (i) => (i % 2 ? 1 : -1));
      row(4, () => 0); row(5, (i) => (i < K / 2 ? 1 : -1)); row(6, (i) => (i % 3 === 2 ? 0 : 1));
      t.set(randomTrits(K, K), 7 * K);
      const ones = new Float32Array(K).fill(1);
      const full = [ones, new Float32Array(K).fill(-127), new Float32Array(K).map((_, i) => (i % 2 ? -127 : 127)), new Float32Array(K).fill(127)];
      for (const x of full) checkAll(t, rows, K, 1, x, 1);
      const X = new Float32Array(full.length * K);
      full.forEach((x, i) => X.set(x, i * K));
      checkAll(t, rows, K, 0.5, X, full.length);
      for (const { build, rt, kernels } of runtimes) {
        for (const kernel of kernels) {
          const m = TernaryMatrix.fromTernary(t, rows, K, 1, { runtime: rt, kernel });
          const y = m.gemv(ones);
          m.dispose();
          const at = `${build}/${kernel} K=${K}`;
          expect(y[0], at).toBeCloseTo(K, 2);
          expect(y[1], at).toBeCloseTo(-K, 2);
          expect(y[2], at).toBe(0);
          expect(y[3], at).toBe(0);
          expect(y[4], at).toBe(0);
          expect(y[5], at).toBe(0);
          expect(y[6], at).toBeCloseTo((2 * K) / 3, 2);
        }
      }
    });
  }

  it('extreme |x|: subnormals, huge values, one spike, exact rounding ties', () => {
    const rows = 33, cols = 200;
    const t = randomTrits(rows * cols, 11);
    const tiny = new Float32Array(cols).map((_, i) => (i % 3 - 1) * 1.4e-45 * (1 + (i % 5)));
    const huge = new Float32Array(cols).map((_, i) => (i % 2 ? 3.4e38 : -3.3e38) * ((i % 7) / 7));
    const spike = new Float32Array(cols).map((_, i) => (i === 17 ? 1e30 : 1e-3 * i));
    // x = k * 0.5 with amax 127 makes x/step land exactly on .5 ties
    const ties = new Float32Array(cols).map((_, i) => (i === 0 ? 127 : ((i % 255) - 127) + 0.5));
    for (const x of [tiny, huge, spike, ties]) checkAll(t, rows, cols, 1, x, 1);
    checkAll(t, rows, cols, 1, Float32Array.from([...tiny, ...huge, ...spike, ...ties]), 4);
  });

  it('property: random shapes, trits, scales and inputs (fast-check)', () => {
    fc.assert(fc.property(
      fc.integer({ min: 1, max: 70 }), fc.integer({ min: 1, max: 300 }), fc.integer({ min: 1, max: 6 }),
      fc.integer({ min: 0, max: 2 ** 31 - 1 }), fc.double({ min: -4, max: 4, noNaN: true }),
      (rows, cols, n, seed, scale) => {
        const r = rng(seed);
        checkAll(randomTrits(rows * cols, seed, r()), rows, cols, scale, randomFloats(n * cols, seed ^ 0x5bd1e995, 10 ** (r() * 6 - 3)), n);
      }), { numRuns: 60, seed: 20261125 });
  });
});

describe('quantization', () => {
  it('quantizeActivations equals the reference', () => {
    for (const { rt } of runtimes) {
      for (const [n, seed] of [[1, 1], [15, 2], [16, 3], [17, 4], [1000, 5]]) {
        const x = randomFloats(n, seed, 5);
        const got = quantizeActivations(x, rt), want = refQuantize(x);
        expect(Array.from(got.q)).toEqual(Array.from(want.q));
        expect(got.step).toBe(want.step);
      }
      expect(quantizeActivations(new Float32Array(40), rt)).toEqual({ q: new Int8Array(40), step: 0 });
    }
  });

  it('TernaryMatrix.quantize is BitNet absmean, equal to the reference', () => {
    for (const { rt, kernels } of runtimes) {
      const rows = 37, cols = 129;
      const w = randomFloats(rows * cols, 77, 0.05);
      const { t, scale } = refAbsmean(w);
      const x = randomFloats(cols, 78);
      for (const kernel of kernels) {
        const m = TernaryMatrix.quantize(w, rows, cols, { runtime: rt, kernel });
        expect(m.scale).toBe(scale);
        expect(Array.from(bits(m.gemv(x)))).toEqual(Array.from(bits(refGemm(t, rows, cols, scale, x, 1))));
        m.dispose();
      }
      expect(TernaryMatrix.quantize(new Float32Array(12), 3, 4, { runtime: rt }).scale).toBe(0);
    }
  });

  it('reports storage per weight of each layout', () => {
    for (const { rt, kernels } of runtimes) {
      for (const kernel of kernels) {
        const m = TernaryMatrix.fromTernary(randomTrits(2560 * 6912, 1), 2560, 6912, 1, { runtime: rt, kernel });
        const expected = { scalar: 8, tl3: 5 / 3, 'tl3-relaxed': 5 / 3, 'i2-dot32': 2, 'i2-dot16': 2, 'i2-dot': 2 }[kernel];
        // TL3 adds one i32 per row (the minus-sign count): 32 / 6912 bits per weight.
        expect(m.bitsPerWeight).toBeCloseTo(expected + (m.layout === 'tl3' ? 32 / 6912 : 0), 6);
        m.dispose();
      }
    }
  });
});
