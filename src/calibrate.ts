// Kernel choice by measurement: which kernel is fastest depends on the CPU (an AMD EPYC runs
// tl3-relaxed ahead of i2-dot for GEMV and behind it for GEMM; an Intel Xeon had i2-dot ahead for
// both), so a short calibration times every candidate kernel of the instance's build on one
// representative shape and picks, per role, the fastest. All kernels agree bit for bit, so the
// choice changes speed only, never output. Cached per runtime (one WeakMap entry per instance).
//
// The layout (TL3 or I2) is the costly part of the choice: a model's weights are repacked into it at
// load and cannot switch afterwards. So the layout is the build's widest (the one inspectHeader's
// memory estimate assumes) unless another layout's GEMV is faster by more than the spread of the
// timings themselves. One sample per kernel and round, interleaved (in alternating order), after a
// warm-up that lasts until the samples stop improving (the engine's optimizing tier has taken over);
// each figure is the median of the rounds, and the layouts are compared round by round
// (chooseKernels). Timed on one thread: a worker's hand-off is not the kernel's speed, and a busy
// machine deschedules the worker (timed on 2 threads, the 2-core AMD EPYC picked tl3 in 3 of 30
// fresh processes, its i2-dot32 GEMV timing ~70 µs instead of ~45; 2B4T then decoded 22% slower).
import { KERNELS, kernelRow, LAYOUTS, layoutBits, sameCode, type KernelName, type KernelRole, type LayoutName } from '../bindings/kernels.js';
import type { WasmRuntime } from '../bindings/runtime.js';
import { MATMUL, POOL } from '../bindings/abi.js';

export type Layout = LayoutName;

/** The kernels chosen for one weight layout: decode-style GEMV (one token) and prefill-style GEMM. */
export interface RoleChoice { gemv: KernelName; gemm: KernelName }

export interface Calibration {
  /** The GEMV kernel of `layout`: the default kernel of TernaryMatrix and of models (a model's
   *  layout is fixed when its weights are packed, and decode is GEMV-bound). */
  gemv: KernelName;
  /** The GEMM kernel of `layout`: what gemm() with n > 1 and prompt batches run by default. */
  gemm: KernelName;
  /** The layout TernaryMatrix and models pack into by default: the build's widest (I2 on relaxed,
   *  what inspectHeader's memory estimate assumes), unless another layout's fastest GEMV took less
   *  time by more than the spread of the rounds (layoutWhy). */
  layout: Layout;
  /** Why `layout`, with the figures it was chosen by. */
  layoutWhy: string;
  /** Per layout, the fastest kernel of that layout for each role (a packed matrix can switch kernels
   *  only within its layout). */
  byLayout: Partial<Record<Layout, RoleChoice>>;
  /** Microseconds per call on the calibration shape (median of the rounds), per kernel and role;
   *  a role is missing where the kernel runs another one's code (the kernel table's `same`: i2-dot's
   *  GEMV is i2-dot32's), which is timed instead and chosen on a tie. Empty when the build has a
   *  single candidate (simd128: tl3), which is then taken without timing. */
  timings: Partial<Record<KernelName, { gemvUs?: number; gemmUs?: number }>>;
  /** Rounds timed after the warm-up (0: nothing timed). */
  rounds: number;
  /** The shape timed: rows x cols, and the GEMM's token count. */
  shape: { rows: number; cols: number; gemmN: number };
  /** What the calibration itself cost, in milliseconds. */
  ms: number;
  /** False when the clock did not move while timing (workerd stops it during synchronous code):
   *  the choice is then UNMEASURED_CHOICE's, not a measurement. */
  measured: boolean;
}

// A decoder-sized matrix (2560 wide like the `large` preset; ~0.6 MB packed: past a 512 KB L2, in a
// 1 MB one, so the timing is of a cache-warm matrix there; decodeKernel times a model's own weights
// as decode streams them) and a prefill batch. Scalar is the reference kernel, never a candidate.
const ROWS = 1024, COLS = 2560, GEMM_N = 8;
/** Calls per sample: ~6 GEMV calls last a few hundred µs, long against a clock coarsened to 5-100 µs (browsers). */
const GEMV_REPS = 6, GEMM_REPS = 1;
/** Warm-up rounds: at least WARM_MIN, then until no kernel's sample is faster than its previous one
 *  by more than WARM_GAIN (a heuristic for "the engine's optimizing tier has taken over", from V8 on
 *  the 2-core AMD EPYC: it compiles in the background and the 2nd-3rd call ran optimized), at most
 *  WARM_MAX. */
