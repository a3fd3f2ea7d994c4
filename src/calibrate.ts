// Kernel choice by measurement: which kernel is fastest depends on the CPU (an AMD EPYC runs
// tl3-relaxed ahead of i2-dot for GEMV and behind it for GEMM; an Intel Xeon had i2-dot ahead for
// both), so a short calibration times every candidate kernel of the instance's build on one
// representative shape and picks, per role, the fastest. All kernels agree bit for bit, so the
// choice changes speed only, never output. Cached per runtime (one WeakMap entry per instance).
import { KERNELS, kernelRow, LAYOUTS, type KernelName, type KernelRole, type LayoutName } from '../bindings/kernels.js';
import type { WasmRuntime } from '../bindings/runtime.js';
import { MATMUL } from '../bindings/abi.js';

export type Layout = LayoutName;

/** The kernels chosen for one weight layout: decode-style GEMV (one token) and prefill-style GEMM. */
export interface RoleChoice { gemv: KernelName; gemm: KernelName }

export interface Calibration {
  /** Fastest GEMV kernel over every layout: the default of TernaryMatrix and of models (a model's
   *  layout is fixed when its weights are packed, and decode is GEMV-bound). */
  gemv: KernelName;
  /** Fastest GEMM kernel over every layout. */
  gemm: KernelName;
  /** Per layout, the fastest kernel of that layout for each role (a packed matrix can switch kernels
   *  only within its layout). */
  byLayout: Partial<Record<Layout, RoleChoice>>;
  /** Microseconds per call on the calibration shape (best of the repeats), per kernel; empty when
   *  the build has a single candidate (simd128: tl3), which is then taken without timing. */
  timings: Partial<Record<KernelName, { gemvUs: number; gemmUs: number }>>;
  /** The shape timed: rows x cols, and the GEMM's token count. */
  shape: { rows: number; cols: number; gemmN: number };
  /** What the calibration itself cost, in milliseconds. */
  ms: number;
  /** False when the clock did not move while timing (workerd stops it during synchronous code):
   *  the choice is then UNMEASURED_CHOICE's, not a measurement. */
  measured: boolean;
}

// A decoder-sized matrix (2560 wide like the `large` preset; ~0.6 MB packed, past L2 like a
// model's weights) and a prefill batch. Scalar is the reference kernel, never a candidate.
const ROWS = 1024, COLS = 2560, GEMM_N = 8;
const GEMV_REPS = 6, GEMM_REPS = 1, ROUNDS = 3;
const PATTERN = 4096; // random trits, repeated (speed does not depend on the values)

/** What a clock that stands still gets (the fastest on the machines measured so far, bitnet-wasm bench --suite kernels). */
const UNMEASURED_CHOICE: Record<Layout, RoleChoice> = {
  i8: { gemv: 'scalar', gemm: 'scalar' }, i2: { gemv: 'i2-dot32', gemm: 'i2-dot16' }, tl3: { gemv: 'tl3-relaxed', gemm: 'tl3-relaxed' },
};

const cache = new WeakMap<WasmRuntime, Calibration>();
const now = () => (typeof performance !== 'undefined' ? performance.now() : Date.now());

/** The runtime's calibration, measured on first call (tens of milliseconds) and cached. */
export function calibration(rt: WasmRuntime): Calibration {
  let c = cache.get(rt);
  if (!c) { c = calibrate(rt); cache.set(rt, c); }
  return c;
}

/** The kernel for `role` among the kernels sharing `kernel`'s layout (the calibrated choice). */
export function kernelForRole(rt: WasmRuntime, kernel: KernelName, role: keyof RoleChoice): KernelName {
  return calibration(rt).byLayout[kernelRow(kernel).layout]?.[role] ?? kernel;
}

