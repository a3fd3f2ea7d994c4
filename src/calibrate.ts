// Kernel choice by measurement: which kernel is fastest depends on the CPU (an AMD EPYC runs
// tl3-relaxed ahead of i2-dot for GEMV and behind it for GEMM; an Intel Xeon had i2-dot ahead for
// both), so a short calibration times every candidate kernel of the instance's build on one
// representative shape and picks, per role, the fastest. All kernels agree bit for bit, so the
// choice changes speed only, never output. Cached per runtime (one WeakMap entry per instance).
import { KERNELS, kernelRow, LAYOUTS, type KernelName, type KernelRole, type LayoutName } from '../bindings/kernels.js';
import type { WasmRuntime } from '../bindings/runtime.js';

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