const WARM_MIN = 2, WARM_MAX = 8, WARM_GAIN = 0.25;
/** Timed rounds (odd: the median is a sample). */
const ROUNDS = 5;
/** The calibration's deadline, in milliseconds from the start of calibrate() (its setup, the
 *  kernels' first calls and the confirmations count): past it no round is added once MIN_ROUNDS
 *  are in, and the warm-up stops at half of it. Fewer rounds widen the quartiles, and a
 *  confirmation that does not fit is skipped: both keep the default layout. */
export const BUDGET_MS = 60, MIN_ROUNDS = 3;
/** A switch away from the widest layout is timed again this many times, each after a pause that
 *  gives the CPU to the engine's background compiler (GEMV only: ~1 ms a set here). Heuristics from
 *  V8 on one machine; the pause blocks the thread (a Node or Deno main thread too) and is paid only
 *  when a switch is proposed. */
const CONFIRMS = 2, CONFIRM_PAUSE_MS = 5;
/** Rows of trits, repeated down the matrix (a multiple of every layout's row block), made of a
 *  pattern of random trits repeated (a short loop: the first run of JS code is interpreted). */
const BLOCK_ROWS = 64, PATTERN = 4096;
const ROLES: readonly KernelRole[] = ['gemv', 'gemm'];

/** What a clock that stands still gets (bitnet-wasm bench --suite kernels): I2's GEMV with
 *  touch-ahead, and its GEMM without AVX-VNNI (i2-dot16; with it, i2-dot32's leads). */
const UNMEASURED_CHOICE: Record<Layout, RoleChoice> = {
  i8: { gemv: 'scalar', gemm: 'scalar' }, i2: { gemv: 'i2-dot32', gemm: 'i2-dot16' }, tl3: { gemv: 'tl3-relaxed', gemm: 'tl3-relaxed' },
};

const cache = new WeakMap<WasmRuntime, Calibration>();
const now = () => (typeof performance !== 'undefined' ? performance.now() : Date.now());
/** Sleeps `ms` where the thread may block (Node, Deno, Bun, a worker); a page's main thread may
 *  not (Atomics.wait throws there), and no SharedArrayBuffer without isolation: no pause then. */
const sleep = (ms: number): void => {
  try { Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms); } catch { /* cannot block here */ }
};

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

/** One sample: microseconds per call of `kernel` in `role` on the calibration shape. */
export type KernelTimer = (kernel: KernelName, role: KernelRole) => number;

const median = (t: number[]) => { const u = [...t].sort((a, b) => a - b), h = u.length >> 1; return u.length % 2 ? u[h] : (u[h - 1] + u[h]) / 2; };
/** Lower and upper quartiles (the samples a quarter in from each end: with 5, the 2nd and 4th). */
const quartiles = (t: number[]) => { const u = [...t].sort((a, b) => a - b), n = u.length - 1; return [u[Math.floor(n / 4)], u[Math.ceil((3 * n) / 4)]]; };
const r2 = (x: number) => Math.round(x * 100) / 100;
/** Fixed pseudo-random numbers (xorshift32) for the timed inputs: a kernel's speed depends on the shape, not the values. */
const xorshift32 = (s = 0x9e3779b9) => () => { s ^= s << 13; s ^= s >>> 17; s ^= s << 5; return s >>> 0; };

/** The choice among `candidates` (a build's kernels with a role) from samples `time` takes, on
 *  `clock`'s milliseconds (both injectable: tests script them), with BUDGET_MS counted from `start`
 *  (the calibration's own start: its setup counts). Warm-up rounds until every kernel's sample
 *  stops improving, then up to ROUNDS interleaved rounds (a burst of load hits every kernel alike;
 *  the order reverses every other round, so no kernel always runs after the same one). Per layout
 *  and role the kernel of the lowest median; the layout is the widest unless another's pick for
 *  GEMV took less time round by round: the median of the per-round ratios below 1 by more than
 *  their interquartile spread (one outlying sample, either way, moves neither by more than one
 *  rank), in the rounds and again in CONFIRMS sets of GEMV rounds of the two picks, each after
 *  `pause` (injectable too); a set that would end past the deadline is not run, and the widest
 *  layout stays. The roles' kernels are those of the chosen layout. */