function calibrate(rt: WasmRuntime): Calibration {
  const t0 = now();
  const e = rt.exports;
  // The kernel table's candidates for a role that this build has.
  const rows = KERNELS.filter((k) => k.roles.length > 0 && e.kernel_available(k.id) === 1);
  const candidates: KernelName[] = rows.map((k) => k.name);
  const id = (k: KernelName) => kernelRow(k).id;
  const layouts = LAYOUTS.filter((l) => rows.some((k) => k.layout === l.name));
  const shape = { rows: ROWS, cols: COLS, gemmN: GEMM_N };
  if (candidates.length === 1) { // the simd128 build: nothing to choose between, nothing to time
    const k = candidates[0];
    return { gemv: k, gemm: k, byLayout: { [layouts[0].name]: { gemv: k, gemm: k } }, timings: {}, shape, ms: Math.round((now() - t0) * 10) / 10, measured: true };
  }
  const scratchBytes = Math.max(...candidates.map((k) => e.matmul_scratch_bytes(id(k), ROWS, COLS, GEMM_N)));
  const trits = rt.alloc(ROWS * COLS, 'calibration trits', true);
  const packed = new Map<LayoutName, number>();
  let x = 0, out = 0, scratch = 0;
  const timings: Calibration['timings'] = {};
  try {
    // Fixed pseudo-random trits and activations (xorshift32): the kernels' speed does not depend
    // on the values, only on the shape.
    let s = 0x9e3779b9;
    const next = () => { s ^= s << 13; s ^= s >>> 17; s ^= s << 5; return s >>> 0; };
    const i8 = rt.i8;
    for (let i = 0; i < PATTERN; i++) i8[trits + i] = (next() % 3) - 1;
    for (let n = PATTERN; n < ROWS * COLS; n *= 2) i8.copyWithin(trits + n, trits, trits + Math.min(n, ROWS * COLS - n));
    for (const l of layouts) {
      const p = rt.alloc(e.packed_bytes(l.id, ROWS, COLS), 'calibration matrix', true);
      packed.set(l.name, p);
      e.pack(l.id, trits, ROWS, COLS, p);
    }
    x = rt.alloc(GEMM_N * COLS * 4, 'calibration activations', true);
    out = rt.alloc(GEMM_N * ROWS * 4, 'calibration output', true);
    scratch = rt.alloc(scratchBytes, 'calibration scratch', true);
    const f32 = rt.f32;
    for (let i = 0; i < GEMM_N * COLS; i++) f32[(x >>> 2) + i] = ((next() & 0xffff) - 32768) / 8192;
    const time = (k: KernelName, n: number, reps: number): number => {
      const row = kernelRow(k), w = packed.get(row.layout)!;
      const a = now();
      for (let r = 0; r < reps; r++) e.ternary_matmul(row.id, w, ROWS, COLS, x, n, out, 1, scratch);
      return ((now() - a) * 1000) / reps;
    };
    for (const k of candidates) { time(k, 1, 2); time(k, GEMM_N, 1); } // warm up (tier-up, caches)
    // Rounds interleave the kernels so a burst of load from elsewhere hits them all alike.
    for (let round = 0; round < ROUNDS; round++) {
      for (const k of candidates) {
        const gemvUs = time(k, 1, GEMV_REPS), gemmUs = time(k, GEMM_N, GEMM_REPS);
        const t = timings[k];
        timings[k] = t ? { gemvUs: Math.min(t.gemvUs, gemvUs), gemmUs: Math.min(t.gemmUs, gemmUs) } : { gemvUs, gemmUs };
      }
    }
  } finally {
    for (const p of packed.values()) rt.free(p);
    rt.free(trits); rt.free(x); rt.free(out); rt.free(scratch);
  }
  const measured = candidates.some((k) => timings[k]!.gemvUs > 0 && timings[k]!.gemmUs > 0);
  // The fastest of `ks` among the kernels that may take `role`.
  const fastest = (ks: KernelName[], role: KernelRole) => ks.filter((k) => (kernelRow(k).roles as readonly KernelRole[]).includes(role))
    .reduce((a, b) => (timings[b]![`${role}Us`] < timings[a]![`${role}Us`] ? b : a));
  const byLayout: Calibration['byLayout'] = {};
  for (const { name } of layouts) {
    const ks = candidates.filter((k) => kernelRow(k).layout === name);
    byLayout[name] = measured ? { gemv: fastest(ks, 'gemv'), gemm: fastest(ks, 'gemm') } : UNMEASURED_CHOICE[name];
  }
  for (const k of Object.keys(timings) as KernelName[]) {
    const t = timings[k]!;
    timings[k] = { gemvUs: Math.round(t.gemvUs * 10) / 10, gemmUs: Math.round(t.gemmUs * 10) / 10 };
  }
  return {
    gemv: measured ? fastest(candidates, 'gemv') : UNMEASURED_CHOICE.i2.gemv,
    gemm: measured ? fastest(candidates, 'gemm') : UNMEASURED_CHOICE.i2.gemm, byLayout, timings, shape, measured, ms: Math.round((now() - t0) * 10) / 10,
  };
}

// Decode's kernel, measured where it runs. The runtime calibration above times one cache-hot
// matrix on one thread without the streaming hint, but a model's decode streams its weights from
// memory with the hint (touch-ahead, MATMUL.STREAMING) on its own thread count, and what is fastest
// there can differ: on a 2-core AMD EPYC the i2 GEMV with touch-ahead (i2-dot, i2-dot32) gained
// nothing from a second thread on an 8B model while the one without (i2-dot16) gained 1.7x. So a
// model times the GEMV of each kernel of its layout on its own weights, as decode calls them.

/** A packed ternary matrix of a model: packed-weights pointer and shape. */
export interface DecodeMatrix { ptr: number; rows: number; cols: number }

