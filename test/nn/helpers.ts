// Shared helpers for the nn/math kernel tests: raw module access, f32 buffers in linear memory,
// ulp measurement and a seeded PRNG.
import { createRuntime } from '../../src/init.js';
import type { WasmRuntime } from '../../bindings/runtime.js';

export type Raw = Record<string, (...args: number[]) => number>;

export async function simd128(): Promise<{ rt: WasmRuntime; e: Raw }> {
  const rt = await createRuntime({ build: 'simd128' });
  return { rt, e: rt.exports as unknown as Raw };
}

/** The build these tests check: simd128, or relaxed in scripts/test.mjs's Node 24 pass, which sets
 *  BITNET_TEST_BUILD=relaxed, so every nn test runs on both builds across the two passes. */
export const BUILD = process.env.BITNET_TEST_BUILD === 'relaxed' ? 'relaxed' : 'simd128';
export async function buildUnderTest(): Promise<{ rt: WasmRuntime; e: Raw }> {
  const rt = await createRuntime({ build: BUILD });
  return { rt, e: rt.exports as unknown as Raw };
}

/** The relaxed build, or null when this engine does not run it (Node 20: UNSUPPORTED_BUILD, and
 *  only that; any other error, or a missing build where the pass requires it, fails the test). */
export async function relaxedOrNull(): Promise<{ rt: WasmRuntime; e: Raw } | null> {
  try {
    const rt = await createRuntime({ build: 'relaxed' });
    return { rt, e: rt.exports as unknown as Raw };
  } catch (e) {
    if ((e as { code?: string }).code === 'UNSUPPORTED_BUILD' && BUILD !== 'relaxed') return null;
    throw e;
  }
}

/** Mulberry32: deterministic uniform [0, 1) (shared with the GGUF tests). */
export { prng } from '../gguf/helpers.js';

/** Standard normal (Box-Muller) from a uniform source. */
export function gauss(rnd: () => number): number {
  const u = 1 - rnd(), v = rnd();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

export function randF32(n: number, rnd: () => number, scale = 1): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = gauss(rnd) * scale;
  return a;
}

/** Spacing of f32 values at the magnitude of the exact value r (subnormal spacing below 2^-126). */
export function ulpF32(r: number): number {
  const a = Math.abs(r);
  if (a < 2 ** -126) return 2 ** -149;
  let e = Math.floor(Math.log2(a));
  if (2 ** e > a) e--;
  else if (2 ** (e + 1) <= a) e++;
  return 2 ** (e - 23);
}

export function ulpF64(r: number): number {
  const a = Math.abs(r);
  if (a < 2 ** -1022) return 2 ** -1074;
  let e = Math.floor(Math.log2(a));
  if (2 ** e > a) e--;
  else if (2 ** (e + 1) <= a) e++;
  return 2 ** (e - 52);
}

/** |got - exact| in f32 ulps of the exact value. */
export function ulpErr(got: number, exact: number): number {
  if (got === exact) return 0;
  return Math.abs(got - exact) / ulpF32(exact);
}

/** Copies a Float32Array into freshly allocated linear memory; returns the pointer. */
export function put(rt: WasmRuntime, a: Float32Array | Uint16Array): number {
  const p = rt.alloc(a.byteLength);
  new Uint8Array(rt.exports.memory.buffer, p, a.byteLength).set(new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
  return p;
}

export function getF32(rt: WasmRuntime, p: number, n: number): Float32Array {
  return new Float32Array(rt.exports.memory.buffer.slice(p, p + 4 * n));
}

export function bits(a: Float32Array): Uint32Array {
  return new Uint32Array(a.buffer.slice(a.byteOffset, a.byteOffset + a.byteLength));
}

/** f32 value with the given bit pattern. */
export function f32FromBits(b: number): number {
  return new Float32Array(new Uint32Array([b >>> 0]).buffer)[0];
}
