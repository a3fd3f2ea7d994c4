// End-to-end decode benchmark: bitnet-wasm next to native llama.cpp (node-llama-cpp) on the same
// GGUF file, one thread each, in one run. Like llama-bench: prefill of -p tokens, then -n
// generated tokens (greedy).
//
//   node bench/decode.mjs MODEL.gguf [-p 64] [-n 32] [--kernel NAME] [--build simd128|relaxed] [--no-llama] [--json]
import { createRuntime, loadModel } from '../dist/index.js';
import { ensureTestDeps, testDepUrl } from '../test/deps.mjs';

const args = process.argv.slice(2);
const opt = (k, d) => { const i = args.indexOf(k); return i >= 0 ? args[i + 1] : d; };
const file = args.find((a, i) => !a.startsWith('-') && !['-p', '-n', '--kernel', '--build'].includes(args[i - 1]));
if (!file) { console.error('usage: node bench/decode.mjs MODEL.gguf [-p 64] [-n 32] [--kernel K] [--build B] [--no-llama] [--json]'); process.exit(2); }
const P = Number(opt('-p', 64)), N = Number(opt('-n', 32));
const runtimeName = typeof Deno !== 'undefined' ? `deno ${Deno.version.deno}` : typeof Bun !== 'undefined' ? `bun ${Bun.version}` : `node ${process.version}`;
const rows = [];

const rt = await createRuntime({ build: opt('--build', undefined) });
const kernels = (opt('--kernel', rt.build === 'relaxed' ? 'i2-dot,tl3-relaxed' : 'tl3')).split(',');
for (const kernel of kernels) {
  const t0 = performance.now();
  const model = await loadModel(file, { runtime: rt, kernel, contextLength: P + N + 8, batchSize: 32 });
  const loadMs = performance.now() - t0;
  model.bench({ prompt: 8, gen: 2 }); // warm up
  const r = model.bench({ prompt: P, gen: N });
  rows.push({ engine: `bitnet-wasm ${rt.build}/${kernel} (${runtimeName})`, prefill: r.prefillTokensPerSecond, decode: r.decodeTokensPerSecond, loadMs, wasmBytes: rt.exports.memory.buffer.byteLength, modelBytes: model.byteLength });
  model.dispose();
}

if (!args.includes('--no-llama')) {
  const { getLlama, LlamaLogLevel } = (ensureTestDeps(), await import(testDepUrl('node-llama-cpp'))); // a test-only package (test/package.json)
  const llama = await getLlama({ gpu: false, build: 'never', logLevel: LlamaLogLevel.error, progressLogs: false });
  const t0 = performance.now();
  const m = await llama.loadModel({ modelPath: file, gpuLayers: 0, useMmap: false });
  const loadMs = performance.now() - t0;
  const ctx = await m.createContext({ contextSize: P + N + 8, threads: 1, batchSize: 512 });
  const seq = ctx.getSequence();
  const ids = Array.from({ length: P }, (_, i) => (i * 7919 + 13) % m.tokens.length ?? 1000);
  const t1 = performance.now();
  const first = await seq.controlledEvaluate(ids.map((t, i) => (i === P - 1 ? [t, { generateNext: { token: true } }] : t)));
  const t2 = performance.now();
  let tok = first[P - 1].next.token;
  for (let i = 0; i < N; i++) {
    const o = await seq.controlledEvaluate([[tok, { generateNext: { token: true } }]]);
    tok = o[0].next.token;
  }
  const t3 = performance.now();
  rows.push({ engine: 'llama.cpp native (node-llama-cpp 3.21.1, 1 thread)', prefill: P / ((t2 - t1) / 1000), decode: N / ((t3 - t2) / 1000), loadMs });
  await ctx.dispose(); await m.dispose(); await llama.dispose();
}

if (args.includes('--json')) console.log(JSON.stringify({ file, P, N, rows }, null, 2));
else {
  console.log(`${file}: prefill ${P} tokens, decode ${N} tokens`);
  console.log('| engine | prefill tok/s | decode tok/s | load s |');
  console.log('|---|---:|---:|---:|');
  for (const r of rows) console.log(`| ${r.engine} | ${r.prefill.toFixed(1)} | ${r.decode.toFixed(1)} | ${(r.loadMs / 1000).toFixed(2)} |`);
}
