// The module's exports: raw pointers and sizes in, status codes out. bindings/ wraps them.
export { alloc, free, memory_bytes } from "./memory";
export { quantize_row, sum_i8 } from "./quant/activations";
export { gemv_f32, gemv_i8 } from "./quant/dense";
export { absmean_quantize } from "./ternary/absmean";
export { find_non_ternary, pack, packed_bytes, padded_cols, padded_rows } from "./ternary/layouts";
export { kernel_available, kernel_layout, matmul_scratch_bytes, ternary_matmul } from "./ternary/matmul";
export { selftest_relaxed_dot } from "./selftest";

/** 1 when this module was compiled with relaxed SIMD. */
export function has_relaxed(): i32 { return ASC_FEATURE_RELAXED_SIMD ? 1 : 0; }
