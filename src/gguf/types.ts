/**
 * The ggml tensor-type table: one row per type, like ggml's type traits. Adding a type is adding a
 * row. Decoders and encoders here are plain-TS references (correct, not fast): the wasm kernels are
 * tested against them, and the writer uses the encoders to build test files.
 */
import { BitnetError } from '../errors.js';
import { bf16BitsToF32, f16BitsToF32, f32ToBF16Bits, f32ToF16Bits } from './half.js';

export const GGMLType = {
  F32: 0,
  F16: 1,
  Q4_0: 2,
  Q4_1: 3,
  Q5_0: 6,
  Q5_1: 7,
  Q8_0: 8,
  Q8_1: 9,
  Q2_K: 10,
  Q3_K: 11,
  Q4_K: 12,
  Q5_K: 13,
  Q6_K: 14,
  Q8_K: 15,
  IQ4_NL: 20,
  I8: 24,
  I16: 25,
  I32: 26,
  I64: 27,
  F64: 28,
  BF16: 30,
  TQ1_0: 34,
  TQ2_0: 35,
  /** bitnet.cpp's id; upstream ggml left 36 as a removed slot, so 36 is unambiguous in practice. */
  I2_S: 36,
} as const;
export type GGMLTypeName = keyof typeof GGMLType;

export interface GGMLTypeInfo {
  readonly id: number;
  readonly name: GGMLTypeName;
  /** Elements per block. */
  readonly blockSize: number;
  /** Bytes per block. */
  readonly typeSize: number;
  /** Bytes added once per tensor (I2_S keeps its single f32 scale in a 32-byte tail). */
  readonly tensorExtraBytes: number;
  /** Which count must be a multiple of blockSize: ggml rows ('row' = ne[0]) or, for I2_S's flat
   *  packing, the whole tensor. */
  readonly blockAxis: 'row' | 'tensor';
  /** Reference decoder; absent for types we can size (so files parse) but not decode. */
  readonly dequantize?: (bytes: Uint8Array, n: number) => Float32Array;
  /** Reference encoder; input length must be a multiple of blockSize. */
  readonly quantize?: (values: Float32Array) => Uint8Array;
  /** Present on the types bitnet-wasm runs as ternary weights: how loading decodes them. */
  readonly ternary?: TernaryTraits;
}

/** A ternary type's runtime traits (ggml's type_traits, for the loader): the wasm decoder that turns
 *  the tensor's bytes into trits and its one scale (assembly/quant/ggml_ternary.ts), and what that
 *  decoder's count argument counts. */
export interface TernaryTraits {
  readonly decoder: 'decode_tq1_0' | 'decode_tq2_0' | 'decode_i2_s';
  /** 'blocks': the decoder takes n / blockSize; 'elements': it takes n. */
  readonly decoderCount: 'blocks' | 'elements';
  /** The wasm repacker that takes rows straight into a kernel layout (assembly/quant/repack.ts): as
   *  they arrive, or for I2_S (blockAxis 'tensor': its one scale follows the data) once all are in. */
  readonly repacker: 'repack_tq1_0' | 'repack_tq2_0' | 'repack_i2_s';
  /** llama.cpp's general.file_type for a model whose matrices are all this type, if it has one. */
  readonly fileType?: number;
}

// ---------------------------------------------------------------------------------------------
// Helpers

const fround = Math.fround;

/** C's roundf / lroundf: half away from zero (Math.round goes half up, which differs at -x.5). */
function roundHalfAway(x: number): number {
  return x < 0 ? -Math.floor(-x + 0.5) : Math.floor(x + 0.5);
}

function clamp(v: number, lo: number, hi: number): number {
  return v < lo ? lo : v > hi ? hi : v;
}

function checkDecodeArgs(name: string, blockSize: number, bytes: Uint8Array, n: number, need: number): void {
  if (!Number.isSafeInteger(n) || n < 0 || n % blockSize !== 0) {
    throw new BitnetError('BAD_ARGUMENT', `${name}: element count ${n} is not a multiple of ${blockSize}`);
  }
  if (bytes.length < need) {
    throw new BitnetError('BAD_ARGUMENT', `${name}: ${n} elements need ${need} bytes, got ${bytes.length}`);
  }
}

