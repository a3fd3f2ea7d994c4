// Chat turn latency with and without KV reuse, in one run: a conversation with ~H tokens of
// history, then one more user turn (greedy, -n reply tokens). "reuse": a chat session that has
// the history in its cache (session.send); "no reuse": the same conversation on an emptied cache
// (what every turn cost before sessions). Prints both latencies and the prefilled token counts.
//   node bench/chat.mjs [MODEL.gguf] [-H 500] [-n 16] [--runs 3]   (after npm run build)
import { loadModel } from '../dist/index.js';

const args = process.argv.slice(2);
const opt = (k, d) => { const i = args.indexOf(k); return i >= 0 ? args[i + 1] : d; };
const file = args.find((a, i) => !a.startsWith('-') && !['-H', '-n', '--runs'].includes(args[i - 1])) ?? new URL('../models/default.gguf', import.meta.url);
const H = Number(opt('-H', 500)), N = Number(opt('-n', 16)), RUNS = Number(opt('--runs', 3));
const model = await loadModel(file, { contextLength: H + 4 * N + 256 });
const opts = { maxTokens: N, temperature: 0 };
// History: alternating turns of plain text until the rendered conversation reaches H tokens.
const words = 'the jury said that the city had been well run and that the election was conducted fairly by all of the officials who took part'.split(' ');
const history = [];
for (let i = 0; model.tokenize(model.applyChatTemplate(history), { parseSpecial: true, addBos: false }).length < H; i++) {
  history.push({ role: i % 2 ? 'assistant' : 'user', content: Array.from({ length: 24 }, (_, j) => words[(i * 7 + j) % words.length]).join(' ') });
}
const turn = 'What did the jury say about the election?';
const histTokens = model.tokenize(model.applyChatTemplate(history), { parseSpecial: true, addBos: false }).length;
const ms = (t0) => performance.now() - t0;
const rows = [];
for (let r = 0; r < RUNS; r++) {
  // reuse: a session whose cache holds the history (as after its earlier turns)
  const s = model.createChat({ messages: history });
  s.sequence.logits(model.tokenize(model.applyChatTemplate(history), { parseSpecial: true, addBos: false }));
  let t0 = performance.now();
  const a = await s.send(turn, opts);
  const withReuse = ms(t0);
  s.dispose();
  model.mainSequence.clear();
  t0 = performance.now();
  const b = await model.chat([...history, { role: 'user', content: turn }], opts);
  const without = ms(t0);
  if (a.text !== b.text) throw new Error('reuse changed the reply');
  rows.push({ withReuse, without, prefilledWith: a.stats.promptTokens - a.stats.cachedTokens, prefilledWithout: b.stats.promptTokens - b.stats.cachedTokens, prompt: a.stats.promptTokens });
}
console.log(`history ${histTokens} tokens, reply ${N} tokens (greedy), ${model.config.nLayer} layers x ${model.config.nEmbd}`);
for (const r of rows) console.log(`turn 2: with reuse ${r.withReuse.toFixed(0)} ms (prefilled ${r.prefilledWith} of ${r.prompt}), without ${r.without.toFixed(0)} ms (prefilled ${r.prefilledWithout}); ${(r.without / r.withReuse).toFixed(2)}x`);
model.dispose();
