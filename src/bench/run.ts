// One benchmark run: the bandwidth probe first, then the chosen suites, all in this process, into
// one BenchRun (the JSON saved beside the report). Runtime-neutral: Node, Deno, Bun and browsers run
// this same code (a browser gets model URLs instead of paths); peers run only where they exist.
import type { BuildName } from '../init.js';
import { attentionSuite } from './attention.js';
import { benchContext, e2eSuite } from './e2e.js';
import { benchEnv, runtimeName } from './env.js';
import { kernelSuite, MODEL_SHAPES } from './kernels.js';
import { loadSuite } from './load.js';
import { readBandwidth } from './probe.js';
import type { BenchRun, SuiteName } from './types.js';

/** A model file of the e2e and load suites: a path, or a URL in browsers. */
export interface BenchModel {
  /** A path (Node, Deno, Bun), a URL (browsers) or the bytes (workerd). */
  file: string | Uint8Array;
  name: string;
  /** The ternary type of its projections when known (make-model presets): peers that cannot read
   *  it are skipped with a line instead of failing. */
  type?: string;
}

export interface RunOptions {
  suites: SuiteName[];
  /** GGUF files for e2e and load. */
  models: BenchModel[];
  prompts: number[];
  gens: number[];
  /** e2e thread counts (llama-bench -t); default 1 and every core. */
  threads?: number[];
  repetitions: number;
  /** Kernel suite: the models whose projection shapes are timed (default all of MODEL_SHAPES). */
  kernelModels?: string[];
  /** Seconds instead of minutes: small shapes, short timings, small pools. */
  quick: boolean;
  builds?: BuildName[];
  peers: boolean;
  command: string;
  packageName: string;
  /** Progress lines (stderr). */
  log?: (line: string) => void;
}

/** Ternary GGUF types upstream llama.cpp (node-llama-cpp, wllama) reads. */
export const LLAMA_CPP_TYPES = ['TQ1_0', 'TQ2_0'];

/** Thread counts of the peers (native llama.cpp, wllama): 1 and each -t count; in full mode every
 *  core too. One rule for both, so their rows line up. */
export function peerThreads(given: number[] | undefined, cores: number, quick: boolean): number[] {
  return [...new Set([1, ...(given ?? []), ...(quick ? [] : [cores])])].sort((a, b) => a - b);
}

/** Sizes of each mode: quick keeps `npm test` in seconds, full is what the report shows. */
const MODES = {
  quick: { timeMs: 25, probeMB: 16, streamMB: 8, models: ['2B4T'], shapes: [[256, 512]] as [number, number][], batches: [1, 4], positions: [64] },
  full: { timeMs: 300, probeMB: 1024, streamMB: 1024, models: Object.keys(MODEL_SHAPES), shapes: undefined, batches: [1, 8, 64], positions: [512, 1024, 4096] },
};

/** The bytes of a model file: fetched when it is a URL, else read from disk. */
async function readBytes(file: string | Uint8Array): Promise<Uint8Array> {
  if (typeof file !== 'string') return file;
  if (/^(https?|blob|data):/.test(file)) return new Uint8Array(await (await fetch(file)).arrayBuffer());
  const { readFile } = await import('node:fs/promises');
  return new Uint8Array(await readFile(file));
}

export async function runBench(o: RunOptions): Promise<BenchRun> {
  const mode = o.quick ? MODES.quick : MODES.full;
  const log = o.log ?? (() => {});
  const env = await benchEnv(o.packageName);
  const builds = o.builds ?? (env.builds as BuildName[]);
  const runtime = runtimeName();
  const threads = o.threads ?? [...new Set([1, env.cores])];
  const run: BenchRun = { schema: 1, date: new Date().toISOString(), command: o.command, quick: o.quick, env, results: [], notes: [] };
  for (const b of ['simd128', 'relaxed'] as const) if (!env.builds.includes(b)) run.notes.push(`${b} build: skipped, ${runtime} cannot instantiate it`);

  // The probe runs at the start and again next to each streamed kernel row and before decode; the
  // best rate so far is the limit (on a shared machine a single probe can land in a busy moment).
  log(`probe: reading ${mode.probeMB} MB`);
  const probeRates: number[] = [];
  const probe = async () => {
    probeRates.push((await readBandwidth(mode.probeMB, Math.max(mode.timeMs, o.quick ? 25 : 600))).readGBs);
    return Math.max(...probeRates);
  };
  await probe();

  const suites: Record<SuiteName, () => Promise<void>> = {
    probe: async () => {},
    kernels: async () => {
      const r = await kernelSuite({ runtime, builds, models: o.quick ? mode.models : o.kernelModels ?? mode.models, batches: mode.batches, streamMB: mode.streamMB, timeMs: mode.timeMs, probe, shapesOverride: mode.shapes });
      run.results.push(...r.results); run.notes.push(...r.notes);
    },
    e2e: async () => {
      for (const m of o.models) {
        log(`e2e: ${m.name}`);
        for (const build of builds) {
          const r = await e2eSuite({ runtime, file: m.file, modelName: m.name, build, threads, prompts: o.prompts, gens: o.gens, repetitions: o.repetitions, probeGBs: await probe() });
          run.results.push(...r.results); run.notes.push(...r.notes);
        }
        if (o.peers && m.type && !LLAMA_CPP_TYPES.includes(m.type)) {
          run.notes.push(`llama.cpp (node-llama-cpp) on ${m.name}: skipped, upstream llama.cpp does not read ${m.type} (bitnet.cpp's type)`);
        } else if (o.peers) {
          const { llamaCppPeer } = await import('./peers.js');
          try {
            const r = await llamaCppPeer({ runtime, file: m.file as string, modelName: m.name, prompts: o.prompts, gens: o.gens, repetitions: o.repetitions, threads: peerThreads(o.threads, env.cores, o.quick) }, benchContext(o.prompts, o.gens));
            run.results.push(...r.results); run.notes.push(...r.notes);
          } catch (e) { // the peer's failure is reported, bitnet-wasm's figures kept
            run.notes.push(`llama.cpp (node-llama-cpp) on ${m.name}: failed, ${(e as Error).message.split('\n')[0]}`);
          }
        }
      }
    },
    load: async () => {
      for (const m of o.models) {
        run.results.push(...await loadSuite({ runtime, bytes: await readBytes(m.file), modelName: m.name, builds, repetitions: o.repetitions }));
      }
    },
    attention: async () => {
      run.results.push(...await attentionSuite({ runtime, builds, positions: mode.positions, timeMs: mode.timeMs }));
    },
  };
  for (const s of o.suites) {
    log(`suite ${s}`);
    await suites[s]();
  }
  run.notes = [...new Set(run.notes)];
  run.results.unshift({ suite: 'probe', engine: 'wasm', runtime, build: 'simd128', kernel: 'read', threads: 1, test: `read ${mode.probeMB} MB`,
    params: { mb: mode.probeMB }, metrics: { readGBs: Math.max(...probeRates), minGBs: Math.min(...probeRates) }, repetitions: probeRates.length });
  return run;
}

/** Runs of several runtimes as one: the first run's header, every result, each runtime's
 *  environment (envs; a merged run brings all of its own), all notes. */
export function mergeRuns({ runs, notes }: { runs: BenchRun[]; notes: string[] }): BenchRun {
  if (!runs.length) throw new Error(`no runtime ran the suite: ${notes.join('; ')}`);
  const [first] = runs;
  return { ...first, envs: runs.flatMap((r) => r.envs ?? [r.env]), results: runs.flatMap((r) => r.results), notes: [...new Set([...runs.flatMap((r) => r.notes), ...notes])] };
}
