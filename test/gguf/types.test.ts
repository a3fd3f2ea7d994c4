import { describe, expect, it } from 'vitest';
import { BitnetError } from '../../src/errors.js';
import { f16BitsToF32, f32ToF16Bits } from '../../src/gguf/half.js';
import { dequantize, GGML_TYPES, GGMLType, ggmlTypeInfo, quantize, tensorByteSize } from '../../src/gguf/types.js';
import { prng, randInt, randomFloats, randomTernary } from './helpers.js';

const f16le = (h: number) => [h & 0xff, h >>> 8];
const ternaryWeights = (n: number, seed: number) => Array.from(randomTernary(prng(seed), n));

describe('type table', () => {
  it('has the documented rows', () => {
    const expectRow = (name: string, id: number, block: number, bytes: number) => {
      const r = ggmlTypeInfo(name)!;
      expect([r.id, r.blockSize, r.typeSize]).toEqual([id, block, bytes]);
      expect(ggmlTypeInfo(id)).toBe(r);
      expect(typeof r.dequantize).toBe('function');
      expect(typeof r.quantize).toBe('function');
    };
    expectRow('F32', 0, 1, 4);
    expectRow('F16', 1, 1, 2);
    expectRow('Q8_0', 8, 32, 34);
    expectRow('Q4_K', 12, 256, 144);
    expectRow('Q6_K', 14, 256, 210);
    expectRow('BF16', 30, 1, 2);
    expectRow('TQ1_0', 34, 256, 54);
    expectRow('TQ2_0', 35, 256, 66);
    expectRow('I2_S', 36, 128, 32);
    expect(GGML_TYPES.map((t) => t.id)).toEqual([...GGML_TYPES.map((t) => t.id)].sort((a, b) => a - b));
    expect(ggmlTypeInfo(99)).toBeUndefined();
  });

  it('computes tensor byte sizes', () => {
    expect(tensorByteSize('F32', [3, 5])).toBe(60);
    expect(tensorByteSize(GGMLType.F16, [7])).toBe(14);
    expect(tensorByteSize('Q8_0', [64, 3])).toBe(6 * 34);
    expect(tensorByteSize('TQ2_0', [2560, 2])).toBe(20 * 66);
    expect(tensorByteSize('TQ1_0', [256])).toBe(54);
    expect(tensorByteSize('I2_S', [2560, 6912])).toBe((2560 * 6912) / 4 + 32);
    expect(tensorByteSize('Q4_K', [512, 2])).toBe(4 * 144);
    expect(tensorByteSize('F32', [])).toBe(4); // scalar
    expect(() => tensorByteSize('Q8_0', [48, 2])).toThrow(BitnetError);
    expect(() => tensorByteSize('F32', [0])).toThrow(BitnetError);
    expect(() => tensorByteSize(77, [1])).toThrow(/UNSUPPORTED_TYPE/);
  });
});

