// nn/kv_f16: f16 conversion of KV cache rows (against src/gguf/half.ts, an independent JS
// implementation) and attention over an f16 cache (bit-identical to attention on the decoded cache).
import { beforeAll, describe, expect, it } from 'vitest';
import { f16BitsToF32, f32ToF16Bits } from '../../src/gguf/half.js';
import { bits, f32FromBits, getF32, prng, put, randF32, buildUnderTest, type Raw } from './helpers.js';
import type { WasmRuntime } from '../../bindings/runtime.js';

let rt: WasmRuntime;
let e: Raw;
beforeAll(async () => { ({ rt, e } = await buildUnderTest()); });

function store16(x: Float32Array): Uint16Array {
  const px = put(rt, x), ph = rt.alloc(2 * x.length);
  e.kv_store_f16(px, x.length, ph);
  const h = new Uint16Array(rt.exports.memory.buffer.slice(ph, ph + 2 * x.length));
  rt.free(px); rt.free(ph);
  return h;
}

function load16(h: Uint16Array): Float32Array {
  const ph = put(rt, h), po = rt.alloc(4 * h.length);
  e.kv_load_f16(ph, h.length, po);
  const y = getF32(rt, po, h.length);
  rt.free(ph); rt.free(po);
  return y;
}

describe('f16 conversion', () => {
  it('decodes all 65536 f16 patterns exactly (NaNs stay NaN, with their payload)', () => {
    const h = new Uint16Array(65536 + 5).map((_, i) => i & 0xffff); // +5: exercise the scalar tail
    const y = load16(h);
    const bad: number[] = [];
    for (let i = 0; i < h.length; i++) {
      const want = f16BitsToF32(h[i]);
      if (Number.isNaN(want) ? !Number.isNaN(y[i]) : !Object.is(y[i], want)) bad.push(h[i]);
    }
    expect(bad).toEqual([]);
  });

  it('decodes rows without Inf/NaN (the fast path) and rows with one anywhere (decoded again) exactly', () => {
    const check = (h: Uint16Array) => {
      const y = load16(h);
      for (let i = 0; i < h.length; i++) {
        const want = f16BitsToF32(h[i]);
        if (Number.isNaN(want) ? !Number.isNaN(y[i]) : !Object.is(y[i], want)) throw new Error(`f16 0x${h[i].toString(16)} at ${i} of ${h.length}: ${y[i]}, want ${want}`);
      }
    };
    // Every finite pattern, both signs, in one row: no Inf/NaN, so only the eight-at-a-time path runs.
    const finite = Array.from({ length: 0x7c00 }, (_, i) => i);
    check(new Uint16Array([...finite, ...finite.map((x) => x | 0x8000), 1, 2, 3]));
    const rnd = prng(5);
    for (const n of [8, 13, 16, 64, 1001]) {
      for (const special of [0x7c00, 0xfc00, 0x7e00, 0xfd01]) {
        for (const at of [0, 7, 8, n >> 1, n - 9, n - 1].filter((a) => a >= 0 && a < n)) {
          const h = new Uint16Array(n).map(() => Math.floor(rnd() * 0x7c00) | (rnd() < 0.5 ? 0x8000 : 0));
          h[at] = special;
          check(h);
        }
      }
    }
  });

  it('encodes with round-to-nearest-even like the reference, ties, subnormals and overflow included', () => {
    const rnd = prng(31);
    const x: number[] = [0, -0, 1, -1, 65504, 65519, 65520, -65520, 1e9, -Infinity, Infinity, 2 ** -24, 2 ** -25,
      3 * 2 ** -26, 2 ** -14, 2 ** -14 - 2 ** -25, 1 + 2 ** -11, 1 + 3 * 2 ** -11, 1e-30, -1e-30];
    for (let i = 0; i < 100_000; i++) x.push(f32FromBits(Math.floor(rnd() * 0x48000000) | (rnd() < 0.5 ? 0x80000000 : 0)));
    for (let i = 0; i < 65536; i++) { // every midpoint between adjacent f16 values
      const a = f16BitsToF32(i), b = f16BitsToF32(i + 1);
      if (Number.isFinite(a) && Number.isFinite(b)) x.push(Math.fround((a + b) / 2));
    }
    const xs = new Float32Array(x);
    const h = store16(xs);
    const bad: [number, number, number][] = [];
    for (let i = 0; i < xs.length; i++) if (h[i] !== f32ToF16Bits(xs[i])) bad.push([xs[i], h[i], f32ToF16Bits(xs[i])]);
    expect(bad).toEqual([]);
    const nan = store16(new Float32Array([NaN]));
    expect(nan[0] & 0x7e00).toBe(0x7e00);
  });
});