function checkEncodeArgs(name: string, blockSize: number, values: Float32Array): number {
  if (values.length % blockSize !== 0) {
    throw new BitnetError('BAD_ARGUMENT', `${name}: ${values.length} values is not a multiple of ${blockSize}`);
  }
  return values.length / blockSize;
}

function view(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** Smallest f16 >= target/div (for non-negative targets), so `d * maxCode` still covers the range
 *  after d is rounded to f16: rounding d down would clip the largest value of the block. */
function f16ScaleCovering(target: number, maxCode: number): number {
  let h = f32ToF16Bits(target / maxCode);
  while (h < 0x7bff && f16BitsToF32(h) * maxCode < target) h++;
  return h;
}

// ---------------------------------------------------------------------------------------------
// F32 / F16 / BF16

const F32_ROW: GGMLTypeInfo = {
  id: 0, name: 'F32', blockSize: 1, typeSize: 4, tensorExtraBytes: 0, blockAxis: 'row',
  dequantize(bytes, n) {
    checkDecodeArgs('F32', 1, bytes, n, n * 4);
    const dv = view(bytes);
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) out[i] = dv.getFloat32(i * 4, true);
    return out;
  },
  quantize(values) {
    const out = new Uint8Array(values.length * 4);
    const dv = view(out);
    for (let i = 0; i < values.length; i++) dv.setFloat32(i * 4, values[i], true);
    return out;
  },
};

const F16_ROW: GGMLTypeInfo = {
  id: 1, name: 'F16', blockSize: 1, typeSize: 2, tensorExtraBytes: 0, blockAxis: 'row',
  dequantize(bytes, n) {
    checkDecodeArgs('F16', 1, bytes, n, n * 2);
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) out[i] = f16BitsToF32(bytes[2 * i] | (bytes[2 * i + 1] << 8));
    return out;
  },
  quantize(values) {
    const out = new Uint8Array(values.length * 2);
    for (let i = 0; i < values.length; i++) {
      const h = f32ToF16Bits(values[i]);
      out[2 * i] = h & 0xff;
      out[2 * i + 1] = h >>> 8;
    }
    return out;
  },
};

const BF16_ROW: GGMLTypeInfo = {
  id: 30, name: 'BF16', blockSize: 1, typeSize: 2, tensorExtraBytes: 0, blockAxis: 'row',
  dequantize(bytes, n) {
    checkDecodeArgs('BF16', 1, bytes, n, n * 2);
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) out[i] = bf16BitsToF32(bytes[2 * i] | (bytes[2 * i + 1] << 8));
    return out;
  },
  quantize(values) {
    const out = new Uint8Array(values.length * 2);
    for (let i = 0; i < values.length; i++) {
      const h = f32ToBF16Bits(values[i]);
      out[2 * i] = h & 0xff;
      out[2 * i + 1] = h >>> 8;
    }
    return out;
  },
};

// ---------------------------------------------------------------------------------------------
// Q8_0: 32 weights = f16 d + 32 x i8; value = q * d. Encoder follows ggml's reference rounding
// (f32 arithmetic, roundf) so our files match llama-quantize's bytes.

const Q8_0_ROW: GGMLTypeInfo = {
  id: 8, name: 'Q8_0', blockSize: 32, typeSize: 34, tensorExtraBytes: 0, blockAxis: 'row',
  dequantize(bytes, n) {
    checkDecodeArgs('Q8_0', 32, bytes, n, (n / 32) * 34);
    const out = new Float32Array(n);
    for (let b = 0; b < n / 32; b++) {
      const o = b * 34;
      const d = f16BitsToF32(bytes[o] | (bytes[o + 1] << 8));
      for (let j = 0; j < 32; j++) out[b * 32 + j] = ((bytes[o + 2 + j] << 24) >> 24) * d;
    }
    return out;
  },
  quantize(values) {
    const nb = checkEncodeArgs('Q8_0', 32, values);
    const out = new Uint8Array(nb * 34);
    for (let b = 0; b < nb; b++) {
      let amax = 0;
      for (let j = 0; j < 32; j++) amax = Math.max(amax, Math.abs(values[b * 32 + j]));
      const d = fround(amax / 127);
      const id = d ? fround(1 / d) : 0;
      const h = f32ToF16Bits(d);
      const o = b * 34;
      out[o] = h & 0xff;
      out[o + 1] = h >>> 8;
      for (let j = 0; j < 32; j++) {
        out[o + 2 + j] = clamp(roundHalfAway(fround(values[b * 32 + j] * id)), -127, 127) & 0xff;
      }
    }
    return out;
  },
};

