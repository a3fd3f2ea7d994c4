/**
 * What is in a GGUF model, and how much memory bitnet-wasm will need for it: architecture and
 * hyperparameters, tensors per type, ternary weights and their storage, the embedding, and an
 * estimate of the loaded size (ternary weights repacked for the kernels, embedding kept compact,
 * f32 norms, f32 KV cache). Reads only the header (tensor infos), never the tensor data.
 */
import { fromFile, type GGUFInput } from '../gguf/source.js';
import { parseGGUFHeader, type GGUFHeader, type GGUFTensorInfo } from '../gguf/reader.js';
import { ternaryTraits } from '../gguf/types.js';
import { activationMetadata, activationOf, type ModelConfig } from './config.js';
import { EXACT_EMBEDDING_BYTES } from './weights.js';
import { BitnetError } from '../errors.js';
import { KERNELS, kernelRow, layoutBits, type KernelName, type LayoutName } from '../../bindings/kernels.js';


/** ModelConfig's fields as far as the header gives them (a missing key reads 0; rope base and RMS
 *  epsilon as the decimals they were written from), plus what only the tensors tell. */
export interface Hyperparameters extends Omit<ModelConfig, 'architecture' | 'nCtxTrain' | 'activation' | 'ropeType'> {
  nCtx: number;
  /** ModelConfig's activation (config.ts activationOf); a name it does not know is shown as it is. */
  activation: string;
  tiedEmbeddings: boolean;
  /** Whether the file has sub-norm tensors. */
  subNorms: boolean;
}

export interface TypeStats {
  count: number;
  elements: number;
  bytes: number;
}

export interface MemoryBreakdown {
  /** The kernel loadModel picks on this build, its weight layout and bits per weight. */
  kernel: KernelName;
  layout: LayoutName;
  bitsPerWeight: number;
  ternary: number;
  /** Embedding (and untied output.weight) kept compact. */
  embedding: number;
  norms: number;
  /** Non-ternary, non-embedding matrices, at their file size. */
  other: number;
  kvCache: number;
  /** The forward pass's scratch and io buffers. */
  scratch: number;
  /** The thread pool's workers' scratch: one area each (workerScratchBytes) for threads - 1 workers. */
  workers: number;
  /** Loading's staging: free again once loaded, and the KV cache and scratch then take its place. */
  staging: number;
  /** What linear memory grows by when the model loads: the weights plus the larger of staging and
   *  KV cache + scratch + workers (test/model/memory.test.ts holds it to 5%). */
  total: number;
}

export interface ModelInspection {
  architecture: string;
  name?: string;
  ggufVersion: number;
  alignment: number;
  fileSize?: number;
  /** Header + metadata + tensor infos. */
  headerBytes: number;
  hyperparameters: Hyperparameters;
  tokenizer: { model?: string; pre?: string; tokens: number; bos?: number; eos?: number; chatTemplate: boolean };
  tensorCount: number;
  /** Per ggml type name: tensors, elements, bytes. */
  byType: Record<string, TypeStats>;
  ternary: { tensors: number; weights: number; bytes: number; bitsPerWeight: number; types: string[] };
  embedding?: { type: string; shape: number[]; entries: number; bytes: number };
  output?: { type: string; shape: number[]; entries: number; bytes: number };
  norms: { tensors: number; entries: number; bytes: number };
  /** How the embedding is held once loaded: exact f32 (4 bytes/entry) up to EXACT_EMBEDDING_BYTES, else int8 + one f32
   *  scale per row from quantized ones. */
  embeddingMode: 'f32' | 'int8';
  /** Context used for the KV cache estimate. */
  contextLength: number;
  /** Threads the estimate counts a worker scratch for (InspectOptions.threads). */
  threads: number;
  memory: { relaxed: MemoryBreakdown; simd128: MemoryBreakdown };
}

export interface InspectOptions {
  /** Context length for the KV cache estimate (default: the model's context_length). */
  contextLength?: number;
  /** The kernel loading will use (model.kernel, kernelInfo().kernel); default: each build's widest layout. */
  kernel?: KernelName;
  /** Threads the model will run on (model.threads; default 1): each one past the first has a scratch of its own. */
  threads?: number;
}

function num(h: GGUFHeader, key: string): number | undefined {
  const v = h.metadata.get(key);
  if (!v || v.type === 'array' || v.type === 'string' || v.type === 'bool') return undefined;
  return Number(v.value);
}