export function chooseKernels(candidates: KernelName[], time: KernelTimer, clock: () => number = now, pause: (ms: number) => void = sleep, start = clock()):
  Pick<Calibration, 'gemv' | 'gemm' | 'layout' | 'layoutWhy' | 'byLayout' | 'timings' | 'rounds' | 'measured'> {
  // Each role's code once (the table's `same`), as TernaryMatrix's default runs it: no streaming hint.
  const timed = (k: KernelName, role: KernelRole) => (kernelRow(k).roles as readonly KernelRole[]).includes(role) && sameCode(k, role) === k;
  const pairs = candidates.flatMap((k) => ROLES.filter((role) => timed(k, role)).map((role) => `${k} ${role}`));
  const split = (p: string) => p.split(' ') as [KernelName, KernelRole];
  const samples = new Map(pairs.map((p) => [p, [] as number[]]));
  const spent = () => clock() - start;
  const last = new Map<string, number>();
  for (let w = 0; w < WARM_MAX; w++) {
    let settled = true;
    for (const p of pairs) {
      const us = time(...split(p)), before = last.get(p);
      if (before === undefined || us < before * (1 - WARM_GAIN)) settled = false;
      last.set(p, us);
    }
    if (w + 1 >= WARM_MIN && (settled || spent() > BUDGET_MS / 2)) break;
  }
  /** Round r of `ps`' samples into `into`, in alternating order; the clock's milliseconds per pair into `took`. */
  const round = (ps: string[], r: number, into: Map<string, number[]>, took?: Map<string, number>) => {
    for (const p of r % 2 ? [...ps].reverse() : ps) {
      const a = clock();
      into.get(p)!.push(time(...split(p)));
      took?.set(p, (took.get(p) ?? 0) + clock() - a);
    }
  };
  const took = new Map<string, number>();
  let rounds = 0;
  for (; rounds < ROUNDS && (rounds < MIN_ROUNDS || spent() < BUDGET_MS); rounds++) round(pairs, rounds, samples, took);
  const us = (k: KernelName, role: KernelRole) => median(samples.get(`${k} ${role}`)!);
  const layouts = LAYOUTS.filter((l) => candidates.some((k) => kernelRow(k).layout === l.name)).map((l) => l.name);
  // The build's widest layout: the default, kept unless another clearly wins.
  const widest = layouts.reduce((a, b) => (layoutBits(b) > layoutBits(a) ? b : a));
  const measured = ROLES.every((role) => pairs.some((p) => split(p)[1] === role && median(samples.get(p)!) > 0));
  const fastest = (ks: KernelName[], role: KernelRole) => ks.filter((k) => timed(k, role)).reduce((a, b) => (us(b, role) < us(a, role) ? b : a));
  const byLayout: Calibration['byLayout'] = {};
  for (const l of layouts) {
    const ks = candidates.filter((k) => kernelRow(k).layout === l);
    byLayout[l] = measured ? { gemv: fastest(ks, 'gemv'), gemm: fastest(ks, 'gemm') } : UNMEASURED_CHOICE[l];
  }
  let layout = widest, layoutWhy = layouts.length === 1 ? `${widest}: the build's one layout` : `${widest}: the build's widest, the clock did not move`;
  if (measured && layouts.length > 1) {
    const picks = layouts.map((l) => `${byLayout[l]!.gemv} gemv`);
    /** The layout the rule takes on `m`'s samples of the layouts' GEMV picks, and its figures. */
    const compare = (m: Map<string, number[]>): { layout: Layout; why: string } => {
      const base = m.get(`${byLayout[widest]!.gemv} gemv`)!, why: string[] = [];
      let got = widest, best = Infinity;
      for (const l of layouts.filter((x) => x !== widest)) {
        const k = byLayout[l]!.gemv, alt = m.get(`${k} gemv`)!;
        // 0/0 (a clock too coarse for one sample) says nothing: a tie.
        const ratios = alt.map((a, i) => (base[i] > 0 ? a / base[i] : a > 0 ? Infinity : 1));
        const r = median(ratios), [q1, q3] = quartiles(ratios), wins = r < 1 - (q3 - q1);
        why.push(`${l}'s ${k} took ${r2(r)}x the time of ${byLayout[widest]!.gemv} (median of ${ratios.length} rounds, quartiles ${r2(q1)}-${r2(q3)})${wins ? ', less by more than the spread' : ''}`);
        if (wins && r < best) { best = r; got = l; }
      }
      return { layout: got, why: why.join('; ') };
    };
    const first = compare(samples);
    layout = first.layout;
    layoutWhy = `${layout}: ${layout === widest ? "the build's widest, kept" : 'faster'}: ${first.why}`;
    // Leaving the widest layout must hold again after pauses: a kernel the engine has not yet
    // optimized (its compiler runs in the background, and a busy machine can starve it for a
    // whole calibration: seen in ~5% of processes here, always on a TL3 kernel) is steadily slow,
    // which the spread cannot tell from a slow kernel. Only a switch pays for this.
    // A set costs its pause and ROUNDS rounds of the picks, at what they took in the rounds.
    const setMs = CONFIRM_PAUSE_MS + (ROUNDS * picks.reduce((t, p) => t + took.get(p)!, 0)) / rounds;
    for (let c = 0; c < CONFIRMS && layout !== widest; c++) {
      if (spent() + setMs > BUDGET_MS) {
        layoutWhy = `${widest}: the build's widest, kept: ${first.why}, but no time left to confirm it (${r2(spent())} ms of ${BUDGET_MS} spent, a confirmation takes ~${r2(setMs)})`;
        layout = widest;
        break;
      }
      pause(CONFIRM_PAUSE_MS);
      const again = new Map(picks.map((p) => [p, [] as number[]]));
      for (let r = 0; r < ROUNDS; r++) round(picks, r, again);
      const next = compare(again);
      if (next.layout !== layout) {
        layoutWhy = `${widest}: the build's widest, kept: ${first.why}, but not after a ${CONFIRM_PAUSE_MS} ms pause: ${next.why}`;
        layout = widest;
      }
    }
    if (layout !== widest) layoutWhy += ` (and ${CONFIRMS} times more, each after a ${CONFIRM_PAUSE_MS} ms pause)`;
  }
  const timings: Calibration['timings'] = {};
  for (const p of pairs) { const [k, role] = split(p); (timings[k] ??= {})[`${role}Us`] = Math.round(us(k, role) * 10) / 10; }
  return {
    gemv: byLayout[layout]!.gemv, gemm: byLayout[layout]!.gemm,
    layout, layoutWhy, byLayout, timings, rounds, measured,
  };
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
    const k = candidates[0], layout = layouts[0].name;
    return { gemv: k, gemm: k, layout, layoutWhy: `${layout}: the build's one kernel, nothing to time`, byLayout: { [layout]: { gemv: k, gemm: k } },
      timings: {}, rounds: 0, shape, ms: Math.round((now() - t0) * 10) / 10, measured: true };
  }
  const scratchBytes = Math.max(...candidates.map((k) => e.matmul_scratch_bytes(id(k), ROWS, COLS, GEMM_N)));
  const trits = rt.alloc(BLOCK_ROWS * COLS, 'calibration trits', true);
  const packed = new Map<LayoutName, number>();
  let x = 0, out = 0, scratch = 0;
  try {
    // Fixed pseudo-random trits and activations. One block of rows, packed at every block's place
    // (pack_rows reads only the rows it packs: the block's address minus the first row's offset).
    const next = xorshift32();
    const i8 = rt.i8;
    for (let i = 0; i < PATTERN; i++) i8[trits + i] = (next() % 3) - 1;
    for (let n = PATTERN; n < BLOCK_ROWS * COLS; n *= 2) i8.copyWithin(trits + n, trits, trits + Math.min(n, BLOCK_ROWS * COLS - n));
    for (const l of layouts) {
      const p = rt.alloc(e.packed_bytes(l.id, ROWS, COLS), 'calibration matrix', true);
      packed.set(l.name, p);
      for (let r = 0; r < ROWS; r += BLOCK_ROWS) e.pack_rows(l.id, (trits - r * COLS) >>> 0, ROWS, COLS, p, r, r + BLOCK_ROWS);
    }
    x = rt.alloc(GEMM_N * COLS * 4, 'calibration activations', true);
    out = rt.alloc(GEMM_N * ROWS * 4, 'calibration output', true);
    scratch = rt.alloc(scratchBytes, 'calibration scratch', true);
    const f32 = rt.f32;
    for (let i = 0; i < COLS; i++) f32[(x >>> 2) + i] = ((next() & 0xffff) - 32768) / 8192;
    for (let j = 1; j < GEMM_N; j++) f32.copyWithin((x >>> 2) + j * COLS, x >>> 2, (x >>> 2) + COLS);
    // One thread: the kernel's own speed (see the top of this file).
    rt.useThreads(1);
    const time: KernelTimer = (k, role) => {
      const row = kernelRow(k), w = packed.get(row.layout)!, [n, reps] = role === 'gemv' ? [1, GEMV_REPS] : [GEMM_N, GEMM_REPS];
      const a = now();
      for (let r = 0; r < reps; r++) e.ternary_matmul(row.id, w, ROWS, COLS, x, n, out, 1, scratch);
      return ((now() - a) * 1000) / reps;
    };
    return { ...chooseKernels(candidates, time, now, sleep, t0), shape, ms: Math.round((now() - t0) * 10) / 10 };
  } finally {
    rt.useThreads(rt.defaultThreads);
    for (const p of packed.values()) rt.free(p);
    rt.free(trits); rt.free(x); rt.free(out); rt.free(scratch);
  }
}