// ---------------------------------------------------------------------------------------------
// Q4_K: 256 weights = f16 d, f16 dmin, 12 bytes of 6-bit (scale, min) pairs for 8 sub-blocks of 32,
// then 128 bytes of 4-bit codes. value = d*sc*q - dmin*m. Chunk c (64 weights) uses qs[32c..32c+31]:
// low nibbles are sub-block 2c, high nibbles sub-block 2c+1.

/** Unpacks the 6-bit scale and min of sub-block j from the 12-byte field (ggml's k4 packing). */
function q4kScaleMin(s: Uint8Array, o: number, j: number): [number, number] {
  if (j < 4) return [s[o + j] & 63, s[o + j + 4] & 63];
  return [(s[o + j + 4] & 0xf) | ((s[o + j - 4] >> 6) << 4), (s[o + j + 4] >> 4) | ((s[o + j] >> 6) << 4)];
}

const Q4_K_ROW: GGMLTypeInfo = {
  id: 12, name: 'Q4_K', blockSize: 256, typeSize: 144, tensorExtraBytes: 0, blockAxis: 'row',
  dequantize(bytes, n) {
    checkDecodeArgs('Q4_K', 256, bytes, n, (n / 256) * 144);
    const out = new Float32Array(n);
    for (let b = 0; b < n / 256; b++) {
      const o = b * 144;
      const d = f16BitsToF32(bytes[o] | (bytes[o + 1] << 8));
      const dmin = f16BitsToF32(bytes[o + 2] | (bytes[o + 3] << 8));
      for (let c = 0; c < 4; c++) {
        const [sc1, m1] = q4kScaleMin(bytes, o + 4, 2 * c);
        const [sc2, m2] = q4kScaleMin(bytes, o + 4, 2 * c + 1);
        const d1 = fround(d * sc1), mm1 = fround(dmin * m1);
        const d2 = fround(d * sc2), mm2 = fround(dmin * m2);
        const q = o + 16 + 32 * c;
        const y = b * 256 + 64 * c;
        for (let l = 0; l < 32; l++) {
          out[y + l] = fround(d1 * (bytes[q + l] & 0xf)) - mm1;
          out[y + 32 + l] = fround(d2 * (bytes[q + l] >> 4)) - mm2;
        }
      }
    }
    return out;
  },
  quantize(values) {
    // A simple, deterministic encoder (not ggml's search for the least-squares scale): per
    // sub-block, range [min(0, lo), hi] in 15 steps; 6-bit scales rounded up so no value clips.
    const nb = checkEncodeArgs('Q4_K', 256, values);
    const out = new Uint8Array(nb * 144);
    const scale = new Float64Array(8), mins = new Float64Array(8);
    const sc = new Uint8Array(8), mq = new Uint8Array(8);
    for (let b = 0; b < nb; b++) {
      const x = b * 256;
      let maxScale = 0, maxMin = 0;
      for (let j = 0; j < 8; j++) {
        let lo = 0, hi = -Infinity;
        for (let l = 0; l < 32; l++) {
          const v = values[x + 32 * j + l];
          if (v < lo) lo = v;
          if (v > hi) hi = v;
        }
        scale[j] = (hi - lo) / 15;
        mins[j] = -lo;
        maxScale = Math.max(maxScale, scale[j]);
        maxMin = Math.max(maxMin, mins[j]);
      }
      const dh = f16ScaleCovering(maxScale, 63);
      const mh = f16ScaleCovering(maxMin, 63);
      const d = f16BitsToF32(dh), dmin = f16BitsToF32(mh);
      for (let j = 0; j < 8; j++) {
        sc[j] = d > 0 ? clamp(Math.ceil(scale[j] / d), 0, 63) : 0;
        mq[j] = dmin > 0 ? clamp(roundHalfAway(mins[j] / dmin), 0, 63) : 0;
      }
      const o = b * 144;
      out[o] = dh & 0xff; out[o + 1] = dh >>> 8;
      out[o + 2] = mh & 0xff; out[o + 3] = mh >>> 8;
      for (let j = 0; j < 4; j++) {
        out[o + 4 + j] = sc[j] | ((sc[j + 4] >> 4) << 6);
        out[o + 8 + j] = mq[j] | ((mq[j + 4] >> 4) << 6);
        out[o + 12 + j] = (sc[j + 4] & 0xf) | ((mq[j + 4] & 0xf) << 4);
      }
      for (let c = 0; c < 4; c++) {
        const codes = [0, 1].map((h) => {
          const j = 2 * c + h;
          const d1 = fround(d * sc[j]), m1 = fround(dmin * mq[j]);
          const L = new Uint8Array(32);
          for (let l = 0; l < 32; l++) {
            L[l] = d1 > 0 ? clamp(roundHalfAway((values[x + 32 * j + l] + m1) / d1), 0, 15) : 0;
          }
          return L;
        });
        for (let l = 0; l < 32; l++) out[o + 16 + 32 * c + l] = codes[0][l] | (codes[1][l] << 4);
      }
    }
    return out;
  },
};

