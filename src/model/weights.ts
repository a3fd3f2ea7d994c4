// Model weights in wasm memory, read from a GGUF file: ternary matrices packed for the chosen
// kernel, f32 norms, and the embedding / output head as exact f32 or compact int8 rows (one f32
// scale per row). model.ts writes their pointers into the descriptor forward() reads.
import { DECODE } from '../../bindings/abi.js';
import type { KernelName } from '../../bindings/exports.js';
import type { WasmRuntime } from '../../bindings/runtime.js';
import { DenseMatrix } from '../dense-matrix.js';
import { BitnetError } from '../errors.js';
import { dequantize, elementCount, ggmlTypeInfo, readTensorData, tensorByteSize, ternaryTraits, TERNARY_TYPE_NAMES, type GGUFHeader, type GGUFInput, type GGUFTensorInfo, type TernaryTraits } from '../gguf/index.js';
import { TernaryMatrix } from '../ternary-matrix.js';
import type { ModelConfig } from './config.js';
import { MATRICES } from './tensors.js';

/** Embeddings / heads up to this size are kept as exact f32; larger ones as int8 rows. */
export const EXACT_EMBEDDING_BYTES = 32 * 2 ** 20;

export interface LayerWeights {
  attnNorm: number; attnSubNorm: number; ffnNorm: number; ffnSubNorm: number; // wasm pointers (0 = absent)
  /** In MATRICES order. A DenseMatrix (f32) holds a ternary tensor whose blocks carry different
   *  scales: exact, but 16x the memory and f32 speed (converted BitNet files have one scale). */
  mats: (TernaryMatrix | DenseMatrix)[];
}

export interface LoadProgress { loadedBytes: number; totalBytes: number }

export class ModelWeights {
  readonly layers: LayerWeights[] = [];
  tokEmbd!: DenseMatrix;
  output: DenseMatrix | null = null;
  outputNorm = 0;
  private vectors: number[] = [];
  constructor(readonly rt: WasmRuntime, readonly config: ModelConfig, readonly kernel: KernelName) {}

  /** Copies an f32 vector into wasm memory (freed with the weights). */
  vector(v: Float32Array): number {
    const p = this.rt.alloc(v.length * 4, 'norm weights');
    this.rt.f32.set(v, p >>> 2);
    this.vectors.push(p);
    return p;
  }

  /** Bytes held in wasm memory. */
  get byteLength(): number {
    let n = this.tokEmbd?.byteLength ?? 0;
    n += this.output?.byteLength ?? 0;
    for (const l of this.layers) for (const m of l.mats) n += m?.byteLength ?? 0;
    n += (this.layers.length * 2 + 1) * this.config.nEmbd * 4 + this.layers.length * (this.config.nEmbd + this.config.nFf) * 4;
    return n;
  }

  dispose(): void {
    for (const l of this.layers) for (const m of l.mats) m?.dispose();
    this.tokEmbd?.dispose();
    this.output?.dispose();
    for (const p of this.vectors) this.rt.free(p);
    this.vectors = [];
  }
}

/** Turns a streamed embedding / head tensor into a compact DenseMatrix batch by batch of rows, in
 *  wasm, so neither the file's bytes nor an f32 copy of the whole table ever exists. */
