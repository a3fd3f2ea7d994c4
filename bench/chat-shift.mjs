// Chat turn latency right after a context shift, in one run. Turn 1 of a chat session overflows its
// context and shifts; turn 2 is timed two ways on the same prompt (the session's held tokens W + the
// new turn) with the same greedy reply:
//   "session": the chat session, which keeps W and prefills only the new turn;
//   "re-prefill": a sequence holding only what a session re-rendering the whole conversation would
//     find cached (the longest common prefix of its cache and the rendered conversation: the kept
//     system message), i.e. the work the turn cost before sessions kept W, when it did not simply
//     fail with CONTEXT_OVERFLOW (the rendered conversation no longer fits).
// Prints both latencies (wall and CPU ms) and prefilled token counts; throws if the replies differ ('reprefill').
//   node bench/chat-shift.mjs [MODEL.gguf] [-c 256] [-n 16] [--runs 3] [--method reprefill|kshift]   (after npm run build)
import { loadModel } from '../dist/index.js';

const args = process.argv.slice(2);
const opt = (k, d) => { const i = args.indexOf(k); return i >= 0 ? args[i + 1] : d; };
const file = args.find((a, i) => !a.startsWith('-') && !['-c', '-n', '--runs', '--method'].includes(args[i - 1])) ?? new URL('../models/default.gguf', import.meta.url);
const C = Number(opt('-c', 256)), N = Number(opt('-n', 16)), RUNS = Number(opt('--runs', 3)), method = opt('--method', 'reprefill');
const model = await loadModel(file, { contextLength: C, onWarning: () => {} });
const system = 'You are a helpful assistant. Answer in a few words.';
const user1 = 'Tell me a long story about the jury, the city and the election that was held there.';
const user2 = 'What did the jury say about the election?';
const tok = (text) => model.tokenize(text, { parseSpecial: true, addBos: false });
const common = (a, b) => { let i = 0; while (i < a.length && i < b.length && a[i] === b[i]) i++; return i; };
const ms = (t0) => performance.now() - t0;
const cpu = (c0) => { const c = process.cpuUsage(c0); return (c.user + c.system) / 1000; }; // (descheduling does not count)
const p1 = tok(model.applyChatTemplate([{ role: 'system', content: system }, { role: 'user', content: user1 }])).length;
const rows = [];
for (let r = 0; r < RUNS; r++) {
  const s = model.createChat({ system, contextLength: C });
  // turn 1 fills the context and shifts (greedy, no end: stopTokens [] and the EOS can still end it)
  const r1 = await s.send(user1, { maxTokens: C - p1 + N, contextShift: { method }, temperature: 0 });
  if (!(r1.stats.droppedTokens > 0)) throw new Error(`turn 1 did not shift (${r1.finishReason} after ${r1.tokens.length} tokens)`);
  const before = s.sequence.tokens;
  const whole = tok(model.applyChatTemplate([...s.messages, { role: 'user', content: user2 }]));
  const opts = { maxTokens: N, contextShift: { method }, temperature: 0 };
  let t0 = performance.now(), c0 = process.cpuUsage();
  const a = await s.send(user2, opts);
  const session = ms(t0), sessionCpu = cpu(c0);
  if (a.stats.droppedTokens) throw new Error('turn 2 shifted: use a larger -c or a smaller -n');
  const prompt = s.sequence.tokens.slice(0, a.stats.promptTokens);
  s.dispose();
  // the same prompt on a cache holding only what re-rendering the conversation would reuse
  const seq = model.createSequence({ contextLength: C });
  const reuse = common(before, whole);
  if (reuse > 0) seq.logits(prompt.slice(0, reuse));
  t0 = performance.now(); c0 = process.cpuUsage();
  const b = await seq.generate(prompt, opts);
  const reprefill = ms(t0), reprefillCpu = cpu(c0);
  seq.dispose();
  if (method === 'reprefill' && a.text !== b.text) throw new Error('the replies differ');
  rows.push({ session, reprefill, sessionCpu, reprefillCpu, pa: a.stats.promptTokens - a.stats.cachedTokens, pb: b.stats.promptTokens - b.stats.cachedTokens, prompt: a.stats.promptTokens, whole: whole.length, dropped: r1.stats.droppedTokens });
}
console.log(`context ${C}, method ${method}, reply ${N} tokens (greedy); ${model.config.nLayer} layers x ${model.config.nEmbd}`);
for (const x of rows) {
  console.log(`turn after the shift (turn 1 dropped ${x.dropped}; whole conversation ${x.whole} tokens): session ${x.session.toFixed(1)} ms / ${x.sessionCpu.toFixed(1)} ms CPU `
    + `(prefilled ${x.pa} of ${x.prompt}), re-prefill ${x.reprefill.toFixed(1)} ms / ${x.reprefillCpu.toFixed(1)} ms CPU (prefilled ${x.pb}); `
    + `${(x.reprefill / x.session).toFixed(2)}x wall, ${(x.reprefillCpu / x.sessionCpu).toFixed(2)}x CPU`);
}
model.dispose();