describe('hand-made blocks with known answers', () => {
  it('TQ2_0: bits 2n of qs[j+m] hold weight j*4 + n*32 + m', () => {
    const w = ternaryWeights(256, 1);
    const bytes = new Uint8Array(66);
    for (const j of [0, 32]) for (let m = 0; m < 32; m++) for (let n = 0; n < 4; n++) {
      bytes[j + m] |= (w[j * 4 + n * 32 + m] + 1) << (2 * n);
    }
    bytes.set(f16le(0x3800), 64); // d = 0.5
    const out = dequantize('TQ2_0', bytes, 256);
    expect(Array.from(out)).toEqual(w.map((x) => x * 0.5));
    expect(quantize('TQ2_0', Float32Array.from(w, (x) => x * 0.5))).toEqual(bytes);
    // A single known byte: weights 0, 32, 64, 96 = (+1, 0, -1, +1) -> codes 2,1,0,2 -> 0b10_00_01_10
    const one = new Float32Array(256);
    one[0] = 1; one[32] = 0; one[64] = -1; one[96] = 1;
    expect(quantize('TQ2_0', one)[0]).toBe(0b10000110);
  });

  it('TQ1_0: bytes are ceil(v*256/243) of base-3 numbers, first trit most significant', () => {
    const w = ternaryWeights(256, 2);
    const t = w.map((x) => x + 1);
    const enc = (digits: number[], mul = 1) => Math.ceil((digits.reduce((v, d) => v * 3 + d, 0) * mul * 256) / 243);
    const bytes = new Uint8Array(54);
    for (let m = 0; m < 32; m++) bytes[m] = enc([0, 1, 2, 3, 4].map((n) => t[m + 32 * n]));
    for (let m = 0; m < 16; m++) bytes[32 + m] = enc([0, 1, 2, 3, 4].map((n) => t[160 + m + 16 * n]));
    for (let j = 0; j < 4; j++) bytes[48 + j] = enc([0, 1, 2, 3].map((m) => t[240 + j + 4 * m]), 3);
    bytes.set(f16le(0x3400), 52); // d = 0.25
    expect(Array.from(dequantize('TQ1_0', bytes, 256))).toEqual(w.map((x) => x * 0.25));
    expect(quantize('TQ1_0', Float32Array.from(w, (x) => x * 0.25))).toEqual(bytes);
    // Known bytes: trits (2,2,2,2,2) = 242 -> 255; (1,0,0,0,0) = 81 -> 86; all zero -> 0.
    expect(enc([2, 2, 2, 2, 2])).toBe(255);
    expect(enc([1, 0, 0, 0, 0])).toBe(86);
    const b = new Uint8Array(54);
    b[0] = 86;
    b.set(f16le(0x3c00), 52);
    const y = dequantize('TQ1_0', b, 256);
    expect([y[0], y[32], y[64], y[96], y[128]]).toEqual([0, -1, -1, -1, -1]);
  });

  it('I2_S: 128 weights per 32 bytes (x86 layout), one f32 scale after n/4 bytes', () => {
    const n = 384;
    const w = ternaryWeights(n, 3);
    const bytes = new Uint8Array(n / 4 + 32);
    for (let b = 0; b < n / 128; b++) for (let p = 0; p < 32; p++) {
      const q = (k: number) => w[b * 128 + k * 32 + p] + 1;
      bytes[b * 32 + p] = (q(0) << 6) | (q(1) << 4) | (q(2) << 2) | q(3);
    }
    const scale = Math.fround(0.7123);
    new DataView(bytes.buffer).setFloat32(n / 4, scale, true);
    expect(Array.from(dequantize('I2_S', bytes, n))).toEqual(w.map((x) => Math.fround(x * scale)));
    expect(quantize('I2_S', Float32Array.from(w, (x) => x * scale))).toEqual(bytes);
  });

  it('Q8_0: f16 d then 32 signed bytes, value = q*d', () => {
    const q = Array.from({ length: 32 }, (_, i) => (i * 37) % 255 - 127);
    q[5] = 127;
    const bytes = Uint8Array.from([...f16le(0x3800), ...q.map((v) => v & 0xff)]);
    expect(Array.from(dequantize('Q8_0', bytes, 32))).toEqual(q.map((v) => v * 0.5));
    expect(quantize('Q8_0', Float32Array.from(q, (v) => v * 0.5))).toEqual(bytes);
  });

  it('Q4_K: 6-bit scale/min pairs, value = d*sc*q - dmin*m', () => {
    const sc = [1, 2, 3, 63, 17, 40, 33, 50];
    const mn = [0, 5, 63, 7, 20, 1, 45, 32];
    const bytes = new Uint8Array(144);
    bytes.set(f16le(0x3c00), 0); // d = 1
    bytes.set(f16le(0x3800), 2); // dmin = 0.5
    for (let j = 0; j < 8; j++) {
      // Layout from the format: bytes 0-3 low 6 bits = sc0..3, bytes 4-7 = m0..3, top two bits of
      // those bytes = high bits of sc4..7 / m4..7, bytes 8-11 = low nibbles of sc4..7 | m4..7 << 4.
      if (j < 4) { bytes[4 + j] |= sc[j]; bytes[8 + j] |= mn[j]; }
      else {
        bytes[4 + j - 4] |= (sc[j] >> 4) << 6;
        bytes[8 + j - 4] |= (mn[j] >> 4) << 6;
        bytes[12 + j - 4] = (sc[j] & 15) | ((mn[j] & 15) << 4);
      }
    }
    const qv = Array.from({ length: 256 }, (_, i) => (i * 5 + 3) % 16);
    for (let i = 0; i < 256; i++) {
      const c = i >> 6, l = i & 31, hi = (i & 63) >= 32;
      bytes[16 + 32 * c + l] |= hi ? qv[i] << 4 : qv[i];
    }
    const out = dequantize('Q4_K', bytes, 256);
    for (let i = 0; i < 256; i++) {
      const j = i >> 5;
      expect(out[i]).toBe(sc[j] * qv[i] - 0.5 * mn[j]);
    }
  });

  it('Q6_K: ql/qh/scales/d layout, value = d*scale*(q-32)', () => {
    const bytes = new Uint8Array(210);
    const q = Array.from({ length: 256 }, (_, i) => (i * 11 + 7) % 64);
    const scales = Array.from({ length: 16 }, (_, j) => (j % 2 ? -1 : 1) * (j * 7 + 1));
    for (let i = 0; i < 256; i++) {
      const h = i >> 7, r = i & 127, g = r >> 5, l = r & 31;
      const qlIdx = 64 * h + l + (g & 1 ? 32 : 0);
      bytes[qlIdx] |= g < 2 ? q[i] & 15 : (q[i] & 15) << 4;
      bytes[128 + 32 * h + l] |= (q[i] >> 4) << (2 * g);
    }
    scales.forEach((s, j) => (bytes[192 + j] = s & 0xff));
    bytes.set(f16le(0x3400), 208); // d = 0.25
    const out = dequantize('Q6_K', bytes, 256);
    for (let i = 0; i < 256; i++) expect(out[i]).toBe(0.25 * scales[i >> 4] * (q[i] - 32));
  });
});

