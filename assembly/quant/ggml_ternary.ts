// Decoders of the ternary GGUF tensor types (llama.cpp TQ1_0 / TQ2_0, bitnet.cpp I2_S) straight
// into int8 trits in wasm memory, for repacking into the kernels' layouts (block layouts: each
// decoder's comment; llama.cpp ggml-common.h and bitnet.cpp are the references). Each returns the
// tensor's one scale (>= 0), SCALES_DIFFER when non-zero blocks carry different scales (the
// per-tensor kernels cannot run it exactly), or BAD_CODE.
import { DECODE_BAD_CODE, DECODE_SCALES_DIFFER } from "../abi";

const SCALES_DIFFER = <f32>DECODE_SCALES_DIFFER;
const BAD_CODE = <f32>DECODE_BAD_CODE;

/** IEEE half -> f32, exact (subnormals, inf, NaN). */
export function f16_to_f32(h: u32): f32 {
  const s = (h & 0x8000) << 16, e = (h >> 10) & 0x1f, m = h & 0x3ff;
  if (e == 0x1f) return reinterpret<f32>(s | 0x7f800000 | (m << 13));
  if (e == 0) return m == 0 ? reinterpret<f32>(s) : (s ? -1 : 1) * <f32>m * reinterpret<f32>(0x33800000); // m * 2^-24
  return reinterpret<f32>(s | ((e + 112) << 23) | (m << 13));
}

// Tracks the one scale of a tensor over its blocks: all-zero blocks may carry any d.
// @ts-ignore: decorator
@lazy let scaleBits: u32 = 0;
// @ts-ignore: decorator
@lazy let scaleSet = false;
// @ts-ignore: decorator
@lazy let scaleBad = false;

// @ts-ignore: decorator
@inline export function noteScale(bits: u32, blockNonZero: bool): void {
  if (!blockNonZero || bits == 0) return;
  if (!scaleSet) { scaleBits = bits; scaleSet = true; } else if (bits != scaleBits) scaleBad = true;
}

// A block's value is (q - 1) * d: d = 0 makes it all zeros, a negative d flips its trits.
function finishBlock(d: u32, nz: bool, out: usize): void {
  const mag = d & 0x7fff;
  if (!nz) return;
  if (mag == 0) { memory.fill(out, 0, 256); return; }
  noteScale(mag, true);
  if (d & 0x8000) for (let i = 0; i < 256; i++) store<i8>(out + <usize>i, -load<i8>(out + <usize>i));
}

function result(isF16: bool): f32 {
  if (scaleBad) return SCALES_DIFFER;
  if (!scaleSet) return 0;
  return isF16 ? abs(f16_to_f32(scaleBits)) : abs(reinterpret<f32>(scaleBits));
}

/** TQ2_0: 66-byte blocks of 256 (qs[64], f16 d); code q = t + 1 in bits 2n of qs[j + m] for element j*4 + 32n + m. */
export function decode_tq2_0(src: usize, nBlocks: i32, dst: usize): f32 {
  ternary_scale_begin();
  return tq2_0_blocks(src, nBlocks, dst) ? BAD_CODE : result(true);
}

/** Starts tracking one tensor's scale over decoder calls on its parts (the row-wise loaders). */
export function ternary_scale_begin(): void { scaleSet = false; scaleBad = false; }

/** The tensor's one scale (f16 d's), SCALES_DIFFER, or 0 when every block was zero. */
export function ternary_scale_f16(): f32 { return result(true); }

/** Decodes nBlocks TQ2_0 blocks into trits, noting their scales; true when a code 3 was found. */
export function tq2_0_blocks(src: usize, nBlocks: i32, dst: usize): bool {
  const three = i8x16.splat(3), one = i8x16.splat(1);
  for (let b = 0; b < nBlocks; b++) {
    const blk = src + <usize>b * 66, out = dst + (<usize>b << 8);
    let bad = i8x16.splat(0), nzv = i8x16.splat(0);
    // 32 bytes at qs + j hold elements j*4 + 32n + m (m < 32) in bits 2n: two vectors per (j, n).
    for (let j = 0; j < 64; j += 32) {
      const v0 = v128.load(blk + <usize>j), v1 = v128.load(blk + <usize>j, 16);
      for (let n = 0; n < 4; n++) {
        const q0 = v128.and(i16x8.shr_u(v0, <u32>(2 * n)), three), q1 = v128.and(i16x8.shr_u(v1, <u32>(2 * n)), three);
        bad = v128.or(bad, v128.or(i8x16.eq(q0, three), i8x16.eq(q1, three)));
        nzv = v128.or(nzv, v128.or(i8x16.ne(q0, one), i8x16.ne(q1, one)));
        const o = out + <usize>(j * 4 + n * 32);
        v128.store(o, i8x16.sub(q0, one));
        v128.store(o, i8x16.sub(q1, one), 16);
      }
    }
    if (v128.any_true(bad)) return true;
    finishBlock(<u32>load<u16>(blk + 64), v128.any_true(nzv), out);
  }
  return false;
}

