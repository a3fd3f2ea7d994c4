// Per-token int8 absmax quantization, exposed for users and for checking the kernels' input.
import type { WasmRuntime } from '../bindings/runtime.js';
import { BitnetError } from './errors.js';
import { getRuntime } from './init.js';
import { checkArray } from './validate.js';

export interface QuantizedActivations {
  q: Int8Array;
  /** amax / 127 (f32); x ~= q * step. 0 when x is all zeros. */
  step: number;
}

/** q = clamp(roundHalfEven(x / step), -127, 127) with step = max|x| / 127, all in f32 (computed in wasm). */
export function quantizeActivations(x: Float32Array, runtime?: WasmRuntime): QuantizedActivations {
  const rt = runtime ?? getRuntime();
  if (!(x instanceof Float32Array)) checkArray('x', x, Float32Array, 0);
  const n = x.length;
  const xo = (n * 4 + 15) & ~15;
  const base = rt.scratch(xo + n + 16);
  rt.f32.set(x, base >>> 2);
  const step = rt.exports.quantize_row(base, n, base + xo, n);
  if (step < 0) throw new BitnetError('NON_FINITE', 'x holds a NaN or an infinity');
  return { q: rt.i8.slice(base + xo, base + xo + n), step };
}
