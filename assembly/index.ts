// The module's exports: raw pointers and sizes in, status codes out. bindings/ wraps them.
export { heap_base, memory_bytes } from "./memory";
export { quantize_row, sum_i8 } from "./quant/absmax_i8";
export { gemv_f32, gemv_i8, dense_rows_from_f32, dense_rows_from_f16, f16_row_to_f32, first_nonfinite_f32 } from "./dense/matrix";
export { absmean_quantize } from "./ternary/absmean";
export { find_non_ternary, pack, pack_rows, packed_bytes, padded_cols, padded_rows } from "./ternary/layouts";
export { kernel_available, kernel_layout, matmul_fused_scratch_bytes, matmul_scratch_bytes, matmul_worker_bytes, ternary_matmul,
  ternary_matmul_fused } from "./ternary/matmul";
export { selftest_relaxed_dot } from "./selftest";

/** 1 when this module was compiled with relaxed SIMD. */
export function has_relaxed(): i32 { return ASC_FEATURE_RELAXED_SIMD ? 1 : 0; }
// kv_f16 before math/exp: a constant table's address is given where it is first used, and the -mt
// builds reach the f16 table before exp's one (ternary_matmul -> the pool -> attention), so this
// order gives every build the same data segments (scripts/build-wasm.mjs checks that).
export { kv_load_f16, kv_store_f16 } from "./nn/kv_f16";
export { expf, vexpf, vexpf_f32, exp64 } from "./math/exp";
export { logf, log64 } from "./math/log";
export { sinf, cosf } from "./math/trig";
export { powf, pow64 } from "./math/pow";
export { rmsnorm } from "./nn/rmsnorm";
export { rope_table, rope_table_bytes, rope_apply, rope_neox } from "./nn/rope";
export { softmax, softmax_f32, logsumexp } from "./nn/softmax";
export { silu, silu_mul, relu_sq, relu_sq_mul } from "./nn/glu";
export { add, mul, argmax } from "./nn/elementwise";
export { attention, attention_f16, attention_heads, attention_scratch_bytes } from "./nn/attention";
export { forward, forward_scratch_bytes, kv_shift } from "./model/forward";
export { decode_tq1_0, decode_tq2_0, decode_i2_s } from "./quant/ggml_ternary";
export { repack_i2_s, repack_tmp_bytes, repack_tq1_0, repack_tq2_0 } from "./quant/repack";
export { pool_attach, pool_work } from "./threads/pool";