// @ts-ignore: decorator
@inline function digit(byte: u32, pow3: u32): i32 {
  // TQ1_0 stores a base-3 number as ceil(v * 256 / 243); digit n is ((u8)(byte * 3^n) * 3) >> 8.
  return <i32>((((byte * pow3) & 0xff) * 3) >> 8);
}

/** TQ1_0: 54-byte blocks of 256 (qs[48], qh[4], f16 d), five trits per byte in qs, four in qh. */
export function decode_tq1_0(src: usize, nBlocks: i32, dst: usize): f32 {
  ternary_scale_begin();
  tq1_0_blocks(src, nBlocks, dst);
  return result(true);
}

/** Decodes nBlocks TQ1_0 blocks into trits, noting their scales (every byte is a valid code). */
export function tq1_0_blocks(src: usize, nBlocks: i32, dst: usize): void {
  for (let b = 0; b < nBlocks; b++) {
    const blk = src + <usize>b * 54, out = dst + (<usize>b << 8);
    let nz = false;
    let pow3: u32 = 1;
    for (let n = 0; n < 5; n++) {
      for (let m = 0; m < 32; m++) {
        const t = digit(load<u8>(blk + <usize>m), pow3) - 1;
        nz = nz || t != 0;
        store<i8>(out + <usize>(m + 32 * n), <i8>t);
      }
      for (let m = 0; m < 16; m++) {
        const t = digit(load<u8>(blk + 32 + <usize>m), pow3) - 1;
        nz = nz || t != 0;
        store<i8>(out + <usize>(160 + m + 16 * n), <i8>t);
      }
      pow3 *= 3;
    }
    pow3 = 1;
    for (let n = 0; n < 4; n++) {
      for (let j = 0; j < 4; j++) {
        const t = digit(load<u8>(blk + 48 + <usize>j), pow3) - 1;
        nz = nz || t != 0;
        store<i8>(out + <usize>(240 + j + 4 * n), <i8>t);
      }
      pow3 *= 3;
    }
    finishBlock(<u32>load<u16>(blk + 52), nz, out);
  }
}

/** I2_S (bitnet.cpp, x86 layout): n/4 bytes in blocks of 128 weights / 32 bytes,
 *  byte[b*32+p] = q[b*128+p]<<6 | q[b*128+32+p]<<4 | q[b*128+64+p]<<2 | q[b*128+96+p], q = t + 1;
 *  then one f32 scale for the whole tensor. n % 128 == 0. */
export function decode_i2_s(src: usize, n: i32, dst: usize): f32 {
  const s = load<f32>(src + (<usize>n >> 2));
  if (i2_s_blocks(src, n, dst, s < 0)) return BAD_CODE;
  if (!(s - s == 0)) return SCALES_DIFFER;
  return abs(s);
}

/** n I2_S elements (n % 128 == 0) into trits, negated when neg; true when a code 3 is found. */
export function i2_s_blocks(src: usize, n: i32, dst: usize, neg: bool): bool {
  for (let b = 0; b < (n >> 7); b++) {
    const blk = src + (<usize>b << 5), out = dst + (<usize>b << 7);
    for (let p = 0; p < 32; p++) {
      const v = <i32>load<u8>(blk + <usize>p);
      for (let k = 0; k < 4; k++) {
        const q = (v >> (6 - 2 * k)) & 3;
        if (q == 3) return true;
        store<i8>(out + <usize>(k * 32 + p), <i8>(neg ? 1 - q : q - 1));
      }
    }
  }
  return false;
}
