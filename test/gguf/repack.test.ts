// The loader's row-wise repack (assembly/quant/repack.ts: GGUF ternary rows straight into a kernel
// layout, piece by piece) gives exactly the bytes of the old path: decode the whole tensor to trits,
// then pack() it; and the same scale, SCALES_DIFFER and BAD_CODE answers.
import { beforeAll, describe, expect, it } from 'vitest';
import { DECODE, LAYOUT } from '../../bindings/abi.js';
import type { WasmRuntime } from '../../bindings/runtime.js';
import { f32ToF16Bits, quantize } from '../../src/gguf/index.js';
import { createRuntime } from '../../src/index.js';
import { randomTrits } from '../helpers/reference.js';

let rt: WasmRuntime;
beforeAll(async () => { rt = await createRuntime({ build: 'simd128' }); });

type Type = 'TQ2_0' | 'TQ1_0';
const BLOCK_BYTES = { TQ2_0: 66, TQ1_0: 54 } as const;

/** Old path: whole-tensor decode to trits, then pack(). */
function oldPath(type: Type, bytes: Uint8Array, rows: number, cols: number, layout: number): { packed: Uint8Array; scale: number } {
  const e = rt.exports, n = rows * cols;
  const src = rt.alloc(bytes.length), tp = rt.alloc(n), size = e.packed_bytes(layout, rows, cols), dst = rt.alloc(size);
  try {
    rt.u8.set(bytes, src);
    const scale = type === 'TQ2_0' ? e.decode_tq2_0(src, n / 256, tp) : e.decode_tq1_0(src, n / 256, tp);
    if (scale === DECODE.BAD_CODE) return { packed: new Uint8Array(0), scale };
    e.pack(layout, tp, rows, cols, dst);
    return { packed: rt.u8.slice(dst, dst + size), scale };
  } finally { rt.free(src); rt.free(tp); rt.free(dst); }
}

/** New path: row-block pieces [r0, r1) in the given splits, each from its own copy of just its rows. */
function newPath(type: Type, bytes: Uint8Array, rows: number, cols: number, layout: number, splits: number[]): { packed: Uint8Array; scale: number } {
  const e = rt.exports;
  const block = e.padded_rows(layout, 1), rp = e.padded_rows(layout, rows), rowBytes = (cols / 256) * BLOCK_BYTES[type];
  const size = e.packed_bytes(layout, rows, cols), dst = rt.alloc(size), tmp = rt.alloc(e.repack_tmp_bytes(layout, cols));
  try {
    rt.u8.fill(0xa5, dst, dst + size); // every byte must be written
    let scale = 0; // the pieces' scales combined as the loader does
    const bounds = [0, ...splits.map((s) => Math.min(rp, s * block)).filter((s) => s > 0 && s < rp), rp];
    for (let i = 0; i + 1 < bounds.length; i++) {
      const r0 = bounds[i], r1 = bounds[i + 1];
      const piece = bytes.subarray(r0 * rowBytes, Math.min(r1, rows) * rowBytes);
      const src = rt.alloc(Math.max(1, piece.length));
      try {
        rt.u8.set(piece, src);
        const s = (type === 'TQ2_0' ? e.repack_tq2_0 : e.repack_tq1_0)(src, rows, cols, layout, dst, r0, r1, tmp);
        if (s < 0) return { packed: new Uint8Array(0), scale: s };
        if (s > 0 && scale > 0 && s !== scale) return { packed: new Uint8Array(0), scale: DECODE.SCALES_DIFFER };
        if (s > 0) scale = s;
      } finally { rt.free(src); }
    }
    return { packed: rt.u8.slice(dst, dst + size), scale };
  } finally { rt.free(dst); rt.free(tmp); }
}