// ---------------------------------------------------------------------------------------------
// Q6_K: 256 weights = ql[128] (low 4 bits), qh[64] (high 2 bits), i8 scales[16] (one per 16
// weights), f16 d. value = d * scale * (q - 32). In each half h (128 weights), for l < 32:
// ql[64h+l] holds weights l (low nibble) and l+64 (high), ql[64h+32+l] weights l+32 and l+96,
// qh[32h+l] the top bits of l, l+32, l+64, l+96 at bit 0, 2, 4, 6.

const Q6_K_ROW: GGMLTypeInfo = {
  id: 14, name: 'Q6_K', blockSize: 256, typeSize: 210, tensorExtraBytes: 0, blockAxis: 'row',
  dequantize(bytes, n) {
    checkDecodeArgs('Q6_K', 256, bytes, n, (n / 256) * 210);
    const out = new Float32Array(n);
    for (let b = 0; b < n / 256; b++) {
      const o = b * 210;
      const d = f16BitsToF32(bytes[o + 208] | (bytes[o + 209] << 8));
      for (let h = 0; h < 2; h++) {
        const ql = o + 64 * h, qh = o + 128 + 32 * h, sc = o + 192 + 8 * h;
        const y = b * 256 + 128 * h;
        for (let l = 0; l < 32; l++) {
          const is = l >> 4;
          const hb = bytes[qh + l];
          const q1 = ((bytes[ql + l] & 0xf) | ((hb & 3) << 4)) - 32;
          const q2 = ((bytes[ql + l + 32] & 0xf) | (((hb >> 2) & 3) << 4)) - 32;
          const q3 = ((bytes[ql + l] >> 4) | (((hb >> 4) & 3) << 4)) - 32;
          const q4 = ((bytes[ql + l + 32] >> 4) | (((hb >> 6) & 3) << 4)) - 32;
          const s = (k: number) => (bytes[sc + is + k] << 24) >> 24;
          out[y + l] = fround(fround(d * s(0)) * q1);
          out[y + l + 32] = fround(fround(d * s(2)) * q2);
          out[y + l + 64] = fround(fround(d * s(4)) * q3);
          out[y + l + 96] = fround(fround(d * s(6)) * q4);
        }
      }
    }
    return out;
  },
  quantize(values) {
    // Simple deterministic encoder: per 16 weights a step amax/31 (codes -31..31), the 8-bit
    // sub-scales rounded up against an f16 super-scale so nothing clips.
    const nb = checkEncodeArgs('Q6_K', 256, values);
    const out = new Uint8Array(nb * 210);
    const step = new Float64Array(16);
    const sc = new Int8Array(16);
    const L = new Uint8Array(256);
    for (let b = 0; b < nb; b++) {
      const x = b * 256;
      let maxStep = 0;
      for (let j = 0; j < 16; j++) {
        let amax = 0;
        for (let l = 0; l < 16; l++) amax = Math.max(amax, Math.abs(values[x + 16 * j + l]));
        step[j] = amax / 31;
        maxStep = Math.max(maxStep, step[j]);
      }
      const dh = f16ScaleCovering(maxStep, 127);
      const d = f16BitsToF32(dh);
      for (let j = 0; j < 16; j++) {
        sc[j] = d > 0 ? clamp(Math.ceil(step[j] / d), 0, 127) : 0;
        const d1 = fround(d * sc[j]);
        for (let l = 0; l < 16; l++) {
          const i = 16 * j + l;
          L[i] = (d1 > 0 ? clamp(roundHalfAway(values[x + i] / d1), -32, 31) : 0) + 32;
        }
      }
      const o = b * 210;
      for (let h = 0; h < 2; h++) {
        for (let l = 0; l < 32; l++) {
          const i = 128 * h + l;
          out[o + 64 * h + l] = (L[i] & 0xf) | ((L[i + 64] & 0xf) << 4);
          out[o + 64 * h + 32 + l] = (L[i + 32] & 0xf) | ((L[i + 96] & 0xf) << 4);
          out[o + 128 + 32 * h + l] = (L[i] >> 4) | ((L[i + 32] >> 4) << 2) | ((L[i + 64] >> 4) << 4) | ((L[i + 96] >> 4) << 6);
        }
      }
      for (let j = 0; j < 16; j++) out[o + 192 + j] = sc[j] & 0xff;
      out[o + 208] = dh & 0xff;
      out[o + 209] = dh >>> 8;
    }
    return out;
  },
};

