// Model weights in wasm memory, read from a GGUF file: ternary matrices packed for the chosen
// kernel, f32 norms, and the embedding / output head as exact f32 or compact int8 rows (one f32
// scale per row). model.ts writes their pointers into the descriptor forward() reads.
import { DECODE } from '../../bindings/abi.js';
import { KERNEL_IDS, type KernelName } from '../../bindings/exports.js';
import type { WasmRuntime } from '../../bindings/runtime.js';
import { DenseMatrix } from '../dense-matrix.js';
import { BitnetError } from '../errors.js';
import { dequantize, elementCount, ggmlTypeInfo, readTensorPieces, tensorByteSize, ternaryTraits, TERNARY_TYPE_NAMES, type GGUFHeader, type GGUFInput, type GGUFTensorInfo, type TensorPiece, type TernaryTraits } from '../gguf/index.js';
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

/** Reading is split into pieces of about this many bytes (whole row blocks): few reads, and reading
 *  the next piece overlaps repacking this one. Each piece costs a trip through the event loop (the
 *  read's completion); 1 MiB pieces made 2b4t's ~540 of them wait ~0.3-0.5 s in all on a busy machine,
 *  4 MiB ones ~0.06-0.2 s. */
const PIECE_BYTES = 4 << 20;
/** Embedding / head rows are converted in batches of about this many file bytes (two batches: one
 *  is read while the other is converted). */
const ROW_BATCH_BYTES = 1 << 21;

/** Turns an embedding / head tensor into a compact DenseMatrix batch by batch of rows, in wasm, so
 *  neither the file's bytes nor an f32 copy of the whole table ever exists. */