// Decode's kernel and threads, measured where they run. The runtime calibration above times one
// cache-hot matrix on one thread without the streaming hint, but a model's decode streams its
// weights from memory with the hint (touch-ahead, MATMUL.STREAMING) on its own thread count, and
// what is fastest there can differ: on a 2-core AMD EPYC the i2 GEMV with touch-ahead (i2-dot32)
// gained nothing from a second thread on an 8B model while the one without (i2-dot16) gained 1.7x.
// So a model times the GEMV of each kernel of its layout on its own weights, as decode calls them
// (decodeKernel). And a small model's jobs can be too short to hand off: the tiny preset decoded
// slower on 2 threads than on 1 (each step paid ~20 hand-offs of jobs of a few microseconds). So a
// model whose threads came from 'auto' also times its own decode steps with each job size as the
// smallest that goes to the workers (decodeSplit).

/** A packed ternary matrix of a model: packed-weights pointer and shape. */
export interface DecodeMatrix { ptr: number; rows: number; cols: number }

/** What a model's load measured on its own weights: model.decodeChoice. */
export interface DecodeChoice {
  /** Decode's kernel (of the packed layout). */
  kernel: KernelName;
  /** Milliseconds per pass (a layer's one-token products) per kernel timed at `threads`, best of
   *  the rounds; empty when the kernel was forced or its layout has one GEMV. */
  kernelMs: Partial<Record<KernelName, number>>;
  /** Threads the model runs on. */
  threads: number;
  /** Jobs of fewer multiply-adds than this stay on the calling thread (0: the pool's default,
   *  POOL.MIN_WORK_DEFAULT). Measured when the threads came from 'auto'; else 0. */
  minWork: number;
  /** How minWork was chosen: 'steps' (whole decode steps timed with each candidate) or 'default'
   *  (threads asked for, one thread, nothing to choose, or a step too long to time in the budget). */
  timed: 'steps' | 'default';
  /** Why, in words (with the figures). */
  why: string;
  /** Milliseconds per decode step for each minWork tried, median of the rounds: 0 first (every job
   *  of the default size or more split), the last keeps every job of a step at position 0 (the one
   *  timed) on the calling thread. minWork applies to every job: attention's grows with the position
   *  (2 * heads * headDim * (pos + 1)) and goes to the workers once it reaches minWork, which the
   *  load never timed. */
  minWorkMs: { minWork: number; ms: number }[];
  /** Milliseconds the two measurements took at load (0: both from the cache). */
  ms: number;
}