/** f32 metadata as the decimal it was written from (1e-5, not 9.99999974737875e-6). */
function f32Clean(x: number | undefined): number | undefined {
  return x === undefined ? undefined : Number(x.toPrecision(7));
}

function str(h: GGUFHeader, key: string): string | undefined {
  const v = h.metadata.get(key);
  return v?.type === 'string' ? v.value : undefined;
}

const layoutOf = (k: KernelName): LayoutName => kernelRow(k).layout;

/** A model's layout follows the kernel calibration picks at init (src/calibrate.ts), which a
 *  header cannot know: without InspectOptions.kernel, each build's estimate uses the widest layout
 *  among the kernels calibration may pick there (the kernel table: simd128 has only tl3; relaxed's
 *  widest is i2, 2 bits, where calibration may also pick tl3, 5/3). */
function upperKernel(build: 'relaxed' | 'simd128'): KernelName {
  const ks = KERNELS.filter((k) => k.roles.length > 0 && (build === 'relaxed' || !k.relaxed));
  // (ties go to the later row: for i2 that is i2-dot, the kernel running both i2 GEMV and GEMM)
  return ks.reduce((a, b) => (layoutBits(b.layout) >= layoutBits(a.layout) ? b : a)).name;
}

/** Memory estimate for one build, by the formula documented on ModelInspection. */
export function estimateMemory(args: {
  ternaryWeights: number;
  kernel: KernelName;
  embeddingEntries: number;
  embeddingRows: number;
  embeddingMode: 'f32' | 'int8';
  normEntries: number;
  otherBytes: number;
  nLayer: number;
  nCtx: number;
  nHeadKv: number;
  headDim: number;
  /** Bytes per cached key or value: 4 (f32, default) or 2 (loadModel({ cacheType: 'f16' })). */
  kvValueBytes?: number;
  /** See MemoryBreakdown; 0 when not known. */
  scratch?: number;
  workers?: number;
  staging?: number;
}): MemoryBreakdown {
  const layout = layoutOf(args.kernel);
  const bitsPerWeight = layoutBits(layout);
  const ternary = Math.ceil((args.ternaryWeights * bitsPerWeight) / 8);
  const embedding = args.embeddingMode === 'f32' ? args.embeddingEntries * 4 : args.embeddingEntries + args.embeddingRows * 4;
  const norms = args.normEntries * 4;
  const kvCache = 2 * args.nLayer * args.nCtx * args.nHeadKv * args.headDim * (args.kvValueBytes ?? 4);
  const scratch = args.scratch ?? 0, workers = args.workers ?? 0, staging = args.staging ?? 0;
  const total = ternary + embedding + norms + args.otherBytes + Math.max(staging, kvCache + scratch + workers);
  return { kernel: args.kernel, layout, bitsPerWeight, ternary, embedding, norms, other: args.otherBytes, kvCache, scratch, workers, staging, total };
}

/** Wasm memory loading needs besides the model (free again afterwards): two staging slots of the
 *  largest ternary tensor (one is read while the other is repacked), the repack's row-block buffer
 *  (the whole tensor's trits for widths that are not a multiple of 256), and two embedding row
 *  batches of up to 2 MiB (plus their f32 form for quantized types), as src/model/weights.ts
 *  allocates them. */
export function loadingStagingBytes(header: GGUFHeader): number {
  const blk = header.tensors.filter((t) => /^blk\./.test(t.name));
  const slot = blk.reduce((mx, t) => Math.max(mx, t.byteSize), 0);
  const tmp = blk.reduce((mx, t) => Math.max(mx, !ternaryTraits(t.type) ? 0 : Number(t.shape[0]) % 256 === 0 ? 16 * Math.ceil(Number(t.shape[0]) / 24) * 24 + 1024 : t.nElements), 0);
  let table = 0;
  const embd = header.tensors.find((t) => t.name === 'token_embd.weight');
  if (embd) {
    const [cols, rows] = embd.shape.map(Number), rowBytes = embd.byteSize / rows;
    const batch = Math.min(rows, Math.max(1, Math.floor((2 << 20) / rowBytes))); // weights.ts ROW_BATCH_BYTES
    table = 2 * batch * rowBytes + (embd.typeName !== 'F16' && embd.typeName !== 'F32' ? batch * cols * 4 : 0);
  }
  return 2 * slot + tmp + table + 65536;
}

