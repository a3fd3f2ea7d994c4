// Threads: a runtime with workers on a shared memory (the -mt build) gives the bits of one thread
// with its own memory, for 1, 2, 3 and 4 threads (more than this machine's cores), every kernel,
// GEMV and GEMM, and the decoder's logits and sampled tokens. Node 20 checks simd128; scripts/test.mjs
// runs this file again under Node 24 for relaxed. (Speed is bench/decode.mjs's business.)
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build as esbuild } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { WasmRuntime } from '../bindings/runtime.js';
import { FUSED, POOL } from '../bindings/abi.js';
import { makeModel } from '../src/synth/make-model.js';
import { createRuntime, KERNEL_IDS, KERNEL_NAMES, loadModel, TernaryMatrix, type BuildName, type KernelName } from '../src/index.js';

const THREADS = [1, 2, 3, 4];
const build: BuildName = process.env.BITNET_TEST_BUILD === 'relaxed' ? 'relaxed' : 'simd128';
let solo: WasmRuntime;
let pooled: WasmRuntime;
let bytes: Uint8Array;

beforeAll(async () => {
  solo = await createRuntime({ build });
  pooled = await createRuntime({ build, threads: 4 });
  bytes = await makeModel({ preset: 'tiny', ternaryType: 'TQ2_0', tokenizer: 'bpe', seed: 5 });
}, 120_000);
afterAll(() => pooled?.closeThreads());

const kernels = (rt: WasmRuntime) => KERNEL_NAMES.filter((k) => rt.exports.kernel_available(KERNEL_IDS[k]) === 1) as KernelName[];
const bitsOf = (f: Float32Array) => Array.from(new Uint32Array(f.buffer.slice(f.byteOffset, f.byteOffset + f.byteLength)));

function trits(rows: number, cols: number, seed: number): Int8Array {
  const t = new Int8Array(rows * cols);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < t.length; i++) { s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0; t[i] = (s % 3) - 1; }
  return t;
}

/** Fills free memory with garbage: a buffer a thread leaves unwritten then cannot hold the value
 *  the previous model (same prompt) left there. */
function scribble(rt: WasmRuntime): void {
  const n = 48 << 20, p = rt.alloc(n, 'scribble');
  rt.u8.fill(0xa5, p, p + n);
  rt.free(p);
}

