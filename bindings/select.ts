// Build selection: the relaxed-SIMD build only when the engine validates it AND its relaxed ops
// pass a known-answer test (Node 20's baseline tier computes the relaxed dot wrongly); otherwise
// the simd128 build. No SIMD at all is a clear error, never a slower wrong path.
import { BitnetError } from './errors.js';
import { compileBuild, type WasmSource } from './loader.js';
import { threadsUnavailable } from './pool.js';
import { WasmRuntime } from './runtime.js';
import type { BuildName, WasmFile } from './wasm-location.js';

export interface SelectOptions {
  build?: BuildName;
  /** Per build (and per -mt twin): a compiled module, bytes or URL (for hosts where the default location does not work). */
  sources?: Partial<Record<WasmFile, WasmSource>>;
  /** Threads (> 1: the build's -mt twin on a shared memory with threads - 1 workers). */
  threads?: number;
}

export interface Selection {
  runtime: WasmRuntime;
  /** Why the other build was not taken (empty when the choice was forced or relaxed won). */
  notes: string[];
}

// The smallest module using one v128 op: tells "no SIMD" from "bad file".
const SIMD_PROBE = new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 22, 1, 20, 0, 253, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 11]);

export function hasSimd(): boolean {
  try { return WebAssembly.validate(SIMD_PROBE); } catch { return false; }
}

async function instantiate(build: BuildName, sources: SelectOptions['sources'], shared: boolean): Promise<WasmRuntime> {
  const file: WasmFile = shared ? `${build}-mt` : build;
  const module = await compileBuild(file, sources?.[file]);
  return shared ? WasmRuntime.instantiateShared(module, build) : WasmRuntime.instantiate(module, build);
}

async function tryRelaxed(sources: SelectOptions['sources'], notes: string[], shared: boolean): Promise<WasmRuntime | null> {
  let rt: WasmRuntime;
  try {
    rt = await instantiate('relaxed', sources, shared);
  } catch (e) {
    notes.push(`relaxed build not usable here: ${(e as Error).message}`);
    return null;
  }
  // Run the self-test several times so an engine's optimizing tier is exercised as well.
  for (let i = 0; i < 3; i++) {
    if (rt.exports.selftest_relaxed_dot() !== 1) {
      notes.push('relaxed build failed its known-answer self-test on this engine');
      return null;
    }
  }
  return rt;
}

/** The build (see pick) with `threads` threads; when the -mt twin cannot start (no file for it, no
 *  workers, a refused shared memory), the build with its own memory and one thread, and a note why. */
export async function selectBuild(opts: SelectOptions = {}): Promise<Selection> {
  const threads = opts.threads ?? 1;
  const why = threads > 1 ? await threadsUnavailable() : null;
  if (why) {
    const s = await pick(opts, false);
    s.notes.push(`threads unavailable: ${why}; running on 1 thread`);
    return s;
  }
  if (threads > 1) {
    let sel: Selection | null = null;
    try {
      sel = await pick(opts, true);
      sel.runtime.defaultThreads = threads;
      await sel.runtime.startThreads(threads);
      return sel;
    } catch (e) {
      sel?.runtime.closeThreads();
      if (e instanceof BitnetError && (e.code === 'NO_SIMD' || e.code === 'BAD_ARGUMENT')) throw e;
      const s = await pick(opts, false);
      s.notes.push(`threads unavailable (${(e as Error).message}): running on 1 thread`);
      return s;
    }
  }
  return pick(opts, false);
}

async function pick(opts: SelectOptions, shared: boolean): Promise<Selection> {
  if (!hasSimd()) {
    throw new BitnetError('NO_SIMD', 'this WebAssembly engine has no SIMD (simd128); bitnet-wasm needs it (Node >= 16.4, Chrome >= 91, Firefox >= 89, Safari >= 16.4, Deno, Bun, workerd)');
  }
  const notes: string[] = [];
  if (opts.build === 'relaxed') {
    const rt = await tryRelaxed(opts.sources, notes, shared);
    if (!rt) throw new BitnetError('UNSUPPORTED_BUILD', `build 'relaxed' was requested but ${notes.join('; ')}`);
    return { runtime: rt, notes };
  }
  if (opts.build !== undefined && opts.build !== 'simd128') {
    throw new BitnetError('BAD_ARGUMENT', `unknown build ${JSON.stringify(opts.build)} (expected 'simd128' or 'relaxed')`);
  }
  if (opts.build === undefined) {
    const rt = await tryRelaxed(opts.sources, notes, shared);
    if (rt) return { runtime: rt, notes };
  }
  return { runtime: await instantiate('simd128', opts.sources, shared), notes };
}
