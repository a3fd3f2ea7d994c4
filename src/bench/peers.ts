// Peers timed beside bitnet-wasm on the same file. A peer that is not installed is skipped with a
// line in the run's notes, never estimated.
import { mean, timeOnce } from './measure.js';
import type { BenchResult } from './types.js';

/** node-llama-cpp: from the package's own resolution, else the repository's test-only packages. */
async function importNodeLlamaCpp(): Promise<Record<string, unknown> | undefined> {
  try { return await import('node-llama-cpp' as string); } catch { /* not a dependency of this install */ }
  try {
    const { createRequire } = await import('node:module');
    const { pathToFileURL } = await import('node:url');
    const { resolve } = await import('node:path');
    const req = createRequire(resolve(process.cwd(), 'test', 'package.json'));
    return await import(pathToFileURL(req.resolve('node-llama-cpp')).href);
  } catch {
    return undefined;
  }
}

interface PeerOptions { runtime: string; file: string; modelName: string; prompts: number[]; gens: number[]; repetitions: number; threads: number[] }

/** Native llama.cpp at each thread count: prefill of p tokens, then n greedy tokens. */
export async function llamaCppPeer(o: PeerOptions, ctx: number): Promise<{ results: BenchResult[]; notes: string[] }> {
  const mod = await importNodeLlamaCpp() as { getLlama: (o: object) => Promise<any>; LlamaLogLevel: Record<string, unknown> } | undefined;
  if (!mod) return { results: [], notes: ['llama.cpp (node-llama-cpp): skipped, not installed (npm i node-llama-cpp, or node test/deps.mjs in the repository)'] };
  const llama = await mod.getLlama({ gpu: false, build: 'never', logLevel: mod.LlamaLogLevel.error, progressLogs: false });
  const results: BenchResult[] = [];
  try {
    const load = await timeOnce(() => llama.loadModel({ modelPath: o.file, gpuLayers: 0, useMmap: false }));
    const m = load.value;
    const version = `llama.cpp ${llama.buildType ?? ''} ${llama.llamaCppRelease?.release ?? ''}`.replace(/\s+/g, ' ').trim();
    const base = { suite: 'e2e' as const, engine: 'llama.cpp', runtime: `native (${version}, node-llama-cpp)`, build: 'native', kernel: 'ggml', threads: 1 };
    results.push({ ...base, test: 'load', params: { model: o.modelName }, metrics: { ms: load.ms }, repetitions: 1 });
    // At 1 thread and at every core: llama.cpp has threads, bitnet-wasm does not yet.
    // Prompt tokens from text in the model's own vocabulary (a fixed id range may not exist in a
    // small one): speed does not depend on which tokens they are.
    const words = [...m.tokenize(' the quick brown fox jumps over the lazy dog')] as number[];
    for (const threads of o.threads) {
      const context = await m.createContext({ contextSize: ctx, threads, batchSize: 512 });
      try {
        const seq = context.getSequence(); // a context has one sequence: its history is cleared between tests
        // Timed as node-llama-cpp's users run it (sequence.evaluate, the generator LlamaChat uses),
        // as bench/decode.mjs does: time to the first token = prefill, the rest = decode.
        const run = async (p: number, n: number) => {
          await seq.clearHistory();
          const ids = Array.from({ length: p }, (_, i) => words[i % words.length]);
          const t0 = performance.now();
          let t1 = t0, got = 0;
          for await (const _ of seq.evaluate(ids, { temperature: 0 })) {
            if (++got === 1) t1 = performance.now();
            if (got === n + 1) break;
          }
          return { pp: p / ((t1 - t0) / 1000), tg: n / ((performance.now() - t1) / 1000) };
        };
        await run(8, 2);
        const at = { ...base, threads };
        for (const p of o.prompts) {
          const xs: number[] = []; for (let r = 0; r < o.repetitions; r++) xs.push((await run(p, 0)).pp);
          results.push({ ...at, test: `pp${p}`, params: { model: o.modelName, p }, metrics: { tokPerSec: mean(xs) }, repetitions: xs.length });
        }
        for (const n of o.gens) {
          if (n === 0) continue;
          const xs: number[] = []; for (let r = 0; r < o.repetitions; r++) xs.push((await run(1, n)).tg);
          results.push({ ...at, test: `tg${n}`, params: { model: o.modelName, n }, metrics: { tokPerSec: mean(xs) }, repetitions: xs.length });
        }
      } finally {
        await context.dispose();
      }
    }
    await m.dispose();
  } finally {
    await llama.dispose();
  }
  return { results, notes: [] };
}