describe(`threads (${build} build)`, () => {
  it('the threaded runtime has a shared memory and 4 threads; the solo one neither', () => {
    expect([pooled.shared, pooled.threads]).toEqual([true, 4]);
    expect([solo.shared, solo.threads]).toEqual([false, 1]);
  });

  it('the workers do take part (pieces of a GEMM run off the calling thread), and none with threads: 1', () => {
    const rows = 2048, cols = 2560;
    const m = TernaryMatrix.fromTernary(trits(rows, cols, 9), rows, cols, 1, { runtime: pooled });
    const x = Float32Array.from({ length: 8 * cols }, (_, i) => Math.cos(i));
    try {
      pooled.defaultThreads = 1;
      const before = pooled.workerPieces;
      for (let i = 0; i < 5; i++) m.gemm(x, 8);
      expect(pooled.workerPieces).toBe(before);
      pooled.defaultThreads = 4;
      // A loaded machine may leave a worker asleep for a call or two, never for hundreds.
      for (let i = 0; i < 400 && pooled.workerPieces === before; i++) m.gemm(x, 8);
      expect(pooled.workerPieces).toBeGreaterThan(before);
    } finally { m.dispose(); }
  });

  // Shapes: rows not a multiple of the row block, fewer row blocks than threads (a thread gets no
  // rows), below the size that is worth a hand-off (runs on the caller), and the large preset's FFN.
  const shapes: [number, number][] = [[1000, 700], [40, 2600], [64, 96], [6912, 256]];
  it('every kernel: GEMV and GEMM (n = 2, 3, 8) bits equal one thread, for 1-4 threads', () => {
    for (const kernel of kernels(solo)) {
      for (const [rows, cols] of shapes) {
        const t = trits(rows, cols, rows + cols);
        const ref = TernaryMatrix.fromTernary(t, rows, cols, 0.75, { kernel, runtime: solo });
        const m = TernaryMatrix.fromTernary(t, rows, cols, 0.75, { kernel, runtime: pooled });
        try {
          for (const n of [1, 2, 3, 8]) {
            for (const threads of THREADS) {
              // Other inputs for every call: a row left unwritten cannot show the last call's value.
              const x = Float32Array.from({ length: n * cols }, (_, i) => Math.sin(i * 0.37 + threads + n) * (1 + (i % 7)));
              pooled.defaultThreads = threads;
              expect(bitsOf(m.gemm(x, n)), `${kernel} ${rows}x${cols} n=${n} threads=${threads}`).toEqual(bitsOf(ref.gemm(x, n)));
            }
          }
        } finally { ref.dispose(); m.dispose(); pooled.defaultThreads = 4; }
      }
    }
  });

  // Fused jobs (ternary_matmul_fused: a layer's Q, K, V or gate, up): matrices that share their
  // input, laid end to end; rows not a multiple of the row block (a piece then spans two matrices'
  // blocks), below the hand-off size, and the large preset's FFN pair.
  const sets: { cols: number; rows: number[] }[] = [
    { cols: 700, rows: [1000, 40, 72] }, { cols: 2600, rows: [40, 20, 20] }, { cols: 96, rows: [64, 16, 16] }, { cols: 256, rows: [6912, 6912] },
  ];
  it('every kernel: a fused job gives each matrix the bits of its own product on one thread (n = 1, 2, 3, 8; 1-4 threads)', () => {
    const e = pooled.exports;
    for (const kernel of kernels(solo)) {
      const layout = e.kernel_layout(KERNEL_IDS[kernel]);
      for (const { cols, rows } of sets) {
        const ts = rows.map((r, m) => trits(r, cols, r * 31 + cols + m));
        const refs = ts.map((t, m) => TernaryMatrix.fromTernary(t, rows[m], cols, 0.5 + m, { kernel, runtime: solo }));
        // The same matrices packed in the pooled runtime's memory.
        const packed = ts.map((t, m) => {
          const tp = pooled.alloc(t.length, 'trits'), ptr = pooled.alloc(e.packed_bytes(layout, rows[m], cols), 'packed');
          pooled.i8.set(t, tp);
          e.pack(layout, tp, rows[m], cols, ptr);
          pooled.free(tp);
          return ptr;
        });
        try {
          for (const n of [1, 2, 3, 8]) {
            for (const threads of THREADS) {
              const x = Float32Array.from({ length: n * cols }, (_, i) => Math.cos(i * 0.29 + threads + n) * (1 + (i % 5)));
              const want = refs.map((r) => bitsOf(r.gemm(x, n)));
              const job = pooled.alloc(FUSED.WORDS * 4, 'job'), xp = pooled.alloc(x.length * 4, 'x');
              const outs = rows.map((r) => pooled.alloc(n * r * 4, 'out'));
              pooled.f32.set(x, xp >> 2);
              const w = (k: number, v: number) => { pooled.i32[(job >> 2) + k] = v; };
              w(FUSED.KERNEL, KERNEL_IDS[kernel]); w(FUSED.COLS, cols); w(FUSED.N, n); w(FUSED.X, xp); w(FUSED.COUNT, rows.length);
              rows.forEach((r, m) => {
                const at = FUSED.MATS + m * FUSED.M_WORDS;
                w(at + FUSED.M_W, packed[m]); w(at + FUSED.M_ROWS, r); w(at + FUSED.M_OUT, outs[m]);
                pooled.f32[(job >> 2) + at + FUSED.M_SCALE] = 0.5 + m;
                pooled.f32.fill(NaN, outs[m] >> 2, (outs[m] >> 2) + n * r); // an unwritten row shows
              });
              const scratch = pooled.alloc(e.matmul_fused_scratch_bytes(job), 'scratch');
              w(FUSED.SCRATCH, scratch);
              try {
                pooled.useThreads(threads);
                if (n > 1) pooled.workerScratch(e.matmul_worker_bytes(KERNEL_IDS[kernel], cols));
                expect(e.ternary_matmul_fused(job)).toBe(0);
                pooled.checkThreads();
                rows.forEach((r, m) => expect(bitsOf(pooled.f32.slice(outs[m] >> 2, (outs[m] >> 2) + n * r)),
                  `${kernel} ${rows.join('+')}x${cols} matrix ${m} n=${n} threads=${threads}`).toEqual(want[m]));
              } finally { for (const p of [job, xp, scratch, ...outs]) pooled.free(p); }
            }
          }
        } finally { refs.forEach((r) => r.dispose()); packed.forEach((p) => pooled.free(p)); }
      }
    }
  });

  it('a fused job: a non-finite activation row j is -1 - j, a count outside 1..FUSED.MAX is -1 - n; the workers run its pieces', () => {
    const e = pooled.exports, cols = 512, rows = [1024, 256], n = 4;
    const layout = e.kernel_layout(KERNEL_IDS[kernels(solo)[0]]);
    const t = trits(1024, cols, 3), tp = pooled.alloc(t.length, 'trits');
    pooled.i8.set(t, tp);
    const ptr = pooled.alloc(e.packed_bytes(layout, 1024, cols), 'packed');
    e.pack(layout, tp, 1024, cols, ptr);
    const job = pooled.alloc(FUSED.WORDS * 4, 'job'), xp = pooled.alloc(n * cols * 4, 'x'), out = pooled.alloc(n * 1024 * 4 * 2, 'out');
    const w = (k: number, v: number) => { pooled.i32[(job >> 2) + k] = v; };
    w(FUSED.KERNEL, KERNEL_IDS[kernels(solo)[0]]); w(FUSED.COLS, cols); w(FUSED.N, n); w(FUSED.X, xp); w(FUSED.COUNT, 2);
    rows.forEach((r, m) => { const at = FUSED.MATS + m * FUSED.M_WORDS; w(at + FUSED.M_W, ptr); w(at + FUSED.M_ROWS, r); w(at + FUSED.M_OUT, out + m * n * 1024 * 4); });
    const scratch = pooled.alloc(e.matmul_fused_scratch_bytes(job), 'scratch');
    w(FUSED.SCRATCH, scratch);
    try {
      pooled.useThreads(4);
      pooled.workerScratch(e.matmul_worker_bytes(KERNEL_IDS[kernels(solo)[0]], cols));
      pooled.f32.fill(0.25, xp >> 2, (xp >> 2) + n * cols);
      const before = pooled.workerPiecesOf(POOL.OP_MATMUL_FUSED);
      expect(e.ternary_matmul_fused(job)).toBe(0);
      for (let i = 0; i < 400 && pooled.workerPiecesOf(POOL.OP_MATMUL_FUSED) === before; i++) e.ternary_matmul_fused(job);
      expect(pooled.workerPiecesOf(POOL.OP_MATMUL_FUSED)).toBeGreaterThan(before);
      pooled.f32[(xp >> 2) + 2 * cols + 7] = Infinity;
      expect(e.ternary_matmul_fused(job)).toBe(-1 - 2);
      for (const count of [0, FUSED.MAX + 1]) { w(FUSED.COUNT, count); expect(e.ternary_matmul_fused(job), `count ${count}`).toBe(-1 - n); }
    } finally { for (const p of [tp, ptr, job, xp, out, scratch]) pooled.free(p); pooled.useThreads(pooled.defaultThreads); }
  });

  it("the decoder's logits and 64 sampled tokens equal one thread's, for 1-4 threads and every kernel", async () => {
    const prompt = 'The jury said that the city had been';
    for (const kernel of kernels(solo)) {
      const run = async (runtime: WasmRuntime, threads?: number) => {
        scribble(runtime);
        const m = await loadModel(bytes, { runtime, kernel, threads, batchSize: 3 });
        try {
          expect(m.threads).toBe(threads ?? 1);
          const ids = m.tokenize(prompt);
          return { logits: bitsOf(m.logits(ids)), tokens: (await m.generate(prompt, { maxTokens: 64, temperature: 0.9, seed: 11 })).tokens };
        } finally { m.dispose(); }
      };
      const want = await run(solo);
      expect(want.tokens.length).toBe(64);
      for (const threads of THREADS) expect(await run(pooled, threads), `${kernel} threads=${threads}`).toEqual(want);
    }
  });

  it("threads 'auto': the load times which jobs go to the workers (a cut at one of a step's job sizes), caches it, explicit threads keep the default split, and every split gives one thread's bits", async () => {
    const prompt = 'The jury said that the city had been';
    type Poke = { _decodeChoice: { minWork: number } };
    const out = async (m: Awaited<ReturnType<typeof loadModel>>) => {
      const ids = m.tokenize(prompt);
      return { logits: bitsOf(m.logits(ids)), tokens: (await m.generate(prompt, { maxTokens: 24, temperature: 0.9, seed: 11 })).tokens };
    };
    const s = await loadModel(bytes, { runtime: solo, batchSize: 3 });
    const want = await out(s);
    s.dispose();
    const spy = vi.spyOn(pooled, 'useThreads');
    const cut = () => spy.mock.calls.filter(([, minWork]) => (minWork ?? 0) > 0).length; // calls that set a cut: only timing does
    const m = await loadModel(bytes, { runtime: pooled, threads: 'auto', batchSize: 3 });
    const later: Awaited<ReturnType<typeof loadModel>>[] = [];
    try {
      const c = m.decodeChoice, h = m.config;
      // A step's jobs: the layer's seven products and the output head (tied: the embedding).
      const q = h.nEmbd * h.nEmbd, kv = h.nHeadKv * h.headDim * h.nEmbd, ff = h.nFf * h.nEmbd;
      // each matrix, the fused jobs (Q+K+V, gate+up) and the output head
      const sizes = [q, kv, ff, q + 2 * kv, 2 * ff, h.nVocab * h.nEmbd];
      const allowed = [0, ...[...new Set(sizes)].filter((w) => w >= POOL.MIN_WORK_DEFAULT).sort((a, b) => a - b).map((w) => w + 1)];
      expect(allowed.length).toBeGreaterThan(2); // the tiny preset has jobs to cut at
      expect(allowed).toContain(c.minWork);
      expect(c.threads).toBe(m.threads);
      if (m.threads > 1 && c.timed === 'steps') {
        // Tried: the two ends and as many cuts between as the budget allowed, in order; the pick among them.
        const tried = c.minWorkMs.map((x) => x.minWork);
        expect([tried[0], tried[tried.length - 1]]).toEqual([0, allowed[allowed.length - 1]]);
        expect(tried.every((w, i) => allowed.includes(w) && (i === 0 || w > tried[i - 1]))).toBe(true);
        expect(tried).toContain(c.minWork);
        expect(cut()).toBeGreaterThan(0);
      } else {
        // A 1-core machine (nothing to split), or steps too long to time here: the default split.
        expect([c.timed, c.minWork, c.minWorkMs]).toEqual(['default', 0, []]);
        expect(c.why).toMatch(m.threads > 1 ? /too long to time/ : /one thread/);
      }
      // Cached per runtime: the next 'auto' load of the same shapes times nothing and gets the same.
      spy.mockClear();
      later.push(await loadModel(bytes, { runtime: pooled, threads: 'auto', batchSize: 3 }));
      expect(cut()).toBe(0);
      expect(later[0].decodeChoice.minWork).toBe(c.minWork);
      expect(later[0].decodeChoice.minWorkMs).toEqual(c.minWorkMs);
      // An explicit count wins: the default split, nothing timed.
      later.push(await loadModel(bytes, { runtime: pooled, threads: 2, batchSize: 3 }));
      expect(cut()).toBe(0);
      expect([later[1].threads, later[1].decodeChoice.minWork, later[1].decodeChoice.timed]).toEqual([2, 0, 'default']);
      // The choice's bits: every cut it could have made gives one thread's logits and tokens.
      for (const w of allowed) {
        (later[1] as unknown as Poke)._decodeChoice.minWork = w;
        expect(await out(later[1]), `minWork ${w}`).toEqual(want);
      }
      // The pool reads the cut: above every job of a decode step, the workers run none of it.
      const top = allowed[allowed.length - 1];
      (later[1] as unknown as Poke)._decodeChoice.minWork = top;
      const before = pooled.workerPieces;
      for (let i = 0; i < 20; i++) later[1].logits([5]);
      expect(pooled.workerPieces).toBe(before);
      (later[1] as unknown as Poke)._decodeChoice.minWork = 0;
      for (let i = 0; i < 400 && pooled.workerPieces === before; i++) later[1].logits([5]);
      expect(pooled.workerPieces).toBeGreaterThan(before);
    } finally {
      spy.mockRestore();
      m.dispose();
      for (const l of later) l.dispose();
    }
  });

  it("a model's dispose gives back all it took on a threaded runtime, the workers' scratch too (held by live models, freed by the last)", async () => {
    const rt = await createRuntime({ build, threads: 2 });
    const scratch = () => rt.i32[((rt as unknown as { ctrl: number }).ctrl >> 2) + POOL.WSCRATCH];
    try {
      const before = rt.heap.allocated;
      const a = await loadModel(bytes, { runtime: rt, threads: 2, contextLength: 256 });
      const b = await loadModel(bytes, { runtime: rt, threads: 2, contextLength: 1024 }); // (a larger scratch while a holds one)
      a.dispose();
      expect(scratch()).not.toBe(0); // b still uses it
      b.dispose();
      expect(scratch()).toBe(0);
      // Left behind above the freed blocks, it would cut them off from the rest of memory.
      expect(rt.heap.allocated).toBe(before);
    } finally { rt.closeThreads(); }
  });

  it('an int8 output head (untied, 20003 x 512: past the 32 MiB of f32): the same logits and tokens for 1-4 threads as one', async () => {
    const wide = await makeModel({ preset: 'tiny', ternaryType: 'TQ2_0', tokenizer: 'bpe', seed: 6,
      config: { nEmbd: 512, nLayer: 1, nFf: 1024, nHead: 8, nHeadKv: 2, nVocab: 20003, tiedEmbeddings: false } });
    const run = async (runtime: WasmRuntime, threads?: number) => {
      scribble(runtime);
      const m = await loadModel(wide, { runtime, threads });
      try {
        const ids = m.tokenize('It was the best of times');
        return { logits: bitsOf(m.logits(ids)), tokens: (await m.generate('It was', { maxTokens: 16, temperature: 0.9, seed: 2 })).tokens };
      } finally { m.dispose(); }
    };
    const want = await run(solo);
    expect(want.logits.length).toBe(20003);
    for (const threads of THREADS) expect(await run(pooled, threads), `threads=${threads}`).toEqual(want);
  });

  it('attention split across threads (GQA 8/2, f32 and f16 cache, prefill batches and decode at 300+ positions): the same logits and tokens for 1-4 threads as one', async () => {
    // Long enough that every layer's attention is worth a hand-off (from 64 positions on); batches
    // of 5 and 20 tokens and single decode steps cut it every way forward.ts does: whole tokens,
    // ranges of kv groups, ranges of heads (for 2, 3, 4 threads).
    const gqa = await makeModel({ preset: 'tiny', ternaryType: 'TQ2_0', tokenizer: 'bpe', seed: 8,
      config: { nEmbd: 512, nLayer: 2, nFf: 1024, nHead: 8, nHeadKv: 2, nCtx: 1024 } });
    const ids = Array.from({ length: 330 }, (_, i) => 1 + ((i * 7919) % 479)); // (the vocabulary has 483 tokens)
    for (const cacheType of ['f32', 'f16'] as const) {
      for (const batchSize of [5, 20]) {
        const run = async (runtime: WasmRuntime, threads?: number) => {
          scribble(runtime);
          const m = await loadModel(gqa, { runtime, threads, batchSize, cacheType });
          try {
            return { logits: bitsOf(m.logits(ids)), tokens: (await m.generate(ids.slice(0, 300), { maxTokens: 40, temperature: 0.9, seed: 7 })).tokens };
          } finally { m.dispose(); }
        };
        const want = await run(solo);
        expect(want.tokens.length).toBe(40);
        for (const threads of THREADS) {
          const before = pooled.workerPiecesOf(POOL.OP_ATTENTION);
          expect(await run(pooled, threads), `${cacheType} batch ${batchSize} threads=${threads}`).toEqual(want);
          // The workers ran attention pieces (none with one thread).
          if (threads === 1) expect(pooled.workerPiecesOf(POOL.OP_ATTENTION)).toBe(before);
          else expect(pooled.workerPiecesOf(POOL.OP_ATTENTION), `${cacheType} batch ${batchSize} threads=${threads}`).toBeGreaterThan(before);
        }
      }
    }
  }, 120_000);

  it("a prefill batch's row-wise steps on the pool (rmsnorm rows, the FFN's silu / relu^2 gate * up, the GEMMs' quantization): the same logits and tokens for 1-4 threads as one", async () => {
    // Wide enough that each of those steps is worth a hand-off at batch 32 (and silu's at one token too).
    for (const activation of ['silu', 'relu2'] as const) {
      const wide = await makeModel({ preset: 'tiny', ternaryType: 'TQ2_0', tokenizer: 'bpe', seed: 9,
        config: { nEmbd: 1024, nLayer: 2, nFf: 3072, nHead: 8, nHeadKv: 2, activation, writeActivationKey: true } });
      const ids = Array.from({ length: 70 }, (_, i) => 1 + ((i * 7919) % 479));
      const run = async (runtime: WasmRuntime, threads?: number) => {
        scribble(runtime);
        const m = await loadModel(wide, { runtime, threads, batchSize: 32 });
        try {
          expect(m.config.activation).toBe(activation);
          return { logits: bitsOf(m.logits(ids)), tokens: (await m.generate(ids.slice(0, 40), { maxTokens: 8, temperature: 0.9, seed: 5 })).tokens };
        } finally { m.dispose(); }
      };
      const want = await run(solo);
      const KINDS = [POOL.OP_ROWS, POOL.OP_QUANTIZE, POOL.OP_MATMUL_FUSED];
      for (const threads of THREADS) {
        const before = KINDS.map((op) => pooled.workerPiecesOf(op));
        expect(await run(pooled, threads), `${activation} threads=${threads}`).toEqual(want);
        // The workers ran pieces of each kind (none with one thread). A worker the OS has not woken
        // yet may leave every piece of a short job to the caller: run again (same bits) until each
        // kind had one, as a loaded machine may need.
        for (let i = 0; threads > 1 && i < 20 && KINDS.some((op, k) => pooled.workerPiecesOf(op) === before[k]); i++) {
          expect(await run(pooled, threads), `${activation} threads=${threads} (again)`).toEqual(want);
        }
        const after = KINDS.map((op) => pooled.workerPiecesOf(op));
        after.forEach((a, k) => (threads === 1 ? expect(a).toBe(before[k]) : expect(a, `${activation} threads=${threads} kind ${k}`).toBeGreaterThan(before[k])));
      }
    }
  }, 120_000);

  it('bad thread counts are BAD_ARGUMENT', async () => {
    for (const threads of [0, -1, 1.5, 65, 'many']) {
      await expect(createRuntime({ build, threads: threads as number }), String(threads)).rejects.toMatchObject({ code: 'BAD_ARGUMENT' });
      await expect(loadModel(bytes, { runtime: solo, threads: threads as number }), String(threads)).rejects.toMatchObject({ code: 'BAD_ARGUMENT' });
    }
  });
});

