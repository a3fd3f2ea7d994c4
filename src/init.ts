// Library initialisation: one module instance per process (or isolate), shared by every matrix.
import { KERNEL_IDS, KERNEL_NAMES, type KernelName } from '../bindings/exports.js';
import type { WasmSource } from '../bindings/loader.js';
import type { WasmRuntime } from '../bindings/runtime.js';
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
  sources?: Partial<Record<BuildName, WasmSource>>;
}

export interface KernelInfo {
  build: BuildName;
  /** Default kernel of TernaryMatrix and of models: the calibration's fastest GEMV kernel on this CPU. */
  kernel: KernelName;
  /** Kernels this build can run (all are bit-identical). */
  kernels: KernelName[];
  features: { simd128: true; relaxedSimd: boolean };
  /** Why the relaxed build was not taken, when it was not. */
  notes: string[];
  /** The kernel calibration run at init: per role (GEMV, GEMM) and layout, the fastest kernel on
   *  this CPU, with the timings it chose from and its own cost (src/calibrate.ts). */
  calibration: Calibration;
}

let runtime: WasmRuntime | null = null;
let pending: Promise<KernelInfo> | null = null;
let info: KernelInfo | null = null;


/** Loads and selects the wasm build. Idempotent: later calls return the first call's result. */
export function init(opts: InitOptions = {}): Promise<KernelInfo> {
  if (pending) {
    if (opts.build !== undefined && info && opts.build !== info.build) {
      return Promise.reject(new BitnetError('BAD_ARGUMENT', `already initialised with build '${info.build}'; cannot switch to '${opts.build}' (use createRuntime for a second instance)`));
    }
    return pending;
  }
  pending = (async () => {
    const single: WasmSource | undefined = opts.module || opts.bytes || opts.url ? { module: opts.module, bytes: opts.bytes, url: opts.url } : undefined;
    let sources = opts.sources;
    if (single) {
      if (!opts.build) throw new BitnetError('BAD_ARGUMENT', 'init({ module | bytes | url }) needs `build` to say which build it is (or use `sources`)');
      sources = { ...sources, [opts.build]: single };
    }
    const sel = await selectBuild({ build: opts.build, sources });
    runtime = sel.runtime;
    const kernels = KERNEL_NAMES.filter((k) => sel.runtime.exports.kernel_available(KERNEL_IDS[k]) === 1);
    const cal = calibration(sel.runtime);
    info = {
      build: sel.runtime.build,
      kernel: cal.gemv,
      kernels,
      features: { simd128: true, relaxedSimd: sel.runtime.build === 'relaxed' },
      notes: sel.notes,
      calibration: cal,
    };
    return info;
  })();
  pending.catch(() => { pending = null; });
  return pending;
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

/** A separate module instance of one build (for comparing builds side by side, or isolation). */
export async function createRuntime(opts: { build?: BuildName; source?: WasmSource } = {}): Promise<WasmRuntime> {
  const sel = await selectBuild({ build: opts.build, sources: opts.build && opts.source ? { [opts.build]: opts.source } : undefined });
  return sel.runtime;
}