/** The forward pass's scratch for a batch of n tokens (assembly/model/forward.ts layout(), to
 *  within alignment) plus the model's io buffer (n token ids, one row of logits). */
export function forwardScratchBytes(hp: Hyperparameters, nCtx: number, layout: LayoutName, n = 32): number {
  const e = hp.nEmbd, ff = hp.nFf, qd = hp.nHead * hp.headDim, kd = hp.nHeadKv * hp.headDim;
  const wide = Math.max(e, ff, qd), b16 = (r: number) => Math.ceil(r / 16) * 16;
  // The widest ternary matmul: int8 rows of its input, i32 sums of its rows (fused jobs: Q, K, V's
  // or gate and up's rows end to end), and for TL3 the tables (32 B per 3 inputs).
  const rows = Math.max(wide, 2 * b16(ff), b16(qd) + 2 * b16(kd));
  const matmul = Math.ceil(n * wide * (1 + (layout === 'tl3' ? 32 / 3 : 0)) + n * rows * 4 + wide / 24 * 256) + 4096;
  return 4 * (n * (2 * e + 2 * qd + 2 * kd + 2 * ff) + e) + hp.ropeDim * 4 + attentionScratchBytes(hp, nCtx) + wide * 5 + matmul
    + n * 4 + hp.nVocab * 4 + 1024;
}

/** assembly/nn/attention.ts attention_scratch_bytes: decoded f16 rows, 4 x 16 f32 per head, the re-laid q
 *  rows, a score row per head. */
function attentionScratchBytes(hp: Hyperparameters, nCtx: number): number {
  return 4 * (Math.max(4 * hp.nHeadKv, 32) * hp.headDim + hp.nHead * 64 + hp.nHead * hp.headDim + hp.nHead * nCtx);
}

/** Each thread pool worker's scratch (src/model/model.ts sizes it at load): attention's, or the TL3
 *  GEMM's decode area (256 B per 24 inputs of the widest matmul) if larger. */
export function workerScratchBytes(hp: Hyperparameters, nCtx: number, layout: LayoutName): number {
  const wide = Math.max(hp.nEmbd, hp.nFf, hp.nHead * hp.headDim);
  return Math.ceil(Math.max(attentionScratchBytes(hp, nCtx), layout === 'tl3' ? Math.ceil(wide / 24) * 256 : 0) / 64) * 64;
}

/** Inspects a GGUF header: a path (Node), bytes, a Blob or a ByteSource. */
export async function inspectModel(source: GGUFInput | string, options: InspectOptions = {}): Promise<ModelInspection> {
  if (typeof source === 'string') {
    const src = await fromFile(source);
    try {
      return inspectHeader(await parseGGUFHeader(src), options);
    } finally {
      await src.close?.();
    }
  }
  return inspectHeader(await parseGGUFHeader(source), options);
}