/** Milliseconds the decode kernel's measurement aims to stay under (it stops adding rounds past it);
 *  the split's (decodeSplit) gets what is left of twice that. */
export const DECODE_BUDGET_MS = 30;
const KERNEL_ROUNDS = 3;
/** The split's whole budget: what a load gives decodeSplit when decodeKernel's answer came from
 *  the cache (splitBudget: twice DECODE_BUDGET_MS less the kernel's timing). */
const SPLIT_FULL_BUDGET_MS = 2 * DECODE_BUDGET_MS;
/** decodeSplit's budget at a load whose decode kernel took `kernelMs` to time (at least half a kernel budget). */
export const splitBudget = (kernelMs: number): number => Math.max(DECODE_BUDGET_MS / 2, SPLIT_FULL_BUDGET_MS - kernelMs);
type SplitChoice = Pick<DecodeChoice, 'minWork' | 'timed' | 'why' | 'minWorkMs'>;
/** The pool's default split (nothing timed), and why. */
export const defaultSplit = (why: string): SplitChoice => ({ minWork: 0, timed: 'default', why, minWorkMs: [] });
/** Most rounds of the split (a small model's step takes ~0.1 ms: more rounds, less noise). */
const SPLIT_MAX_ROUNDS = 15;
/** Idle milliseconds before each timed step (decode's sampler runs between steps; the pool's
 *  workers spin ~10-50 µs for the next job, then sleep). */
