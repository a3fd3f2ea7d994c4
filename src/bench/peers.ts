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

interface PeerOptions { runtime: string; file: string; modelName: string; prompts: number[]; gens: number[]; repetitions: number }

/** Native llama.cpp on one thread: prefill of p tokens, then n greedy single-token steps. */
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
    const context = await m.createContext({ contextSize: ctx, threads: 1, batchSize: 512 });
    try {
      const nVocab = m.tokens?.length ?? 1000;
      const run = async (p: number, n: number) => {
        const seq = context.getSequence();
        try {
          const ids = Array.from({ length: p }, (_, i) => (i * 7919 + 13) % nVocab);
          const t0 = performance.now();
          const first = await seq.controlledEvaluate(ids.map((t: number, i: number) => (i === p - 1 ? [t, { generateNext: { token: true } }] : t)));
          const t1 = performance.now();
          let tok = first[p - 1].next.token;
          for (let i = 0; i < n; i++) tok = (await seq.controlledEvaluate([[tok, { generateNext: { token: true } }]]))[0].next.token;
          const t2 = performance.now();
          return { pp: p / ((t1 - t0) / 1000), tg: n / ((t2 - t1) / 1000) };
        } finally {
          seq.dispose();
        }
      };
      await run(8, 2);
      for (const p of o.prompts) {
        const xs: number[] = []; for (let r = 0; r < o.repetitions; r++) xs.push((await run(p, 0)).pp);
        results.push({ ...base, test: `pp${p}`, params: { model: o.modelName, p }, metrics: { tokPerSec: mean(xs) }, repetitions: xs.length });
      }
      for (const n of o.gens) {
        if (n === 0) continue;
        const xs: number[] = []; for (let r = 0; r < o.repetitions; r++) xs.push((await run(1, n)).tg);
        results.push({ ...base, test: `tg${n}`, params: { model: o.modelName, n }, metrics: { tokPerSec: mean(xs) }, repetitions: xs.length });
      }
    } finally {
      await context.dispose();
      await m.dispose();
    }
  } finally {
    await llama.dispose();
  }
  return { results, notes: [] };
}
