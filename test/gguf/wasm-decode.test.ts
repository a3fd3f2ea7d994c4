// The wasm decoders of ternary GGUF types (used when loading models) agree with the reference
// decoders of src/gguf/types.ts (themselves checked against hand-made blocks and llama.cpp). Every
// type whose row has ternary traits is covered, through the decoder its row names.
import { beforeAll, describe, expect, it } from 'vitest';
import type { WasmRuntime } from '../../bindings/runtime.js';
import { f32ToF16Bits, ggmlTypeInfo, quantize, dequantize, GGMLType, ternaryTraits, TERNARY_TYPE_NAMES } from '../../src/gguf/index.js';
import { createRuntime } from '../../src/index.js';
import { randomTrits } from '../helpers/reference.js';

let rt: WasmRuntime;
beforeAll(async () => { rt = await createRuntime({ build: 'simd128' }); });

function decode(type: string, bytes: Uint8Array, n: number): { trits: Int8Array; scale: number } {
  const src = rt.alloc(bytes.length), dst = rt.alloc(n);
  try {
    rt.u8.set(bytes, src);
    const tr = ternaryTraits(type)!;
    const scale = rt.exports[tr.decoder](src, tr.decoderCount === 'blocks' ? n / ggmlTypeInfo(type)!.blockSize : n, dst);
    return { trits: rt.i8.slice(dst, dst + n), scale };
  } finally { rt.free(src); rt.free(dst); }
}

describe('wasm decoders of the ternary types (TQ1_0, TQ2_0, I2_S)', () => {
  it('the ternary types are the rows with ternary traits, and each names a wasm decoder', () => {
    expect(TERNARY_TYPE_NAMES).toEqual(['TQ1_0', 'TQ2_0', 'I2_S']);
    for (const type of TERNARY_TYPE_NAMES) expect(typeof rt.exports[ternaryTraits(type)!.decoder], type).toBe('function');
    expect(ternaryTraits('F16')).toBeUndefined();
  });

  for (const type of TERNARY_TYPE_NAMES) {
    it(`${type}: trits * scale equal the reference decode, incl. all-zero blocks`, () => {
      const n = 256 * 24;
      const t = randomTrits(n, 5);
      t.fill(0, 256 * 3, 256 * 5); // all-zero blocks
      const scale = 0.0371;
      const bytes = quantize(type, Float32Array.from(t, (v) => v * scale));
      const ref = dequantize(type, bytes, n);
      const got = decode(type, bytes, n);
      expect(got.scale).toBeGreaterThan(0);
      for (let i = 0; i < n; i++) if (got.trits[i] * got.scale !== ref[i]) throw new Error(`${type}[${i}]: ${got.trits[i]} * ${got.scale} != ${ref[i]}`);
    });
  }

  it('a negative block scale flips the block; different block scales are refused; code 3 is refused', () => {
    const n = 512;
    const t = randomTrits(n, 6);
    const bytes = quantize('TQ2_0', Float32Array.from(t, (v) => v * 0.5));
    const flipped = bytes.slice();
    const dv = new DataView(flipped.buffer);
    dv.setUint16(66 + 64, f32ToF16Bits(-0.5), true); // second block's d negative
    const ref = dequantize('TQ2_0', flipped, n);
    const got = decode('TQ2_0', flipped, n);
    for (let i = 0; i < n; i++) expect(got.trits[i] * got.scale + 0).toBe(ref[i] + 0); // +0: a zero weight may be -0 in the reference
    const mixed = bytes.slice();
    new DataView(mixed.buffer).setUint16(66 + 64, f32ToF16Bits(0.25), true);
    expect(decode('TQ2_0', mixed, n).scale).toBe(-1);
    const bad = bytes.slice(); bad[0] = 0xff;
    expect(decode('TQ2_0', bad, n).scale).toBe(-2);
    expect(GGMLType.TQ2_0).toBe(35);
  });
});
