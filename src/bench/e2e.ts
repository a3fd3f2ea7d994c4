// End-to-end suite: load time, prefill (pp N) and decode (tg N) tok/s and resident memory of one
// GGUF file, like llama-bench; decode's weight traffic as a fraction of the probe's bandwidth.
// Peers (native llama.cpp, peers.ts; wllama in Chromium) are timed beside it on the same file.
import { createRuntime, type BuildName } from '../init.js';
import { loadModel, type Model } from '../model/model.js';
import { mean, timeOnce } from './measure.js';
import type { BenchResult } from './types.js';

/** Context every engine gets: the longest prompt and generation, plus room for a warm-up. */
export const benchContext = (prompts: number[], gens: number[]) => Math.max(...prompts) + Math.max(...gens) + 8;

export interface E2ESuiteOptions {
  runtime: string;
  /** A path (Node, Deno, Bun), a URL (browsers) or the bytes (workerd). */
  file: string | Uint8Array;
  /** Display name of the file (its preset and type, or its base name). */
  modelName: string;
  build: BuildName;
  /** Thread counts (llama-bench -t); more than 1 runs only where the library has threads. */
  threads: number[];
  prompts: number[];
  gens: number[];
  repetitions: number;
  probeGBs: number;
}

export async function e2eSuite(o: E2ESuiteOptions): Promise<{ results: BenchResult[]; notes: string[] }> {
  const results: BenchResult[] = [], notes: string[] = [];
  const ctx = benchContext(o.prompts, o.gens);
  for (const threads of o.threads) {
    // A fresh instance (load time includes growing memory), with the workers of `threads` where the
    // runtime has shared memory; the thread count is always said (the library's default may be every core).
    const rt = await createRuntime({ build: o.build, threads });
    let model: Model;
    let load: { ms: number };
    try {
      ({ value: model, ...load } = await timeOnce(() => loadModel(o.file, { runtime: rt, contextLength: ctx, batchSize: 32, threads })));
    } catch (e) {
      rt.closeThreads();
      throw e;
    }
    try {
      if (model.threads !== threads) {
        notes.push(`bitnet-wasm ${o.runtime} ${o.build} -t ${threads}: skipped, the library ran ${model.threads} thread(s) (no shared memory or workers here)`);
        continue;
      }
      const base = { suite: 'e2e' as const, engine: 'bitnet-wasm', runtime: o.runtime, build: rt.build, kernel: model.kernel, threads };
      const weightBytes = (model as unknown as { weights: { byteLength: number } }).weights.byteLength;
      const memory = rt.exports.memory.buffer.byteLength;
      results.push({ ...base, test: 'load', params: { model: o.modelName }, metrics: { ms: load.ms, mbPerSec: weightBytes / 1e3 / load.ms, residentMB: memory / 1e6, weightMB: weightBytes / 1e6 }, repetitions: 1 });
      model.bench({ prompt: 8, gen: 2 }); // warm-up
      for (const p of o.prompts) {
        const xs = Array.from({ length: o.repetitions }, () => model.bench({ prompt: p, gen: 0 }).prefillTokensPerSecond);
        if (!xs.every(Number.isFinite)) { notes.push(tooShort(o.runtime, `pp${p}`)); continue; }
        results.push({ ...base, test: `pp${p}`, params: { model: o.modelName, p }, metrics: { tokPerSec: mean(xs) }, repetitions: xs.length });
      }
      for (const n of o.gens) {
        if (n === 0) continue;
        const xs = Array.from({ length: o.repetitions }, () => model.bench({ prompt: 1, gen: n }).decodeTokensPerSecond);
        if (!xs.every(Number.isFinite)) { notes.push(tooShort(o.runtime, `tg${n}`)); continue; }
        const tps = mean(xs);
        const metrics: Record<string, number> = { tokPerSec: tps, weightGBs: weightBytes * tps / 1e9 };
        if (o.probeGBs > 0) metrics.bandwidthFraction = metrics.weightGBs / o.probeGBs;
        results.push({ ...base, test: `tg${n}`, params: { model: o.modelName, n }, metrics, repetitions: xs.length });
      }
    } finally {
      model.dispose();
      rt.closeThreads();
    }
  }
  return { results, notes };
}

// A run shorter than the clock's step (workerd's clock moves in 1 ms steps, and not at all during
// synchronous code) measures 0 ms: say so instead of reporting an infinite rate.
const tooShort = (runtime: string, test: string) => `${runtime} ${test}: no figure, the run took less than one step of this runtime's clock (give more tokens)`;
