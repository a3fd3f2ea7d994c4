// nn/attention: one-token causal attention over a [pos][kvHead][headDim] f32 cache, with GQA,
// against a float64 reference.
import { beforeAll, describe, expect, it } from 'vitest';
import { bits, getF32, prng, put, randF32, buildUnderTest, type Raw } from './helpers.js';
import type { WasmRuntime } from '../../bindings/runtime.js';

let rt: WasmRuntime;
let e: Raw;
beforeAll(async () => { ({ rt, e } = await buildUnderTest()); });

interface Case { nHead: number; nHeadKv: number; headDim: number; nPos: number }

function run(c: Case, q: Float32Array, k: Float32Array, v: Float32Array): { out: Float32Array; status: number } {
  const pq = put(rt, q), pk = put(rt, k), pv = put(rt, v), po = rt.alloc(4 * c.nHead * c.headDim);
  const ps = rt.alloc(e.attention_scratch_bytes(c.nHead, c.nHeadKv, c.headDim, c.nPos));
  const status = e.attention(pq, pk, pv, c.nHead, c.nHeadKv, c.headDim, c.nPos, po, ps);
  const out = getF32(rt, po, c.nHead * c.headDim);
  for (const p of [pq, pk, pv, po, ps]) rt.free(p);
  return { out, status };
}

/** float64 reference and, per output element, the error bound stated in the test below. */
function reference(c: Case, q: Float32Array, k: Float32Array, v: Float32Array): { out: Float64Array; bound: Float64Array } {
  const { nHead, nHeadKv, headDim, nPos } = c;
  const group = nHead / nHeadKv, scale = 1 / Math.sqrt(headDim);
  const out = new Float64Array(nHead * headDim), bound = new Float64Array(nHead * headDim);
  for (let h = 0; h < nHead; h++) {
    const g = Math.floor(h / group);
    const s = new Float64Array(nPos);
    let maxAbsDot = 0;
    for (let p = 0; p < nPos; p++) {
      let d = 0, a = 0;
      for (let i = 0; i < headDim; i++) {
        const t = q[h * headDim + i] * k[(p * nHeadKv + g) * headDim + i];
        d += t; a += Math.abs(t);
      }
      s[p] = d * scale;
      maxAbsDot = Math.max(maxAbsDot, a * scale);
    }
    const m = Math.max(...s);
    let sum = 0;
    for (let p = 0; p < nPos; p++) { s[p] = Math.exp(s[p] - m); sum += s[p]; }
    for (let p = 0; p < nPos; p++) s[p] /= sum;
    for (let i = 0; i < headDim; i++) {
      let o = 0, a = 0;
      for (let p = 0; p < nPos; p++) {
        const t = s[p] * v[(p * nHeadKv + g) * headDim + i];
        o += t; a += Math.abs(t);
      }
      out[h * headDim + i] = o;
      // f32 accumulation over nPos terms, 1.5-ulp probabilities, and score errors of
      // (headDim + 2) * 2^-24 * sum|q k| * scale (each moves a probability by twice that, relative).
      bound[h * headDim + i] = 2 ** -24 * a * (nPos + 4 + 2 * (headDim + 2) * maxAbsDot);
    }
  }
  return { out, bound };
}

const CASES: Case[] = [
  { nHead: 4, nHeadKv: 4, headDim: 64, nPos: 1 },
  { nHead: 4, nHeadKv: 4, headDim: 64, nPos: 9 },
  { nHead: 8, nHeadKv: 2, headDim: 64, nPos: 17 },
  { nHead: 20, nHeadKv: 5, headDim: 128, nPos: 100 },
  { nHead: 16, nHeadKv: 16, headDim: 96, nPos: 33 },
  { nHead: 6, nHeadKv: 3, headDim: 20, nPos: 9 },
  { nHead: 2, nHeadKv: 1, headDim: 7, nPos: 5 },
  { nHead: 3, nHeadKv: 1, headDim: 36, nPos: 2 },
  { nHead: 4, nHeadKv: 2, headDim: 128, nPos: 1000 },
];

function inputs(c: Case, seed: number, qs = 1) {
  const rnd = prng(seed);
  const kv = c.nPos * c.nHeadKv * c.headDim;
  return { q: randF32(c.nHead * c.headDim, rnd, qs), k: randF32(kv, rnd), v: randF32(kv, rnd) };
}

