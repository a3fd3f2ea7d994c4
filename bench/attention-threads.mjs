// Decode at a long context on 1 vs N threads, and attention's share of one step per layer. One model
// per thread count on one runtime, each with two sequences prefilled once (a P-token prompt and an
// S-token one); then rounds, thread counts interleaved, each generating N greedy tokens after the
// cached prompt (the prompt is reused, so a round is N decode steps); best of each. A step's time
// after P minus after S, over the model's layers, is one layer's attention over P - S more
// positions (the rest of a step does not depend on the position): issue 13's goal is <= 1.5 ms per
// 2B4T layer at 4096. The generated tokens must be equal for every thread count. Prints the CPU, the
// load and first the machine's parallel capacity (bench/capacity.mjs), also of the attention kernel
// run in independent instances at once: quote no thread ratio without them.
//
//   node bench/attention-threads.mjs MODEL.gguf [-p 4096] [-s 16] [-n 16] [--threads 1,2] [--rounds 5]
//                                    [--build relaxed] [--cache f32|f16]
import { loadavg } from 'node:os';
import { createRuntime, loadModel } from '../dist/index.js';
import { attentionCapacity, machineLine, printCapacity } from './capacity.mjs';

const args = process.argv.slice(2);
const VALUED = ['-p', '-s', '-n', '--threads', '--rounds', '--build', '--cache'];
const opt = (k, d) => { const i = args.indexOf(k); return i >= 0 ? args[i + 1] : d; };
const file = args.find((a, i) => !a.startsWith('-') && !VALUED.includes(args[i - 1]));
if (!file) { console.error('usage: node bench/attention-threads.mjs MODEL.gguf [-p 4096] [-s 16] [-n 16] [--threads 1,2] [--rounds 5] [--build B] [--cache f32|f16]'); process.exit(2); }
const P = Number(opt('-p', 4096)), S = Number(opt('-s', 16)), N = Number(opt('-n', 16)), ROUNDS = Number(opt('--rounds', 5));
const THREADS = opt('--threads', '1,2').split(',').map(Number), cacheType = opt('--cache', 'f32');

const rt = await createRuntime({ build: opt('--build', undefined), threads: Math.max(...THREADS) });
console.log(machineLine(`${rt.build} build, ${rt.threads} threads available`));
const maxT = Math.max(...THREADS);
await printCapacity(maxT);
if (maxT > 1 && typeof Deno === 'undefined' && typeof Bun === 'undefined') {
  const a = await attentionCapacity(new URL(`../dist/bitnet-${rt.build}.wasm`, import.meta.url), maxT);
  console.log(`parallel capacity of ${maxT} attention kernels (own instances, 4096 positions, f32) right now: ${a.capacity.toFixed(2)} (of ${maxT}; ${a.oneMs.toFixed(2)} ms per call alone, ${a.manyMs.toFixed(2)} each at once)`);
}

const runs = [];
for (const threads of THREADS) {
  const m = await loadModel(file, { runtime: rt, threads, contextLength: P + N + 1, cacheType, onWarning: () => {} });
  const prompt = (n) => Array.from({ length: n }, (_, i) => (i * 7919 + 13) % m.config.nVocab);
  const seqs = { long: m.createSequence(), short: m.createSequence() };
  const prompts = { long: prompt(P), short: prompt(S) };
  const t0 = performance.now();
  for (const k of ['long', 'short']) await seqs[k].generate(prompts[k], { maxTokens: 0 }); // prefill once
  console.log(`${threads} thread(s): prefill ${P} + ${S} tokens in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  runs.push({ threads, m, seqs, prompts, best: { long: Infinity, short: Infinity }, tokens: {} });
}
const c = runs[0].m.config;
console.log(`${file}: ${c.nLayer} layers, ${c.nHead}/${c.nHeadKv} heads x ${c.headDim}, ${runs[0].m.kernel} kernel, ${cacheType} cache; ${N} decode steps after ${P} and after ${S} cached prompt tokens`);
for (let r = 0; r < ROUNDS; r++) {
  for (const run of runs) {
    for (const k of ['long', 'short']) {
      const g = await run.seqs[k].generate(run.prompts[k], { maxTokens: N, temperature: 0 });
      if (g.stats.cachedTokens < run.prompts[k].length - 1) throw new Error(`the ${k} prompt was not reused (${g.stats.cachedTokens} cached)`);
      run.best[k] = Math.min(run.best[k], 1000 / g.stats.decodeTokensPerSecond);
      const want = runs[0].tokens[k] ??= g.tokens.join();
      if (g.tokens.join() !== want) throw new Error(`${run.threads} threads: other tokens than ${runs[0].threads}`);
    }
  }
}
console.table(runs.map((run) => ({
  threads: run.threads,
  [`decode tok/s after ${P}`]: +(1000 / run.best.long).toFixed(2),
  [`decode tok/s after ${S}`]: +(1000 / run.best.short).toFixed(2),
  'attention ms/layer': +((run.best.long - run.best.short) / c.nLayer).toFixed(3),
  [`tok/s after ${P} vs ${runs[0].threads}t`]: +(runs[0].best.long / run.best.long).toFixed(2),
})));
console.log(`same tokens for every thread count; load after: ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);
for (const run of runs) run.m.dispose();
rt.closeThreads();