class RowStreamer {
  readonly m: DenseMatrix;
  private rowBytes: number; private batch: number; private staging: number; private fill = 0; private r0 = 0;
  private tmp = 0; private f32 = 0;
  constructor(private rt: WasmRuntime, private t: GGUFTensorInfo, private rows: number, private cols: number, format: 'f32' | 'i8') {
    this.rowBytes = tensorByteSize(t.type, [cols]);
    this.batch = Math.max(1, Math.floor((1 << 21) / this.rowBytes));
    this.m = DenseMatrix._allocate(rt, rows, cols, format);
    try {
      this.staging = rt.alloc(this.batch * this.rowBytes, `staging for ${t.name}`, true);
      this.tmp = rt.alloc(cols * 4, 'row', true);
      if (t.typeName !== 'F16' && t.typeName !== 'F32') this.f32 = rt.alloc(this.batch * cols * 4, 'rows', true);
    } catch (e) { this.free(); this.m.dispose(); throw e; }
  }
  push(chunk: Uint8Array): void {
    let o = 0;
    while (o < chunk.length) {
      const n = Math.min(chunk.length - o, this.batch * this.rowBytes - this.fill);
      this.rt.u8.set(chunk.subarray(o, o + n), this.staging + this.fill);
      this.fill += n; o += n;
      if (this.fill === this.batch * this.rowBytes) this.flush();
    }
  }
  private flush(): void {
    const k = Math.floor(this.fill / this.rowBytes);
    if (k === 0) return;
    const rt = this.rt, e = rt.exports, { ptr, scales } = this.m._wasm, fmt = this.m.format === 'f32' ? 0 : 1;
    let status: number;
    if (this.t.typeName === 'F16') status = e.dense_rows_from_f16(this.staging, k, this.cols, fmt, ptr, scales, this.r0, this.tmp);
    else if (this.t.typeName === 'F32') status = e.dense_rows_from_f32(this.staging, k, this.cols, fmt, ptr, scales, this.r0);
    else {
      const vals = dequantize(this.t.type, rt.u8.subarray(this.staging, this.staging + k * this.rowBytes), k * this.cols);
      rt.f32.set(vals, this.f32 >>> 2);
      status = e.dense_rows_from_f32(this.f32, k, this.cols, fmt, ptr, scales, this.r0);
    }
    if (status !== 0) {
      const r = -1 - status; // the row quantize_row refused: find its first bad element
      const row = dequantize(this.t.type, rt.u8.subarray(this.staging + r * this.rowBytes, this.staging + (r + 1) * this.rowBytes), this.cols);
      throw nonFinite(this.t, (this.r0 + r) * this.cols + Math.max(0, firstNonFinite(row)));
    }
    if (fmt === 0) { // exact rows are copied as they are: check them here
      const bad = e.first_nonfinite_f32(ptr + this.r0 * this.cols * 4, k * this.cols);
      if (bad >= 0) throw nonFinite(this.t, this.r0 * this.cols + bad);
    }
    const used = k * this.rowBytes;
    if (this.fill > used) rt.u8.copyWithin(this.staging, this.staging + used, this.staging + this.fill);
    this.fill -= used;
    this.r0 += k;
  }
  finish(): DenseMatrix {
    this.flush();
    this.free();
    if (this.r0 !== this.rows) throw new BitnetError('TRUNCATED', `${this.t.name}: ${this.r0} of ${this.rows} rows read (at byte ${this.t.absoluteOffset})`, { offset: this.t.absoluteOffset });
    return this.m;
  }
  free(): void {
    for (const p of [this.staging, this.tmp, this.f32]) this.rt.free(p);
    this.staging = this.tmp = this.f32 = 0;
  }
}

function firstNonFinite(v: Float32Array): number {
  for (let i = 0; i < v.length; i++) if (!Number.isFinite(v[i])) return i;
  return -1;
}

function nonFinite(t: GGUFTensorInfo, index: number): BitnetError {
  return new BitnetError('BAD_GGUF', `tensor ${t.name}: element ${index} is not finite (NaN or infinity) (at byte ${t.absoluteOffset})`, { offset: t.absoluteOffset });
}

/** Every float that reaches the forward pass must be finite: NaN or infinity in a weight gives
 *  garbage or token 0 forever, with no error, once it is inside. */
function finite(t: GGUFTensorInfo, v: Float32Array): Float32Array {
  const bad = firstNonFinite(v);
  if (bad >= 0) throw nonFinite(t, bad);
  return v;
}

/** Decodes a ternary tensor's bytes (already in wasm memory at src) into a TernaryMatrix, or into
 *  an exact f32 DenseMatrix when its blocks carry different scales. */
