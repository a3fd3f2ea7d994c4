// BitNet b1.58 weight ternarization: scale = mean|w| (f64 sum in index order, then f32),
// t = clamp(roundHalfEven(w / scale), -1, 1) with an f32 division.

/** Writes n trits to t and returns the scale; -1 if w holds a NaN or an infinity. */
export function absmean_quantize(w: usize, n: i32, t: usize): f32 {
  let s: f64 = 0;
  for (let i = 0; i < n; i++) {
    const v = load<f32>(w + (<usize>i << 2));
    if (!(v - v == 0)) return -1;
    s += <f64>abs(v);
  }
  const scale = <f32>(s / <f64>n);
  if (scale == 0) {
    memory.fill(t, 0, <usize>n);
    return 0;
  }
  for (let i = 0; i < n; i++) {
    const r = nearest<f32>(load<f32>(w + (<usize>i << 2)) / scale);
    store<i8>(t + <usize>i, <i8>(<i32>min<f32>(max<f32>(r, -1), 1)));
  }
  return scale;
}