// ---------------------------------------------------------------------------------------------
// Ternary types. Codes are t = w + 1 in {0,1,2}; the block scale d is the block's max |w|, so a
// ternary tensor times one scale s encodes exactly (d = s, or 0 for an all-zero block) when s is
// representable in f16.

/** Block absmax d (f32) and the code of each weight, ggml's way: lroundf(x / d) + 1. */
function ternaryCodes(values: Float32Array, x: number, count: number, d: number, out: Uint8Array): void {
  const id = d ? fround(1 / d) : 0;
  for (let i = 0; i < count; i++) out[i] = clamp(roundHalfAway(fround(values[x + i] * id)), -1, 1) + 1;
}

function blockAbsMax(values: Float32Array, x: number, count: number): number {
  let amax = 0;
  for (let i = 0; i < count; i++) amax = Math.max(amax, Math.abs(values[x + i]));
  return fround(amax);
}

/** Digit n (0 = most significant) of a TQ1_0 byte that stores ceil(v * 256 / 243). Multiplying by
 *  3^n (mod 256) shifts the wanted trit to the top, then *3 >> 8 reads it. */
function tq1Digit(byte: number, pow3: number): number {
  return (((byte * pow3) & 0xff) * 3) >> 8;
}

const POW3 = [1, 3, 9, 27, 81];

const TQ1_0_ROW: GGMLTypeInfo = {
  id: 34, name: 'TQ1_0', blockSize: 256, typeSize: 54, tensorExtraBytes: 0, blockAxis: 'row',
  ternary: { decoder: 'decode_tq1_0', decoderCount: 'blocks', repacker: 'repack_tq1_0', fileType: 36 }, // LLAMA_FTYPE_MOSTLY_TQ1_0
  dequantize(bytes, n) {
    checkDecodeArgs('TQ1_0', 256, bytes, n, (n / 256) * 54);
    const out = new Float32Array(n);
    for (let b = 0; b < n / 256; b++) {
      const o = b * 54;
      const d = f16BitsToF32(bytes[o + 52] | (bytes[o + 53] << 8));
      const y = b * 256;
      for (let m = 0; m < 32; m++) {
        for (let k = 0; k < 5; k++) out[y + m + 32 * k] = (tq1Digit(bytes[o + m], POW3[k]) - 1) * d;
      }
      for (let m = 0; m < 16; m++) {
        for (let k = 0; k < 5; k++) out[y + 160 + m + 16 * k] = (tq1Digit(bytes[o + 32 + m], POW3[k]) - 1) * d;
      }
      for (let j = 0; j < 4; j++) {
        for (let k = 0; k < 4; k++) out[y + 240 + j + 4 * k] = (tq1Digit(bytes[o + 48 + j], POW3[k]) - 1) * d;
      }
    }
    return out;
  },
  quantize(values) {
    const nb = checkEncodeArgs('TQ1_0', 256, values);
    const out = new Uint8Array(nb * 54);
    const t = new Uint8Array(256);
    for (let b = 0; b < nb; b++) {
      const d = blockAbsMax(values, b * 256, 256);
      ternaryCodes(values, b * 256, 256, d, t);
      const o = b * 54;
      // Base-3 number with the first trit most significant, stored as ceil(v * 256 / 243) so the
      // multiply-and-shift digit extraction above is exact.
      const pack = (idx: number[], scaleUp: number) => {
        let v = 0;
        for (const i of idx) v = v * 3 + t[i];
        v *= scaleUp;
        return Math.floor((v * 256 + 242) / 243);
      };
      for (let m = 0; m < 32; m++) out[o + m] = pack([0, 1, 2, 3, 4].map((k) => m + 32 * k), 1);
      for (let m = 0; m < 16; m++) out[o + 32 + m] = pack([0, 1, 2, 3, 4].map((k) => 160 + m + 16 * k), 1);
      for (let j = 0; j < 4; j++) out[o + 48 + j] = pack([0, 1, 2, 3].map((k) => 240 + j + 4 * k), 3);
      const h = f32ToF16Bits(d);
      out[o + 52] = h & 0xff;
      out[o + 53] = h >>> 8;
    }
    return out;
  },
};