describe('attention_f16', () => {
  const CASES = [
    { nHead: 20, nHeadKv: 5, headDim: 128, nPos: 100 },
    { nHead: 8, nHeadKv: 2, headDim: 64, nPos: 1 },
    { nHead: 6, nHeadKv: 3, headDim: 20, nPos: 9 },
    { nHead: 2, nHeadKv: 1, headDim: 7, nPos: 5 },
    { nHead: 4, nHeadKv: 4, headDim: 36, nPos: 33 },
  ];

  type Shape = { nHead: number; nHeadKv: number; headDim: number; nPos: number };
  /** attention_f16 over (k16, v16) and attention() over their decoded f32 values. */
  function bothCaches(c: Shape, q: Float32Array, k16: Uint16Array, v16: Uint16Array): { got: Float32Array; want: Float32Array } {
    const scratch = rt.alloc(e.attention_scratch_bytes(c.nHead, c.nHeadKv, c.headDim, c.nPos));
    const pq = put(rt, q), po = rt.alloc(4 * c.nHead * c.headDim), po2 = rt.alloc(4 * c.nHead * c.headDim);
    const pk16 = put(rt, k16), pv16 = put(rt, v16), pk = put(rt, load16(k16)), pv = put(rt, load16(v16));
    expect(e.attention_f16(pq, pk16, pv16, c.nHead, c.nHeadKv, c.headDim, c.nPos, po, scratch)).toBe(0);
    expect(e.attention(pq, pk, pv, c.nHead, c.nHeadKv, c.headDim, c.nPos, po2, scratch)).toBe(0);
    const r = { got: getF32(rt, po, c.nHead * c.headDim), want: getF32(rt, po2, c.nHead * c.headDim) };
    for (const p of [scratch, pq, po, po2, pk16, pv16, pk, pv]) rt.free(p);
    return r;
  }

  it('is bit-identical to attention() on the decoded f32 cache', () => {
    for (const [ci, c] of CASES.entries()) {
      const rnd = prng(40 + ci);
      const kv = c.nPos * c.nHeadKv * c.headDim;
      const q = randF32(c.nHead * c.headDim, rnd);
      const k16 = store16(randF32(kv, rnd)), v16 = store16(randF32(kv, rnd));
      const { got: out, want } = bothCaches(c, q, k16, v16);
      expect(bits(out)).toEqual(bits(want));
      if (c.nPos === 1) { // one position: V (decoded) exactly
        const group = c.nHead / c.nHeadKv, v32 = load16(v16);
        for (let h = 0; h < c.nHead; h++) {
          const g = Math.floor(h / group);
          expect(bits(out.subarray(h * c.headDim, (h + 1) * c.headDim))).toEqual(bits(v32.subarray(g * c.headDim, (g + 1) * c.headDim)));
        }
      }
    }
  });

  it('decodes a block of rows again when any row holds Inf / NaN: same bits as attention() on the decoded cache', () => {
    // 8 / 2 heads x 16, 40 positions: K rows are decoded four positions at a time (all kv heads), V rows
    // 32 positions of one kv head at a time; the special value sits in a later row of such a block.
    const c = { nHead: 8, nHeadKv: 2, headDim: 16, nPos: 40 };
    const kv = c.nPos * c.nHeadKv * c.headDim, at = (p: number, g: number, d: number) => (p * c.nHeadKv + g) * c.headDim + d;
    for (const [which, pos, special] of [['k', 6, 0x7c00], ['v', 37, 0xfc00], ['v', 5, 0x7e00], ['k', 35, 0xfc00]] as const) {
      const rnd = prng(60 + pos);
      const q = randF32(c.nHead * c.headDim, rnd, 0.1);
      const k16 = store16(randF32(kv, rnd)), v16 = store16(randF32(kv, rnd));
      (which === 'k' ? k16 : v16)[at(pos, 1, 3)] = special;
      const { got, want } = bothCaches(c, q, k16, v16);
      expect(want.some((x) => !Number.isFinite(x))).toBe(true); // the special value reached the output
      for (let i = 0; i < want.length; i++) expect(Number.isNaN(want[i]) ? Number.isNaN(got[i]) : Object.is(got[i], want[i])).toBe(true);
    }
  });

  it('rejects bad sizes with -1', () => {
    expect(e.attention_f16(0, 0, 0, 3, 2, 8, 1, 0, 0)).toBe(-1);
    expect(e.attention_f16(0, 0, 0, 2, 1, 8, 0, 0, 0)).toBe(-1);
  });
});
