// Cost of one context shift, 'reprefill' vs 'kshift', in one run: a prompt that fills the context
// to the last position is cached, then a 2-token generation has to shift before its second step.
// Printed: that call's time per method (the shift, one prefill step for the re-run last prompt
// token, one decode step), and the same call without a shift (a context one larger) as a baseline.
//   node bench/context-shift.mjs MODEL.gguf [-c 512] [--runs 3]   (after npm run build)
import { loadModel } from '../dist/index.js';

const args = process.argv.slice(2);
const opt = (k, d) => { const i = args.indexOf(k); return i >= 0 ? Number(args[i + 1]) : d; };
const file = args.find((a, i) => !a.startsWith('-') && !['-c', '--runs'].includes(args[i - 1]));
if (!file) { console.error('usage: node bench/context-shift.mjs MODEL.gguf [-c 512] [--runs 3]'); process.exit(2); }
const C = opt('-c', 512), RUNS = opt('--runs', 3);
const model = await loadModel(file, { contextLength: C + 1, onWarning: () => {} });
const prompt = Array.from({ length: C - 1 }, (_, i) => (i * 7919 + 13) % model.config.nVocab);
const seq = model.createSequence({ contextLength: C });
const big = model.createSequence({ contextLength: C + 1 });
const time = async (s, opts) => {
  s.logits(prompt); // the prompt in the cache
  const t0 = performance.now();
  const r = await s.generate(prompt, { maxTokens: 2, ...opts });
  if (r.tokens.length !== 2) throw new Error(`got ${r.tokens.length} tokens (${r.finishReason})`);
  return performance.now() - t0;
};
console.log(`context ${C}, keep 1: drops ${(C - 2) >> 1} tokens per shift; ${model.config.nLayer} layers x ${model.config.nEmbd}`);
for (let r = 0; r < RUNS; r++) {
  const re = await time(seq, { contextShift: { keep: 1, method: 'reprefill' } });
  const k = await time(seq, { contextShift: { keep: 1, method: 'kshift' } });
  const none = await time(big, {});
  console.log(`reprefill ${re.toFixed(0)} ms, kshift ${k.toFixed(0)} ms, no shift ${none.toFixed(0)} ms`);
}
model.dispose();