const STEP_GAP_MS = 0.1;
/** How much faster (a fraction) a cut that hands off more must be than one that hands off less. */
const SPLIT_TIE = 0.03;
/** Weight bytes one timing pass reads (a layer's first matrices up to it: past a core's L2, and a
 *  fresh layer each pass keeps them from coming out of a warm cache). */
const PASS_BYTES = 16 << 20;

const kernelCache = new WeakMap<WasmRuntime, Map<string, { kernel: KernelName; kernelMs: DecodeChoice['kernelMs'] }>>();
const splitCache = new WeakMap<WasmRuntime, Map<string, Pick<DecodeChoice, 'minWork' | 'timed' | 'why' | 'minWorkMs'>>>();
const ms3 = (x: number) => Math.round(x * 1000) / 1000;
const cacheOf = <T>(m: WeakMap<WasmRuntime, Map<string, T>>, rt: WasmRuntime): Map<string, T> => {
  let c = m.get(rt);
  if (!c) { c = new Map(); m.set(rt, c); }
  return c;
};

/** Timing passes over a model's layers: each pass runs one layer's first matrices (up to
 *  PASS_BYTES) as decode calls them (one token, streaming hint), a different layer each time.
 *  null when there are no matrices or no memory left for the activations. */
function layerPasses(rt: WasmRuntime, kernels: KernelName[], layers: DecodeMatrix[][]) {
  const e = rt.exports, lid = e.kernel_layout(kernelRow(kernels[0]).id);
  const all = layers.map((l) => {
    let bytes = 0;
    return l.filter((m) => { const take = bytes < PASS_BYTES; bytes += e.packed_bytes(lid, m.rows, m.cols); return take; });
  }).filter((l) => l.length > 0);
  if (all.length === 0) return null;
  const mats = all.flat();
  const maxCols = Math.max(...mats.map((m) => m.cols)), maxRows = Math.max(...mats.map((m) => m.rows));
  const scratchBytes = Math.max(...kernels.flatMap((k) => mats.map((m) => e.matmul_scratch_bytes(kernelRow(k).id, m.rows, m.cols, 1))));
  let x = 0, out = 0, scratch = 0;
  try {
    x = rt.alloc(maxCols * 4, 'decode calibration activations', true);
    out = rt.alloc(maxRows * 4, 'decode calibration output', true);
    scratch = rt.alloc(scratchBytes, 'decode calibration scratch', true);
  } catch (err) {
    rt.free(x); rt.free(out);
    // A model that fills memory to the last page still loads: no room to time.
    if ((err as { code?: string }).code === 'OUT_OF_MEMORY') return null;
    throw err;
  }
  const f32 = rt.f32, next = xorshift32();
  for (let i = 0; i < maxCols; i++) f32[(x >>> 2) + i] = ((next() & 0xffff) - 32768) / 8192;
  let layer = 0;
  return {
    /** One pass with kernel k (threads and minWork as rt.useThreads set them). */
    run(k: KernelName): void {
      const id = kernelRow(k).id | MATMUL.STREAMING;
      for (const m of all[layer++ % all.length]) e.ternary_matmul(id, m.ptr, m.rows, m.cols, x, 1, out, 1, scratch);
    },
    free(): void { rt.free(x); rt.free(out); rt.free(scratch); },
  };
}

/** A model's first layer with packed matrices (every layer has the same shapes: the caches' key). */
const firstLayer = (layers: DecodeMatrix[][]): DecodeMatrix[] => layers.find((l) => l.length) ?? [];
const shapesOf = (mats: DecodeMatrix[]): string => mats.map((m) => `${m.rows}x${m.cols}`).join(',');

/** Milliseconds of one call of f on `clock`. */
const timeOf = (f: () => void, clock = now): number => { const a = clock(); f(); return clock() - a; };

/** Rounds that fit `budgetMs` when each takes `perRound` ms, from `min` up to `max` (0: not even `min`). */
const roundsFor = (budgetMs: number, perRound: number, min: number, max: number): number => {
  const r = Math.min(max, Math.floor(budgetMs / Math.max(perRound, 1e-3)));
  return r >= min ? r : 0;
};

/** The fastest GEMV kernel of `kernel`'s layout on `layers` (a model's packed matrices per layer,
 *  in that layout) at `threads` threads, as decode calls it (streaming hint on), each code once
 *  (with the hint, i2-dot runs i2-dot32's). Cached per (runtime, threads, layout, shapes);
 *  `kernel` itself when its layout has one candidate, no room to time, or the clock stands still. */
