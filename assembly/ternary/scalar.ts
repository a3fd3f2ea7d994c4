// The scalar reference kernel: the definition every other kernel must reproduce bit for bit.
//   acc[j][r] = sum_k t[r][k] * q[j][k]   (exact int32)
// t: row-major int8 trits (LAYOUT_I8), q: n rows of kp int8 activations, acc: n rows of accStride i32.

export function gemm_i8_scalar(t: usize, rows: i32, cols: i32, q: usize, kp: i32, n: i32, acc: usize, accStride: i32, r0: i32, r1: i32): void {
  for (let j = 0; j < n; j++) {
    const qj = q + <usize>j * <usize>kp;
    for (let r = r0; r < r1; r++) {
      const tr = t + <usize>r * <usize>cols;
      let s: i32 = 0;
      for (let k = 0; k < cols; k++) s += <i32>load<i8>(tr + <usize>k) * <i32>load<i8>(qj + <usize>k);
      store<i32>(acc + ((<usize>j * <usize>accStride + <usize>r) << 2), s);
    }
  }
}
