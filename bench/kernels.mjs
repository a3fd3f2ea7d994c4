// Kernel microbenchmarks (tinybench; benchmark.js is archived and compiles code from strings, which
// workerd and strict-CSP pages refuse). Runs on the built dist/ (npm run build).
//
//   node bench/kernels.mjs [--json] [--quick] [--build simd128,relaxed] [--shapes 2560x6912,...]
//                          [--time MS] [--dram-mb MB] [--no-dram] [--gemm-n 32]
//
// GOPS = 2*M*K / time. "hot": the same matrix again and again (weights in cache).
// "DRAM": cycles through copies of the matrix adding up to --dram-mb (default 1536 MB, far more
// than this machine's L2/L3), so every call streams its weights from memory.
import { Bench } from 'tinybench';
import { createRuntime, DenseMatrix, KERNEL_IDS, KERNEL_NAMES, TernaryMatrix } from '../dist/index.js';

const args = process.argv.slice(2);
const flag = (name) => args.includes(`--${name}`);
const opt = (name, dflt) => { const i = args.indexOf(`--${name}`); return i >= 0 ? args[i + 1] : dflt; };
const quick = flag('quick');
const json = flag('json');
const time = Number(opt('time', quick ? 150 : 400));
const dramMB = flag('no-dram') ? 0 : Number(opt('dram-mb', quick ? 0 : 1536));
const gemmN = Number(opt('gemm-n', 32));
const SHAPES = (opt('shapes', quick ? '2560x6912' : '2560x2560,6912x2560,2560x6912,1536x4096,4096x1536'))
  .split(',').map((s) => s.split('x').map(Number));
const dramShapes = (opt('dram-shapes', '2560x6912')).split(',');
const runtimeName = typeof Deno !== 'undefined' ? `deno ${Deno.version.deno}` : typeof Bun !== 'undefined' ? `bun ${Bun.version}` : `node ${process.version}`;

function rng(seed) {
  let s = seed >>> 0;
  return () => { s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0; return s / 4294967296; };
}
function trits(n, seed) {
  const r = rng(seed), t = new Int8Array(n);
  for (let i = 0; i < n; i++) { const u = r(); t[i] = u < 0.3 ? -1 : u < 0.7 ? 0 : 1; }
  return t;
}
function floats(n, seed) {
  const r = rng(seed), x = new Float32Array(n);
  for (let i = 0; i < n; i++) x[i] = (r() - 0.5) * 4;
  return x;
}

async function measure(name, fn) {
  const bench = new Bench({ time, warmupTime: Math.min(100, time / 2), warmupIterations: 3, iterations: 5 });
  bench.add(name, fn);
  await bench.run();
  const r = bench.tasks[0].result;
  if (!r || r.state !== 'completed') throw new Error(`${name}: ${r?.state} ${r?.error ?? ''}`);
  return r.period; // ms per call
}

const builds = (opt('build', 'simd128,relaxed')).split(',');
const rows = [];
const notes = [];
for (const build of builds) {
  let rt;
  try { rt = await createRuntime({ build }); } catch (e) { notes.push(`${build}: skipped (${e.message})`); continue; }
  const kernels = KERNEL_NAMES.filter((k) => k !== 'scalar' && rt.exports.kernel_available(KERNEL_IDS[k]));
  for (const [M, K] of SHAPES) {
    const ops = 2 * M * K;
    const t = trits(M * K, M * 31 + K);
    const wf = new Float32Array(M * K); for (let i = 0; i < wf.length; i++) wf[i] = t[i] * 0.02;
    const x = floats(K, 7), X = floats(K * gemmN, 11);
    const yb = new Float32Array(M), Yb = new Float32Array(M * gemmN);
    const isDram = dramMB > 0 && dramShapes.includes(`${M}x${K}`);
    const entries = [
      ...kernels.map((k) => ({ kernel: k, make: () => TernaryMatrix.fromTernary(t, M, K, 0.02, { runtime: rt, kernel: k }) })),
      { kernel: 'dense-f32', make: () => DenseMatrix.fromFloat32(wf, M, K, 'f32', rt) },
      { kernel: 'dense-i8', make: () => DenseMatrix.fromFloat32(wf, M, K, 'i8', rt) },
    ];
    let f32Hot = 0;
    for (const { kernel, make } of entries) {
      const m = make();
      const msHot = await measure(`${kernel} gemv`, () => m.gemv(x, yb));
      const row = { runtime: runtimeName, build, kernel, shape: `${M}x${K}`, bitsPerWeight: +(m.byteLength * 8 / (M * K)).toFixed(3),
        gemvGops: ops / msHot / 1e6, weightGBs: m.byteLength / msHot / 1e6 };
      if (kernel === 'dense-f32') f32Hot = row.gemvGops;
      if (m instanceof TernaryMatrix) {
        const msGemm = await measure(`${kernel} gemm`, () => m.gemm(X, gemmN, Yb));
        row.gemmGops = ops * gemmN / msGemm / 1e6;
        row.gemmOverGemv = row.gemmGops / row.gemvGops;
      }
      if (isDram) {
        // Ternary matrices get the streaming hint here (touch-ahead); dense baselines have none.
        const ms = m instanceof TernaryMatrix ? TernaryMatrix.fromTernary(t, M, K, 0.02, { runtime: rt, kernel, streaming: true }) : m;
        const copies = Math.max(2, Math.ceil(dramMB * 1e6 / m.byteLength));
        const pool = [ms];
        try {
          for (let i = 1; i < copies; i++) pool.push(ms.clone());
          let i = 0;
          const msDram = await measure(`${kernel} dram`, () => { pool[i].gemv(x, yb); i = (i + 1) % copies; });
          row.dramGops = ops / msDram / 1e6;
          row.dramWeightGBs = m.byteLength / msDram / 1e6;
        } finally {
          for (let j = 1; j < pool.length; j++) pool[j].dispose();
          if (ms !== m) ms.dispose();
        }
      }
      m.dispose();
      rows.push(row);
    }
    for (const r of rows) if (r.shape === `${M}x${K}` && r.build === build) r.overF32 = r.gemvGops / f32Hot;
  }
}

if (json) {
  console.log(JSON.stringify({ runtime: runtimeName, gemmN, dramMB, rows, notes }, null, 2));
} else {
  const f = (v, d = 1) => (v === undefined ? '-' : v.toFixed(d));
  const head = ['build', 'kernel', 'shape', 'bits/w', 'GEMV GOPS', 'GB/s', 'x f32', `GEMM${gemmN} GOPS`, 'GEMM/GEMV', 'DRAM GOPS', 'DRAM GB/s'];
  const body = rows.map((r) => [r.build, r.kernel, r.shape, f(r.bitsPerWeight, 2), f(r.gemvGops), f(r.weightGBs), f(r.overF32), f(r.gemmGops), f(r.gemmOverGemv, 2), f(r.dramGops), f(r.dramWeightGBs)]);
  const w = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cells) => '| ' + cells.map((c, i) => (i < 3 ? c.padEnd(w[i]) : c.padStart(w[i]))).join(' | ') + ' |';
  console.log(`bitnet-wasm kernels on ${runtimeName}, one thread`);
  console.log(line(head));
  console.log('|' + w.map((n, i) => (i < 3 ? '-'.repeat(n + 2) : '-'.repeat(n + 1) + ':')).join('|') + '|');
  for (const b of body) console.log(line(b));
  for (const n of notes) console.log(`note: ${n}`);
}
