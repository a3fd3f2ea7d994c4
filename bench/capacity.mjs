// What the machine gives bench/threads.mjs and bench/attention-threads.mjs right now: the CPU line,
// and the parallel capacity of k threads (k cores' worth of work in the time of one = k): of a
// plain-JS loop, and of the attention kernel (k instances with their own caches, no pool: what two
// vCPUs give SIMD code that lives in L1/L2, which an integer loop may not show). On a shared VM it
// is often far below k, and no thread count can then beat it.
import { cpus, loadavg } from 'node:os';
import { readFileSync } from 'node:fs';
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

/** The same for the attention kernel: k workers, each its own instance of the wasm file and its own
 *  2B4T layer cache of nPos positions, run `calls` attention calls at once (best of 3). */
export async function attentionCapacity(wasmFile, k, nPos = 4096, calls = 40) {
  const src = `const { parentPort, workerData: { bytes, nPos, calls } } = require('node:worker_threads');
WebAssembly.instantiate(bytes, { env: { bitnet_abort: () => { throw new Error('wasm abort'); } } }).then(({ instance }) => {
  const e = instance.exports, nHead = 20, nKv = 5, hd = 128, n = nPos * nKv * hd;
  let top = (e.heap_base() + 63) & ~63;
  const alloc = (b) => { const p = top; top = (top + b + 63) & ~63; if (top > e.memory.buffer.byteLength) e.memory.grow(Math.ceil((top - e.memory.buffer.byteLength) / 65536)); return p; };
  const q = alloc(nHead * hd * 4), k = alloc(n * 4), v = alloc(n * 4), out = alloc(nHead * hd * 4), s = alloc(e.attention_scratch_bytes(nHead, nKv, hd, nPos));
  const f = new Float32Array(e.memory.buffer);
  for (let i = 0; i < nHead * hd; i++) f[(q >> 2) + i] = Math.sin(i) * 0.1;
  for (let i = 0; i < n; i++) { f[(k >> 2) + i] = Math.cos(i * 0.7) * 0.3; f[(v >> 2) + i] = Math.sin(i * 0.3); }
  const call = () => e.attention(q, k, v, nHead, nKv, hd, nPos, out, s);
  call();
  parentPort.once('message', () => { const t0 = performance.now(); for (let i = 0; i < calls; i++) call(); parentPort.postMessage(performance.now() - t0); });
  parentPort.postMessage('ready');
});`;
  const bytes = readFileSync(wasmFile);
  const run = async (n) => {
    const ws = Array.from({ length: n }, () => new Worker(src, { eval: true, workerData: { bytes, nPos, calls } }));
    await Promise.all(ws.map((w) => new Promise((ok) => w.once('message', ok))));
    const t0 = performance.now();
    await Promise.all(ws.map((w) => new Promise((ok) => { w.once('message', ok); w.postMessage('go'); })));
    const t = performance.now() - t0;
    for (const w of ws) void w.terminate();
    return t;
  };
  let one = Infinity, many = Infinity;
  for (let r = 0; r < 3; r++) { one = Math.min(one, await run(1)); many = Math.min(many, await run(k)); }
  return { capacity: (k * one) / many, oneMs: one / calls, manyMs: many / calls };
}
