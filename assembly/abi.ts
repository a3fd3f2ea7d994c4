// The contract between the wasm and its JS callers: every number both sides must agree on.
// assembly/ reads these names; bindings/abi.ts is the JS side's copy (the only other place these
// numbers are written), and test/abi.test.ts requires the two to match one to one, so a constant
// changed on one side alone fails the tests. Keep each value a plain integer literal (the test
// reads this file and refuses anything else). Naming: GROUP_KEY here is `GROUP.KEY` there.

// Model descriptor (i32 words unless noted f32), written by src/model/model.ts, read by
// assembly/model/forward.ts.
export const D_N_EMBD = 0;
export const D_N_LAYER = 1;
export const D_N_HEAD = 2;
export const D_N_HEAD_KV = 3;
export const D_HEAD_DIM = 4;
export const D_N_FF = 5;
export const D_N_VOCAB = 6;
export const D_N_CTX = 7;
export const D_ROPE_DIM = 8;
export const D_EPS = 9;          // f32
export const D_ROPE_BASE = 10;   // f32
export const D_ACT = 11;         // ACT_*
export const D_KERNEL = 12;      // KERNEL_* of one-token products (decode: GEMV)
export const D_EMBD = 13;        // token embedding rows [n_vocab][n_embd]
export const D_EMBD_FMT = 14;    // DENSE_*
export const D_EMBD_SCALES = 15; // f32 per row (DENSE_I8)
export const D_OUT_NORM = 16;
export const D_HEAD = 17;        // output head rows [n_vocab][n_embd]; 0 = tied to the embedding
export const D_HEAD_FMT = 18;    // DENSE_*
export const D_HEAD_SCALES = 19;
export const D_K_CACHE = 20;     // KV_* values [layer][pos][kv_head][head_dim]
export const D_V_CACHE = 21;
export const D_SCRATCH = 22;     // forward_scratch_bytes(desc, n) bytes
export const D_ROPE_TYPE = 23;   // ROPE_*
export const D_KV_TYPE = 24;     // KV_*
export const D_KERNEL_GEMM = 25; // KERNEL_* of n > 1 products (prefill), same layout as D_KERNEL (bit-identical)
export const D_LAYERS = 26;      // L_WORDS words per layer follow
export const D_WORDS = 27;       // descriptor words before the layers

// Layer words: four norms (f32 vectors; 0 = absent), then SLOT_COUNT matrices of M_WORDS each.
export const L_ATTN_NORM = 0;
export const L_ATTN_SUB_NORM = 1;
export const L_FFN_NORM = 2;
export const L_FFN_SUB_NORM = 3;
export const L_MATS = 4;
export const L_WORDS = 25;       // L_MATS + SLOT_COUNT * M_WORDS

// A layer's matrices, in this order from L_MATS on (the GGUF names in src/model/tensors.ts).
export const SLOT_Q = 0;
export const SLOT_K = 1;
export const SLOT_V = 2;
export const SLOT_O = 3;
export const SLOT_GATE = 4;
export const SLOT_UP = 5;
export const SLOT_DOWN = 6;
export const SLOT_COUNT = 7;

// Words of one matrix.
export const M_PTR = 0;
export const M_SCALE = 1;        // f32
export const M_FMT = 2;          // MAT_*
export const M_WORDS = 3;

// Matrix formats: packed for the model's kernel, or dense f32 rows (the exact fallback for ternary
// tensors whose blocks carry different scales).
export const MAT_TERNARY = 0;
export const MAT_F32 = 1;

// Embedding / output head formats (dense/matrix.ts).
export const DENSE_F32 = 0;
export const DENSE_I8 = 1;       // int8 rows, one f32 scale per row

export const ACT_SILU = 0;
export const ACT_RELU2 = 1;      // squared ReLU

export const ROPE_NEOX = 0;      // rotate halves (bitnet)
export const ROPE_INTERLEAVED = 1; // rotate adjacent pairs (llama)

// KV cache value type (nn/kv_f16.ts for f16).
export const KV_F32 = 0;
export const KV_F16 = 1;

// forward()'s return codes.
export const FORWARD_OK = 0;
export const FORWARD_NONFINITE = -1; // a NaN or an infinity in an activation or a logit
export const FORWARD_BAD_POS = -2;   // n < 1, pos0 < 0 or positions past the context
export const FORWARD_BAD_TOKEN = -3; // a token id outside the vocabulary

// Ternary kernels (ternary/matmul.ts) and the layout each reads (the table: ternary/kernels.ts).
export const KERNEL_SCALAR = 0;      // reference, LAYOUT_I8
export const KERNEL_TL3 = 1;         // lookup tables, i8x16.swizzle, LAYOUT_TL3
export const KERNEL_TL3_RELAXED = 2; // lookup tables, i8x16.relaxed_swizzle, LAYOUT_TL3
export const KERNEL_I2_DOT32 = 3;    // i32x4.relaxed_dot_i8x16_i7x16_add_s, LAYOUT_I2
export const KERNEL_I2_DOT16 = 4;    // i16x8.relaxed_dot_i8x16_i7x16_s + i16 accumulation, LAYOUT_I2
export const KERNEL_I2_DOT = 5;      // the faster of each on V8: GEMV as DOT32, GEMM as DOT16
export const KERNEL_COUNT = 6;

// Flags or-ed into the kernel id ternary_matmul takes.
export const MATMUL_KERNEL_MASK = 0xff;
export const MATMUL_STREAMING = 0x100; // weights stream from DRAM (a model's): prefetch the next block

