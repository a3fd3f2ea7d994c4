// Public API contract: build selection, typed errors for bad input, memory release.
import { describe, expect, it } from 'vitest';
import { BitnetError, createRuntime, DenseMatrix, init, kernelInfo, quantizeActivations, TernaryMatrix } from '../src/index.js';
import { randomFloats, randomTrits, refGemm } from './helpers/reference.js';

const relaxedEngine = Number(process.versions.node.split('.')[0]) >= 22;

function code(fn: () => unknown): string {
  try { fn(); } catch (e) {
    if (e instanceof BitnetError) return e.code;
    return `not a BitnetError: ${(e as Error)?.constructor?.name} ${(e as Error)?.message}`;
  }
  return 'no error';
}
async function codeAsync(p: Promise<unknown>): Promise<string> {
  try { await p; } catch (e) { return e instanceof BitnetError ? e.code : `not a BitnetError: ${(e as Error).message}`; }
  return 'no error';
}

describe('init and build selection', () => {
  it('refuses use before init', () => {
    expect(code(() => kernelInfo())).toBe('NOT_INITIALIZED');
    expect(code(() => TernaryMatrix.fromTernary(new Int8Array(1), 1, 1))).toBe('NOT_INITIALIZED');
  });

  it('rejects an unknown build, and the relaxed build where the engine lacks relaxed SIMD', async () => {
    expect(await codeAsync(createRuntime({ build: 'avx512' as never }))).toBe('BAD_ARGUMENT');
    if (!relaxedEngine) expect(await codeAsync(createRuntime({ build: 'relaxed' }))).toBe('UNSUPPORTED_BUILD');
  });

  it('selects relaxed only where it runs correctly, else simd128; idempotent', async () => {
    const a = await init();
    const b = await init();
    expect(b).toEqual(a);
    const info = kernelInfo();
    expect(info.build).toBe(relaxedEngine ? 'relaxed' : 'simd128');
    expect(info.kernel).toBe(info.calibration.gemv); // test/calibrate.test.ts checks the choice
    expect(info.features).toEqual({ simd128: true, relaxedSimd: relaxedEngine });
    if (!relaxedEngine) expect(info.notes.join(' ')).toMatch(/relaxed/);
    expect(await codeAsync(init({ build: relaxedEngine ? 'simd128' : 'relaxed' }))).toBe('BAD_ARGUMENT');
  });

  it('accepts the module or the bytes from the host', async () => {
    const { readFile } = await import('node:fs/promises');
    const bytes = await readFile(new URL('../build/bitnet-simd128.wasm', import.meta.url));
    const module = await WebAssembly.compile(bytes);
    for (const source of [{ bytes }, { module }]) {
      const rt = await createRuntime({ build: 'simd128', source });
      const m = TernaryMatrix.fromTernary(Int8Array.from([1, -1, 0, 1]), 2, 2, 1, { runtime: rt });
      expect(Array.from(m.gemv(Float32Array.from([1, 2])))).toEqual(Array.from(refGemm(Int8Array.from([1, -1, 0, 1]), 2, 2, 1, Float32Array.from([1, 2]), 1)));
    }
    expect(await codeAsync(createRuntime({ build: 'simd128', source: { bytes: new Uint8Array([0, 97, 115, 109, 9]) } }))).toBe('WASM_LOAD_FAILED');
  });
});