class TableLoader {
  readonly m: DenseMatrix;
  private rowBytes: number; private batch: number; private slots = [0, 0]; private f32 = 0;
  constructor(private rt: WasmRuntime, private t: GGUFTensorInfo, private rows: number, private cols: number, format: 'f32' | 'i8') {
    this.rowBytes = tensorByteSize(t.type, [cols]);
    this.batch = Math.min(rows, Math.max(1, Math.floor(ROW_BATCH_BYTES / this.rowBytes)));
    this.m = DenseMatrix._allocate(rt, rows, cols, format);
    try {
      for (let i = 0; i < 2; i++) this.slots[i] = rt.alloc(this.batch * this.rowBytes, `staging for ${t.name}`, true);
      if (t.typeName !== 'F16' && t.typeName !== 'F32') this.f32 = rt.alloc(this.batch * cols * 4, 'rows', true);
    } catch (e) { this.free(); this.m.dispose(); throw e; }
  }
  /** Batches of rows; the last one's done() hands the finished matrix to `finish`. */
  *pieces(finish: (m: DenseMatrix) => void): Generator<TensorPiece> {
    for (let r0 = 0, i = 0; r0 < this.rows; r0 += this.batch, i++) {
      const k = Math.min(this.batch, this.rows - r0), slot = this.slots[i & 1], len = k * this.rowBytes;
      yield {
        tensor: this.t, offset: r0 * this.rowBytes, length: len,
        dest: () => this.rt.u8.subarray(slot, slot + len),
        done: () => {
          this.convert(slot, k, r0);
          if (r0 + k === this.rows) { this.free(); finish(this.m); }
        },
      };
    }
  }
  private convert(staging: number, k: number, r0: number): void {
    const rt = this.rt, e = rt.exports, { ptr, scales } = this.m._wasm, fmt = this.m.format === 'f32' ? 0 : 1;
    let status: number;
    if (this.t.typeName === 'F16') status = e.dense_rows_from_f16(staging, k, this.cols, fmt, ptr, scales, r0);
    else if (this.t.typeName === 'F32') status = e.dense_rows_from_f32(staging, k, this.cols, fmt, ptr, scales, r0);
    else {
      const vals = dequantize(this.t.type, rt.u8.subarray(staging, staging + k * this.rowBytes), k * this.cols);
      rt.f32.set(vals, this.f32 >>> 2);
      status = e.dense_rows_from_f32(this.f32, k, this.cols, fmt, ptr, scales, r0);
    }
    if (status !== 0) {
      const r = -1 - status; // the row quantize_row refused: find its first bad element
      const row = dequantize(this.t.type, rt.u8.subarray(staging + r * this.rowBytes, staging + (r + 1) * this.rowBytes), this.cols);
      throw nonFinite(this.t, (r0 + r) * this.cols + Math.max(0, firstNonFinite(row)));
    }
    if (fmt === 0) { // exact rows are copied as they are: check them here
      const bad = e.first_nonfinite_f32(ptr + r0 * this.cols * 4, k * this.cols);
      if (bad >= 0) throw nonFinite(this.t, r0 * this.cols + bad);
    }
  }
  free(): void {
    for (const p of [...this.slots, this.f32]) this.rt.free(p);
    this.slots = [0, 0]; this.f32 = 0;
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
  const ex = rt.exports, layout = ex.kernel_layout(KERNEL_IDS[kernel]);
  // Loading's temporaries, freed at the end (staging slots, a packed matrix not yet handed over).
  const temps = new Set<number>();
  let table: TableLoader | null = null;
  try {
    for (let l = 0; l < nLayer; l++) w.layers.push({ attnNorm: 0, attnSubNorm: 0, ffnNorm: 0, ffnSubNorm: 0, mats: new Array(MATRICES.length) });
    const scales = new Map<string, { value: number; t: GGUFTensorInfo }>();
    const wanted = header.tensors.filter((t) => /^blk\.\d+\.(attn_norm|attn_sub_norm|ffn_norm|ffn_sub_norm|attn_q|attn_k|attn_v|attn_output|ffn_gate|ffn_up|ffn_down)\.(weight|scale)$/.test(t.name)
      || t.name === 'token_embd.weight' || t.name === 'output_norm.weight' || t.name === 'output.weight').sort((a, b) => a.absoluteOffset - b.absoluteOffset);
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

    // Ternary tensors go to two staging slots in turn (the next tensor's first piece is read while
    // this one's last is repacked); TQ2_0 / TQ1_0 are repacked row block by row block as they arrive.
    const ternary = wanted.filter((t) => ternaryTraits(t.type));
    const slotBytes = ternary.reduce((mx, t) => Math.max(mx, t.byteSize), 0);
    const rowBlock = ex.padded_rows(layout, 1);
    // Types with a repacker (in 256-column blocks) go straight into the kernel's layout; others decode whole.
    const rowwise = (t: GGUFTensorInfo) => !!ternaryTraits(t.type)?.repacker && Number(t.shape[0]) % 256 === 0;
    const tmpBytes = ternary.filter(rowwise).reduce((mx, t) => Math.max(mx, ex.repack_tmp_bytes(layout, Number(t.shape[0]))), 0);
    const slots = [0, 0];
    let tmp = 0, nth = 0;
    const temp = (size: number, what: string) => { const p = rt.alloc(size, what, true); temps.add(p); return p; };

    function* ternaryPieces(t: GGUFTensorInfo, tr: TernaryTraits): Generator<TensorPiece> {
      if (!slots[0]) {
        slots[0] = temp(slotBytes, 'staging for ternary tensors'); slots[1] = temp(slotBytes, 'staging for ternary tensors');
        if (tmpBytes) tmp = temp(tmpBytes, 'repack buffer');
      }
      const slot = slots[nth++ & 1];
      const [cols, rows] = t.shape.map(Number);
      const m = /^blk\.(\d+)\.(\w+)\.weight$/.exec(t.name)!;
      const assign = (mat: TernaryMatrix | DenseMatrix) => { w.layers[Number(m[1])].mats[MATRICES.indexOf(m[2] as (typeof MATRICES)[number])] = mat; };
      const view = (a: number, b: number) => () => rt.u8.subarray(slot + a, slot + b);
      if (!rowwise(t)) {
        yield { tensor: t, offset: 0, length: t.byteSize, dest: view(0, t.byteSize), done: () => assign(ternaryFromWasm(rt, kernel, t, tr, slot)) };
        return;
      }
      const rp = ex.padded_rows(layout, rows), bytes = ex.packed_bytes(layout, rows, cols);
      // Row blocks as they arrive; I2_S (its one scale follows the last row) as one piece.
      const whole = ggmlTypeInfo(t.type)!.blockAxis === 'tensor';
      const rowBytes = whole ? cols / 4 : t.byteSize / rows;
      const per = whole ? rp : Math.max(1, Math.floor(PIECE_BYTES / (rowBytes * rowBlock))) * rowBlock;
      const repack = ex[tr.repacker!];
      let ptr = 0, scale = 0, differ = false;
      for (let r0 = 0; r0 < rp; r0 += per) {
        const r1 = Math.min(rp, r0 + per), a = r0 * rowBytes, b = whole ? t.byteSize : Math.min(r1, rows) * rowBytes;
        yield {
          tensor: t, offset: a, length: b - a, dest: view(a, b),
          done: () => {
            if (!ptr) { ptr = rt.alloc(bytes, `${rows}x${cols} ternary matrix`); temps.add(ptr); }
            const s = repack(slot + a, rows, cols, layout, ptr, r0, r1, tmp);
            if (s === DECODE.BAD_CODE) throw new BitnetError('BAD_GGUF', `${t.name}: invalid 2-bit code 3 in ${t.typeName} data`, { offset: t.absoluteOffset });
            // One scale for the tensor (blocks of zeros answer 0 and may carry any d), as decode_* track it.
            if (s === DECODE.SCALES_DIFFER || !Number.isFinite(s) || (s > 0 && scale > 0 && s !== scale)) differ = true;
            else if (s > 0) scale = s;
            if (r1 < rp) return;
            temps.delete(ptr);
            if (!differ) { assign(TernaryMatrix._fromPacked(rt, kernel, ptr, bytes, rows, cols, scale)); return; }
            rt.free(ptr); // blocks with different (or non-finite) scales: the exact f32 fallback, checked element-wise
            assign(DenseMatrix.fromFloat32(finite(t, dequantize(t.type, rt.u8.slice(slot, slot + t.byteSize), rows * cols)), rows, cols, 'f32', rt));
          },
        };
      }
    }

    function* pieces(): Generator<TensorPiece> {
      for (const t of wanted) {
        if (t.name === 'token_embd.weight' || t.name === 'output.weight') {
          // Small tables stay exact (f32); large ones int8 with one scale per row (4x smaller).
          table = new TableLoader(rt, t, nVocab, e, nVocab * e * 4 <= EXACT_EMBEDDING_BYTES ? 'f32' : 'i8');
          yield* table.pieces((dm) => { table = null; if (t.name === 'token_embd.weight') w.tokEmbd = dm; else w.output = dm; });
        } else if (ternaryTraits(t.type)) {
          yield* ternaryPieces(t, ternaryTraits(t.type)!);
        } else {
          let buf: Uint8Array | null = null;
          yield { tensor: t, offset: 0, length: t.byteSize, dest: () => (buf ??= new Uint8Array(t.byteSize)), done: () => done(t, buf!) };
        }
      }
    }

    await readTensorPieces(input, pieces(), { totalBytes: wanted.reduce((n, t) => n + t.byteSize, 0), onProgress: opts.onProgress, signal: opts.signal });
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
  } finally {
    for (const p of temps) rt.free(p);
    if (table) { (table as TableLoader).free(); (table as TableLoader).m.dispose(); }
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
