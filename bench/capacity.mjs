// What the machine gives bench/threads.mjs and bench/attention-threads.mjs right now: the CPU line,
// and the parallel capacity of k threads (k cores' worth of work in the time of one = k). On a
// shared VM it is often far below k, and no thread count can then beat it.
import { cpus, loadavg } from 'node:os';
import { Worker } from 'node:worker_threads';

/** "CPU (N cores), runtime version, <what>; load a b c". */
export function machineLine(what) {
  const runtime = typeof Deno !== 'undefined' ? `deno ${Deno.version.deno}` : typeof Bun !== 'undefined' ? `bun ${Bun.version}` : `node ${process.version}`;
  return `${cpus()[0]?.model ?? '?'} (${cpus().length} cores), ${runtime}, ${what}; load ${loadavg().map((l) => l.toFixed(1)).join(' ')}`;
}

/** Work per second of `k` plain-JS worker threads at once, relative to one (best of 2). */
export async function parallelCapacity(k) {
  const src = `const { parentPort } = require('node:worker_threads'); parentPort.once('message', (n) => { let x = 0; for (let i = 0; i < n; i++) x = (x * 1103515245 + 12345) | 0; parentPort.postMessage(x); });`;
  const run = async (n) => { const t0 = performance.now(); await Promise.all(Array.from({ length: n }, () => new Promise((ok) => { const w = new Worker(src, { eval: true }); w.once('message', () => { void w.terminate(); ok(); }); w.postMessage(1e8); }))); return performance.now() - t0; };
  let one = Infinity, many = Infinity;
  for (let r = 0; r < 2; r++) { one = Math.min(one, await run(1)); many = Math.min(many, await run(k)); }
  return (k * one) / many;
}

/** Prints the parallel capacity line for k threads (nothing for k = 1 or without workers). */
export async function printCapacity(k) {
  if (typeof Worker === 'function' && k > 1) console.log(`parallel capacity of ${k} plain-JS threads right now: ${(await parallelCapacity(k)).toFixed(2)} (of ${k})`);
}