export function decodeKernel(rt: WasmRuntime, kernel: KernelName, threads: number, layers: DecodeMatrix[][]): { kernel: KernelName; kernelMs: DecodeChoice['kernelMs'] } {
  const layout = kernelRow(kernel).layout, e = rt.exports;
  const ks = KERNELS.filter((k) => k.layout === layout && (k.roles as readonly KernelRole[]).includes('gemv')
    && e.kernel_available(k.id) === 1 && sameCode(k.name, 'gemv', true) === k.name).map((k) => k.name as KernelName);
  const none = { kernel, kernelMs: {} };
  const shapes = shapesOf(firstLayer(layers));
  if (ks.length < 2 || !shapes) return none; // (no packed matrix: nothing to time)
  const key = `${threads}|${layout}|${layers.length}|${shapes}`, cache = cacheOf(kernelCache, rt);
  const cached = cache.get(key);
  if (cached) return cached;
  const p = layerPasses(rt, ks, layers);
  if (!p) return none; // not cached: the next model may have room
  const best = new Map<KernelName, number>();
  try {
    rt.useThreads(threads);
    const warm = timeOf(() => { for (const k of ks) p.run(k); }); // tier-up
    // Rounds interleave the kernels so a burst of load from elsewhere hits them all alike.
    const rounds = Math.max(1, roundsFor(DECODE_BUDGET_MS - warm, warm, 1, KERNEL_ROUNDS));
    for (let r = 0; r < rounds; r++) for (const k of ks) best.set(k, Math.min(best.get(k) ?? Infinity, timeOf(() => p.run(k))));
    rt.checkThreads();
  } finally {
    p.free();
  }
  // Unmeasured (a clock that stands still): keep the runtime calibration's kernel.
  const measured = [...best.values()].some((t) => t > 0);
  const got = { kernel: measured ? [...best.entries()].reduce((a, b) => (b[1] < a[1] ? b : a))[0] : kernel,
    kernelMs: measured ? Object.fromEntries([...best].map(([k, t]) => [k, ms3(t)])) : {} };
  cache.set(key, got);
  return got;
}

/** Which jobs of a model's decode go to the workers (threads from 'auto'): the candidates are the
 *  pool's default and, for each job size of a step from the default up (`layers`' matrices and
 *  `otherJobs`, e.g. the output head: its multiply-adds and what it is, such as its format, which
 *  sets its cost), "jobs up to this size stay on the calling thread". Each is
 *  timed on whole decode steps (`step`: one token through the model, threads and minWork as
 *  rt.useThreads set them; at position 0, where attention's job is smallest), interleaved, median
 *  of the rounds; a model whose step is too long to
 *  time the two ends twice within the budget keeps the default split (its jobs are large: a
 *  hand-off is a small part of them; cached only when the whole budget would not have timed it
 *  either). Cached per (runtime, threads, kernel, shapes, other jobs). `clock`: milliseconds, for
 *  tests only (they pass a scripted one): it is not part of the cache key, so a result timed on it
 *  is what later loads on that runtime get. */