describe('typed errors for bad input', () => {
  it('TernaryMatrix construction', async () => {
    await init();
    const t = randomTrits(12, 1);
    expect(code(() => TernaryMatrix.fromTernary(t, 3, 5))).toBe('BAD_LENGTH');
    expect(code(() => TernaryMatrix.fromTernary(t, 0, 12))).toBe('BAD_SHAPE');
    expect(code(() => TernaryMatrix.fromTernary(t, 1.5, 8))).toBe('BAD_SHAPE');
    expect(code(() => TernaryMatrix.fromTernary(t, -3, -4))).toBe('BAD_SHAPE');
    expect(code(() => TernaryMatrix.fromTernary([1, 0, -1] as never, 1, 3))).toBe('BAD_ARGUMENT');
    expect(code(() => TernaryMatrix.fromTernary(t, 3, 4, NaN))).toBe('BAD_ARGUMENT');
    expect(code(() => TernaryMatrix.fromTernary(Int8Array.from([0, 1, 2, -1]), 2, 2))).toBe('NOT_TERNARY');
    expect(code(() => TernaryMatrix.fromTernary(Int8Array.from([0, 1, -128, -1]), 2, 2))).toBe('NOT_TERNARY');
    expect(code(() => TernaryMatrix.fromTernary(t, 3, 4, 1, { kernel: 'nope' as never }))).toBe('BAD_ARGUMENT');
    expect(code(() => TernaryMatrix.quantize(Float32Array.from([0.1, NaN, 0.3, 0.4]), 2, 2))).toBe('NON_FINITE');
    expect(code(() => TernaryMatrix.quantize(Float32Array.from([0.1, Infinity, 0.3, 0.4]), 2, 2))).toBe('NON_FINITE');
  });

  it('relaxed kernels on the simd128 build', async () => {
    const rt = await createRuntime({ build: 'simd128' });
    for (const kernel of ['tl3-relaxed', 'i2-dot32', 'i2-dot16', 'i2-dot'] as const) {
      expect(code(() => TernaryMatrix.fromTernary(new Int8Array(4), 2, 2, 1, { runtime: rt, kernel }))).toBe('UNSUPPORTED_BUILD');
    }
  });

  it('gemv / gemm inputs, NaN and infinities, dispose', async () => {
    await init();
    const m = TernaryMatrix.fromTernary(randomTrits(12, 2), 3, 4);
    expect(code(() => m.gemv(new Float32Array(5)))).toBe('BAD_LENGTH');
    expect(code(() => m.gemv(new Float64Array(4) as never))).toBe('BAD_ARGUMENT');
    expect(code(() => m.gemv(new Float32Array(4), new Float32Array(2)))).toBe('BAD_LENGTH');
    expect(code(() => m.gemv(Float32Array.from([1, NaN, 2, 3])))).toBe('NON_FINITE');
    expect(code(() => m.gemv(Float32Array.from([1, -Infinity, 2, 3])))).toBe('NON_FINITE');
    const X = randomFloats(12, 3); X[9] = Infinity;
    expect(code(() => m.gemm(X, 3))).toBe('NON_FINITE');
    expect(() => m.gemm(X, 3)).toThrow(/row 2/);
    expect(code(() => m.gemm(new Float32Array(8), 0))).toBe('BAD_SHAPE');
    expect(code(() => m.gemm(new Float32Array(8), 3))).toBe('BAD_LENGTH');
    // Still usable after errors, and `out` is honoured.
    const out = new Float32Array(3);
    expect(m.gemv(Float32Array.from([1, 2, 3, 4]), out)).toBe(out);
    m.dispose();
    m.dispose();
    expect(code(() => m.gemv(new Float32Array(4)))).toBe('DISPOSED');
    expect(code(() => m.clone())).toBe('DISPOSED');
    expect(code(() => quantizeActivations(Float32Array.from([NaN])))).toBe('NON_FINITE');
    const d = DenseMatrix.fromFloat32(new Float32Array(6), 2, 3);
    d.dispose();
    expect(code(() => d.gemv(new Float32Array(3)))).toBe('DISPOSED');
  });
});