const TQ2_0_ROW: GGMLTypeInfo = {
  id: 35, name: 'TQ2_0', blockSize: 256, typeSize: 66, tensorExtraBytes: 0, blockAxis: 'row',
  ternary: { decoder: 'decode_tq2_0', decoderCount: 'blocks', repacker: 'repack_tq2_0', fileType: 37 }, // LLAMA_FTYPE_MOSTLY_TQ2_0
  dequantize(bytes, n) {
    checkDecodeArgs('TQ2_0', 256, bytes, n, (n / 256) * 66);
    const out = new Float32Array(n);
    for (let b = 0; b < n / 256; b++) {
      const o = b * 66;
      const d = f16BitsToF32(bytes[o + 64] | (bytes[o + 65] << 8));
      for (let j = 0; j < 64; j += 32) {
        for (let k = 0; k < 4; k++) {
          for (let m = 0; m < 32; m++) {
            out[b * 256 + j * 4 + k * 32 + m] = (((bytes[o + j + m] >> (2 * k)) & 3) - 1) * d;
          }
        }
      }
    }
    return out;
  },
  quantize(values) {
    const nb = checkEncodeArgs('TQ2_0', 256, values);
    const out = new Uint8Array(nb * 66);
    const t = new Uint8Array(256);
    for (let b = 0; b < nb; b++) {
      const d = blockAbsMax(values, b * 256, 256);
      ternaryCodes(values, b * 256, 256, d, t);
      const o = b * 66;
      for (let j = 0; j < 64; j += 32) {
        for (let m = 0; m < 32; m++) {
          let q = 0;
          for (let k = 0; k < 4; k++) q |= t[j * 4 + k * 32 + m] << (2 * k);
          out[o + j + m] = q;
        }
      }
      const h = f32ToF16Bits(d);
      out[o + 64] = h & 0xff;
      out[o + 65] = h >>> 8;
    }
    return out;
  },
};

// I2_S (bitnet.cpp, x86 layout): flat over the tensor, 128 weights per 32 bytes,
// byte[32b+p] = t[128b+p]<<6 | t[128b+32+p]<<4 | t[128b+64+p]<<2 | t[128b+96+p], then one f32
// scale in a 32-byte tail. Code 3 is not produced by any encoder; it decodes as +2 (what a dot
// kernel computing (t-1) would do) rather than being hidden.
const I2_S_ROW: GGMLTypeInfo = {
  id: 36, name: 'I2_S', blockSize: 128, typeSize: 32, tensorExtraBytes: 32, blockAxis: 'tensor',
  ternary: { decoder: 'decode_i2_s', decoderCount: 'elements', repacker: 'repack_i2_s' },
  dequantize(bytes, n) {
    checkDecodeArgs('I2_S', 128, bytes, n, n / 4 + 32);
    const scale = view(bytes).getFloat32(n / 4, true);
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      const r = i & 127;
      const byte = bytes[(i >> 7) * 32 + (r & 31)];
      out[i] = (((byte >> (6 - 2 * (r >> 5))) & 3) - 1) * scale;
    }
    return out;
  },
  quantize(values) {
    const nb = checkEncodeArgs('I2_S', 128, values);
    const n = values.length;
    const out = new Uint8Array(n / 4 + 32);
    const scale = blockAbsMax(values, 0, n);
    const t = new Uint8Array(n);
    ternaryCodes(values, 0, n, scale, t);
    for (let b = 0; b < nb; b++) {
      for (let p = 0; p < 32; p++) {
        const i = 128 * b + p;
        out[32 * b + p] = (t[i] << 6) | (t[i + 32] << 4) | (t[i + 64] << 2) | t[i + 96];
      }
    }
    view(out).setFloat32(n / 4, scale, true);
    return out;
  },
};

