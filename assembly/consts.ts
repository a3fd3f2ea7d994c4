// Vector constants kept in linear memory and loaded once per kernel call. V8 re-materializes a
// v128.const at every use inside a loop (3 instructions for a splat pattern); a loaded value is
// an ordinary register instead. Binaryen does not fold loads, so this survives -O3.

// @ts-ignore: decorator
@lazy const CONSTS = memory.data<u8>([
  3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3,                      // +0  two-bit mask
  15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15,      // +16 nibble mask
  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,                      // +32 zero
], 16);

// @ts-ignore: decorator
@inline export function mask2(): v128 { return v128.load(CONSTS); }
// @ts-ignore: decorator
@inline export function mask4(): v128 { return v128.load(CONSTS, 16); }
// @ts-ignore: decorator
@inline export function zero(): v128 { return v128.load(CONSTS, 32); }
