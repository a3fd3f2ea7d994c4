// Elementwise f32 ops (residual add, act(gate) * up) and argmax. Plain IEEE f32 arithmetic,
// one rounding per element: exact-by-definition, identical everywhere. out may equal a or b.

export function add(a: usize, b: usize, n: i32, out: usize): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    v128.store(out + o, f32x4.add(v128.load(a + o), v128.load(b + o)));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(out + o, load<f32>(a + o) + load<f32>(b + o));
  }
}

export function mul(a: usize, b: usize, n: i32, out: usize): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    v128.store(out + o, f32x4.mul(v128.load(a + o), v128.load(b + o)));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(out + o, load<f32>(a + o) * load<f32>(b + o));
  }
}

/**
 * Index of the largest of n f32 values; the lowest index on ties (+0 and -0 tie); NaNs never win.
 * -1 when n <= 0 or every value is NaN.
 */
export function argmax(x: usize, n: i32): i32 {
  // Pass 1: the maximum, skipping NaNs: pmax(m, v) = m < v ? v : m keeps m when v is NaN.
  let m: f32 = -Infinity;
  let i = 0;
  if (n >= 4) {
    let vm = f32x4.splat(-Infinity);
    for (; i + 4 <= n; i += 4) vm = f32x4.pmax(vm, v128.load(x + (<usize>i << 2)));
    const v0 = f32x4.extract_lane(vm, 0), v1 = f32x4.extract_lane(vm, 1);
    const v2 = f32x4.extract_lane(vm, 2), v3 = f32x4.extract_lane(vm, 3);
    if (m < v0) m = v0;
    if (m < v1) m = v1;
    if (m < v2) m = v2;
    if (m < v3) m = v3;
  }
  for (; i < n; i++) {
    const v = load<f32>(x + (<usize>i << 2));
    if (m < v) m = v;
  }
  // Pass 2: the first index holding it (stops early).
  for (let j = 0; j < n; j++) if (load<f32>(x + (<usize>j << 2)) == m) return j;
  return -1;
}
