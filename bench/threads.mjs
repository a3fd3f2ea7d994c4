// Ternary GEMV on 1 vs N threads (issue 14's shapes: 6912x2560 and 2560x6912, the 2B4T FFN), hot
// (one matrix, in cache) and streamed (a ring of matrices larger than the last-level cache, so each
// call reads its weights from memory). Same runtime, thread counts interleaved round by round, best
// and median of each (a round: 40 hot calls, or the ring twice); prints the CPU, the load and the
// ratio to 1 thread. Outputs are compared bit for bit.
// First it measures what the machine gives right now: the same plain-JS loop on 1 and on N worker
// threads at once (parallel capacity N = N cores' worth of work in the time of one). On a shared VM
// this is often far below N, and no thread count can then beat it.
//
//   node bench/threads.mjs [--threads 1,2] [--build relaxed] [--kernel K] [--rounds 7] [--ring-mb 96]
import { loadavg } from 'node:os';
import { createRuntime, TernaryMatrix } from '../dist/index.js';
import { machineLine, printCapacity } from './capacity.mjs';
import { MODEL_SHAPES, trits } from './data.mjs';

const args = process.argv.slice(2);
const opt = (k, d) => { const i = args.indexOf(k); return i >= 0 ? args[i + 1] : d; };
const THREADS = opt('--threads', '1,2').split(',').map(Number);
const ROUNDS = Number(opt('--rounds', 7)), RING_MB = Number(opt('--ring-mb', 96));
const rt = await createRuntime({ build: opt('--build', undefined), threads: Math.max(...THREADS) });
const kernel = opt('--kernel', undefined);
console.log(machineLine(`${rt.build} build, ${rt.threads} threads available`));
await printCapacity(Math.max(...THREADS));

const rows = [];
// 2B4T's FFN: gate/up and down.
for (const [r, c] of MODEL_SHAPES['2B4T'].filter((s) => s.includes(6912))) {
  const t = trits(r * c, r + c);
  // Hot: the kernels' in-cache form; streamed: prefetching ahead as a model's matrices do.
  const hot = TernaryMatrix.fromTernary(t, r, c, 1, { runtime: rt, kernel });
  const first = TernaryMatrix.fromTernary(t, r, c, 1, { runtime: rt, kernel, streaming: true });
  const ringSize = Math.max(2, Math.ceil((RING_MB * 2 ** 20) / first.byteLength));
  const ring = [first, ...Array.from({ length: ringSize - 1 }, () => first.clone())];
  const x = Float32Array.from({ length: c }, (_, i) => Math.sin(i * 0.1));
  const ref = first.gemv(x);
  for (const mode of ['hot', 'streamed']) {
    const times = Object.fromEntries(THREADS.map((n) => [n, []]));
    for (let round = 0; round < ROUNDS; round++) {
      for (const n of THREADS) {
        rt.defaultThreads = n;
        // Hot: 40 calls; streamed: the ring twice (a round of a few ms is one scheduler hiccup away from noise).
        const calls = mode === 'hot' ? 40 : 2 * ring.length;
        hot.gemv(x); // wake the workers
        const t0 = performance.now();
        for (let i = 0; i < calls; i++) {
          const y = (mode === 'hot' ? hot : ring[i % ring.length]).gemv(x);
          if (i === 0 && !y.every((v, k) => Object.is(v, ref[k]))) throw new Error(`${n} threads: bits differ`);
        }
        times[n].push((performance.now() - t0) / calls);
      }
    }
    const best = (n) => Math.min(...times[n]), median = (n) => [...times[n]].sort((a, b) => a - b)[times[n].length >> 1];
    const n0 = THREADS[0];
    rows.push({ shape: `${r}x${c}`, kernel: first.kernel, mode, ...Object.fromEntries(THREADS.map((n) => [`${n}t µs`, +(best(n) * 1000).toFixed(0)])),
      ...Object.fromEntries(THREADS.slice(1).map((n) => [`${n}t vs ${n0}t`, +(best(n0) / best(n)).toFixed(2)])),
      ...Object.fromEntries(THREADS.slice(1).map((n) => [`median ${n}t vs ${n0}t`, +(median(n0) / median(n)).toFixed(2)])),
      weightsMB: +(first.byteLength / 2 ** 20).toFixed(1), ring: mode === 'streamed' ? ring.length : 1 });
  }
  for (const m of [hot, ...ring]) m.dispose();
}
console.table(rows);
console.log(`load after: ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);
rt.closeThreads();