describe('threads: lifetime', () => {
  // In build/, so that the bundle finds ../build/*.wasm as from src/.
  const ROOT = fileURLToPath(new URL('..', import.meta.url));
  const CHILD = join(ROOT, 'build', `threads-child-${process.pid}.mjs`);
  beforeAll(async () => {
    await esbuild({ entryPoints: [join(ROOT, 'test/helpers/threads-child.ts')], bundle: true, platform: 'node', format: 'esm', packages: 'external', outfile: CHILD, logLevel: 'silent' });
  });
  afterAll(() => rmSync(CHILD, { force: true }));

  for (const how of ['dispose', 'forget']) {
    it(`a process that ran 2 threads exits by itself (${how === 'dispose' ? 'after dispose()' : 'without dispose(): unref\'d workers'})`, () => {
      const t0 = Date.now();
      const r = spawnSync(process.execPath, [CHILD, how], { encoding: 'utf8', cwd: ROOT, timeout: 60_000 });
      expect(r.signal, `still running after 60 s: ${r.stderr}`).toBe(null);
      expect(r.status, r.stderr).toBe(0);
      const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
      expect(lines[0]).toEqual({ threads: 2, modelThreads: 2, tokens: 8 });
      if (how === 'dispose') expect(lines[1]).toEqual({ afterDispose: 'NOT_INITIALIZED' });
      expect(Date.now() - t0).toBeLessThan(60_000);
    });
  }

  it('aborting a generation on 2 threads leaves the model usable: the next call equals a fresh solo call', async () => {
    const prompt = 'Once upon a time';
    const fresh = await loadModel(bytes, { runtime: solo });
    const want = await fresh.generate(prompt, { maxTokens: 24, temperature: 0.7, seed: 3 });
    fresh.dispose();
    const m = await loadModel(bytes, { runtime: pooled, threads: 2 });
    try {
      const ac = new AbortController();
      let seen = 0;
      const stream = m.stream('A long story about the sea', { maxTokens: 200, temperature: 0.7, seed: 4, signal: ac.signal });
      await expect((async () => { for await (const _ of stream) if (++seen === 5) ac.abort(); })()).rejects.toThrow();
      expect(seen).toBe(5);
      const again = await m.generate(prompt, { maxTokens: 24, temperature: 0.7, seed: 3 });
      expect(again.tokens).toEqual(want.tokens);
      expect(again.text).toBe(want.text);
    } finally { m.dispose(); }
  });
});
