// The wasm f16 -> f32 conversion (F16 embeddings) is exact for every one of the 65536 halves.
import { expect, it } from 'vitest';
import { createRuntime } from '../src/index.js';
import { f16BitsToF32 } from '../src/gguf/index.js';

it('f16_row_to_f32 converts all 65536 halves exactly (NaN stays NaN)', async () => {
  const rt = await createRuntime({ build: 'simd128' });
  const e = rt.exports as unknown as { f16_row_to_f32(s: number, n: number, o: number): void };
  const n = 65536 + 3; // and a scalar tail
  const src = rt.alloc(n * 2), out = rt.alloc(n * 4);
  const h = new Uint16Array(rt.exports.memory.buffer, src, n);
  for (let i = 0; i < n; i++) h[i] = i & 0xffff;
  e.f16_row_to_f32(src, n, out);
  const f = new Float32Array(rt.exports.memory.buffer, out, n);
  let bad = 0;
  for (let i = 0; i < n; i++) {
    const want = f16BitsToF32(i & 0xffff);
    if (Number.isNaN(want) ? !Number.isNaN(f[i]) : !Object.is(f[i], want)) bad++;
  }
  expect(bad).toBe(0);
});
