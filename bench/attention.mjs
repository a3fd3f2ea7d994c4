// Attention microbenchmark: one decode step of one layer over nPos cached positions, 2B4T heads
// (20 query / 5 KV heads, head_dim 128). Prints ms per layer (wall, and this process's CPU time,
// which a shared machine disturbs less) and a hash of the output bits.
//   node bench/attention.mjs [simd128|relaxed] [nPos] [f32|f16]   (after npm run build)
// BITNET_DIST=path/to/index.js benchmarks another build of the library (A/B in one run).
const { createRuntime } = await import(process.env.BITNET_DIST ?? '../dist/index.js');
const rt = await createRuntime({ build: process.argv[2] || 'relaxed' });
const e = rt.exports;
const nHead = 20, nKv = 5, hd = 128, nPos = Number(process.argv[3] || 4096), f16 = process.argv[4] === 'f16';
const q = rt.alloc(nHead * hd * 4), k = rt.alloc(nPos * nKv * hd * 4), v = rt.alloc(nPos * nKv * hd * 4), out = rt.alloc(nHead * hd * 4);
const scratch = rt.alloc(e.attention_scratch_bytes(nHead, nKv, hd, nPos));
const f = rt.f32;
for (let i = 0; i < nHead * hd; i++) f[(q >> 2) + i] = Math.sin(i) * 0.1;
for (let i = 0; i < nPos * nKv * hd; i++) { f[(k >> 2) + i] = Math.cos(i * 0.7) * 0.1; f[(v >> 2) + i] = Math.sin(i * 0.3); }
let run = () => e.attention(q, k, v, nHead, nKv, hd, nPos, out, scratch);
if (f16) {
  const n = nPos * nKv * hd, k16 = rt.alloc(n * 2), v16 = rt.alloc(n * 2);
  e.kv_store_f16(k, n, k16); e.kv_store_f16(v, n, v16);
  run = () => e.attention_f16(q, k16, v16, nHead, nKv, hd, nPos, out, scratch);
}
for (let i = 0; i < 5; i++) run();
const cpu0 = process.cpuUsage?.(), t0 = performance.now(); let n = 0;
while (performance.now() - t0 < 2000) { run(); n++; }
const ms = (performance.now() - t0) / n;
const cpu = cpu0 ? (process.cpuUsage(cpu0).user / 1000) / n : NaN;
let h = 0; const o = new Uint32Array(rt.exports.memory.buffer, out, nHead * hd); for (const x of o) h = (h * 31 + x) >>> 0;
console.log(`attention${f16 ? ' f16' : ''} nPos ${nPos}: ${ms.toFixed(2)} ms per layer (cpu ${cpu.toFixed(2)} ms; ${(4 * nHead * nPos * hd / ms / 1e6).toFixed(2)} GFLOP/s) hash ${h}`);
