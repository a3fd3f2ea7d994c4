/**
 * Exact IEEE 754 conversions between f32 and the 16-bit formats ggml stores (f16 = binary16, bf16 =
 * the top half of an f32). Encoding rounds to nearest, ties to even, like the hardware and ggml's
 * F16C / bf16 paths do, so files we write are bit-identical to what llama.cpp would produce.
 */

// One shared scratch word to move between a float and its bits without allocating per call.
const scratchF32 = new Float32Array(1);
const scratchU32 = new Uint32Array(scratchF32.buffer);

/** Bits of `x` rounded to f32 (JS numbers are f64; the formats are defined on f32 inputs). */
export function f32Bits(x: number): number {
  scratchF32[0] = x;
  return scratchU32[0];
}

export function f32FromBits(bits: number): number {
  scratchU32[0] = bits >>> 0;
  return scratchF32[0];
}

/** f32 -> f16 bits, round-to-nearest-even; overflow goes to inf, NaN stays NaN (quiet). */
export function f32ToF16Bits(x: number): number {
  const b = f32Bits(x);
  const sign = (b >>> 16) & 0x8000;
  const exp = (b >>> 23) & 0xff;
  const mant = b & 0x7fffff;
  if (exp === 0xff) {
    // Keep the top payload bits and force the quiet bit so a NaN never turns into inf.
    return mant === 0 ? sign | 0x7c00 : sign | 0x7e00 | (mant >>> 13);
  }
  const e = exp - 127 + 15;
  if (e >= 31) return sign | 0x7c00;
  if (e <= 0) {
    // Result is subnormal (or zero): value in units of 2^-24 is M * 2^(exp-126).
    if (exp === 0) return sign; // f32 subnormals are far below half the smallest f16 subnormal
    const shift = 126 - exp; // >= 14
    if (shift >= 25) return sign; // < 0.5 units: rounds to zero
    const m = mant | 0x800000;
    let q = m >>> shift;
    const rem = m & ((1 << shift) - 1);
    const half = 1 << (shift - 1);
    if (rem > half || (rem === half && (q & 1) !== 0)) q++;
    return sign | q; // q may reach 0x400: that is exactly the smallest normal
  }
  let q = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && (q & 1) !== 0)) q++; // carry into the exponent is correct
  return sign | q;
}

let f16Table: Float32Array | null = null;

/** All 65536 f16 values, built once: decoding big tensors is a table lookup. */
function table(): Float32Array {
  if (f16Table) return f16Table;
  const t = new Float32Array(65536);
  for (let h = 0; h < 65536; h++) t[h] = f16BitsToF32Slow(h);
  f16Table = t;
  return t;
}

function f16BitsToF32Slow(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >>> 10) & 0x1f;
  const mant = h & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24;
  if (exp === 31) return mant === 0 ? sign * Infinity : NaN;
  return sign * (1 + mant / 1024) * 2 ** (exp - 15);
}

export function f16BitsToF32(h: number): number {
  return table()[h & 0xffff];
}

/** f32 -> bf16 bits: round-to-nearest-even on the low 16 bits; NaN kept quiet. */
export function f32ToBF16Bits(x: number): number {
  const b = f32Bits(x);
  if ((b & 0x7f800000) === 0x7f800000 && (b & 0x7fffff) !== 0) return ((b >>> 16) | 0x40) & 0xffff;
  return ((b + 0x7fff + ((b >>> 16) & 1)) >>> 16) & 0xffff;
}

export function bf16BitsToF32(h: number): number {
  return f32FromBits((h & 0xffff) << 16);
}