describe('round trips', () => {
  const r = prng(42);

  it('F32 is exact', () => {
    const x = randomFloats(r, 100, 10);
    expect(dequantize('F32', quantize('F32', x), 100)).toEqual(x);
  });

  it('F16 / BF16: within half an ulp, and encode(decode(bytes)) is the identity', () => {
    const x = randomFloats(r, 1000, 100);
    for (const [name, rel] of [['F16', 2 ** -11], ['BF16', 2 ** -8]] as const) {
      const y = dequantize(name, quantize(name, x), x.length);
      for (let i = 0; i < x.length; i++) expect(Math.abs(y[i] - x[i])).toBeLessThanOrEqual(Math.abs(x[i]) * rel + 2 ** -25);
      const raw = new Uint8Array(2000);
      for (let i = 0; i < raw.length; i += 2) {
        let h: number;
        do h = randInt(r, 0, 0xffff); while (name === 'F16' ? (h & 0x7c00) === 0x7c00 && (h & 0x3ff) : (h & 0x7f80) === 0x7f80 && (h & 0x7f));
        raw[i] = h & 0xff; raw[i + 1] = h >> 8;
      }
      expect(quantize(name, dequantize(name, raw, 1000))).toEqual(raw);
    }
  });

  it('Q8_0: error <= d/2 (+ f16 rounding of d); re-encoding is stable', () => {
    const x = randomFloats(r, 32 * 40, 3);
    const b = quantize('Q8_0', x);
    const y = dequantize('Q8_0', b, x.length);
    for (let blk = 0; blk < 40; blk++) {
      let amax = 0;
      for (let j = 0; j < 32; j++) amax = Math.max(amax, Math.abs(x[blk * 32 + j]));
      const d = f16BitsToF32(f32ToF16Bits(amax / 127));
      for (let j = 0; j < 32; j++) {
        const i = blk * 32 + j;
        expect(Math.abs(y[i] - x[i])).toBeLessThanOrEqual(d / 2 + Math.abs(x[i]) * 2 ** -10);
      }
    }
    expect(quantize('Q8_0', y)).toEqual(b);
  });

  for (const [name, steps] of [['Q4_K', 15], ['Q6_K', 62]] as const) {
    it(`${name}: error within one step of the sub-block range; re-encoding is stable`, () => {
      const sub = name === 'Q4_K' ? 32 : 16;
      const x = randomFloats(r, 256 * 20, 2);
      // Include an all-zero block and a constant block.
      x.fill(0, 0, 256);
      x.fill(0.75, 256, 512);
      const b = quantize(name, x);
      expect(b.length).toBe(tensorByteSize(name, [x.length]));
      const y = dequantize(name, b, x.length);
      for (let s = 0; s < x.length / sub; s++) {
        let lo = 0, hi = 0;
        for (let l = 0; l < sub; l++) { lo = Math.min(lo, x[s * sub + l]); hi = Math.max(hi, x[s * sub + l]); }
        // A step of the ideal grid, plus the super-block's 6/8-bit scale granularity.
        const tol = ((hi - lo) / steps) * 0.75 + 0.02;
        for (let l = 0; l < sub; l++) expect(Math.abs(y[s * sub + l] - x[s * sub + l])).toBeLessThanOrEqual(tol);
      }
      expect(Array.from(y.subarray(0, 256))).toEqual(new Array(256).fill(0));
      // encode(decode(bytes)): Q4_K gives the same bytes back; Q6_K may move a sub-scale once
      // (the decoded block max is below the step it was encoded with), then is a fixed point.
      const b2 = quantize(name, y);
      const y2 = dequantize(name, b2, y.length);
      let maxDiff = 0;
      for (let i = 0; i < y.length; i++) maxDiff = Math.max(maxDiff, Math.abs(y2[i] - y[i]));
      expect(maxDiff).toBeLessThan(0.02);
      if (name === 'Q4_K') expect(b2).toEqual(b);
      expect(quantize(name, y2)).toEqual(b2);
    });
  }

  for (const name of ['TQ1_0', 'TQ2_0', 'I2_S'] as const) {
    it(`${name}: ternary times a scale decodes exactly, encode(decode(bytes)) == bytes`, () => {
      const n = 256 * 12;
      const t = randomTernary(r, n, 5);
      const scale = 0.0234375; // f16-representable
      const x = Float32Array.from(t, (v) => v * scale);
      const b = quantize(name, x);
      expect(b.length).toBe(tensorByteSize(name, [n]));
      const y = dequantize(name, b, n);
      expect(Array.from(y)).toEqual(Array.from(x));
      expect(quantize(name, y)).toEqual(b);
      if (name !== 'I2_S') {
        // all-zero blocks store d = 0; the others the tensor's scale
        const bs = name === 'TQ1_0' ? 54 : 66;
        expect(b[bs - 2] | (b[bs - 1] << 8)).toBe(0);
        expect(f16BitsToF32(b[2 * bs - 2] | (b[2 * bs - 1] << 8))).toBe(scale);
      }
    });
  }

  it('decoders reject short buffers and bad counts', () => {
    expect(() => dequantize('Q8_0', new Uint8Array(33), 32)).toThrow(/BAD_ARGUMENT/);
    expect(() => dequantize('TQ2_0', new Uint8Array(66), 100)).toThrow(/BAD_ARGUMENT/);
    expect(() => quantize('Q6_K', new Float32Array(100))).toThrow(/BAD_ARGUMENT/);
    expect(() => dequantize('Q4_0', new Uint8Array(18), 32)).toThrow(/UNSUPPORTED_TYPE/);
  });
});
