// Cost of grammar-constrained sampling, side by side in one run on one model file:
//   - decode without any constraint (the path every unconstrained call takes),
//   - with a JSON schema and with llama.cpp's json.gbnf, masks cached across calls (one Grammar
//     object reused: what repeated calls with the same grammar text get),
//   - the same with a fresh Grammar each call (every state's mask computed by walking the vocabulary trie).
// Reports ms per generated token and the masking overhead per token (constrained minus plain).
//
//   npm run build && node bench/grammar.mjs [MODEL.gguf] [-n 64] [--runs 5]
//   (a 32000-token vocabulary: node dist/cli.js make-model --preset tiny --tokenizer llama -o /tmp/tiny-llama.gguf)
import { readFileSync } from 'node:fs';
import { Grammar, jsonSchemaToGrammar, loadModel } from '../dist/index.js';

const args = process.argv.slice(2);
const opt = (k, d) => { const i = args.indexOf(k); return i >= 0 ? args[i + 1] : d; };
const file = args.find((a, i) => !a.startsWith('-') && !['-n', '--runs'].includes(args[i - 1])) ?? new URL('../models/default.gguf', import.meta.url).pathname;
const N = Number(opt('-n', 64)), RUNS = Number(opt('--runs', 5));

const model = await loadModel(file, { contextLength: 512 });
const jsonGbnf = readFileSync(new URL('../test/grammar/llama.cpp/json.gbnf', import.meta.url), 'utf8');
const schema = { type: 'object', properties: { name: { type: 'string' }, tags: { type: 'array', items: { type: 'string' } }, n: { type: 'integer' } }, required: ['name', 'tags', 'n'] };
const schemaGbnf = jsonSchemaToGrammar(schema);
const prompt = 'The record:';

async function time(label, makeOpts) {
  let tokens = 0, ms = 0;
  for (let r = 0; r < RUNS; r++) {
    const o = makeOpts(r);
    const t0 = performance.now();
    const out = await model.generate(prompt, { maxTokens: N, temperature: 0.8, seed: r, ...o });
    ms += performance.now() - t0;
    tokens += out.tokens.length + (out.finishReason === 'eos' ? 1 : 0);
  }
  return { label, msPerToken: ms / tokens, tokens };
}

await time('warm-up', () => ({}));
const shared = { json: Grammar.parse(jsonGbnf), schema: Grammar.parse(schemaGbnf) };
const rows = [
  await time('plain (no constraint)', () => ({})),
  await time('jsonSchema, cached masks', () => ({ grammar: shared.schema })),
  await time('json.gbnf, cached masks', () => ({ grammar: shared.json })),
  await time('jsonSchema, fresh Grammar per call', () => ({ grammar: Grammar.parse(schemaGbnf) })),
  await time('json.gbnf, fresh Grammar per call', () => ({ grammar: Grammar.parse(jsonGbnf) })),
  await time('plain again', () => ({})),
];
const cpu = (() => { try { return /model name\s*:\s*(.*)/.exec(readFileSync('/proc/cpuinfo', 'utf8'))[1]; } catch { return 'unknown CPU'; } })();
console.log(`${file}: vocab ${model.config.nVocab}, ${N} tokens x ${RUNS} runs, node ${process.version}, ${cpu}`);
const base = (rows[0].msPerToken + rows[5].msPerToken) / 2;
for (const r of rows) {
  console.log(`${r.label.padEnd(38)} ${r.msPerToken.toFixed(3).padStart(8)} ms/token  (${r.tokens} tokens)  masking +${Math.max(0, r.msPerToken - base).toFixed(3)} ms/token`);
}
model.dispose();
