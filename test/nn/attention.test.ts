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
      // In units of 2^-24 * sum_t p_t |v_t|: f32 accumulation over nPos terms, the final division (1),
      // e_t and their sum S (each within 1 ulp = 2, plus 2 * maxAbsDot for the f32 difference s - max:
      // 4 + 4 * maxAbsDot on e_t / S), and score errors of (headDim + 2) * 2^-24 * sum|q k| * scale
      // (each moves a probability by twice that, relative).
      bound[h * headDim + i] = 2 ** -24 * a * (nPos + 5 + 2 * (headDim + 4) * maxAbsDot);
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
    // decoded f16 rows (max(4 kv heads' rows, 32 rows) x headDim), 4 x 16 f32 accumulators per head, the
    // re-laid q (headDim per head), nPos scores per head
    expect(e.attention_scratch_bytes(20, 5, 128, 4096)).toBe((32 * 128 + 20 * 64 + 20 * 128 + 20 * 4096) * 4);
    expect(e.attention_scratch_bytes(32, 8, 128, 100)).toBe((32 * 128 + 32 * 64 + 32 * 128 + 32 * 100) * 4);
  });
});

/** The documented arithmetic replayed in JS, one f32 rounding per operation (Math.fround of an f64
 *  sum or product of two f32 values is the correctly rounded f32 result), with the module's own
 *  f32 exponential (vexpf_f32): an independent check that the tiled, blocked kernel keeps exactly
 *  that order. */
function documented(c: Case, q: Float32Array, k: Float32Array, v: Float32Array): Float32Array {
  const { nHead, nHeadKv, headDim: n, nPos } = c;
  const f = Math.fround, group = nHead / nHeadKv, scale = f(1 / Math.sqrt(n));
  const out = new Float32Array(nHead * n);
  const ps = rt.alloc(4 * nPos);
  for (let h = 0; h < nHead; h++) {
    const g = Math.floor(h / group), qh = q.subarray(h * n, h * n + n);
    const s = new Float32Array(nPos);
    for (let p = 0; p < nPos; p++) {
      const kp = k.subarray((p * nHeadKv + g) * n, (p * nHeadKv + g) * n + n);
      const a = [0, 0, 0, 0]; // one f32x4 accumulator
      let i = 0;
      for (; i + 4 <= n; i += 4) for (let j = 0; j < 4; j++) a[j] = f(a[j] + f(qh[i + j] * kp[i + j]));
      let acc = f(f(a[0] + a[1]) + f(a[2] + a[3]));
      for (; i < n; i++) acc = f(acc + f(qh[i] * kp[i]));
      s[p] = f(acc * scale);
    }
    // Weights e_t = expf_f32(f32(s_t - max)); their sum in f64: lanes 0, 1 and 2, 3 of each four into
    // two f64x2 sums, combined (a0[0] + a0[1]) + (a1[0] + a1[1]), then the tail in order.
    let m = -Infinity;
    for (const x of s) m = Math.max(m, x);
    new Float32Array(rt.exports.memory.buffer, ps, nPos).set(s.map((x) => f(x - m)));
    e.vexpf_f32(ps, nPos, ps);
    const w = getF32(rt, ps, nPos);
    const sa = [0, 0, 0, 0];
    let t = 0;
    for (; t + 4 <= nPos; t += 4) for (let j = 0; j < 4; j++) sa[j] += w[t + j];
    let sum = (sa[0] + sa[1]) + (sa[2] + sa[3]);
    for (; t < nPos; t++) sum += w[t];
    for (let d = 0; d < n; d++) {
      let o = f(w[0] * v[g * n + d]);
      for (let p = 1; p < nPos; p++) o = f(o + f(w[p] * v[(p * nHeadKv + g) * n + d]));
      out[h * n + d] = f(o / sum);
    }
  }
  rt.free(ps);
  return out;
}

const f16Round = (x: Float32Array) => { // the cache's f16 rounding, through the module
  const p = put(rt, x), p16 = rt.alloc(2 * x.length);
  e.kv_store_f16(p, x.length, p16); e.kv_load_f16(p16, x.length, p);
  const r = getF32(rt, p, x.length);
  rt.free(p); rt.free(p16);
  return r;
};

/** attention_heads over [h0, h1) with its own scratch; checks that the bytes around scratch and the
 *  output rows outside the range are left alone. */
function runHeads(c: Case, pq: number, pk: number, pv: number, po: number, h0: number, h1: number, f16: boolean): void {
  const bytes = e.attention_scratch_bytes(c.nHead, c.nHeadKv, c.headDim, c.nPos);
  const guard = 64, block = rt.alloc(bytes + 2 * guard), ps = block + guard;
  rt.u8.fill(0xa5, block, block + bytes + 2 * guard);
  const before = getF32(rt, po, c.nHead * c.headDim);
  expect(e.attention_heads(pq, pk, pv, c.nHead, c.nHeadKv, c.headDim, c.nPos, po, ps, h0, h1, f16 ? 1 : 0)).toBe(0);
  const u8 = rt.u8;
  for (const [a, b] of [[block, ps], [ps + bytes, ps + bytes + guard]]) for (let i = a; i < b; i++) if (u8[i] !== 0xa5) throw new Error(`attention_heads wrote outside its scratch (byte ${i - ps})`);
  const after = getF32(rt, po, c.nHead * c.headDim), hd = c.headDim;
  expect(bits(after.subarray(0, h0 * hd))).toEqual(bits(before.subarray(0, h0 * hd)));
  expect(bits(after.subarray(h1 * hd))).toEqual(bits(before.subarray(h1 * hd)));
  rt.free(block);
}

