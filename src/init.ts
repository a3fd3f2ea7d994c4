// Library initialisation: one module instance per process (or isolate), shared by every matrix.
import { KERNEL_IDS, KERNEL_NAMES, type KernelName } from '../bindings/exports.js';
import type { WasmSource } from '../bindings/loader.js';
import type { WasmRuntime } from '../bindings/runtime.js';
import { reportedCores } from '../bindings/pool.js';
import { selectBuild } from '../bindings/select.js';
import type { BuildName } from '../bindings/wasm-location.js';
import type { CompiledWasmModule, WasmBytes } from '../bindings/wasm-types.js';
import { calibration, type Calibration } from './calibrate.js';
import { BitnetError } from './errors.js';

export type { BuildName, Calibration, CompiledWasmModule, KernelName, WasmBytes, WasmSource };

export interface InitOptions {
  /** Force a build; default: 'relaxed' when the engine runs it correctly, else 'simd128'. */
  build?: BuildName;
  /** Hand over the wasm yourself (e.g. workerd's `import mod from "./bitnet-relaxed.wasm"`). Applies to the build chosen by `build`, or to both keys of `sources`. */
  module?: CompiledWasmModule;
  bytes?: WasmBytes;
  url?: string | URL;
  sources?: Partial<Record<BuildName | `${BuildName}-mt`, WasmSource>>;
  /** Threads of every call (a model can ask for its own: loadModel's `threads`). Default 'auto': the
   *  cores the runtime reports, at most 8; 'auto' also measures at load which of a model's jobs are
   *  worth handing to the workers (model.decodeChoice; ~60 ms, cached per runtime); a number keeps
   *  the pool's default split. More than 1 needs SharedArrayBuffer and workers (Node, Deno, Bun, a
   *  cross-origin isolated page's Worker); elsewhere (workerd, a page without COOP/COEP)
   *  bitnet-wasm runs on 1 thread and says why once. Every thread count gives the same bits. */
  threads?: number | 'auto';
}

export interface KernelInfo {
  build: BuildName;
  /** Default kernel of TernaryMatrix and of models: the calibration's GEMV kernel of its chosen
   *  layout (calibration.layout: I2 unless TL3's GEMV won by more than the rounds' spread, see
   *  calibration.layoutWhy), so not always the fastest GEMV timed. */
  kernel: KernelName;
  /** Kernels this build can run (all are bit-identical). */
  kernels: KernelName[];
  features: { simd128: true; relaxedSimd: boolean };
  /** Why the relaxed build was not taken, when it was not; why threads are not used, when they are not. */
  notes: string[];
  /** Threads calls use unless a model asks for its own (model.threads): init's `threads` as far as
   *  workers run (1: none). The runtime's defaultThreads. */
  threads: number;
  /** Where `threads` came from, in words: 'auto' and the cores reported, or the count asked for,
   *  and why fewer run when they do. It describes the runtime's default only (init's `threads`, or
   *  a later init({ threads })): a model loaded with its own `threads` runs on model.threads
   *  (model.decodeChoice.threads), which this does not describe. */
  threadsWhy: string;
  /** The kernel calibration run at init: per role (GEMV, GEMM) and layout, the fastest kernel on
   *  this CPU, with the timings it chose from and its own cost (src/calibrate.ts). */
  calibration: Calibration;
}

let runtime: WasmRuntime | null = null;
let pending: Promise<KernelInfo> | null = null;
let info: KernelInfo | null = null;

/** Most threads 'auto' takes: past this, decode is bound by memory bandwidth on common machines. */
const AUTO_MAX_THREADS = 8;
/** Most threads anyone can ask for (each is a worker with its own wasm instance). */
export const MAX_THREADS = 64;

/** `threads` as init / loadModel / createRuntime take it -> a count (BAD_ARGUMENT when it is not one). */
export async function resolveThreads(threads: unknown, what = 'threads'): Promise<number> {
  if (threads === undefined || threads === 'auto') return Math.min(await reportedCores(), AUTO_MAX_THREADS);
  if (typeof threads !== 'number' || !Number.isInteger(threads) || threads < 1 || threads > MAX_THREADS) {
    throw new BitnetError('BAD_ARGUMENT', `${what} must be 'auto' or an integer from 1 to ${MAX_THREADS}, got ${typeof threads === 'string' ? JSON.stringify(threads) : String(threads)}`);
  }
  return threads;
}

/** One line on the console when threads were wanted and cannot be had (said once per process):
 *  when a count was asked for, or when 'auto' runs on a page that is not cross-origin isolated (the
 *  host can fix that); 'auto' where there are no workers at all (workerd) is quiet. */
let warned = false;
const unavailableWhy = (notes: string[]) => notes.find((n) => n.startsWith('threads unavailable')) ?? 'threads unavailable';
function warnSingleThread(asked: number, rt: WasmRuntime, notes: string[], explicit = true): void {
  if (asked <= 1 || rt.threads > 1 || warned) return;
  const why = unavailableWhy(notes);
  // 'auto' speaks only on a page's own thread: in a worker, the page that started it (e.g.
  // bitnet-wasm/worker's proxy) is the one to say it.
  if (!explicit && !(/cross-origin isolated/.test(why) && typeof (globalThis as { document?: unknown }).document !== 'undefined')) return;
  warned = true;
  console.warn(`bitnet-wasm: ${explicit ? `${asked} threads asked` : `threads ('auto': ${asked} cores)`}, ${why}`);
}

