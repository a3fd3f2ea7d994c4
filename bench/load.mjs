// Load speed: an in-memory GGUF to ready-to-run weights, per kernel layout, and resident memory.
//   node bench/load.mjs MODEL.gguf [--kernel a,b] [--build B]
import { readFile } from 'node:fs/promises';
import { createRuntime, loadModel } from '../dist/index.js';

const args = process.argv.slice(2);
const opt = (k, d) => { const i = args.indexOf(k); return i >= 0 ? args[i + 1] : d; };
const file = args[0];
const bytes = new Uint8Array(await readFile(file));
const probe = await createRuntime({ build: opt('--build', undefined) });
const kernels = opt('--kernel', probe.build === 'relaxed' ? 'i2-dot,tl3-relaxed' : 'tl3').split(',');
console.log(`${file}: ${(bytes.length / 1e6).toFixed(1)} MB in memory; ${probe.build} build; one fresh module instance per kernel`);
console.log('| kernel | load s | MB/s | model bytes in wasm | ternary packed | wasm memory |');
console.log('|---|---:|---:|---:|---:|---:|');
for (const kernel of kernels) {
  const rt = await createRuntime({ build: probe.build });
  const t0 = performance.now();
  const m = await loadModel(bytes, { runtime: rt, kernel, contextLength: 256 });
  const s = (performance.now() - t0) / 1000;
  const w = m['weights'];
  let packed = 0; for (const l of w.layers) for (const x of l.mats) packed += x.byteLength;
  console.log(`| ${kernel} | ${s.toFixed(2)} | ${(bytes.length / 1e6 / s).toFixed(0)} | ${(m.byteLength / 1e6).toFixed(1)} MB | ${(packed / 1e6).toFixed(1)} MB | ${(rt.exports.memory.buffer.byteLength / 1e6).toFixed(0)} MB |`);
  m.dispose();
}