function tensor(type: Type, rows: number, cols: number, seed: number, edit?: (dv: DataView, blocks: number) => void): Uint8Array {
  const t = randomTrits(rows * cols, seed);
  t.fill(0, 256, 512); // an all-zero block
  const bytes = quantize(type, Float32Array.from(t, (v) => v * 0.0371));
  edit?.(new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength), (rows * cols) / 256);
  return bytes;
}

const LAYOUTS = { i8: LAYOUT.I8, i2: LAYOUT.I2, tl3: LAYOUT.TL3 };
const SHAPES: [number, number][] = [[1, 256], [5, 512], [17, 768], [37, 1280], [64, 2560]];

describe('row-wise repack = decode + pack', () => {
  for (const type of ['TQ2_0', 'TQ1_0'] as const) {
    for (const [name, layout] of Object.entries(LAYOUTS)) {
      it(`${type} -> ${name}: same bytes and scale for every shape and split`, () => {
        for (const [rows, cols] of SHAPES) {
          const bytes = tensor(type, rows, cols, rows * 7 + cols);
          const ref = oldPath(type, bytes, rows, cols, layout);
          expect(ref.scale).toBeGreaterThan(0);
          for (const splits of [[], [1], [1, 2, 3], [2, 5]]) {
            const got = newPath(type, bytes, rows, cols, layout, splits);
            expect(got.scale, `${rows}x${cols} ${splits}`).toBe(ref.scale);
            expect(Buffer.compare(got.packed, ref.packed), `${rows}x${cols} split ${splits}`).toBe(0);
          }
        }
      });
    }

    it(`${type}: negative and zero block scales give the decoder's trits; different scales are SCALES_DIFFER`, () => {
      const rows = 9, cols = 768, bb = BLOCK_BYTES[type], at = bb - 2;
      const signed = tensor(type, rows, cols, 3, (dv, blocks) => {
        for (let b = 0; b < blocks; b += 3) dv.setUint16(b * bb + at, f32ToF16Bits(-0.0371), true); // flipped blocks
        dv.setUint16(4 * bb + at, 0, true); // d = +0: the block is zeros
        dv.setUint16(7 * bb + at, 0x8000, true); // d = -0
      });
      for (const layout of Object.values(LAYOUTS)) {
        const ref = oldPath(type, signed, rows, cols, layout);
        const got = newPath(type, signed, rows, cols, layout, [1]);
        expect(got.scale).toBe(ref.scale);
        expect(Buffer.compare(got.packed, ref.packed)).toBe(0);
      }
      const mixed = tensor(type, rows, cols, 4, (dv) => dv.setUint16(5 * bb + at, f32ToF16Bits(0.25), true));
      for (const layout of Object.values(LAYOUTS)) expect(newPath(type, mixed, rows, cols, layout, [1]).scale).toBe(DECODE.SCALES_DIFFER);
    });
  }

  it('TQ2_0: a code 3 anywhere is BAD_CODE in every layout', () => {
    const rows = 6, cols = 512;
    for (const pos of [0, 17, 63, 66 * 3 + 40, 66 * 11 + 5]) {
      const bytes = tensor('TQ2_0', rows, cols, 9);
      bytes[pos] |= 0x30; // the pair at bits 4..5 becomes 3
      for (const layout of Object.values(LAYOUTS)) {
        expect(oldPath('TQ2_0', bytes, rows, cols, layout).scale).toBe(DECODE.BAD_CODE);
        expect(newPath('TQ2_0', bytes, rows, cols, layout, [1]).scale, `byte ${pos}`).toBe(DECODE.BAD_CODE);
      }
    }
  });
});

