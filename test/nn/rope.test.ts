// nn/rope: NEOX rotary embedding against a float64 reference (Math.pow / Math.cos / Math.sin).
import { beforeAll, describe, expect, it } from 'vitest';
import { bits, getF32, prng, put, randF32, buildUnderTest, ulpErr, ulpF32, type Raw } from './helpers.js';
import type { WasmRuntime } from '../../bindings/runtime.js';

let rt: WasmRuntime;
let e: Raw;
beforeAll(async () => { ({ rt, e } = await buildUnderTest()); });

function table(pos: number, rotDim: number, base: number): Float32Array {
  const p = rt.alloc(e.rope_table_bytes(rotDim));
  e.rope_table(pos, rotDim, base, p);
  const t = getF32(rt, p, rotDim);
  rt.free(p);
  return t;
}

/** Applies rope to a copy of x with the table path (apply=true) or rope_neox. */
function rope(x: Float32Array, nHeads: number, headDim: number, rotDim: number, pos: number, base: number, viaTable: boolean): Float32Array {
  const px = put(rt, x);
  if (viaTable) {
    const pt = rt.alloc(e.rope_table_bytes(rotDim));
    e.rope_table(pos, rotDim, base, pt);
    e.rope_apply(px, nHeads, headDim, rotDim, pt);
    rt.free(pt);
  } else {
    e.rope_neox(px, nHeads, headDim, rotDim, pos, base);
  }
  const y = getF32(rt, px, x.length);
  rt.free(px);
  return y;
}

const SHAPES: [number, number, number][] = [ // nHeads, headDim, rotDim
  [20, 128, 128], [5, 128, 128], [16, 96, 96], [4, 64, 32], [3, 40, 20], [2, 10, 6], [1, 2, 2],
];

describe('rope_table', () => {
  it('holds cos/sin of pos * base^(-2i/d) within 0.501 ulp (f64 angle, one rounding)', () => {
    let worst = 0;
    for (const base of [10000, 500000]) {
      for (const rotDim of [128, 64, 6]) {
        for (const pos of [0, 1, 2, 7, 100, 1023, 4095, 65535, 1_000_000]) {
          const t = table(pos, rotDim, base), h = rotDim / 2;
          for (let i = 0; i < h; i++) {
            const a = pos * Math.pow(base, (-2 * i) / rotDim);
            worst = Math.max(worst, ulpErr(t[i], Math.cos(a)), ulpErr(t[h + i], Math.sin(a)));
          }
        }
      }
    }
    console.log(`rope_table: max ${worst.toFixed(4)} ulp`);
    expect(worst).toBeLessThan(0.501);
  });

  it('is exactly cos = 1, sin = 0 at pos 0, and pair 0 has angle pos exactly', () => {
    const t = table(0, 128, 10000);
    expect(Array.from(t.subarray(0, 64))).toEqual(new Array(64).fill(1));
    expect(Array.from(t.subarray(64))).toEqual(new Array(64).fill(0));
    const t5 = table(5, 128, 10000);
    expect(t5[0]).toBe(Math.fround(Math.cos(5)));
    expect(t5[64]).toBe(Math.fround(Math.sin(5)));
  });
});

describe('rope_apply / rope_neox', () => {
  it('matches the float64 rotation within 2^-23 * |pair| + 0.5 ulp, for every shape', () => {
    const rnd = prng(21);
    let worst = 0;
    for (const [nHeads, headDim, rotDim] of SHAPES) {
      for (const pos of [1, 3, 77, 4000]) {
        const base = 500000;
        const x = randF32(nHeads * headDim, rnd, 2);
        const y = rope(x, nHeads, headDim, rotDim, pos, base, true);
        const h = rotDim / 2;
        for (let hd = 0; hd < nHeads; hd++) {
          for (let i = 0; i < h; i++) {
            const a = pos * Math.pow(base, (-2 * i) / rotDim);
            const j0 = hd * headDim + i, j1 = j0 + h;
            const x0 = x[j0], x1 = x[j1];
            const r0 = x0 * Math.cos(a) - x1 * Math.sin(a), r1 = x0 * Math.sin(a) + x1 * Math.cos(a);
            const norm = Math.hypot(x0, x1);
            for (const [got, want] of [[y[j0], r0], [y[j1], r1]]) {
              const err = Math.abs(got - want) - 0.5 * ulpF32(want);
              worst = Math.max(worst, err / norm);
            }
          }
          for (let d = rotDim; d < headDim; d++) expect(y[hd * headDim + d]).toBe(x[hd * headDim + d]); // pass-through
        }
      }
    }
    console.log(`rope: max error beyond the final rounding ${(worst / 2 ** -24).toFixed(3)} * 2^-24 * |pair|`);
    expect(worst).toBeLessThan(2 ** -23);
  });

  it('rope_neox is bit-identical to rope_table + rope_apply (SIMD body and scalar tail)', () => {
    const rnd = prng(22);
    for (const [nHeads, headDim, rotDim] of SHAPES) {
      for (const pos of [0, 1, 513, 4095]) {
        const x = randF32(nHeads * headDim, rnd);
        expect(bits(rope(x, nHeads, headDim, rotDim, pos, 10000, false))).toEqual(bits(rope(x, nHeads, headDim, rotDim, pos, 10000, true)));
      }
    }
  });

  it('is the identity at pos 0 (exact bits)', () => {
    const rnd = prng(23);
    for (const [nHeads, headDim, rotDim] of SHAPES) {
      const x = randF32(nHeads * headDim, rnd).map((v) => v || 1);
      expect(bits(rope(x, nHeads, headDim, rotDim, 0, 10000, true))).toEqual(bits(x));
      expect(bits(rope(x, nHeads, headDim, rotDim, 0, 10000, false))).toEqual(bits(x));
    }
  });

  it('preserves the norm of every pair (within 2^-23 relative)', () => {
    const rnd = prng(24);
    let worst = 0;
    const [nHeads, headDim, rotDim] = [8, 128, 128];
    for (const pos of [1, 2, 1000, 123456]) {
      const x = randF32(nHeads * headDim, rnd, 10);
      const y = rope(x, nHeads, headDim, rotDim, pos, 10000, true);
      for (let hd = 0; hd < nHeads; hd++) {
        for (let i = 0; i < rotDim / 2; i++) {
          const j0 = hd * headDim + i, j1 = j0 + rotDim / 2;
          const n0 = Math.hypot(x[j0], x[j1]), n1 = Math.hypot(y[j0], y[j1]);
          worst = Math.max(worst, Math.abs(n1 - n0) / n0);
        }
      }
    }
    console.log(`rope: max pair-norm change ${(worst / 2 ** -24).toFixed(3)} * 2^-24`);
    expect(worst).toBeLessThan(2 ** -23);
  });

  it('rotates the halves (i, i + rotDim/2), NEOX style, not neighbours', () => {
    const [nHeads, headDim, rotDim] = [2, 16, 16];
    for (let i = 0; i < 8; i++) {
      const x = new Float32Array(nHeads * headDim);
      x[headDim + i] = 1; // head 1, element i
      const y = rope(x, nHeads, headDim, rotDim, 3, 10000, true);
      const a = 3 * Math.pow(10000, (-2 * i) / rotDim);
      const nz = Array.from(y.keys()).filter((k) => y[k] !== 0);
      expect(nz).toEqual(Math.abs(Math.sin(a)) > 0 ? [headDim + i, headDim + i + 8] : [headDim + i]);
      expect(y[headDim + i]).toBe(Math.fround(Math.cos(a)));
      expect(y[headDim + i + 8]).toBe(Math.fround(Math.sin(a)));
    }
  });
});
