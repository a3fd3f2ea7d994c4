// KV cache memory, f32 vs f16, at a given context: the cache bytes the model allocates and how much
// wasm memory grows on load, for each cacheType, on one GGUF file (e.g. a 2b4t-shaped one from
// `bitnet-wasm make-model --preset 2b4t`).
//   node bench/cache-memory.mjs MODEL.gguf [--ctx 4096]   (after npm run build)
import { createRuntime, loadModel } from '../dist/index.js';

const args = process.argv.slice(2);
const file = args.find((a, i) => !a.startsWith('-') && args[i - 1] !== '--ctx');
if (!file) { console.error('usage: node bench/cache-memory.mjs MODEL.gguf [--ctx 4096]'); process.exit(2); }
const ctx = Number(args.includes('--ctx') ? args[args.indexOf('--ctx') + 1] : 4096);
const mib = (b) => `${(b / 2 ** 20).toFixed(1)} MiB`;
for (const cacheType of ['f32', 'f16']) {
  const rt = await createRuntime({ build: 'simd128' });
  const before = rt.exports.memory.buffer.byteLength;
  let m;
  try { m = await loadModel(file, { runtime: rt, contextLength: ctx, cacheType, onWarning: () => {} }); }
  catch (e) { console.log(`${cacheType}: does not load: ${e.message}`); continue; }
  const grown = rt.exports.memory.buffer.byteLength - before;
  const c = m.config;
  console.log(`${cacheType}: KV cache ${mib(m.mainSequence.byteLength)} (${c.nLayer} layers x ${c.nHeadKv} KV heads x ${c.headDim} at ${ctx} positions); `
    + `model total ${mib(m.byteLength)}; wasm memory grew ${mib(grown)}`);
  m.dispose();
}