describe('F16 embedding rows -> int8 rows + scale (dense_rows_from_f16) = f16_row_to_f32 then quantize_row', () => {
  it('same bytes and scales for random rows, subnormals, zeros, odd widths; NaN / infinity rows refused', () => {
    const e = rt.exports;
    let seed = 5;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
    for (const cols of [8, 17, 256, 1000, 2560]) {
      const rows = 7;
      const h = new Uint16Array(rows * cols);
      for (let i = 0; i < h.length; i++) h[i] = Math.floor(rnd() * 0x7c00) | (rnd() < 0.5 ? 0x8000 : 0);
      h.fill(0, 0, cols); // row 0: zeros
      for (let c = 0; c < cols; c++) h[cols + c] = Math.floor(rnd() * 0x400) | (rnd() < 0.5 ? 0x8000 : 0); // row 1: subnormals
      h[2 * cols + cols - 1] = 0x7bff; // row 2: the largest half last (in the tail for odd widths)
      const src = rt.alloc(h.byteLength), q = rt.alloc(rows * cols), sc = rt.alloc(rows * 4), tmp = rt.alloc(cols * 4), q2 = rt.alloc(cols);
      try {
        new Uint16Array(rt.u8.buffer, src, h.length).set(h);
        expect(e.dense_rows_from_f16(src, rows, cols, 1, q, sc, 0)).toBe(0);
        for (let r = 0; r < rows; r++) {
          e.f16_row_to_f32(src + r * cols * 2, cols, tmp);
          const step = e.quantize_row(tmp, cols, q2, cols);
          expect(rt.f32[(sc >>> 2) + r], `${cols} row ${r}`).toBe(step);
          expect(Buffer.compare(rt.u8.slice(q + r * cols, q + (r + 1) * cols), rt.u8.slice(q2, q2 + cols)), `${cols} row ${r}`).toBe(0);
        }
        for (const bad of [0x7c00, 0xfc00, 0x7e00]) { // +inf, -inf, NaN in row 4
          const v = new Uint16Array(rt.u8.buffer, src, h.length);
          const keep = v[4 * cols + cols - 1];
          v[4 * cols + cols - 1] = bad;
          expect(e.dense_rows_from_f16(src, rows, cols, 1, q, sc, 0)).toBe(-1 - 4);
          v[4 * cols + cols - 1] = keep;
        }
      } finally { for (const p of [src, q, sc, tmp, q2]) rt.free(p); }
    }
  });
});

describe('F16 -> int8 rows: every finite half, against f16_row_to_f32 + quantize_row, on both builds', () => {
  // One row per row maximum A: every half of magnitude <= A, both signs (A itself last: odd widths
  // put it in the scalar tail); maxima at each exponent's edges, subnormal ones, and random.
  const maxima: number[] = [1, 2, 3, 0x3ff, 0x400, 0x7bff];
  for (let ex = 0; ex < 31; ex++) for (const m of [0, 1, 0x155, 0x200, 0x3fe, 0x3ff]) maxima.push((ex << 10) | m);
  let seed = 11;
  for (let i = 0; i < 80; i++) maxima.push(1 + ((seed = (seed * 1103515245 + 12345) >>> 0) % 0x7bff));
  for (const build of ['simd128', 'relaxed'] as const) {
    it(build, async (ctx) => {
      let r: WasmRuntime;
      try { r = await createRuntime({ build }); } catch (err) {
        if (build === 'relaxed' && (err as { code?: string }).code === 'UNSUPPORTED_BUILD') return ctx.skip(); // Node < 22: run under Node 24
        throw err;
      }
      const e = r.exports;
      for (const A of new Set(maxima.filter((m) => m > 0))) {
        // Every magnitude below A with both signs (repeated up to 48 values for small A, so the
        // vector loop sees them too), then +A.
        const reps = Math.ceil(48 / (2 * A)), cols = 2 * A * reps + 1;
        const h = new Uint16Array(cols);
        for (let k = 0; k < cols - 1;) for (let m = 0; m < A; m++) { h[k++] = m | 0x8000; h[k++] = m; }
        h[cols - 1] = A;
        const src = r.alloc(cols * 2), q = r.alloc(cols), sc = r.alloc(4), tmp = r.alloc(cols * 4), q2 = r.alloc(cols);
        try {
          new Uint16Array(r.u8.buffer, src, cols).set(h);
          expect(e.dense_rows_from_f16(src, 1, cols, 1, q, sc, 0)).toBe(0);
          e.f16_row_to_f32(src, cols, tmp);
          const step = e.quantize_row(tmp, cols, q2, cols);
          expect(r.f32[sc >>> 2], `A=0x${A.toString(16)}`).toBe(step);
          const got = r.u8.slice(q, q + cols), want = r.u8.slice(q2, q2 + cols);
          const bad = got.findIndex((v, i) => v !== want[i]);
          expect(bad, `A=0x${A.toString(16)}: half 0x${h[Math.max(0, bad)].toString(16)} gives ${got[bad]}, not ${want[bad]}`).toBe(-1);
        } finally { for (const p of [src, q, sc, tmp, q2]) r.free(p); }
      }
    });
  }
});

