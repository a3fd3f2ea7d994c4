// End-to-end decode benchmark: bitnet-wasm next to native llama.cpp (node-llama-cpp) on the same
// GGUF file, in one run. Like llama-bench: prefill of -p tokens, then -n generated tokens (greedy).
//
//   node bench/decode.mjs MODEL.gguf [-p 64] [-n 32] [--kernel calibrated,i2-dot,...] [--build simd128,relaxed]
//                         [--threads 1,2,auto] [--rounds 2] [--no-llama] [--json]
//
// --threads auto: bitnet-wasm as loadModel({ threads: 'auto' }) runs it: the cores the runtime
// reports, and which jobs go to the workers measured at load (model.decodeChoice, printed).
// bitnet-wasm runs at each --threads count (its worker pool), on each --build the engine runs (default: both), with the kernel its
// calibration picks (`calibrated`, the default of loadModel) and with each kernel forced. llama.cpp runs at each --threads count, timed the way
// node-llama-cpp's users run it: through `sequence.evaluate(...)`, the token generator its
// LlamaChat / LlamaCompletion classes use (one call; it batches the prompt, then yields a token per
// step), not one `controlledEvaluate` call per token (which adds a JS round trip per token).
// Every engine runs --rounds times, the rounds interleaved, and the best of each is reported, so a
// burst of load from elsewhere on a shared machine hits them alike.
import { readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { createRuntime, kernelCalibration, KERNEL_IDS, KERNEL_NAMES, loadModel } from '../dist/index.js';
import { ensureTestDeps, testDepUrl } from '../test/deps.mjs';
import { parallelCapacity } from './capacity.mjs';

const args = process.argv.slice(2);
const VALUED = ['-p', '-n', '--kernel', '--build', '--threads', '--rounds'];
const opt = (k, d) => { const i = args.indexOf(k); return i >= 0 ? args[i + 1] : d; };
const file = args.find((a, i) => !a.startsWith('-') && !VALUED.includes(args[i - 1]));
if (!file) { console.error('usage: node bench/decode.mjs MODEL.gguf [-p 64] [-n 32] [--kernel calibrated,K,...] [--build B] [--threads 1,2] [--rounds 2] [--no-llama] [--json]'); process.exit(2); }
const P = Number(opt('-p', 64)), N = Number(opt('-n', 32)), ROUNDS = Number(opt('--rounds', 2));
const runtimeName = typeof Deno !== 'undefined' ? `deno ${Deno.version.deno}` : typeof Bun !== 'undefined' ? `bun ${Bun.version}` : `node ${process.version}`;

const THREADS = opt('--threads', '1,2').split(',').map((t) => (t === 'auto' ? t : Number(t)));
const numeric = (t) => (t === 'auto' ? Math.min(cpus().length, 8) : t); // 'auto''s cap (src/init.ts AUTO_MAX_THREADS)
const runtimes = [];
for (const build of opt('--build', 'simd128,relaxed').split(',')) {
  // One runtime per build with the most threads asked for; each model then uses its own count.
  try { runtimes.push(await createRuntime({ build, threads: Math.max(...THREADS.map(numeric)) })); } catch (e) { console.error(`${build}: skipped (${e.message})`); }
}
const rt = runtimes[runtimes.length - 1]; // loads the file once to learn its vocabulary

/** One engine: a label and a run() giving { prefill, decode } tok/s (setup/teardown around it). */
const engines = runtimes.flatMap((rt) => {
  const cal = kernelCalibration(rt);
  const available = KERNEL_NAMES.filter((k) => k !== 'scalar' && rt.exports.kernel_available(KERNEL_IDS[k]) === 1);
  const kernels = opt('--kernel', ['calibrated', ...available].join(',')).split(',')
    .filter((k) => k === 'calibrated' || (available.includes(k) && available.length > 1)); // one candidate: calibrated is it
  return kernels.flatMap((k) => THREADS.map((threads) => ({
    name: `${k === 'calibrated' ? `bitnet-wasm ${rt.build}, calibrated (layout ${cal.layout}, prefill ${cal.gemm})` : `bitnet-wasm ${rt.build}, ${k} forced`}, ${threads === 'auto' ? 'threads auto' : `${threads} thread${threads > 1 ? 's' : ''}`}${numeric(threads) > rt.threads ? ` (only ${rt.threads} here)` : ''}`,
    async run() {
      const model = await loadModel(file, { runtime: rt, kernel: k === 'calibrated' ? undefined : k, threads, contextLength: P + N + 8, batchSize: 32 });
      if (!choices.has(this.name)) choices.set(this.name, model.decodeChoice); // the first load measured it (later ones: cached)
      try {
        model.bench({ prompt: 8, gen: 2 }); // warm up
        const r = model.bench({ prompt: P, gen: N });
        return { prefill: r.prefillTokensPerSecond, decode: r.decodeTokensPerSecond };
      } finally { model.dispose(); }
    },
  })));
});

/** Each bitnet-wasm engine's model.decodeChoice (its load's measurement; the same every round: cached). */
const choices = new Map();
let llama = null, llamaModel = null, llamaVersion = '?';
if (!args.includes('--no-llama')) {
  const mod = (ensureTestDeps(), await import(testDepUrl('node-llama-cpp'))); // a test-only package (test/package.json)
  llama = await mod.getLlama({ gpu: false, build: 'never', logLevel: mod.LlamaLogLevel.error, progressLogs: false });
  llamaModel = await llama.loadModel({ modelPath: file, gpuLayers: 0, useMmap: false });
  llamaVersion = JSON.parse(readFileSync(new URL('../package.json', testDepUrl('node-llama-cpp').replace(/dist\/index.js$/, 'dist/')), 'utf8')).version;
  const vocab = await (async () => { const m = await loadModel(file, { runtime: rt, contextLength: 16 }); try { return m.config.nVocab; } finally { m.dispose(); } })();
  const ids = Array.from({ length: P }, (_, i) => (i * 7919 + 13) % vocab); // the prompt Model.bench uses
  for (const threads of THREADS.filter((t) => t !== 'auto')) {
    engines.push({
      name: `llama.cpp native (node-llama-cpp ${llamaVersion}, sequence.evaluate), ${threads} thread${threads > 1 ? 's' : ''}`,
      async run() {
        const ctx = await llamaModel.createContext({ contextSize: P + N + 16, threads, batchSize: 512 });
        try {
          const seq = ctx.getSequence();
          const gen = async (tokens, n) => { // tokens in, n tokens out; returns [ms to the first, ms for the rest]
            const t0 = performance.now();
            let t1 = t0, got = 0;
            for await (const _ of seq.evaluate(tokens, { temperature: 0 })) {
              if (++got === 1) t1 = performance.now();
              if (got === n + 1) break;
            }
            return [t1 - t0, performance.now() - t1];
          };
          await gen(ids.slice(0, 8), 2); // warm up
          await seq.clearHistory();
          const [prefillMs, decodeMs] = await gen(ids, N);
          return { prefill: P / (prefillMs / 1000), decode: N / (decodeMs / 1000) };
        } finally { await ctx.dispose(); }
      },
    });
  }
}

// What the machine gives two threads right now (bench/capacity.mjs), before and after the rounds.
const capacityK = Math.max(...THREADS.map(numeric));
const capacity = capacityK > 1 ? [+(await parallelCapacity(capacityK)).toFixed(2)] : [];
const load = loadavg().map((l) => l.toFixed(2)).join(' ');
const best = engines.map(() => ({ prefill: 0, decode: 0 }));
for (let r = 0; r < ROUNDS; r++) {
  for (const [i, e] of engines.entries()) {
    const got = await e.run();
    best[i] = { prefill: Math.max(best[i].prefill, got.prefill), decode: Math.max(best[i].decode, got.decode) };
  }
}
const loadAfter = loadavg().map((l) => l.toFixed(2)).join(' ');
if (capacityK > 1) capacity.push(+(await parallelCapacity(capacityK)).toFixed(2));
if (llama) { await llamaModel.dispose(); await llama.dispose(); }

const ref = best[engines.findIndex((e) => e.name.startsWith('llama.cpp'))] ?? null;
const rows = engines.map((e, i) => ({ engine: e.name, ...best[i], decodeVsLlama1: ref ? best[i].decode / ref.decode : null, prefillVsLlama1: ref ? best[i].prefill / ref.prefill : null }));
const cpu = cpus()[0]?.model ?? '?';
const calibrations = Object.fromEntries(runtimes.map((r) => [r.build, kernelCalibration(r)]));
if (args.includes('--json')) console.log(JSON.stringify({ file, P, N, rounds: ROUNDS, cpu, cores: cpus().length, runtime: runtimeName, load: { before: load, after: loadAfter }, capacity: capacity.length ? { threads: capacityK, before: capacity[0], after: capacity[1] } : null, calibrations, decodeChoices: Object.fromEntries(choices), rows }, null, 2));
else {
  console.log(`${file}: prefill ${P} tokens, decode ${N} tokens, best of ${ROUNDS} interleaved rounds; ${runtimeName}; ${cpu} (${cpus().length} cores); load average ${load} before, ${loadAfter} after${capacity.length ? `; parallel capacity of ${capacityK} plain-JS threads ${capacity[0]} before, ${capacity[1]} after (of ${capacityK})` : ''}`);
  for (const [b, c] of Object.entries(calibrations)) console.log(`calibration, ${b} build (${c.ms} ms, ${c.rounds ? `median us of ${c.rounds} rounds): ${JSON.stringify(c.timings)}` : 'one candidate: nothing timed)'}; layout ${c.layoutWhy}`);
  if (ROUNDS < 2) console.log('note: one round: the first engine also paid V8\'s tier-up of the shared code; compare rows from --rounds 2 or more');
  console.log('| engine | prefill tok/s | decode tok/s | prefill vs llama.cpp 1t | decode vs llama.cpp 1t |');
  console.log('|---|---:|---:|---:|---:|');
  const x = (v) => (v === null ? '-' : `${v.toFixed(2)}x`);
  for (const r of rows) console.log(`| ${r.engine} | ${r.prefill.toFixed(1)} | ${r.decode.toFixed(1)} | ${x(r.prefillVsLlama1)} | ${x(r.decodeVsLlama1)} |`);
  // Decode's kernel is the model's own choice at load (decodeKernel: timed on its shapes), not the runtime's GEMV.
  for (const [name, c] of choices) console.log(`${name}: decode ${c.kernel}${name.includes('threads auto') ? `, ${c.threads} threads, minWork ${c.minWork} (${c.why}; load's measurement ${c.ms} ms)` : ` (${Object.entries(c.kernelMs).map(([k, ms]) => `${k} ${ms} ms`).join(', ') || (name.includes('forced') ? 'forced' : 'the layout\'s one GEMV')})`}`);
}
