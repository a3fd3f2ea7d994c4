import { describe, it, expect } from 'vitest';
import { createRuntime, TernaryMatrix } from '../src/index.js';

describe('smoke', () => {
  it('runs every kernel', async () => {
    for (const build of ['simd128', 'relaxed'] as const) {
      const rt = await createRuntime({ build });
      const rows = 37, cols = 101;
      const t = new Int8Array(rows * cols).map((_, i) => ((i * 7919) % 3) - 1);
      const x = new Float32Array(cols).map((_, i) => Math.sin(i));
      const ref = TernaryMatrix.fromTernary(t, rows, cols, 0.5, { runtime: rt, kernel: 'scalar' }).gemv(x);
      for (const k of (build === 'relaxed' ? ['tl3', 'tl3-relaxed', 'i2-dot32', 'i2-dot16'] : ['tl3']) as any[]) {
        const y = TernaryMatrix.fromTernary(t, rows, cols, 0.5, { runtime: rt, kernel: k }).gemv(x);
        expect([build, k, Array.from(y)]).toEqual([build, k, Array.from(ref)]);
        const X = new Float32Array(cols * 5).map((_, i) => Math.cos(i * 1.3));
        const Y = TernaryMatrix.fromTernary(t, rows, cols, 0.5, { runtime: rt, kernel: k }).gemm(X, 5);
        const R = TernaryMatrix.fromTernary(t, rows, cols, 0.5, { runtime: rt, kernel: 'scalar' }).gemm(X, 5);
        expect([build, k, Array.from(Y)]).toEqual([build, k, Array.from(R)]);
      }
    }
  });
});
