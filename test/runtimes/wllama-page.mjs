// wllama (@wllama/wllama: llama.cpp's server compiled to wasm) timed in Chromium as a peer of the
// e2e suite (bench-hosts.mjs), on the same GGUF file and tests: ?o=JSON gives { models: [one, by
// URL], prompts, gens, threads, repetitions }. Figures are llama.cpp's own timings (the server's
// prompt_per_second / predicted_per_second), one fresh load per thread count. POSTs
// { results, notes } to /__result/<id>.
import { Wllama } from '../node_modules/@wllama/wllama/esm/index.js';

const q = new URLSearchParams(location.search);
const id = q.get('id') ?? 'wllama';
const o = JSON.parse(q.get('o'));
const logEl = document.getElementById('log');
const log = (l) => { logEl.textContent += '\n' + l; };
const post = (body) => fetch(`/__result/${encodeURIComponent(id)}`, { method: 'POST', body: JSON.stringify(body) });
const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
const WASM = new URL('../node_modules/@wllama/wllama/esm/wasm/wllama.wasm', import.meta.url).href;
addEventListener('unhandledrejection', (e) => post({ fatal: `unhandled rejection: ${e.reason && e.reason.stack || e.reason}` }));

try {
  const PKG = await (await fetch(new URL('../node_modules/@wllama/wllama/package.json', import.meta.url))).json();
  const [m] = o.models;
  const ctx = Math.max(...o.prompts) + Math.max(...o.gens) + 8;
  const results = [], notes = [];
  const version = `wllama ${PKG.version}, llama.cpp ${Wllama.getLibllamaVersion?.() ?? '?'}`;
  for (const threads of o.threads) {
    const w = new Wllama({ default: WASM }, { suppressNativeLog: true });
    log(`loading ${m.file} at ${threads} thread(s)`);
    const t0 = performance.now();
    await w.loadModelFromUrl(m.file, { n_threads: threads, n_ctx: ctx, n_batch: 512, n_gpu_layers: 0, useCache: false });
    const loadMs = performance.now() - t0;
    const got = w.getNumThreads();
    try {
      if (got !== threads) { notes.push(`wllama -t ${threads}: skipped, it ran ${got} thread(s) (multi-thread build: ${w.isMultithread()}, cross-origin isolated: ${self.crossOriginIsolated})`); continue; }
      const base = { suite: 'e2e', engine: 'wllama', runtime: `chromium (${version})`, build: w.isMultithread() ? 'wasm-mt' : 'wasm-st', kernel: 'ggml', threads };
      results.push({ ...base, test: 'load', params: { model: m.name }, metrics: { ms: loadMs }, repetitions: 1 });
      // Its completion API takes text (a list of token ids is refused): words are added or taken
      // away until the server evaluates exactly p prompt tokens.
      const words = new Map();
      const complete = async (p, n) => {
        let k = words.get(p) ?? p, t;
        for (let tries = 0; tries < 6; tries++) {
          t = (await w.createCompletion({ prompt: Array(k).fill(' the').join(''), max_tokens: n, temperature: 0, ignore_eos: true, cache_prompt: false, logit_bias: { [o.token]: 100 } })).timings;
          if (t.prompt_n === p || k + p - t.prompt_n < 1) break;
          k += p - t.prompt_n;
        }
        words.set(p, k);
        return t;
      };
      log(`loaded in ${loadMs.toFixed(0)} ms, ${got} thread(s)`);
      await complete(8, 2); // warm-up
      log('warm');
      for (const p of o.prompts) {
        const ts = []; for (let r = 0; r < o.repetitions; r++) ts.push(await complete(p, 1));
        if (ts[0].prompt_n !== p) notes.push(`wllama pp${p} on ${m.name}: the server evaluated ${ts[0].prompt_n} prompt tokens`);
        results.push({ ...base, test: `pp${p}`, params: { model: m.name, p }, metrics: { tokPerSec: mean(ts.map((t) => t.prompt_per_second)) }, repetitions: ts.length });
      }
      for (const n of o.gens) {
        if (n === 0) continue;
        const ts = []; for (let r = 0; r < o.repetitions; r++) ts.push(await complete(1, n));
        results.push({ ...base, test: `tg${n}`, params: { model: m.name, n }, metrics: { tokPerSec: mean(ts.map((t) => t.predicted_per_second)), predicted: ts[0].predicted_n }, repetitions: ts.length });
      }
      log(JSON.stringify(results.at(-1)));
    } finally {
      await w.exit();
    }
  }
  await post({ results, notes });
} catch (e) {
  await post({ fatal: `${e && e.stack || e}` });
}
