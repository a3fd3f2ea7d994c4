// Weight layouts of the ternary kernels and their packers. A TernaryMatrix stores one layout,
// the one its kernel reads; every layout pads rows and columns with zero weights.
//
//   LAYOUT_I8   row-major int8 trits, no padding (scalar reference kernel)
//   LAYOUT_I2   2-bit codes c = t + 1 (1.0 in padding), for the dot kernels. Rows in blocks of 4,
//               columns in chunks of 64: block rb, chunk c, row r -> 16 bytes; byte j holds in
//               bits 2k..2k+1 the code of column c*64 + k*16 + j. 2 bits per weight.
//   LAYOUT_TL3  3 trits in 5 bits for the lookup-table kernels (bitnet.cpp TL2's idea). Group g =
//               columns 3g..3g+2 with trits (a,b,c) -> v = 9(a+1) + 3(b+1) + (c+1) in 0..26.
//               Pattern 26-v is the negation of pattern v, so v >= 13 is stored as index v-13 with
//               sign +, v < 13 as index 13-v with sign -; a 14-entry table per group serves all.
//               Rows in blocks of 16, groups in super-blocks of 8 (24 columns): 80 bytes =
//               4 vectors N0..N3 (byte r of Nk: low nibble = index of group 2k of row r, high
//               nibble = group 2k+1) + 1 vector S (bit b of byte r = sign of group b, 1 = minus).
//               Then one i32 per padded row: its count of minus signs (the kernel's correction).
//               5/3 bits per weight.

import { LAYOUT_COUNT, LAYOUT_I2, LAYOUT_I8 } from "../abi"; // the ids

// The layout table: one row per layout id (../abi.ts LAYOUT_*, in id order). bindings/kernels.ts
// LAYOUTS is the JS side's copy; test/abi.test.ts checks that padded_rows / padded_cols /
// packed_bytes below answer what its rows say. Per layout: row multiple, column multiple (rows and
// columns are padded with zero weights to these), columns per group, bytes per group, bytes per row
// after its groups. Packed bytes = padded rows * (padded cols / group cols * group bytes + row bytes).
const LAYOUTS = memory.data<i32>([
  1, 1, 1, 1, 0,      // LAYOUT_I8: one byte per trit
  4, 64, 4, 1, 0,     // LAYOUT_I2: 4 trits per byte
  16, 24, 24, 5, 4,   // LAYOUT_TL3: 8 groups of 3 trits in 5 bytes; one i32 of minus signs per row
]);

// @ts-ignore: decorator
@inline function field(layout: i32, f: i32): i32 {
  if (<u32>layout >= <u32>LAYOUT_COUNT) layout = LAYOUT_I8;
  return load<i32>(LAYOUTS + (<usize>(layout * 5 + f) << 2));
}

// @ts-ignore: decorator
@inline function roundUp(n: i32, m: i32): i32 { return (n + m - 1) / m * m; }

export function padded_rows(layout: i32, rows: i32): i32 { return roundUp(rows, field(layout, 0)); }

export function padded_cols(layout: i32, cols: i32): i32 { return roundUp(cols, field(layout, 1)); }

/** Bytes of packed weights (excluding nothing: this is what the matrix allocates). */
export function packed_bytes(layout: i32, rows: i32, cols: i32): f64 {
  const rp = <f64>padded_rows(layout, rows), kp = <f64>padded_cols(layout, cols);
  return rp * ((kp / <f64>field(layout, 2)) * <f64>field(layout, 3) + <f64>field(layout, 4));
}

/** Checks that t holds only -1, 0, 1; returns the index of the first other value, or -1. */
export function find_non_ternary(t: usize, n: i32): i32 {
  for (let i = 0; i < n; i++) {
    const v = <i32>load<i8>(t + <usize>i);
    if (v < -1 || v > 1) return i;
  }
  return -1;
}

// @ts-ignore: decorator
@inline function trit(t: usize, cols: i32, r: i32, k: i32, rows: i32): i32 {
  return r < rows && k < cols ? <i32>load<i8>(t + <usize>r * <usize>cols + <usize>k) : 0;
}

/** Packs row-major trits t (rows x cols, validated) into `layout` at dst. */
export function pack(layout: i32, t: usize, rows: i32, cols: i32, dst: usize): void {
  pack_rows(layout, t, rows, cols, dst, 0, padded_rows(layout, rows));
}

/** Packs rows [r0, r1) of a rows x cols matrix (r0 and r1 multiples of padded_rows(layout, 1), or
 *  r1 = padded rows) into the whole matrix's packing at dst. t addresses row 0's trits: only rows
 *  r0 .. min(r1, rows) are read, so a caller holding just those rows passes their address minus
 *  r0 * cols (wasm32 addresses wrap, and only in-range rows are dereferenced). */
