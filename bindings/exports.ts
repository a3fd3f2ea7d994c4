import type { WasmMemory } from './wasm-types.js';

/** The raw exports of bitnet-*.wasm (assembly/index.ts). Pointers are byte offsets into `memory`. */
export interface WasmExports {
  memory: WasmMemory;
  has_relaxed(): number;
  selftest_relaxed_dot(): number;
  heap_base(): number;
  memory_bytes(): number;
  quantize_row(x: number, n: number, q: number, nPad: number): number;
  sum_i8(q: number, n: number): number;
  gemv_f32(w: number, rows: number, cols: number, x: number, out: number): void;
  gemv_i8(w: number, rows: number, cols: number, q: number, out: number, ahead: number): void;
  dense_rows_from_f32(src: number, k: number, cols: number, fmt: number, dst: number, scales: number, r0: number): number;
  dense_rows_from_f16(src: number, k: number, cols: number, fmt: number, dst: number, scales: number, r0: number): number;
  first_nonfinite_f32(src: number, n: number): number;
  absmean_quantize(w: number, n: number, t: number): number;
  find_non_ternary(t: number, n: number): number;
  pack(layout: number, t: number, rows: number, cols: number, dst: number): void;
  pack_rows(layout: number, t: number, rows: number, cols: number, dst: number, r0: number, r1: number): void;
  packed_bytes(layout: number, rows: number, cols: number): number;
  padded_cols(layout: number, cols: number): number;
  padded_rows(layout: number, rows: number): number;
  kernel_available(kernel: number): number;
  kernel_layout(kernel: number): number;
  matmul_scratch_bytes(kernel: number, rows: number, cols: number, n: number): number;
  /** Scratch bytes each pool worker needs for a GEMM of this kernel over `cols` (RuntimeWasm.workerScratch). */
  matmul_worker_bytes(kernel: number, cols: number): number;
  ternary_matmul(kernel: number, w: number, rows: number, cols: number, x: number, n: number, out: number,
    scale: number, scratch: number): number;
  /** Scratch bytes of the fused job at `job` (FUSED.* words; its SCRATCH word is not read). */
  matmul_fused_scratch_bytes(job: number): number;
  /** The job's FUSED.COUNT products (each ternary_matmul's bits), one quantization and one pool job; 0 or -1 - j. */
  ternary_matmul_fused(job: number): number;
  // nn / decoder
  softmax(x: number, n: number): void;
  /** Scratch bytes of one attention call over nPos positions (any head range; forward's, and each pool worker's). */
  attention_scratch_bytes(nHead: number, nHeadKv: number, headDim: number, nPos: number): number;
  logsumexp(x: number, n: number): number;
  argmax(x: number, n: number): number;
  forward(desc: number, tokens: number, n: number, pos0: number, logits: number): number;
  forward_scratch_bytes(desc: number, n: number): number;
  kv_shift(desc: number, keep: number, drop: number, n: number): number;
  // GGUF ternary tensors -> trits; return the scale, -1 (scales differ) or -2 (bad code)
  decode_tq1_0(src: number, nBlocks: number, dst: number): number;
  decode_tq2_0(src: number, nBlocks: number, dst: number): number;
  decode_i2_s(src: number, n: number, dst: number): number;
  // the same, rows r0..r1 straight into a layout (assembly/quant/repack.ts); same returns
  repack_tmp_bytes(layout: number, cols: number): number;
  repack_tq2_0(src: number, rows: number, cols: number, layout: number, dst: number, r0: number, r1: number, tmp: number): number;
  repack_i2_s(src: number, rows: number, cols: number, layout: number, dst: number, r0: number, r1: number, tmp: number): number;
  repack_tq1_0(src: number, rows: number, cols: number, layout: number, dst: number, r0: number, r1: number, tmp: number): number;
  // thread pool (threads/pool.ts; its loop runs only in -mt builds)
  pool_attach(ctrl: number): void;
  pool_work(ctrl: number, index: number, seen: number): void;
}

// Kernel ids and names, layout names: the kernel table.
export { KERNEL_IDS, KERNEL_NAMES, LAYOUT_NAMES, type KernelName } from './kernels.js';
