// End-to-end suite: load time, prefill (pp N) and decode (tg N) tok/s and resident memory of one
// GGUF file, like llama-bench; decode's weight traffic as a fraction of the probe's bandwidth.
// Peers (native llama.cpp, peers.ts) are timed beside it by run.ts on the same file.
import { createRuntime, type BuildName } from '../init.js';
import { loadModel } from '../model/model.js';
import { mean, timeOnce } from './measure.js';
import type { BenchResult } from './types.js';

export interface E2ESuiteOptions {
  runtime: string;
  file: string;
  /** Display name of the file (its preset or base name). */
  modelName: string;
  build?: BuildName;
  kernels?: string[];
  prompts: number[];
  gens: number[];
  repetitions: number;
  probeGBs: number;
}

export async function e2eSuite(o: E2ESuiteOptions): Promise<{ results: BenchResult[]; notes: string[] }> {
  const results: BenchResult[] = [], notes: string[] = [];
  const ctx = Math.max(...o.prompts) + Math.max(...o.gens) + 8;
  const probe = await createRuntime({ build: o.build });
  const kernels = o.kernels ?? [undefined];
  for (const kernel of kernels) {
    const rt = await createRuntime({ build: probe.build }); // a fresh instance: load time includes growing memory
    const load = await timeOnce(() => loadModel(o.file, { runtime: rt, kernel: kernel as never, contextLength: ctx, batchSize: 32 }));
    const model = load.value;
    try {
      const base = { suite: 'e2e' as const, engine: 'bitnet-wasm', runtime: o.runtime, build: rt.build, kernel: model.kernel, threads: 1 };
      const weightBytes = (model as unknown as { weights: { byteLength: number } }).weights.byteLength;
      const memory = rt.exports.memory.buffer.byteLength;
      results.push({ ...base, test: 'load', params: { model: o.modelName }, metrics: { ms: load.ms, mbPerSec: weightBytes / 1e3 / load.ms, residentMB: memory / 1e6, weightMB: weightBytes / 1e6 }, repetitions: 1 });
      model.bench({ prompt: 8, gen: 2 }); // warm-up
      for (const p of o.prompts) {
        const xs = Array.from({ length: o.repetitions }, () => model.bench({ prompt: p, gen: 0 }).prefillTokensPerSecond);
        results.push({ ...base, test: `pp${p}`, params: { model: o.modelName, p }, metrics: { tokPerSec: mean(xs) }, repetitions: xs.length });
      }
      for (const n of o.gens) {
        if (n === 0) continue;
        const xs = Array.from({ length: o.repetitions }, () => model.bench({ prompt: 1, gen: n }).decodeTokensPerSecond);
        const tps = mean(xs);
        const metrics: Record<string, number> = { tokPerSec: tps, weightGBs: weightBytes * tps / 1e9 };
        if (o.probeGBs > 0) metrics.bandwidthFraction = metrics.weightGBs / o.probeGBs;
        results.push({ ...base, test: `tg${n}`, params: { model: o.modelName, n }, metrics, repetitions: xs.length });
      }
    } finally {
      model.dispose();
    }
  }
  return { results, notes };
}