export function pack_rows(layout: i32, t: usize, rows: i32, cols: i32, dst: usize, r0: i32, r1: i32): void {
  if (layout == LAYOUT_I8) {
    const n = <usize>(min(r1, rows) - r0) * <usize>cols, o = <usize>r0 * <usize>cols;
    memory.copy(dst + o, t + o, n);
    return;
  }
  const kp = padded_cols(layout, cols);
  if (layout == LAYOUT_I2) {
    let o = dst + <usize>r0 * <usize>(kp >> 2);
    const one = i8x16.splat(1);
    for (let rb = r0; rb < r1; rb += 4) {
      for (let c = 0; c < kp; c += 64) {
        for (let r = rb; r < rb + 4; r++) {
          if (r < rows && c + 64 <= cols) {
            // Interior: 64 trits of one row -> 16 bytes, code of column c + 16k + j in bits 2k of byte j.
            const src = t + <usize>r * <usize>cols + <usize>c;
            const c0 = i8x16.add(v128.load(src), one), c1 = i8x16.add(v128.load(src, 16), one);
            const c2 = i8x16.add(v128.load(src, 32), one), c3 = i8x16.add(v128.load(src, 48), one);
            v128.store(o, v128.or(v128.or(c0, i8x16.shl(c1, 2)), v128.or(i8x16.shl(c2, 4), i8x16.shl(c3, 6))));
            o += 16;
            continue;
          }
          for (let j = 0; j < 16; j++) {
            let byte = 0;
            for (let k = 0; k < 4; k++) byte |= (trit(t, cols, r, c + k * 16 + j, rows) + 1) << (2 * k);
            store<u8>(o++, <u8>byte);
          }
        }
      }
    }
    return;
  }
  // LAYOUT_TL3
  const nsb = kp / 24;
  const counts = dst + <usize>padded_rows(layout, rows) * <usize>nsb * 5;
  let o = dst + <usize>r0 * <usize>nsb * 5;
  for (let rb = r0; rb < r1; rb += 16) {
    for (let r = 0; r < 16; r++) store<i32>(counts + (<usize>(rb + r) << 2), 0);
    for (let sb = 0; sb < nsb; sb++) {
      for (let r = 0; r < 16; r++) {
        if (rb + r < rows && sb * 24 + 24 <= cols) {
          // Interior: the row's 24 trits at once. v' = 9a + 3b + c in [-13, 13]; index |v'|, sign v' < 0.
          const src = t + <usize>(rb + r) * <usize>cols + <usize>(sb * 24);
          const lo = v128.load(src), hi = v128.load64_zero(src + 16);
          const a = i8x16.shuffle(lo, hi, 0, 3, 6, 9, 12, 15, 18, 21, 0, 0, 0, 0, 0, 0, 0, 0);
          const b = i8x16.shuffle(lo, hi, 1, 4, 7, 10, 13, 16, 19, 22, 0, 0, 0, 0, 0, 0, 0, 0);
          const c = i8x16.shuffle(lo, hi, 2, 5, 8, 11, 14, 17, 20, 23, 0, 0, 0, 0, 0, 0, 0, 0);
          const a2 = i8x16.add(a, a), a8 = i8x16.add(i8x16.add(a2, a2), i8x16.add(a2, a2));
          const v = i8x16.add(i8x16.add(i8x16.add(a8, a), i8x16.add(i8x16.add(b, b), b)), c);
          const idx = i8x16.abs(v);
          // lanes 0..7 = groups 0..7: byte k of the nibble vectors = group 2k | group 2k+1 << 4
          const even = i8x16.shuffle(idx, idx, 0, 2, 4, 6, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);
          const odd = i8x16.shuffle(idx, idx, 1, 3, 5, 7, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);
          const nib = v128.or(even, i16x8.shl(odd, 4));
          store<u8>(o + <usize>r, <u8>i8x16.extract_lane_u(nib, 0));
          store<u8>(o + 16 + <usize>r, <u8>i8x16.extract_lane_u(nib, 1));
          store<u8>(o + 32 + <usize>r, <u8>i8x16.extract_lane_u(nib, 2));
          store<u8>(o + 48 + <usize>r, <u8>i8x16.extract_lane_u(nib, 3));
          const signs = i8x16.bitmask(v) & 0xff;
          store<u8>(o + 64 + <usize>r, <u8>signs);
          const cp = counts + (<usize>(rb + r) << 2);
          store<i32>(cp, load<i32>(cp) + <i32>popcnt(signs));
          continue;
        }
        let signs = 0;
        for (let b = 0; b < 8; b++) {
          const k = (sb * 8 + b) * 3;
          const v = 9 * (trit(t, cols, rb + r, k, rows) + 1) + 3 * (trit(t, cols, rb + r, k + 1, rows) + 1)
                  + (trit(t, cols, rb + r, k + 2, rows) + 1);
          let idx = v - 13;
          if (v < 13) { idx = 13 - v; signs |= 1 << b; }
          const nb = o + <usize>((b >> 1) * 16 + r);
          store<u8>(nb, (b & 1) ? (load<u8>(nb) | <u8>(idx << 4)) : <u8>idx);
        }
        store<u8>(o + 64 + <usize>r, <u8>signs);
        const cp = counts + (<usize>(rb + r) << 2);
        store<i32>(cp, load<i32>(cp) + <i32>popcnt(signs));
      }
      o += 80;
    }
  }
}