describe('I2_S row-wise repack (whole tensor staged: its scale comes last) = decode_i2_s + pack', () => {
  function both(bytes: Uint8Array, rows: number, cols: number, layout: number, splits: number[]) {
    const e = rt.exports, n = rows * cols;
    const src = rt.alloc(bytes.length), tp = rt.alloc(n), size = e.packed_bytes(layout, rows, cols);
    const a = rt.alloc(size), b = rt.alloc(size), tmp = rt.alloc(e.repack_tmp_bytes(layout, cols));
    try {
      rt.u8.set(bytes, src);
      const ref = e.decode_i2_s(src, n, tp);
      if (ref >= 0) e.pack(layout, tp, rows, cols, a);
      rt.u8.fill(0xa5, b, b + size);
      const rp = e.padded_rows(layout, rows), block = e.padded_rows(layout, 1);
      const bounds = [0, ...splits.map((s) => s * block).filter((s) => s > 0 && s < rp), rp];
      let got = 0;
      for (let i = 0; i + 1 < bounds.length; i++) {
        got = e.repack_i2_s(src + Math.min(bounds[i], rows) * (cols / 4), rows, cols, layout, b, bounds[i], bounds[i + 1], tmp);
        if (got < 0) break;
      }
      return { ref, got, same: ref < 0 || Buffer.compare(rt.u8.slice(a, a + size), rt.u8.slice(b, b + size)) === 0 };
    } finally { for (const p of [src, tp, a, b, tmp]) rt.free(p); }
  }
  it('same bytes and scale in every layout, shape and split; a negative scale flips; code 3 and a NaN scale as decode_i2_s', () => {
    for (const [name, layout] of Object.entries(LAYOUTS)) {
      for (const [rows, cols] of SHAPES) {
        for (const s of [0.0371, -0.0371]) {
          const t = randomTrits(rows * cols, rows + cols);
          const bytes = quantize('I2_S', Float32Array.from(t, (v) => v * Math.abs(s)));
          new DataView(bytes.buffer, bytes.byteOffset).setFloat32(rows * cols / 4, s, true);
          for (const splits of [[], [1, 3]]) {
            const r = both(bytes, rows, cols, layout, splits);
            expect(r.got, `${name} ${rows}x${cols} ${s}`).toBe(r.ref);
            expect(r.ref).toBeGreaterThan(0);
            expect(r.same, `${name} ${rows}x${cols} ${s} ${splits}`).toBe(true);
          }
        }
      }
      const bytes = quantize('I2_S', Float32Array.from(randomTrits(8 * 512, 2), (v) => v * 0.5));
      const bad = bytes.slice(); bad[77] = 0xff;
      expect(both(bad, 8, 512, layout, []).got).toBe(DECODE.BAD_CODE);
      const nan = bytes.slice(); new DataView(nan.buffer).setFloat32(8 * 512 / 4, NaN, true);
      expect(both(nan, 8, 512, layout, []).got).toBe(DECODE.SCALES_DIFFER);
    }
  });
});
