// Inputs the bench scripts share (they run on dist/, which has no bench entry).
// MODEL_SHAPES is src/bench/kernels.ts's (the CLI's kernel suite); test/bench.test.ts checks they agree.

/** Rows x columns (out x in) of each model's projections. */
export const MODEL_SHAPES = {
  '700M': [[1536, 1536], [4096, 1536], [1536, 4096]],
  '2B4T': [[2560, 2560], [640, 2560], [6912, 2560], [2560, 6912]],
  '3B': [[3200, 3200], [8640, 3200], [3200, 8640]],
};

/** n pseudo-random trits (xorshift32 from `seed`): the kernels' speed depends on the shape, not the values. */
export function trits(n, seed) {
  const t = new Int8Array(n);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) { s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0; t[i] = (s % 3) - 1; }
  return t;
}
