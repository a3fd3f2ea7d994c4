// One benchmark run: the bandwidth probe first, then the chosen suites, all in this process, into
// one BenchRun (the JSON saved beside the report).
import { readFile } from 'node:fs/promises';
import type { BuildName } from '../init.js';
import { attentionSuite } from './attention.js';
import { e2eSuite } from './e2e.js';
import { benchEnv, runtimeName } from './env.js';
import { kernelSuite, MODEL_SHAPES } from './kernels.js';
import { loadSuite } from './load.js';
import { readBandwidth } from './probe.js';
import type { BenchRun, SuiteName } from './types.js';

export interface RunOptions {
  suites: SuiteName[];
  /** GGUF file for e2e and load. */
  file: string;
  modelName: string;
  prompts: number[];
  gens: number[];
  repetitions: number;
  /** Seconds instead of minutes: small shapes, short timings, small pools. */
  quick: boolean;
  builds?: BuildName[];
  peers: boolean;
  command: string;
  packageName: string;
  /** Progress lines (stderr). */
  log?: (line: string) => void;
}

/** Sizes of each mode: quick keeps `npm test` in seconds, full is what the report shows. */
const MODES = {
  quick: { timeMs: 25, probeMB: 16, streamMB: 8, models: ['2B4T'], shapes: [[256, 512]] as [number, number][], batches: [1, 4], positions: [64] },
  full: { timeMs: 300, probeMB: 1024, streamMB: 1024, models: Object.keys(MODEL_SHAPES), shapes: undefined, batches: [1, 8, 64], positions: [512, 1024, 4096] },
};

export async function runBench(o: RunOptions): Promise<BenchRun> {
  const mode = o.quick ? MODES.quick : MODES.full;
  const log = o.log ?? (() => {});
  const env = await benchEnv(o.packageName);
  const builds = o.builds ?? (env.builds as BuildName[]);
  const runtime = runtimeName();
  const run: BenchRun = { schema: 1, date: new Date().toISOString(), command: o.command, quick: o.quick, env, results: [], notes: [] };
  for (const b of ['simd128', 'relaxed'] as const) if (!env.builds.includes(b)) run.notes.push(`${b} build: skipped, ${runtime} cannot instantiate it`);

  // The probe runs at the start and again next to each streamed kernel row and before decode; the
  // best rate so far is the limit (on a shared machine a single probe can land in a busy moment).
  log(`probe: reading ${mode.probeMB} MB`);
  const probeTimes: number[] = [];
  const probe = async () => {
    probeTimes.push((await readBandwidth(mode.probeMB, Math.max(mode.timeMs, o.quick ? 25 : 600))).readGBs);
    return Math.max(...probeTimes);
  };
  await probe();

  const suites: Record<SuiteName, () => Promise<void>> = {
    probe: async () => {},
    kernels: async () => {
      const r = await kernelSuite({ runtime, builds, models: mode.models, batches: mode.batches, streamMB: mode.streamMB, timeMs: mode.timeMs, probe, shapesOverride: mode.shapes });
      run.results.push(...r.results); run.notes.push(...r.notes);
    },
    e2e: async () => {
      for (const build of builds) {
        const r = await e2eSuite({ runtime, file: o.file, modelName: o.modelName, build, prompts: o.prompts, gens: o.gens, repetitions: o.repetitions, probeGBs: await probe() });
        run.results.push(...r.results);
      }
      if (o.peers) {
        const { llamaCppPeer } = await import('./peers.js');
        try {
          const r = await llamaCppPeer({ runtime, file: o.file, modelName: o.modelName, prompts: o.prompts, gens: o.gens, repetitions: o.repetitions, threads: [...new Set([1, env.cores])] }, Math.max(...o.prompts) + Math.max(...o.gens) + 8);
          run.results.push(...r.results); run.notes.push(...r.notes);
        } catch (e) { // the peer's failure is reported, bitnet-wasm's figures kept
          run.notes.push(`llama.cpp (node-llama-cpp): failed, ${(e as Error).message}`);
        }
      }
    },
    load: async () => {
      run.results.push(...await loadSuite({ runtime, bytes: new Uint8Array(await readFile(o.file)), modelName: o.modelName, builds, repetitions: o.repetitions }));
    },
    attention: async () => {
      run.results.push(...await attentionSuite({ runtime, builds, positions: mode.positions, timeMs: mode.timeMs }));
    },
  };
  for (const s of o.suites) {
    log(`suite ${s}`);
    await suites[s]();
  }
  run.results.unshift({ suite: 'probe', engine: 'wasm', runtime, build: 'simd128', kernel: 'read', threads: 1, test: `read ${mode.probeMB} MB`,
    params: { mb: mode.probeMB }, metrics: { readGBs: Math.max(...probeTimes), minGBs: Math.min(...probeTimes) }, repetitions: probeTimes.length });
  return run;
}