function ternaryFromWasm(rt: WasmRuntime, kernel: KernelName, t: GGUFTensorInfo, tr: TernaryTraits, src: number): TernaryMatrix | DenseMatrix {
  const [cols, rows] = t.shape.map(Number);
  const n = rows * cols;
  const tp = rt.alloc(n, 'trits', true);
  try {
    const scale = rt.exports[tr.decoder](src, tr.decoderCount === 'blocks' ? n / ggmlTypeInfo(t.type)!.blockSize : n, tp);
    if (scale === DECODE.BAD_CODE) throw new BitnetError('BAD_GGUF', `${t.name}: invalid 2-bit code 3 in ${t.typeName} data`, { offset: t.absoluteOffset });
    if (scale < 0 || !Number.isFinite(scale)) {
      // Blocks with different (or non-finite) scales: the exact f32 fallback, checked element-wise.
      const values = finite(t, dequantize(t.type, rt.u8.slice(src, src + t.byteSize), n));
      return DenseMatrix.fromFloat32(values, rows, cols, 'f32', rt);
    }
    return TernaryMatrix._fromWasmTrits(rt, kernel, tp, rows, cols, scale);
  } finally {
    rt.free(tp);
  }
}

export async function loadWeights(input: GGUFInput, header: GGUFHeader, config: ModelConfig, rt: WasmRuntime, kernel: KernelName,
                                  opts: { onProgress?: (p: LoadProgress) => void; signal?: AbortSignal } = {}): Promise<ModelWeights> {
  const byName = new Map(header.tensors.map((t) => [t.name, t]));
  const need = (name: string): GGUFTensorInfo => {
    const t = byName.get(name);
    if (!t) throw new BitnetError('BAD_GGUF', `tensor ${name} is missing`);
    return t;
  };
  const { nEmbd: e, nVocab, nLayer } = config;
  // (the header passed checkTensors in Model.load, before memory was reserved)

  const w = new ModelWeights(rt, config, kernel);
  try {
    for (let l = 0; l < nLayer; l++) w.layers.push({ attnNorm: 0, attnSubNorm: 0, ffnNorm: 0, ffnSubNorm: 0, mats: new Array(MATRICES.length) });
    const scales = new Map<string, { value: number; t: GGUFTensorInfo }>();
    const wanted = new Set<string>();
    for (const t of header.tensors) {
      if (/^blk\.\d+\.(attn_norm|attn_sub_norm|ffn_norm|ffn_sub_norm|attn_q|attn_k|attn_v|attn_output|ffn_gate|ffn_up|ffn_down)\.(weight|scale)$/.test(t.name)
          || t.name === 'token_embd.weight' || t.name === 'output_norm.weight' || t.name === 'output.weight') wanted.add(t.name);
    }
    const buffers = new Map<string, Uint8Array>();
    const done = (t: GGUFTensorInfo, bytes: Uint8Array) => {
      const m = /^blk\.(\d+)\.(\w+)\.(weight|scale)$/.exec(t.name);
      const n = elementCount(t.shape.map(Number));
      const values = finite(t, dequantize(t.type, bytes, n));
      if (m && m[3] === 'scale') { scales.set(`blk.${m[1]}.${m[2]}`, { value: values[0], t }); return; }
      if (t.name === 'output_norm.weight') { w.outputNorm = w.vector(values); return; }
      const l = Number(m![1]), kind = m![2];
      const L = w.layers[l];
      if (kind === 'attn_norm') L.attnNorm = w.vector(values);
      else if (kind === 'attn_sub_norm') L.attnSubNorm = w.vector(values);
      else if (kind === 'ffn_norm') L.ffnNorm = w.vector(values);
      else if (kind === 'ffn_sub_norm') L.ffnSubNorm = w.vector(values);
      else throw new BitnetError('UNSUPPORTED_TYPE', `${t.name} is ${t.typeName}; bitnet-wasm runs ternary weights (${TERNARY_TYPE_NAMES.join(', ')})`, { offset: t.infoOffset });
    };
    // Ternary tensors stream straight into a wasm staging buffer and are decoded + repacked there;
    // the rest (norms, embedding, scales: small or row-chunked) are decoded in JS.
    let staging = 0, stagingSize = 0;
    let rows: RowStreamer | null = null;
    try {
      await readTensorData(input, header, (t, chunk, off) => {
        if (t.name === 'token_embd.weight' || t.name === 'output.weight') {
          // Small tables stay exact (f32); large ones int8 with one scale per row (4x smaller).
          if (off === 0) rows = new RowStreamer(rt, t, nVocab, e, nVocab * e * 4 <= EXACT_EMBEDDING_BYTES ? 'f32' : 'i8');
          rows!.push(chunk);
          if (off + chunk.length === t.byteSize) {
            const dm = rows!.finish();
            rows = null;
            if (t.name === 'token_embd.weight') w.tokEmbd = dm; else w.output = dm;
          }
          return;
        }
        const tr = ternaryTraits(t.type);
        if (tr) {
          if (off === 0) {
            if (t.byteSize > stagingSize) { rt.free(staging); staging = 0; staging = rt.alloc(t.byteSize, `staging for ${t.name}`, true); stagingSize = t.byteSize; }
          }
          rt.u8.set(chunk, staging + off);
          if (off + chunk.length === t.byteSize) {
            const m = /^blk\.(\d+)\.(\w+)\.weight$/.exec(t.name)!;
            w.layers[Number(m[1])].mats[MATRICES.indexOf(m[2] as (typeof MATRICES)[number])] = ternaryFromWasm(rt, kernel, t, tr, staging);
          }
          return;
        }
        let buf = buffers.get(t.name);
        if (!buf) { buf = new Uint8Array(t.byteSize); buffers.set(t.name, buf); }
        buf.set(chunk, off);
        if (off + chunk.length === t.byteSize) { buffers.delete(t.name); done(t, buf); }
      }, { filter: (t) => wanted.has(t.name), onProgress: opts.onProgress, signal: opts.signal });
    } finally {
      rt.free(staging);
      if (rows) { (rows as RowStreamer).free(); (rows as RowStreamer).m.dispose(); }
    }
    // Optional per-matrix scales (one f32 each) multiply the matmul's result: fold them in.
    for (const [key, { value: s, t }] of scales) {
      const m = /^blk\.(\d+)\.(\w+)$/.exec(key)!;
      const idx = MATRICES.indexOf(m[2] as (typeof MATRICES)[number]);
      const L = w.layers[Number(m[1])];
      if (idx >= 0 && L) L.mats[idx] = rescale(L.mats[idx], s, t);
    }
    if (!w.tokEmbd || !w.outputNorm || w.layers.some((L) => !L.attnNorm || !L.ffnNorm || L.mats.some((x) => !x))) {
      throw new BitnetError('TRUNCATED', `the file ended before every tensor was read (at byte ${header.fileSize ?? header.dataOffset})`, { offset: header.fileSize ?? header.dataOffset });
    }
    if (ggmlTypeInfo(need('token_embd.weight').type) === undefined) throw new BitnetError('UNSUPPORTED_TYPE', `token_embd type (at byte ${need('token_embd.weight').infoOffset})`, { offset: need('token_embd.weight').infoOffset });
  } catch (err) {
    w.dispose();
    throw err;
  }
  return w;
}

function rescale(m: TernaryMatrix | DenseMatrix, s: number, t: GGUFTensorInfo): TernaryMatrix | DenseMatrix {
  const at = { offset: t.infoOffset };
  if (m instanceof TernaryMatrix) {
    const scale = Math.fround(m.scale * s);
    if (!Number.isFinite(scale)) throw new BitnetError('BAD_GGUF', `${t.name}: ${s} times the weight scale ${m.scale} is not finite (at byte ${at.offset})`, at);
    return m.withScale(scale);
  }
  throw new BitnetError('UNSUPPORTED_TYPE', `${t.name}: a .scale tensor on a ternary tensor with per-block scales is not supported (at byte ${at.offset})`, at);
}