describe('memory', () => {
  it('dispose returns memory: 100 create/dispose cycles of a 4 MB matrix do not grow linear memory', async () => {
    const rt = await createRuntime({ build: 'simd128' });
    const t = randomTrits(2048 * 2048, 5);
    const x = randomFloats(2048, 6);
    TernaryMatrix.fromTernary(t, 2048, 2048, 1, { runtime: rt }).dispose();
    const before = rt.exports.memory_bytes();
    for (let i = 0; i < 100; i++) {
      const m = TernaryMatrix.fromTernary(t, 2048, 2048, 1, { runtime: rt });
      m.gemv(x);
      m.dispose();
    }
    expect(rt.exports.memory_bytes()).toBe(before);
  });

  it('too large for 4 GiB of wasm memory is OUT_OF_MEMORY, and the allocator stays usable', async () => {
    const rt = await createRuntime({ build: 'simd128' });
    expect(code(() => rt.alloc(2 ** 32))).toBe('OUT_OF_MEMORY');
    const blocks: number[] = [];
    let err = 'no error';
    for (let i = 0; i < 16; i++) {
      try { blocks.push(rt.alloc(512 * 2 ** 20, 'test block')); } catch (e) { err = (e as BitnetError).code; break; }
    }
    expect(err).toBe('OUT_OF_MEMORY');
    expect(blocks.length).toBeGreaterThanOrEqual(6);
    for (const b of blocks) rt.free(b);
    const m = TernaryMatrix.fromTernary(Int8Array.from([1, -1]), 1, 2, 1, { runtime: rt });
    expect(Array.from(m.gemv(Float32Array.from([3, 1])))).toEqual(Array.from(refGemm(Int8Array.from([1, -1]), 1, 2, 1, Float32Array.from([3, 1]), 1)));
  });
});

describe('linear heap (bindings/heap.ts)', () => {
  it('one block above 1 GiB; freed blocks coalesce and are reused without growing memory', async () => {
    const rt = await createRuntime({ build: 'simd128' });
    const big = rt.alloc(1.25 * 2 ** 30, 'big block');
    const end = rt.exports.memory.buffer.byteLength;
    expect(end - big).toBeGreaterThanOrEqual(1.25 * 2 ** 30);
    expect(end - big).toBeLessThan(1.25 * 2 ** 30 + 2 ** 20); // grown by what was missing, not doubled
    rt.u8[big + 1.25 * 2 ** 30 - 1] = 7;
    rt.free(big);
    const a = rt.alloc(2 ** 29), b = rt.alloc(2 ** 29), c = rt.alloc(2 ** 28, 'c', true);
    expect([a % 16, b % 16, c % 16]).toEqual([0, 0, 0]);
    expect(b).toBe(a + 2 ** 29);
    expect(c + 2 ** 28).toBe(end);         // a temporary comes from the top
    rt.free(a); rt.free(c); rt.free(b);
    expect(rt.alloc(1.25 * 2 ** 30)).toBe(big); // one span again
    expect(rt.exports.memory.buffer.byteLength).toBe(end);
    expect(() => rt.free(big + 16)).toThrow(/not a live block/);
  });

  it('past the limit: OUT_OF_MEMORY naming the limit and what is in use', async () => {
    const rt = await createRuntime({ build: 'simd128' });
    const p = rt.alloc(2 ** 31, 'first');
    let err: BitnetError | undefined;
    try { rt.alloc(2 ** 31, 'second'); } catch (e) { err = e as BitnetError; }
    expect(err?.code).toBe('OUT_OF_MEMORY');
    expect(err?.message).toMatch(/^OUT_OF_MEMORY: second needs 2147483648 bytes \(2048\.0 MiB\); linear memory is limited to wasm32's 4 GiB, 2048\.0 MiB of which are in use/);
    rt.free(p);
    rt.free(rt.alloc(2 ** 31, 'again'));
  });
});

describe('dense baselines', () => {
  it('f32 GEMV matches a float64 reference closely; i8 GEMV equals its exact integer definition', async () => {
    await init();
    const rows = 19, cols = 77;
    const w = randomFloats(rows * cols, 8), x = randomFloats(cols, 9);
    const y = DenseMatrix.fromFloat32(w, rows, cols, 'f32').gemv(x);
    for (let r = 0; r < rows; r++) {
      let s = 0; for (let k = 0; k < cols; k++) s += w[r * cols + k] * x[k];
      expect(Math.abs(y[r] - s)).toBeLessThan(1e-4);
    }
    const yi = DenseMatrix.fromFloat32(w, rows, cols, 'i8').gemv(x);
    const qx = quantizeActivations(x);
    for (let r = 0; r < rows; r++) {
      const qw = quantizeActivations(w.subarray(r * cols, (r + 1) * cols));
      let acc = 0; for (let k = 0; k < cols; k++) acc += qw.q[k] * qx.q[k];
      expect(yi[r]).toBe(Math.fround(Math.fround(acc) * Math.fround(qx.step * qw.step)));
    }
  });
});