/** The threads a call on `rt` gets when `threads` are asked for: workers are started up to that many
 *  on a runtime with shared memory; one without runs on 1 and says why once (warnSingleThread). */
export async function takeThreads(rt: WasmRuntime, threads: number, notes: string[], explicit: boolean): Promise<number> {
  if (rt.shared && threads > rt.threads) await rt.startThreads(threads);
  else warnSingleThread(threads, rt, notes, explicit);
  return Math.min(threads, rt.threads);
}

const isAuto = (t: unknown) => t === undefined || t === 'auto';

/** KernelInfo.threadsWhy: what was asked (n: 'auto''s count) and why fewer run, if they do. */
function threadsWhy(asked: unknown, n: number, rt: WasmRuntime, notes: string[]): string {
  const what = isAuto(asked) ? `'auto': ${n} (the cores the runtime reports, at most ${AUTO_MAX_THREADS})` : `asked for ${n}`;
  if (rt.defaultThreads >= n) return what;
  return `${what}; ${rt.defaultThreads} run: ${unavailableWhy(notes)}`;
}


/** Loads and selects the wasm build. Idempotent: later calls return the first call's result. */
export function init(opts: InitOptions = {}): Promise<KernelInfo> {
  if (pending) {
    if (opts.build !== undefined && info && opts.build !== info.build) {
      return Promise.reject(new BitnetError('BAD_ARGUMENT', `already initialised with build '${info.build}'; cannot switch to '${opts.build}' (use createRuntime for a second instance)`));
    }
    // A later `threads` becomes the default of what is made next (models keep theirs).
    return opts.threads === undefined ? pending : pending.then((i) => retune(opts.threads));
  }
  pending = (async () => {
    const single: WasmSource | undefined = opts.module || opts.bytes || opts.url ? { module: opts.module, bytes: opts.bytes, url: opts.url } : undefined;
    let sources = opts.sources;
    if (single) {
      if (!opts.build) throw new BitnetError('BAD_ARGUMENT', 'init({ module | bytes | url }) needs `build` to say which build it is (or use `sources`)');
      sources = { ...sources, [opts.build]: single };
    }
    const threads = await resolveThreads(opts.threads);
    const sel = await selectBuild({ build: opts.build, sources, threads });
    runtime = sel.runtime;
    runtime.autoThreads = isAuto(opts.threads);
    warnSingleThread(threads, sel.runtime, sel.notes, !isAuto(opts.threads));
    const kernels = KERNEL_NAMES.filter((k) => sel.runtime.exports.kernel_available(KERNEL_IDS[k]) === 1);
    const cal = calibration(sel.runtime);
    info = {
      build: sel.runtime.build,
      kernel: cal.gemv,
      kernels,
      features: { simd128: true, relaxedSimd: sel.runtime.build === 'relaxed' },
      notes: sel.notes,
      threads: sel.runtime.defaultThreads,
      threadsWhy: threadsWhy(opts.threads, threads, sel.runtime, sel.notes),
      calibration: cal,
    };
    return info;
  })();
  pending.catch(() => { pending = null; });
  return pending;
}

async function retune(asked: number | 'auto' | undefined): Promise<KernelInfo> {
  const rt = runtime!, i = info!, n = await resolveThreads(asked);
  rt.defaultThreads = await takeThreads(rt, n, i.notes, !isAuto(asked));
  rt.autoThreads = isAuto(asked);
  i.threads = rt.defaultThreads;
  i.threadsWhy = threadsWhy(asked, n, rt, i.notes);
  return i;
}

export function kernelInfo(): KernelInfo {
  if (!info) throw new BitnetError('NOT_INITIALIZED', 'call `await init()` first');
  return { ...info, kernels: [...info.kernels], notes: [...info.notes], calibration: JSON.parse(JSON.stringify(info.calibration)) as Calibration };
}

/** The active module instance (internal to the library; exported for bench and tests). */
export function getRuntime(): WasmRuntime {
  if (!runtime) throw new BitnetError('NOT_INITIALIZED', 'call `await init()` first');
  return runtime;
}

/** A separate module instance of one build (for comparing builds side by side, or isolation).
 *  `threads` (default 1 here): > 1 starts workers on a shared memory (end them with runtime.closeThreads()). */
export async function createRuntime(opts: { build?: BuildName; source?: WasmSource; threads?: number | 'auto' } = {}): Promise<WasmRuntime> {
  const threads = await resolveThreads(opts.threads === undefined ? 1 : opts.threads);
  const sel = await selectBuild({ build: opts.build, sources: opts.build && opts.source ? { [opts.build]: opts.source } : undefined, threads });
  warnSingleThread(threads, sel.runtime, sel.notes, !isAuto(opts.threads));
  sel.runtime.autoThreads = opts.threads === 'auto';
  return sel.runtime;
}

/** Ends the worker threads of init()'s runtime; the next init() starts afresh. Models and matrices
 *  made on it must not be used afterwards. A Node, Deno or Bun process then has nothing left open. */
export async function dispose(): Promise<void> {
  const p = pending;
  if (!p) return;
  try { await p; } catch { /* init failed: nothing to end */ }
  if (pending !== p) return;
  runtime?.closeThreads();
  runtime = null;
  info = null;
  pending = null;
}