// A fused matmul job (ternary/matmul.ts ternary_matmul_fused): up to FUSED_MAX matrices that read
// the same activation rows (a layer's Q, K, V; gate, up), one quantization of those rows and one
// pool job over the matrices' rows laid end to end (each padded to a 16-row block). i32 words from
// its base (f32 where noted), written by the caller (assembly/model/forward.ts, or JS for tests).
export const FUSED_KERNEL = 0;     // kernel id | MATMUL_* flags
export const FUSED_COLS = 1;       // columns of every matrix (the activation rows' length)
export const FUSED_N = 2;          // activation rows (tokens)
export const FUSED_X = 3;          // the activations, n rows of COLS f32
export const FUSED_SCRATCH = 4;    // matmul_fused_scratch_bytes(job) bytes
export const FUSED_COUNT = 5;      // matrices, 1..FUSED_MAX
export const FUSED_MATS = 6;       // FUSED_M_WORDS words per matrix follow
export const FUSED_MAX = 3;
export const FUSED_M_W = 0;        // packed weights
export const FUSED_M_ROWS = 1;
export const FUSED_M_SCALE = 2;    // f32
export const FUSED_M_OUT = 3;      // n rows of ROWS f32
export const FUSED_M_WORDS = 4;
export const FUSED_WORDS = 18;     // FUSED_MATS + FUSED_MAX * FUSED_M_WORDS

// Weight layouts (ternary/layouts.ts, with their table).
export const LAYOUT_I8 = 0;
export const LAYOUT_I2 = 1;
export const LAYOUT_TL3 = 2;
export const LAYOUT_COUNT = 3;

// What the GGUF ternary decoders (quant/ggml_ternary.ts) return instead of a scale (>= 0).
export const DECODE_SCALES_DIFFER = -1;
export const DECODE_BAD_CODE = -2;

// Thread pool control block (i32 words from its base; threads/pool.ts). JS allocates it in linear
// memory and starts POOL_WORKERS worker instances on the same shared memory. The calling thread posts
// a job (POOL_OP, POOL_ARGS, POOL_CHUNKS pieces), sets POOL_DONE = 0 and POOL_NEXT = gen << 16, bumps
// POOL_SEQ (gen = its low 16 bits) and notifies; every thread, the caller included, claims pieces
// from POOL_NEXT (a claim only counts while its gen is the job's) and counts them in POOL_DONE; the
// caller returns when POOL_DONE == POOL_CHUNKS. A worker that wakes late finds nothing left and
// costs nothing (a loaded machine deschedules threads). The RMW'd words have their own 64-byte lines.
export const POOL_QUIT = 1;        // 1: workers return from pool_work (dispose)
export const POOL_WORKERS = 2;     // worker instances running pool_work (written by JS)
export const POOL_THREADS = 3;     // threads a call may use, the caller included (written by JS before calls)
export const POOL_ACTIVE = 4;      // threads of the current job (worker i takes part when i < ACTIVE)
export const POOL_OP = 5;          // POOL_OP_*
export const POOL_FAILED = 6;      // a worker trapped (set by its JS; the caller stops waiting, its JS throws)
export const POOL_CHUNKS = 7;      // pieces of the current job
export const POOL_ARGS = 8;        // the job's arguments (POOL_ARG_COUNT words)
export const POOL_ARG_COUNT = 8;
export const POOL_DONE = 16;       // pieces finished
export const POOL_WSCRATCH = 17;   // per-worker scratch (worker i: + (i - 1) * POOL_WSCRATCH_BYTES)
export const POOL_WSCRATCH_BYTES = 18;
export const POOL_WORKER_PIECES = 19; // pieces run by workers since the pool started (tests, stats)
export const POOL_WORKER_OP_PIECES = 20; // the same per job kind: word POOL_WORKER_OP_PIECES + POOL_OP_* (< POOL_OP_COUNT)
export const POOL_MIN_WORK = 28;   // jobs of fewer multiply-adds run on the caller (written by JS; below the default: the default)
export const POOL_MIN_WORK_DEFAULT = 65536; // (not a word) a hand-off costs more than a job this small
export const POOL_NEXT = 32;       // gen << 16 | the next piece to claim
// The words idle workers poll, on a line of their own: the caller writes a job's words (ARGS, OP,
// CHUNKS...) while they poll, and each of those stores would otherwise take the line back from them.
export const POOL_SEQ = 48;        // job generation: workers wait for it to change
export const POOL_WORDS = 64;      // the block's size in words (256 bytes, 64-byte aligned)

// Jobs.
export const POOL_OP_MATMUL = 1;   // rows of one ternary_matmul (its quantized activations are ready)
export const POOL_OP_HEAD = 2;     // rows of the output head (forward.ts; its input row is ready)
export const POOL_OP_ATTENTION = 3; // (token, head range) pieces of one layer's attention (forward.ts; q rotated, k/v cached)
export const POOL_OP_MATMUL_FUSED = 4; // rows of a fused matmul job (its args: the job's address; its rows quantized)
export const POOL_OP_ROWS = 5;     // a prefill batch's row-wise steps (forward.ts: rmsnorm rows, the FFN's gate * up), split by rows
export const POOL_OP_QUANTIZE = 6; // int8 quantization (and TL3 tables) of a GEMM's activation rows (ternary/matmul.ts), split by rows
export const POOL_OP_COUNT = 7;    // job kinds + 1 (0 is no job)
