import { describe, expect, it } from 'vitest';
import { bf16BitsToF32, f16BitsToF32, f32ToBF16Bits, f32ToF16Bits } from '../../src/gguf/half.js';
import { prng } from './helpers.js';

const u32f = (bits: number) => new Float32Array(new Uint32Array([bits]).buffer)[0];

describe('f16', () => {
  it('decodes known bit patterns', () => {
    expect(f16BitsToF32(0x3c00)).toBe(1);
    expect(f16BitsToF32(0xbc00)).toBe(-1);
    expect(f16BitsToF32(0x7bff)).toBe(65504);
    expect(f16BitsToF32(0x0001)).toBe(2 ** -24); // smallest subnormal
    expect(f16BitsToF32(0x03ff)).toBe(1023 * 2 ** -24); // largest subnormal
    expect(f16BitsToF32(0x0400)).toBe(2 ** -14); // smallest normal
    expect(f16BitsToF32(0x3555)).toBe(0.333251953125);
    expect(f16BitsToF32(0x7c00)).toBe(Infinity);
    expect(f16BitsToF32(0xfc00)).toBe(-Infinity);
    expect(Object.is(f16BitsToF32(0x8000), -0)).toBe(true);
    expect(f16BitsToF32(0x7e00)).toBeNaN();
    expect(f16BitsToF32(0x7c01)).toBeNaN();
  });

  it('encodes known values with round-to-nearest-even', () => {
    expect(f32ToF16Bits(1)).toBe(0x3c00);
    expect(f32ToF16Bits(65504)).toBe(0x7bff);
    expect(f32ToF16Bits(65519)).toBe(0x7bff);
    expect(f32ToF16Bits(65520)).toBe(0x7c00); // tie between 65504 (odd) and 65536 -> inf
    expect(f32ToF16Bits(1e9)).toBe(0x7c00);
    expect(f32ToF16Bits(-1e9)).toBe(0xfc00);
    expect(f32ToF16Bits(2 ** -24)).toBe(0x0001);
    expect(f32ToF16Bits(2 ** -25)).toBe(0x0000); // tie -> even (0)
    expect(f32ToF16Bits(Math.fround(2 ** -25 * 1.0000002))).toBe(0x0001);
    expect(f32ToF16Bits(3 * 2 ** -25)).toBe(0x0002); // 1.5 units -> 2
    expect(f32ToF16Bits(5 * 2 ** -25)).toBe(0x0002); // 2.5 units -> 2
    expect(f32ToF16Bits(2 ** -14 - 2 ** -25)).toBe(0x0400); // rounds up into the smallest normal
    expect(f32ToF16Bits(1 + 2 ** -11)).toBe(0x3c00); // tie, even mantissa stays
    expect(f32ToF16Bits(1 + 3 * 2 ** -11)).toBe(0x3c02); // tie, odd mantissa rounds up
    expect(f32ToF16Bits(-0)).toBe(0x8000);
    expect(f32ToF16Bits(u32f(0x00000001))).toBe(0); // f32 subnormal
    expect(f32ToF16Bits(Infinity)).toBe(0x7c00);
    expect(f32ToF16Bits(-Infinity)).toBe(0xfc00);
    const nan = f32ToF16Bits(NaN);
    expect(nan & 0x7c00).toBe(0x7c00);
    expect(nan & 0x3ff).not.toBe(0);
    expect(f32ToF16Bits(u32f(0x7f800001)) & 0x3ff).not.toBe(0); // signalling NaN stays NaN
  });

  it('round-trips every non-NaN f16 exactly', () => {
    for (let h = 0; h < 65536; h++) {
      const v = f16BitsToF32(h);
      if (Number.isNaN(v)) continue;
      expect(f32ToF16Bits(v)).toBe(h);
    }
  });

  it('rounds random f32 values to the nearest f16 (ties to even)', () => {
    const r = prng(7);
    for (let i = 0; i < 20000; i++) {
      const bits = (r() * 2 ** 32) >>> 0;
      const x = u32f(bits);
      if (!Number.isFinite(x) || Math.abs(x) > 65519) continue;
      const h = f32ToF16Bits(x);
      const v = f16BitsToF32(h);
      const ax = Math.abs(x);
      // neighbours of |v| in the f16 grid
      const hb = h & 0x7fff;
      const up = f16BitsToF32(hb + 1);
      const down = hb > 0 ? f16BitsToF32(hb - 1) : -f16BitsToF32(1);
      const err = Math.abs(ax - Math.abs(v));
      expect(err).toBeLessThanOrEqual(Math.abs(ax - up));
      expect(err).toBeLessThanOrEqual(Math.abs(ax - down));
      if (err === Math.abs(ax - up) || err === Math.abs(ax - down)) expect(hb & 1).toBe(0);
    }
  });
});

describe('bf16', () => {
  it('encodes and decodes known patterns', () => {
    expect(f32ToBF16Bits(1)).toBe(0x3f80);
    expect(bf16BitsToF32(0x3f80)).toBe(1);
    expect(bf16BitsToF32(0xc000)).toBe(-2);
    expect(f32ToBF16Bits(u32f(0x3f808000))).toBe(0x3f80); // tie, even stays
    expect(f32ToBF16Bits(u32f(0x3f818000))).toBe(0x3f82); // tie, odd rounds up
    expect(f32ToBF16Bits(u32f(0x3f808001))).toBe(0x3f81);
    expect(f32ToBF16Bits(u32f(0x7f7fffff))).toBe(0x7f80); // max f32 rounds to inf
    expect(f32ToBF16Bits(u32f(0x00000001))).toBe(0x0000); // tiny subnormal -> 0
    expect(f32ToBF16Bits(u32f(0x00010000))).toBe(0x0001); // bf16 subnormal kept
    expect(f32ToBF16Bits(-Infinity)).toBe(0xff80);
    expect(f32ToBF16Bits(u32f(0x7f800001)) & 0x7f).not.toBe(0); // NaN whose payload is all in the low bits
    expect(bf16BitsToF32(0x7fc0)).toBeNaN();
  });

  it('round-trips every non-NaN bf16 exactly', () => {
    for (let h = 0; h < 65536; h++) {
      const v = bf16BitsToF32(h);
      if (Number.isNaN(v)) continue;
      expect(f32ToBF16Bits(v)).toBe(h);
    }
  });
});
