// Dense GEMV baselines (and, later, the embedding / output head): f32 x f32 and int8 x int8.
// Fixed summation order, so results are identical on every engine.

/** out[r] = sum_k w[r][k] * x[k]; four f32x4 partial sums per row, then a scalar tail. */
export function gemv_f32(w: usize, rows: i32, cols: i32, x: usize, out: usize): void {
  const c16 = cols & ~15;
  for (let r = 0; r < rows; r++) {
    const wr = w + ((<usize>r * <usize>cols) << 2);
    let a = f32x4.splat(0), b = f32x4.splat(0), c = f32x4.splat(0), d = f32x4.splat(0);
    for (let k = 0; k < c16; k += 16) {
      const o = <usize>k << 2;
      a = f32x4.add(a, f32x4.mul(v128.load(wr + o), v128.load(x + o)));
      b = f32x4.add(b, f32x4.mul(v128.load(wr + o, 16), v128.load(x + o, 16)));
      c = f32x4.add(c, f32x4.mul(v128.load(wr + o, 32), v128.load(x + o, 32)));
      d = f32x4.add(d, f32x4.mul(v128.load(wr + o, 48), v128.load(x + o, 48)));
    }
    const s = f32x4.add(f32x4.add(a, b), f32x4.add(c, d));
    let acc: f32 = (f32x4.extract_lane(s, 0) + f32x4.extract_lane(s, 1)) + (f32x4.extract_lane(s, 2) + f32x4.extract_lane(s, 3));
    for (let k = c16; k < cols; k++) acc += load<f32>(wr + (<usize>k << 2)) * load<f32>(x + (<usize>k << 2));
    store<f32>(out + (<usize>r << 2), acc);
  }
}

/** out[r] = sum_k w[r][k] * q[k] exactly (int32), with i32x4.dot_i16x8_s on sign-extended halves. */
export function gemv_i8(w: usize, rows: i32, cols: i32, q: usize, out: usize): void {
  const c16 = cols & ~15;
  for (let r = 0; r < rows; r++) {
    const wr = w + <usize>r * <usize>cols;
    let a = i32x4.splat(0), b = i32x4.splat(0);
    for (let k = 0; k < c16; k += 16) {
      const wv = v128.load(wr + <usize>k), xv = v128.load(q + <usize>k);
      a = i32x4.add(a, i32x4.dot_i16x8_s(i16x8.extend_low_i8x16_s(wv), i16x8.extend_low_i8x16_s(xv)));
      b = i32x4.add(b, i32x4.dot_i16x8_s(i16x8.extend_high_i8x16_s(wv), i16x8.extend_high_i8x16_s(xv)));
    }
    const s = i32x4.add(a, b);
    let acc = i32x4.extract_lane(s, 0) + i32x4.extract_lane(s, 1) + i32x4.extract_lane(s, 2) + i32x4.extract_lane(s, 3);
    for (let k = c16; k < cols; k++) acc += <i32>load<i8>(wr + <usize>k) * <i32>load<i8>(q + <usize>k);
    store<i32>(out + (<usize>r << 2), acc);
  }
}