/** Types we can size (so a file using them parses and streams) but do not decode. */
function sizeOnly(name: GGMLTypeName, blockSize: number, typeSize: number): GGMLTypeInfo {
  return { id: GGMLType[name], name, blockSize, typeSize, tensorExtraBytes: 0, blockAxis: 'row' };
}

const ROWS: GGMLTypeInfo[] = [
  F32_ROW, F16_ROW, Q8_0_ROW, Q4_K_ROW, Q6_K_ROW, BF16_ROW, TQ1_0_ROW, TQ2_0_ROW, I2_S_ROW,
  sizeOnly('Q4_0', 32, 18), sizeOnly('Q4_1', 32, 20), sizeOnly('Q5_0', 32, 22), sizeOnly('Q5_1', 32, 24),
  sizeOnly('Q8_1', 32, 36), sizeOnly('Q2_K', 256, 84), sizeOnly('Q3_K', 256, 110), sizeOnly('Q5_K', 256, 176),
  sizeOnly('Q8_K', 256, 292), sizeOnly('IQ4_NL', 32, 18), sizeOnly('I8', 1, 1), sizeOnly('I16', 1, 2),
  sizeOnly('I32', 1, 4), sizeOnly('I64', 1, 8), sizeOnly('F64', 1, 8),
];

const BY_ID = new Map<number, GGMLTypeInfo>(ROWS.map((r) => [r.id, r]));
const BY_NAME = new Map<string, GGMLTypeInfo>(ROWS.map((r) => [r.name, r]));

/** The table, ordered by id. */
export const GGML_TYPES: readonly GGMLTypeInfo[] = [...ROWS].sort((a, b) => a.id - b.id);

/** The types whose rows carry ternary traits, by name (in id order). */
export const TERNARY_TYPE_NAMES: readonly GGMLTypeName[] = GGML_TYPES.filter((r) => r.ternary).map((r) => r.name);

/** The row's ternary traits when `type` (id or name) is a ternary type, else undefined. */
export function ternaryTraits(type: number | string): TernaryTraits | undefined {
  return ggmlTypeInfo(type)?.ternary;
}

/** Row for a type id or name; undefined when unknown. */
export function ggmlTypeInfo(type: number | string): GGMLTypeInfo | undefined {
  return typeof type === 'number' ? BY_ID.get(type) : BY_NAME.get(type);
}

function requireType(type: number | string): GGMLTypeInfo {
  const info = ggmlTypeInfo(type);
  if (!info) throw new BitnetError('UNSUPPORTED_TYPE', `unknown ggml type ${String(type)}`);
  return info;
}

/** Number of elements of a shape (GGUF order, ne[0] first). */
export function elementCount(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Bytes a tensor of this type and shape occupies in a GGUF data section (without padding). */
export function tensorByteSize(type: number | string, shape: readonly number[]): number {
  const info = requireType(type);
  for (const d of shape) {
    if (!Number.isSafeInteger(d) || d <= 0) throw new BitnetError('BAD_ARGUMENT', `bad dimension ${d} in shape [${shape.join(', ')}]`);
  }
  const n = elementCount(shape);
  const blocked = info.blockAxis === 'row' ? (shape.length ? shape[0] : 1) : n;
  if (blocked % info.blockSize !== 0) {
    throw new BitnetError('BAD_ARGUMENT', `${info.name} needs ${info.blockAxis === 'row' ? 'rows' : 'element counts'} that are multiples of ${info.blockSize}, shape [${shape.join(', ')}]`);
  }
  return (n / info.blockSize) * info.typeSize + info.tensorExtraBytes;
}

/** Decodes `n` elements of `type` from `bytes`. */
export function dequantize(type: number | string, bytes: Uint8Array, n: number): Float32Array {
  const info = requireType(type);
  if (!info.dequantize) throw new BitnetError('UNSUPPORTED_TYPE', `no decoder for ${info.name}`);
  return info.dequantize(bytes, n);
}

/** Encodes `values` as `type`. */
export function quantize(type: number | string, values: Float32Array): Uint8Array {
  const info = requireType(type);
  if (!info.quantize) throw new BitnetError('UNSUPPORTED_TYPE', `no encoder for ${info.name}`);
  return info.quantize(values);
}
