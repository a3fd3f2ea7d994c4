// Cost of grammar-constrained sampling, side by side in one run on one model file:
//   - decode without any constraint (the path every unconstrained call takes),
//   - with a JSON schema and with llama.cpp's json.gbnf, masks cached across calls (one Grammar
//     object reused: what repeated calls with the same grammar text get),
//   - the same with a fresh Grammar each call (every state's mask computed by walking the vocabulary trie).
// Reports ms per generated token and the masking overhead per token (constrained minus plain).
//
//   npm run build && node bench/grammar.mjs [MODEL.gguf] [-n 64] [--runs 9]
//   (a 32000-token vocabulary: node dist/cli.js make-model --preset tiny --tokenizer llama -o /tmp/tiny-llama.gguf)
import { readFileSync } from 'node:fs';
import { Grammar, jsonSchemaToGrammar, loadModel } from '../dist/index.js';

const args = process.argv.slice(2);
const opt = (k, d) => { const i = args.indexOf(k); return i >= 0 ? args[i + 1] : d; };
const file = args.find((a, i) => !a.startsWith('-') && !['-n', '--runs'].includes(args[i - 1])) ?? new URL('../models/default.gguf', import.meta.url).pathname;
const N = Number(opt('-n', 64)), RUNS = Number(opt('--runs', 9));

const model = await loadModel(file, { contextLength: Math.min(512, N + 32) });
const jsonGbnf = readFileSync(new URL('../test/grammar/llama.cpp/json.gbnf', import.meta.url), 'utf8');
const schema = { type: 'object', properties: { name: { type: 'string' }, tags: { type: 'array', items: { type: 'string' } }, n: { type: 'integer' } }, required: ['name', 'tags', 'n'] };
const schemaGbnf = jsonSchemaToGrammar(schema);
const prompt = 'The record:';

const shared = { json: Grammar.parse(jsonGbnf), schema: Grammar.parse(schemaGbnf) };
const configs = [
  ['plain (no constraint)', () => ({})],
  ['jsonSchema, cached masks', () => ({ grammar: shared.schema })],
  ['json.gbnf, cached masks', () => ({ grammar: shared.json })],
  ['jsonSchema, fresh Grammar per call', () => ({ grammar: Grammar.parse(schemaGbnf) })],
  ['json.gbnf, fresh Grammar per call', () => ({ grammar: Grammar.parse(jsonGbnf) })],
];
// Rounds interleave the configurations (the machine is shared: drift hits all alike); the median
// round's ms/token is reported.
const samples = configs.map(() => []);
for (let r = -1; r < RUNS; r++) {
  for (const [i, [, make]] of configs.entries()) {
    const t0 = performance.now();
    const out = await model.generate(prompt, { maxTokens: N, temperature: 0.8, seed: Math.max(r, 0), ...make() });
    const ms = performance.now() - t0;
    if (r >= 0) samples[i].push(ms / (out.tokens.length + (out.finishReason === 'eos' ? 1 : 0)));
  }
}
const median = (a) => [...a].sort((x, y) => x - y)[a.length >> 1];
const cpu = (() => { try { return /model name\s*:\s*(.*)/.exec(readFileSync('/proc/cpuinfo', 'utf8'))[1]; } catch { return 'unknown CPU'; } })();
console.log(`${file}: vocab ${model.config.nVocab}, up to ${N} tokens, median of ${RUNS} interleaved rounds, node ${process.version}, ${cpu}`);
const base = median(samples[0]);
for (const [i, [label]] of configs.entries()) {
  const m = median(samples[i]);
  console.log(`${label.padEnd(36)} ${m.toFixed(3).padStart(8)} ms/token   ${(m / base).toFixed(2)}x plain   masking ${(m - base >= 0 ? '+' : '')}${(m - base).toFixed(3)} ms/token`);
}
model.dispose();