/** Milliseconds the decode calibration aims to stay under (it stops adding rounds past it). */
const DECODE_BUDGET_MS = 60;
const DECODE_ROUNDS = 3;
/** Weight bytes one timing pass reads (a layer's first matrices up to it: past a core's L2, and a
 *  fresh layer each pass keeps them from coming out of a warm cache). */
const PASS_BYTES = 16 << 20;

const decodeCache = new WeakMap<WasmRuntime, Map<string, KernelName>>();

/** The fastest GEMV kernel of `kernel`'s layout on `layers` (each a list of a layer's packed
 *  matrices, in that layout) at `threads` threads, as decode calls it (streaming hint on). Each
 *  pass runs one whole layer, a different one each time, so weights come from wherever decode
 *  finds them (memory, for a model larger than the caches). Cached per (runtime, threads, layout,
 *  matrix shapes); `kernel` itself when its layout has one candidate or the clock stands still. */
export function decodeKernel(rt: WasmRuntime, kernel: KernelName, threads: number, layers: DecodeMatrix[][]): KernelName {
  const layout = kernelRow(kernel).layout, e = rt.exports;
  const ks = KERNELS.filter((k) => k.layout === layout && (k.roles as readonly KernelRole[]).includes('gemv') && e.kernel_available(k.id) === 1);
  const lid = e.kernel_layout(kernelRow(kernel).id);
  // Each layer's first matrices up to PASS_BYTES (every layer of a model has the same shapes).
  const all = layers.map((l) => {
    let bytes = 0;
    return l.filter((m) => { const take = bytes < PASS_BYTES; bytes += e.packed_bytes(lid, m.rows, m.cols); return take; });
  }).filter((l) => l.length > 0);
  if (ks.length < 2 || all.length === 0) return kernel;
  const key = `${threads}|${layout}|${all.length}|${all[0].map((m) => `${m.rows}x${m.cols}`).join(',')}`;
  let byKey = decodeCache.get(rt);
  if (!byKey) { byKey = new Map(); decodeCache.set(rt, byKey); }
  const cached = byKey.get(key);
  if (cached) return cached;
  const mats = all.flat();
  const maxCols = Math.max(...mats.map((m) => m.cols)), maxRows = Math.max(...mats.map((m) => m.rows));
  const scratchBytes = Math.max(...ks.flatMap((k) => mats.map((m) => e.matmul_scratch_bytes(k.id, m.rows, m.cols, 1))));
  let x = 0, out = 0, scratch = 0;
  const best = new Map<KernelName, number>();
  try {
    try {
      x = rt.alloc(maxCols * 4, 'decode calibration activations', true);
      out = rt.alloc(maxRows * 4, 'decode calibration output', true);
      scratch = rt.alloc(scratchBytes, 'decode calibration scratch', true);
    } catch (err) {
      // A model that fills memory to the last page still loads: no room to time, so the runtime
      // calibration's kernel stays (not cached: the next model may have room).
      if ((err as { code?: string }).code === 'OUT_OF_MEMORY') return kernel;
      throw err;
    }
    let s = 0x9e3779b9;
    const f32 = rt.f32;
    for (let i = 0; i < maxCols; i++) { s ^= s << 13; s ^= s >>> 17; s ^= s << 5; f32[(x >>> 2) + i] = (((s >>> 0) & 0xffff) - 32768) / 8192; }
    rt.useThreads(threads);
    let layer = 0;
    const pass = (id: number): number => {
      const l = all[layer++ % all.length], a = now();
      for (const m of l) e.ternary_matmul(id | MATMUL.STREAMING, m.ptr, m.rows, m.cols, x, 1, out, 1, scratch);
      return now() - a;
    };
    const t0 = now();
    for (const k of ks) pass(k.id); // warm up (tier-up)
    const warm = now() - t0;
    // Rounds interleave the kernels so a burst of load from elsewhere hits them all alike.
    const rounds = Math.max(1, Math.min(DECODE_ROUNDS, Math.floor((DECODE_BUDGET_MS - warm) / Math.max(warm, 1e-3))));
    for (let r = 0; r < rounds; r++) {
      for (const k of ks) { const t = pass(k.id); best.set(k.name, Math.min(best.get(k.name) ?? Infinity, t)); }
    }
    rt.checkThreads();
  } finally {
    rt.free(x); rt.free(out); rt.free(scratch);
  }
  // Unmeasured (a clock that stands still): keep the runtime calibration's kernel.
  const measured = [...best.values()].some((t) => t > 0);
  const pick = measured ? [...best.entries()].reduce((a, b) => (b[1] < a[1] ? b : a))[0] : kernel;
  byKey.set(key, pick);
  return pick;
}
