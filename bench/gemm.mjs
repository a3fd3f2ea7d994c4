// Ternary GEMM (prefill's products) per kernel on one thread: GMAC/s of W (rows x cols) times n
// activation rows, hot (the matrix in cache, as a prompt batch reuses it), next to the one-token
// GEMV for scale. Optionally two or more builds of the package side by side (--dists name=DIR,...:
// each DIR a dist/ folder), to A/B a kernel change in one process. Cases run interleaved, round by
// round, best of each; every output is compared bit for bit with the first case of its shape.
// Prints the CPU, the load and the parallel capacity (bench/capacity.mjs) next to the figures.
// A script beside the CLI's kernel suite (bitnet-wasm bench --suite kernels) because that suite
// times one package, case after case: this one loads several dists into one process and
// interleaves them, so an A/B of a kernel sees the same load.
//
//   node bench/gemm.mjs [--kernels i2-dot16,i2-dot32,...] [--shapes 1536x1536,4096x1536] [-n 32]
//                       [--build relaxed] [--rounds 7] [--dists a=dist,b=/tmp/other/dist]
import { loadavg } from 'node:os';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { machineLine, printCapacity } from './capacity.mjs';
import { MODEL_SHAPES, trits } from './data.mjs';

const args = process.argv.slice(2);
const opt = (k, d) => { const i = args.indexOf(k); return i >= 0 ? args[i + 1] : d; };
const N = Number(opt('-n', 32)), ROUNDS = Number(opt('--rounds', 7)), BUILD = opt('--build', 'relaxed');
// 700M (= the `large` preset: 1536 wide, FFN 4096) and 2B4T (2560, 6912) projections.
const SHAPES = opt('--shapes', [...MODEL_SHAPES['700M'], ...MODEL_SHAPES['2B4T']].map((s) => s.join('x')).join(',')).split(',').map((s) => s.split('x').map(Number));
const DISTS = opt('--dists', `this=${fileURLToPath(new URL('../dist', import.meta.url))}`).split(',').map((s) => s.split('='));
const data = SHAPES.map(([rows, cols], i) => {
  const x = new Float32Array(N * cols);
  for (let k = 0; k < x.length; k++) x[k] = Math.sin(k * 0.37 + i) * 2;
  return { rows, cols, t: trits(rows * cols, 7 + i), x };
});

const cases = [];
for (const [side, dir] of DISTS) {
  const lib = await import(pathToFileURL(`${dir}/index.js`).href);
  const rt = await lib.createRuntime({ build: BUILD, threads: 1 });
  if (cases.length === 0) console.log(machineLine(`${rt.build} build, 1 thread`));
  const names = opt('--kernels', lib.KERNEL_NAMES.filter((k) => k !== 'scalar' && rt.exports.kernel_available(lib.KERNEL_IDS[k]) === 1).join(',')).split(',');
  for (const kernel of names) {
    for (const d of data) {
      const m = lib.TernaryMatrix.fromTernary(d.t, d.rows, d.cols, 1, { runtime: rt, kernel });
      for (const n of [N, 1]) cases.push({ name: `${DISTS.length > 1 ? `${side} ` : ''}${kernel} ${d.rows}x${d.cols} n=${n}`, d, m, n, x: d.x.subarray(0, n * d.cols), out: new Float32Array(n * d.rows), best: Infinity });
    }
  }
}
await printCapacity(2);

for (const c of cases) c.m.gemm(c.x, c.n, c.out);
let bad = 0;
for (const c of cases) {
  const ref = cases.find((o) => o.d === c.d && o.n === c.n);
  const i = c.out.findIndex((v, k) => !Object.is(v, ref.out[k]));
  if (i >= 0) { bad++; console.log(`MISMATCH: ${c.name} differs from ${ref.name} at ${i}`); }
}
const load = loadavg().map((l) => l.toFixed(2)).join(' ');
for (let r = 0; r < ROUNDS; r++) {
  for (const c of cases) {
    const macs = c.d.rows * c.d.cols * c.n, reps = Math.max(1, Math.round(2e8 / macs));
    const t0 = performance.now();
    for (let i = 0; i < reps; i++) c.m.gemm(c.x, c.n, c.out);
    c.best = Math.min(c.best, (performance.now() - t0) / reps);
  }
}
console.log(`n = ${N} (and the GEMV, n = 1), best of ${ROUNDS} interleaved rounds; load ${load} before, ${loadavg().map((l) => l.toFixed(2)).join(' ')} after`);
console.log('| case | us per call | GMAC/s |');
console.log('|---|---:|---:|');
for (const c of cases) console.log(`| ${c.name} | ${(c.best * 1000).toFixed(0)} | ${((c.d.rows * c.d.cols * c.n) / c.best / 1e6).toFixed(1)} |`);
await printCapacity(2);
if (bad) process.exit(1);
