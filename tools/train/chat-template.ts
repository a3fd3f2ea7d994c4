// Gives a GGUF written by export.ts its chat template (template.ts) without retraining: the same
// metadata in the same order plus tokenizer.chat_template, and the same tensors byte for byte
// (re-written with the repo's own reader and writer). This is how models/default.gguf got its template:
//   node tools/train/run-ts.mjs tools/train/chat-template.ts models/default.gguf [OUT.gguf]
import { readFileSync, writeFileSync } from 'node:fs';
import { parseGGUFHeader } from '../../src/gguf/reader';
import { writeGGUF, type GGUFWriteTensor } from '../../src/gguf/writer';
import type { GGUFValue } from '../../src/gguf/metadata';
import { CHAT_TEMPLATE } from './template';

const [inPath, outPath = inPath] = process.argv.slice(2);
if (!inPath) throw new Error('usage: chat-template.ts IN.gguf [OUT.gguf]');
const bytes = new Uint8Array(readFileSync(inPath));
const header = await parseGGUFHeader(bytes);
const metadata = new Map<string, GGUFValue>();
for (const [k, v] of header.metadata) if (k !== 'general.alignment' && k !== 'tokenizer.chat_template') metadata.set(k, v as GGUFValue);
metadata.set('tokenizer.chat_template', { type: 'string', value: CHAT_TEMPLATE });
const tensors: GGUFWriteTensor[] = header.tensors.map((t) => ({
  name: t.name, shape: t.shape, type: t.type, data: bytes.slice(t.absoluteOffset, t.absoluteOffset + t.byteSize),
}));
const out = writeGGUF({ metadata, tensors, alignment: header.alignment });
// The tensors must come back unchanged.
const check = await parseGGUFHeader(out);
for (const [i, t] of check.tensors.entries()) {
  const a = out.subarray(t.absoluteOffset, t.absoluteOffset + t.byteSize), b = tensors[i].data as Uint8Array;
  if (t.name !== tensors[i].name || a.length !== b.length || a.some((x, j) => x !== b[j])) throw new Error(`tensor ${t.name} changed`);
}
writeFileSync(outPath, out);
console.log(`${outPath}: ${out.length} bytes (was ${bytes.length}), ${tensors.length} tensors unchanged, tokenizer.chat_template set`);