/** Same, from an already parsed header. */
export function inspectHeader(h: GGUFHeader, options: InspectOptions = {}): ModelInspection {
  const arch = str(h, 'general.architecture') ?? 'unknown';
  const k = (s: string) => num(h, `${arch}.${s}`);
  const byName = new Map(h.tensors.map((t) => [t.name, t]));
  const embd = byName.get('token_embd.weight');
  const out = byName.get('output.weight');
  const tokens = h.metadata.get('tokenizer.ggml.tokens');
  const nTokens = tokens?.type === 'array' ? tokens.value.length : 0;

  const nEmbd = k('embedding_length') ?? embd?.shape[0] ?? 0;
  const nHead = k('attention.head_count') ?? 0;
  const nHeadKv = k('attention.head_count_kv') ?? nHead;
  const headDim = nHead ? nEmbd / nHead : 0;
  let nLayer = k('block_count');
  if (nLayer === undefined) {
    nLayer = 0;
    for (const t of h.tensors) {
      const m = /^blk\.(\d+)\./.exec(t.name);
      if (m) nLayer = Math.max(nLayer, Number(m[1]) + 1);
    }
  }
  const named = activationMetadata(h, arch);
  const hp: Hyperparameters = {
    nVocab: k('vocab_size') ?? embd?.shape[1] ?? nTokens,
    nCtx: k('context_length') ?? 0,
    nEmbd,
    nLayer,
    nHead,
    nHeadKv,
    headDim,
    nFf: k('feed_forward_length') ?? 0,
    ropeBase: f32Clean(k('rope.freq_base')) ?? 10000,
    ropeDim: k('rope.dimension_count') ?? headDim,
    rmsEps: f32Clean(k('attention.layer_norm_rms_epsilon')) ?? 0,
    activation: activationOf(arch, named) ?? String(named),
    tiedEmbeddings: out === undefined,
    subNorms: byName.has('blk.0.attn_sub_norm.weight'),
  };

  const byType: Record<string, TypeStats> = {};
  const ternaryTypes = new Set<string>();
  let tWeights = 0, tBytes = 0, tCount = 0;
  let normEntries = 0, normCount = 0, normBytes = 0;
  let otherBytes = 0;
  let embEntries = 0, embRows = 0;
  const embTensors: GGUFTensorInfo[] = [];
  for (const t of h.tensors) {
    const s = (byType[t.typeName] ??= { count: 0, elements: 0, bytes: 0 });
    s.count++;
    s.elements += t.nElements;
    s.bytes += t.byteSize;
    if (ternaryTraits(t.type)) {
      tCount++;
      tWeights += t.nElements;
      tBytes += t.byteSize;
      ternaryTypes.add(t.typeName);
    } else if (t === embd || t === out) {
      embTensors.push(t);
      embEntries += t.nElements;
      embRows += t.shape.length > 1 ? t.nElements / t.shape[0] : 1;
    } else if (t.shape.length === 1) {
      normCount++;
      normEntries += t.nElements;
      normBytes += t.byteSize;
    } else {
      otherBytes += t.byteSize;
    }
  }
  // As the loader does (src/model/weights.ts): small tables exact in f32, large ones int8 + a row scale.
  const embeddingMode: 'f32' | 'int8' = embEntries * 4 <= EXACT_EMBEDDING_BYTES ? 'f32' : 'int8';
  const nCtx = options.contextLength ?? hp.nCtx;
  const common = { ternaryWeights: tWeights, embeddingEntries: embEntries, embeddingRows: embRows, embeddingMode, normEntries, otherBytes, nLayer, nCtx, nHeadKv, headDim };
  const staging = loadingStagingBytes(h);
  const threads = options.threads ?? 1;
  if (!Number.isInteger(threads) || threads < 1) throw new BitnetError('BAD_ARGUMENT', `threads must be an integer >= 1, got ${threads}`);
  const build = (b: 'relaxed' | 'simd128') => {
    const kernel = options.kernel ?? upperKernel(b), layout = layoutOf(kernel);
    return estimateMemory({ ...common, kernel, staging, scratch: forwardScratchBytes(hp, nCtx, layout), workers: (threads - 1) * workerScratchBytes(hp, nCtx, layout) });
  };
  const info = (t: GGUFTensorInfo | undefined) => (t && !ternaryTraits(t.type) ? { type: t.typeName, shape: t.shape, entries: t.nElements, bytes: t.byteSize } : undefined);
  const bos = num(h, 'tokenizer.ggml.bos_token_id');
  const eos = num(h, 'tokenizer.ggml.eos_token_id');
  return {
    architecture: arch,
    name: str(h, 'general.name'),
    ggufVersion: h.version,
    alignment: h.alignment,
    fileSize: h.fileSize,
    headerBytes: h.headerBytes,
    hyperparameters: hp,
    tokenizer: { model: str(h, 'tokenizer.ggml.model'), pre: str(h, 'tokenizer.ggml.pre'), tokens: nTokens, bos, eos, chatTemplate: h.metadata.has('tokenizer.chat_template') },
    tensorCount: h.tensors.length,
    byType,
    ternary: { tensors: tCount, weights: tWeights, bytes: tBytes, bitsPerWeight: tWeights ? (tBytes * 8) / tWeights : 0, types: [...ternaryTypes] },
    embedding: info(embd),
    output: info(out),
    norms: { tensors: normCount, entries: normEntries, bytes: normBytes },
    embeddingMode,
    contextLength: nCtx,
    threads,
    memory: {
      relaxed: build('relaxed'),
      simd128: build('simd128'),
    },
  };
}

/** Bytes as B / KiB / MiB / GiB. */
export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) { v /= 1024; u++; }
  return `${v.toFixed(v < 10 ? 2 : 1)} ${units[u]}`;
}

