// Independent plain-JS definitions of the library's numerics (f32 at every step via Math.fround).
// The wasm kernels must equal these bit for bit.

/** Round half to even of a finite double. */
export function roundHalfEven(v: number): number {
  if (Math.abs(v % 1) === 0.5) return 2 * Math.round(v / 2);
  return Math.round(v);
}

export function refQuantize(x: Float32Array): { q: Int8Array; step: number } {
  let amax = 0;
  for (const v of x) amax = Math.max(amax, Math.abs(v));
  const q = new Int8Array(x.length);
  if (amax === 0) return { q, step: 0 };
  const step = Math.fround(amax / 127);
  for (let i = 0; i < x.length; i++) {
    const r = roundHalfEven(Math.fround(x[i] / step));
    q[i] = Number.isNaN(r) ? 0 : Math.min(127, Math.max(-127, r));
  }
  return { q, step };
}

export function refAbsmean(w: Float32Array): { t: Int8Array; scale: number } {
  let s = 0;
  for (const v of w) s += Math.abs(v);
  const scale = Math.fround(s / w.length);
  const t = new Int8Array(w.length);
  if (scale === 0) return { t, scale };
  for (let i = 0; i < w.length; i++) t[i] = Math.min(1, Math.max(-1, roundHalfEven(Math.fround(w[i] / scale))));
  return { t, scale };
}

/** Y (n x rows) for trits t (rows x cols), scale, X (n x cols): each row of X quantized on its own. */
export function refGemm(t: Int8Array, rows: number, cols: number, scale: number, X: Float32Array, n: number): Float32Array {
  const y = new Float32Array(n * rows);
  for (let j = 0; j < n; j++) {
    const { q, step } = refQuantize(X.subarray(j * cols, (j + 1) * cols));
    const f = Math.fround(step * Math.fround(scale));
    for (let r = 0; r < rows; r++) {
      let acc = 0;
      const o = r * cols;
      for (let k = 0; k < cols; k++) acc += t[o + k] * q[k];
      y[j * rows + r] = Math.fround(Math.fround(acc) * f);
    }
  }
  return y;
}

/** xorshift32: deterministic test data. */
export function rng(seed: number): () => number {
  let s = (seed >>> 0) || 1;
  return () => { s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0; return s / 4294967296; };
}

export function randomTrits(n: number, seed: number, pZero = 0.4): Int8Array {
  const r = rng(seed), t = new Int8Array(n);
  for (let i = 0; i < n; i++) { const u = r(); t[i] = u < pZero ? 0 : u < (1 + pZero) / 2 ? -1 : 1; }
  return t;
}

export function randomFloats(n: number, seed: number, scale = 2): Float32Array {
  const r = rng(seed), x = new Float32Array(n);
  for (let i = 0; i < n; i++) x[i] = (r() - 0.5) * 2 * scale;
  return x;
}

/** Bit patterns, so that -0 vs 0 and NaN payloads count as differences. */
export function bits(a: Float32Array): Uint32Array {
  return new Uint32Array(a.buffer.slice(a.byteOffset, a.byteOffset + a.byteLength));
}
