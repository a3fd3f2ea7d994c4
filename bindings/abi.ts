// The JS side of the wasm ABI: the same numbers as assembly/abi.ts (which the wasm exports as
// globals named GROUP_KEY). test/abi.test.ts requires every group below and every exported global
// to match one to one, so a constant changed on one side alone fails the tests. Read these names;
// never write the numbers elsewhere.

/** Model descriptor words (i32 unless noted f32); the layers start at D.LAYERS. */
export const D = {
  N_EMBD: 0, N_LAYER: 1, N_HEAD: 2, N_HEAD_KV: 3, HEAD_DIM: 4, N_FF: 5, N_VOCAB: 6, N_CTX: 7, ROPE_DIM: 8,
  EPS: 9, ROPE_BASE: 10, // f32
  ACT: 11, KERNEL: 12, EMBD: 13, EMBD_FMT: 14, EMBD_SCALES: 15, OUT_NORM: 16, HEAD: 17, HEAD_FMT: 18, HEAD_SCALES: 19,
  K_CACHE: 20, V_CACHE: 21, SCRATCH: 22, ROPE_TYPE: 23, KV_TYPE: 24,
  KERNEL_GEMM: 25, // kernel of n > 1 products (prefill); KERNEL is that of one-token steps
  LAYERS: 26,
  WORDS: 27, // words before the layers
} as const;

/** Words of one layer (offsets from its first word): four norms, then SLOT.COUNT matrices. */
export const L = { ATTN_NORM: 0, ATTN_SUB_NORM: 1, FFN_NORM: 2, FFN_SUB_NORM: 3, MATS: 4, WORDS: 25 } as const;

/** A layer's matrices in descriptor order (src/model/tensors.ts MATRICES gives their GGUF names). */
export const SLOT = { Q: 0, K: 1, V: 2, O: 3, GATE: 4, UP: 5, DOWN: 6, COUNT: 7 } as const;

/** Words of one matrix (from L.MATS + M.WORDS * slot): pointer, f32 scale, MAT format. */
export const M = { PTR: 0, SCALE: 1, FMT: 2, WORDS: 3 } as const;

/** Matrix formats: packed for the model's kernel, or dense f32 rows. */
export const MAT = { TERNARY: 0, F32: 1 } as const;

/** Embedding / output head formats. */
export const DENSE = { F32: 0, I8: 1 } as const;

export const ACT = { SILU: 0, RELU2: 1 } as const;
export const ROPE = { NEOX: 0, INTERLEAVED: 1 } as const;

/** KV cache value types. */
export const KV = { F32: 0, F16: 1 } as const;

/** forward()'s return codes. */
export const FORWARD = { OK: 0, NONFINITE: -1, BAD_POS: -2, BAD_TOKEN: -3 } as const;

/** Ternary kernel ids (public names: KERNEL_IDS in exports.ts). */
export const KERNEL = { SCALAR: 0, TL3: 1, TL3_RELAXED: 2, I2_DOT32: 3, I2_DOT16: 4, I2_DOT: 5, COUNT: 6 } as const;

/** Flags or-ed into a kernel id for ternary_matmul. */
export const MATMUL = { KERNEL_MASK: 0xff, STREAMING: 0x100 } as const;

/** A fused matmul job's words (ternary_matmul_fused): COUNT matrices sharing one input, M_WORDS each from MATS. */
export const FUSED = {
  KERNEL: 0, COLS: 1, N: 2, X: 3, SCRATCH: 4, COUNT: 5, MATS: 6, MAX: 3,
  M_W: 0, M_ROWS: 1, M_SCALE: 2, M_OUT: 3, M_WORDS: 4, WORDS: 18,
} as const;

/** Weight layout ids (kernel_layout()'s answers). */
export const LAYOUT = { I8: 0, I2: 1, TL3: 2, COUNT: 3 } as const;

/** What decode_tq1_0 / decode_tq2_0 / decode_i2_s return instead of a scale (>= 0). */
export const DECODE = { SCALES_DIFFER: -1, BAD_CODE: -2 } as const;

/** Thread pool control block: i32 words from its base (assembly/threads/pool.ts, bindings/pool.ts). */
export const POOL = {
  QUIT: 1, WORKERS: 2, THREADS: 3, ACTIVE: 4, OP: 5, FAILED: 6, CHUNKS: 7, ARGS: 8, ARG_COUNT: 8, DONE: 16,
  WSCRATCH: 17, WSCRATCH_BYTES: 18, WORKER_PIECES: 19, WORKER_OP_PIECES: 20, MIN_WORK: 28, NEXT: 32, SEQ: 48, WORDS: 64,
  MIN_WORK_DEFAULT: 65536,
  OP_MATMUL: 1, OP_HEAD: 2, OP_ATTENTION: 3, OP_MATMUL_FUSED: 4, OP_ROWS: 5, OP_QUANTIZE: 6, OP_COUNT: 7,
} as const;

/** Every group, by the prefix of its globals in the wasm. */
export const ABI = { D, L, SLOT, M, MAT, DENSE, ACT, ROPE, KV, FORWARD, KERNEL, MATMUL, FUSED, LAYOUT, DECODE, POOL } as const;