function formatCount(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(2)} B`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(2)} M`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)} K`;
  return String(n);
}

/** Human-readable report. */
export function formatInspection(i: ModelInspection): string {
  const hp = i.hyperparameters;
  const lines: string[] = [];
  const row = (k: string, v: string) => lines.push(`  ${k.padEnd(22)} ${v}`);
  lines.push(`${i.name ?? '(unnamed)'}  [${i.architecture}]`);
  row('file', `${i.fileSize !== undefined ? formatBytes(i.fileSize) : 'size unknown'}, GGUF v${i.ggufVersion}, alignment ${i.alignment}, header ${formatBytes(i.headerBytes)}`);
  lines.push('hyperparameters');
  row('vocab / context', `${hp.nVocab} / ${hp.nCtx}`);
  row('embedding / layers', `${hp.nEmbd} / ${hp.nLayer}`);
  row('heads / kv heads', `${hp.nHead} / ${hp.nHeadKv} (head_dim ${hp.headDim}${hp.nHeadKv && hp.nHead !== hp.nHeadKv ? `, GQA ${hp.nHead / hp.nHeadKv}:1` : ''})`);
  row('feed-forward', `${hp.nFf}, ${hp.activation}`);
  row('rope', `base ${hp.ropeBase}, dim ${hp.ropeDim}`);
  row('rms eps', String(hp.rmsEps));
  row('embeddings', hp.tiedEmbeddings ? 'tied (output = token_embd)' : 'untied (output.weight)');
  row('sub-norms', hp.subNorms ? 'yes' : 'no');
  const tk = i.tokenizer;
  row('tokenizer', `${tk.model ?? '?'}${tk.pre ? ` (${tk.pre})` : ''}, ${tk.tokens} tokens, bos ${tk.bos ?? '-'}, eos ${tk.eos ?? '-'}${tk.chatTemplate ? ', chat template' : ''}`);
  lines.push(`tensors: ${i.tensorCount}`);
  for (const [t, s] of Object.entries(i.byType).sort((a, b) => b[1].bytes - a[1].bytes)) {
    row(t, `${String(s.count).padStart(5)} tensors  ${formatCount(s.elements).padStart(9)} values  ${formatBytes(s.bytes).padStart(10)}`);
  }
  const tr = i.ternary;
  row('ternary weights', tr.weights ? `${formatCount(tr.weights)} in ${tr.tensors} tensors (${tr.types.join(', ')}), ${formatBytes(tr.bytes)}, ${tr.bitsPerWeight.toFixed(3)} bits/weight` : 'none');
  if (i.embedding) row('embedding', `${i.embedding.type} [${i.embedding.shape.join(', ')}], ${formatBytes(i.embedding.bytes)}`);
  if (i.output) row('output', `${i.output.type} [${i.output.shape.join(', ')}], ${formatBytes(i.output.bytes)}`);
  row('norms', `${i.norms.tensors} tensors, ${formatCount(i.norms.entries)} values`);
  lines.push(`estimated memory in bitnet-wasm (context ${i.contextLength}${i.threads > 1 ? `, ${i.threads} threads` : ''}, embedding as ${i.embeddingMode === 'f32' ? 'f32' : 'int8 + row scale'}; `
    + `the layout follows the kernel calibration picks, the widest one is shown)`);
  for (const [build, m] of [['relaxed', i.memory.relaxed], ['simd128', i.memory.simd128]] as const) {
    const parts = [`ternary ${formatBytes(m.ternary)} (${m.kernel} kernel, ${m.layout}, ${m.bitsPerWeight.toFixed(2)} b/w)`, `embedding ${formatBytes(m.embedding)}`, `norms ${formatBytes(m.norms)}`];
    if (m.other) parts.push(`other ${formatBytes(m.other)}`);
    parts.push(`KV cache ${formatBytes(m.kvCache)}`, `scratch ${formatBytes(m.scratch)}`);
    if (m.workers) parts.push(`threads' scratch ${formatBytes(m.workers)}`);
    if (m.staging > m.kvCache + m.scratch + m.workers) parts.push(`(loading's staging ${formatBytes(m.staging)} > KV cache + scratch)`);
    row(build, `${formatBytes(m.total)} = ${parts.join(' + ')}`);
  }
  return lines.join('\n');
}