export function decodeSplit(rt: WasmRuntime, kernel: KernelName, threads: number, layers: DecodeMatrix[][], otherJobs: { work: number; what: string }[],
                            step: () => void, budgetMs = SPLIT_FULL_BUDGET_MS, clock = now): SplitChoice {
  const first = firstLayer(layers), shapes = shapesOf(first);
  const sizes = [...new Set([...first.map((m) => m.rows * m.cols), ...otherJobs.map((j) => j.work)])]
    .filter((w) => w >= POOL.MIN_WORK_DEFAULT).sort((a, b) => a - b);
  let cuts = [0, ...sizes.map((w) => w + 1)];
  if (threads <= 1 || rt.threads <= 1) return defaultSplit('one thread');
  if (cuts.length === 1) return defaultSplit('no job of a step reaches the default size: every one stays on the calling thread');
  const key = `${threads}|${kernel}|${layers.length}|${shapes}|${otherJobs.map((j) => `${j.what} ${j.work}`).join(',')}`, cache = cacheOf(splitCache, rt);
  const cached = cache.get(key);
  if (cached) return cached;
  const times = new Map<number, number[]>(cuts.map((c) => [c, []]));
  const run = (f: () => void, cs: number[], gap = 0) => {
    for (const c of cs) {
      rt.useThreads(threads, c);
      // Decode samples between steps: long enough for idle workers to go to sleep, so a step's
      // first hand-off wakes them, as it does in decode (back-to-back steps hide that cost).
      for (const until = clock() + gap; clock() < until;) { /* the sampler's turn */ }
      times.get(c)!.push(timeOf(f, clock));
    }
  };
  let rounds = 0, estimate = 0;
  const s0 = clock();
  // A step is at least its layers' passes: they estimate it without running a step of a large
  // model (an 8B step takes ~150 ms).
  const p = layerPasses(rt, [kernel], layers);
  if (!p) return defaultSplit('no memory left to time in: the default split');
  try {
    // On one thread (the slow end, and no worker the OS may have descheduled), best of 3 passes.
    rt.useThreads(1);
    p.run(kernel); // tier-up
    estimate = Math.min(...[0, 1, 2].map(() => timeOf(() => p.run(kernel), clock))) * layers.length + STEP_GAP_MS;
    // Whole steps when at least the two ends (the default split, every job on the caller) fit
    // twice in the budget, with as many cuts between them as fit.
    if (estimate * 2 * 2 <= budgetMs) {
      rt.useThreads(threads);
      step(); // tier-up
      // Best of 3, as the passes above: one step the OS descheduled must not make the cuts look too
      // long to time (it did on a busy CI machine: 2 ms steps, the whole budget, 'default').
      estimate = Math.min(timeOf(step, clock), timeOf(step, clock), timeOf(step, clock)) + STEP_GAP_MS;
      const n = Math.min(cuts.length, Math.floor(budgetMs / (estimate * 2 * 2)));
      if (n >= 2) {
        // n cuts spread from the default to the top (every one when they fit).
        cuts = [...new Set(Array.from({ length: n }, (_, i) => cuts[Math.round((i * (cuts.length - 1)) / (n - 1))]))];
        // Rounds until the budget is spent (counted from the start, warm-ups included), at least 2.
        for (; rounds < SPLIT_MAX_ROUNDS && (rounds < 2 || clock() - s0 < budgetMs); rounds++) run(step, cuts, STEP_GAP_MS);
      }
    }
    rt.useThreads(threads);
    rt.checkThreads();
  } finally {
    p.free();
  }
  // Too long to time: such steps are made of jobs of hundreds of microseconds, where a hand-off's
  // microseconds do not count. (Timing a layer's products instead was tried: on a busy machine it
  // swung between "split 2x slower" and "2x faster" from one load to the next.)
  if (!rounds) {
    const got = defaultSplit(`a decode step takes ~${ms3(estimate)} ms: too long to time each cut twice within ${Math.round(budgetMs)} ms; its jobs are large, the default split stands`);
    // Kept only if the whole budget could not time two cuts either: a budget a slow kernel timing
    // cut short is one load's circumstance, not the model's.
    if (Math.floor(SPLIT_FULL_BUDGET_MS / (estimate * 2 * 2)) < 2) cache.set(key, got);
    return got;
  }
  // The median, not the best: a step that had the other cores to itself is not what decode will
  // see on a busy machine (a worker the OS deschedules costs the steps that hand work to it).
  const best = new Map(cuts.map((c) => [c, median(times.get(c)!)]));
  if (![...best.values()].some((t) => t > 0)) return defaultSplit('the clock stood still: the default split');
  // The fastest, or a larger cut (less handed off) within SPLIT_TIE of it: a hand-off risks more
  // than a short measurement shows (a worker that spins between jobs takes a core a busy machine
  // may not have: on the tiny preset, load ~8, a cut timed 0.130 ms a step against 0.131 for all on
  // the caller decoded 3498 tok/s against 6753 on one thread, bench/decode.mjs).
  const fastest = cuts.reduce((a, b) => (best.get(b)! < best.get(a)! ? b : a));
  const minWork = cuts.filter((c) => c >= fastest && best.get(c)! <= best.get(fastest)! * (1 + SPLIT_TIE)).pop()!;
  const what = (c: number) => (c === 0 ? 'default split' : `jobs < ${c} on the caller`);
  const got = {
    minWork, timed: 'steps' as const, minWorkMs: cuts.map((c) => ({ minWork: c, ms: ms3(best.get(c)!) })),
    why: `decode steps timed (ms, median of ${rounds}): ${cuts.map((c) => `${what(c)} ${ms3(best.get(c)!)}`).join(', ')}`,
  };
  cache.set(key, got);
  return got;
}