describe('blocked attention (score tiles, value blocks, head ranges)', () => {
  // Position counts around the quads (4), value blocks (32) and touch-ahead batches (64) of the kernel;
  // group sizes 1..5, 8 and 9 (score tiles take heads in pairs, then one); head sizes that are 4-multiples
  // (score tiles: 4 = one step, 20, 32..128) or not (7, 10: the plain dot and its scalar tail).
  const SHAPES: Omit<Case, 'nPos'>[] = [
    { nHead: 20, nHeadKv: 5, headDim: 128 }, { nHead: 8, nHeadKv: 2, headDim: 64 }, { nHead: 6, nHeadKv: 2, headDim: 32 },
    { nHead: 10, nHeadKv: 2, headDim: 48 }, { nHead: 4, nHeadKv: 4, headDim: 96 }, { nHead: 6, nHeadKv: 3, headDim: 20 },
    { nHead: 2, nHeadKv: 1, headDim: 7 }, { nHead: 16, nHeadKv: 2, headDim: 64 }, { nHead: 4, nHeadKv: 2, headDim: 80 },
    { nHead: 9, nHeadKv: 1, headDim: 128 }, { nHead: 3, nHeadKv: 1, headDim: 4 }, { nHead: 4, nHeadKv: 2, headDim: 10 },
  ];
  const POSITIONS = [1, 2, 3, 4, 5, 6, 7, 8, 9, 31, 32, 33, 64, 65, 67, 100, 128, 129];

  it('gives exactly the bits of the documented order (f32 cache, and f16 = the decoded cache)', () => {
    let checked = 0;
    for (const [si, shape] of SHAPES.entries()) {
      for (const nPos of POSITIONS) {
        if (shape.headDim === 128 && nPos % 3 !== 1 && nPos > 5) continue; // the JS replay is slow
        const c = { ...shape, nPos };
        const { q, k, v } = inputs(c, 1000 + si * 100 + nPos);
        expect(bits(run(c, q, k, v).out)).toEqual(bits(documented(c, q, k, v)));
        const k16 = f16Round(k), v16 = f16Round(v);
        const pq = put(rt, q), pk = put(rt, k), pv = put(rt, v), po = rt.alloc(4 * c.nHead * c.headDim);
        const ps = rt.alloc(e.attention_scratch_bytes(c.nHead, c.nHeadKv, c.headDim, c.nPos));
        e.kv_store_f16(pk, k.length, pk); e.kv_store_f16(pv, v.length, pv); // in place: the f16 cache
        expect(e.attention_f16(pq, pk, pv, c.nHead, c.nHeadKv, c.headDim, nPos, po, ps)).toBe(0);
        expect(bits(getF32(rt, po, c.nHead * c.headDim))).toEqual(bits(documented(c, q, k16, v16)));
        for (const p of [pq, pk, pv, po, ps]) rt.free(p);
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(50);
  });

  it('any split into head ranges (own scratch each) gives the bits of one call, and stays in its scratch and rows', () => {
    const rnd = prng(77);
    for (const [si, shape] of SHAPES.entries()) {
      for (const nPos of [1, 6, 33, 70]) {
        const c = { ...shape, nPos };
        const { q, k, v } = inputs(c, 3000 + si * 100 + nPos);
        for (const f16 of [false, true]) {
          const pq = put(rt, q), pk = put(rt, k), pv = put(rt, v), po = rt.alloc(4 * c.nHead * c.headDim);
          if (f16) { e.kv_store_f16(pk, k.length, pk); e.kv_store_f16(pv, v.length, pv); }
          runHeads(c, pq, pk, pv, po, 0, c.nHead, f16);
          const whole = bits(getF32(rt, po, c.nHead * c.headDim));
          // Random cut points (they may split a kv head's group), and every single head.
          const cuts = [...new Set([0, c.nHead, ...Array.from({ length: 3 }, () => Math.floor(rnd() * c.nHead))])].sort((a, b) => a - b);
          for (const ranges of [cuts.slice(1).map((h1, i) => [cuts[i], h1]), Array.from({ length: c.nHead }, (_, h) => [h, h + 1])]) {
            rt.f32.fill(NaN, po >> 2, (po >> 2) + c.nHead * c.headDim);
            for (const [h0, h1] of ranges) runHeads(c, pq, pk, pv, po, h0, h1, f16);
            expect(bits(getF32(rt, po, c.nHead * c.headDim))).toEqual(whole);
          }
          for (const p of [pq, pk, pv, po]) rt.free(p);
        }
      }
    }
  });

  it('rejects empty or out-of-range head ranges with -1', () => {
    for (const [h0, h1] of [[0, 0], [3, 3], [4, 2], [-1, 2], [0, 9]]) expect(e.attention_heads(0, 0, 0, 8, 2, 16, 4, 0, 0, h0, h1, 0)).toBe(-1);
  });
});