describe('attention (f32 cache)', () => {
  it('matches the float64 reference within the stated bound, for MHA, GQA and MQA shapes', () => {
    let worst = 0;
    for (const [ci, c] of CASES.entries()) {
      for (const qs of [0.3, 1, 3]) {
        const { q, k, v } = inputs(c, 100 + ci, qs);
        const { out, status } = run(c, q, k, v);
        expect(status).toBe(0);
        const ref = reference(c, q, k, v);
        for (let i = 0; i < out.length; i++) {
          const r = Math.abs(out[i] - ref.out[i]) / ref.bound[i];
          expect(r).toBeLessThanOrEqual(1);
          worst = Math.max(worst, r);
        }
      }
    }
    console.log(`attention: max error ${worst.toFixed(3)} of the bound`);
  });

  it('with one position returns V exactly, from kv head h / (nHead / nHeadKv)', () => {
    for (const [nHead, nHeadKv] of [[8, 2], [6, 3], [4, 4], [5, 1]]) {
      const c = { nHead, nHeadKv, headDim: 36, nPos: 1 };
      const { q, k, v } = inputs(c, 7);
      v[3] = -0;
      const { out } = run(c, q, k, v);
      for (let h = 0; h < nHead; h++) {
        const g = Math.floor(h / (nHead / nHeadKv));
        expect(bits(out.subarray(h * 36, h * 36 + 36))).toEqual(bits(v.subarray(g * 36, g * 36 + 36)));
      }
    }
  });

  it('GQA: each query head attends only to its own kv head', () => {
    // kv head g has keys that strongly match query head h only when h / group == g, and values = g.
    const c = { nHead: 8, nHeadKv: 4, headDim: 16, nPos: 6 };
    const q = new Float32Array(c.nHead * c.headDim).fill(1);
    const k = randF32(c.nPos * c.nHeadKv * c.headDim, prng(8));
    const v = new Float32Array(c.nPos * c.nHeadKv * c.headDim);
    for (let p = 0; p < c.nPos; p++) for (let g = 0; g < c.nHeadKv; g++) v.fill(g * 10 + 1, (p * c.nHeadKv + g) * 16, (p * c.nHeadKv + g + 1) * 16);
    const { out } = run(c, q, k, v);
    // Every value row of kv head g is constant g*10+1, so any convex combination is too (up to rounding).
    for (let h = 0; h < c.nHead; h++) {
      const g = Math.floor(h / 2);
      for (let i = 0; i < 16; i++) expect(Math.abs(out[h * 16 + i] - (g * 10 + 1))).toBeLessThan(1e-5 * (g * 10 + 1));
    }
  });

  it('attends uniformly to equal keys and picks out a dominant key', () => {
    const c = { nHead: 2, nHeadKv: 1, headDim: 8, nPos: 4 };
    const q = new Float32Array(16).fill(1);
    const k = new Float32Array(32).fill(0.5);
    const v = new Float32Array(32).map((_, i) => Math.floor(i / 8)); // position p has value p
    const { out } = run(c, q, k, v);
    expect(Array.from(out)).toEqual(new Array(16).fill(1.5)); // (0+1+2+3)/4 with exact quarters
    k.fill(100, 16, 24); // position 2 dominates: score difference 8 * 99.5 / sqrt(8)
    const r = run(c, q, k, v);
    expect(Array.from(r.out)).toEqual(new Array(16).fill(2));
  });

  it('rejects bad sizes with -1 and reports its scratch size', () => {
    const q = new Float32Array(64), k = new Float32Array(64), v = new Float32Array(64);
    expect(run({ nHead: 3, nHeadKv: 2, headDim: 8, nPos: 1 }, q, k, v).status).toBe(-1);
    expect(run({ nHead: 2, nHeadKv: 0, headDim: 8, nPos: 1 }, q, k, v).status).toBe(-1);
    expect(run({ nHead: 2, nHeadKv: 1, headDim: 8, nPos: 0 }, q, k, v).status).toBe(-1);
    expect(e.attention_scratch_bytes(20, 5, 128, 4096)).toBe((4 * 4096 + 128) * 4);
  });
});
