// Kernel suite: every ternary kernel of every build next to the dense baselines (f32, int8) on the
// projection shapes of BitNet models, GEMV (n = 1) and GEMM (n > 1), hot and streamed.
//   GOPS = 2*M*K*n / time; weight GB/s = matrix bytes / time.
//   hot: the same matrix again and again (its weights stay in cache).
//   streamed: cycles through copies adding up to streamMB (far beyond the caches), so every call
//   reads its weights from memory; bandwidthFraction = weight GB/s / the probe's read GB/s.
import { KERNEL_IDS, KERNEL_NAMES } from '../../bindings/exports.js';
import { DenseMatrix } from '../dense-matrix.js';
import { createRuntime, type BuildName } from '../init.js';
import { TernaryMatrix } from '../ternary-matrix.js';
import { measure, type Timing } from './measure.js';
import type { BenchResult } from './types.js';

/** Rows x columns (out x in) of each model's projections. */
export const MODEL_SHAPES: Record<string, [number, number][]> = {
  '700M': [[1536, 1536], [4096, 1536], [1536, 4096]],
  '2B4T': [[2560, 2560], [640, 2560], [6912, 2560], [2560, 6912]],
  '3B': [[3200, 3200], [8640, 3200], [3200, 8640]],
};

export interface KernelSuiteOptions {
  runtime: string;
  builds: BuildName[];
  models: string[];
  /** Batch sizes: 1 is GEMV, more is GEMM. */
  batches: number[];
  /** Total size of the streamed pool, MB (0: no streamed rows). */
  streamMB: number;
  timeMs: number;
  /** Measures the bandwidth probe again (next to each streamed row) and returns the best read rate so far. */
  probe: () => Promise<number>;
  /** A smaller stand-in for each model's shapes (quick mode). */
  shapesOverride?: [number, number][];
}

function rng(seed: number) {
  let s = seed >>> 0 || 1;
  return () => { s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0; return s / 4294967296; };
}
function trits(n: number, seed: number) {
  const r = rng(seed), t = new Int8Array(n);
  for (let i = 0; i < n; i++) { const u = r(); t[i] = u < 0.3 ? -1 : u < 0.7 ? 0 : 1; }
  return t;
}
function floats(n: number, seed: number) {
  const r = rng(seed), x = new Float32Array(n);
  for (let i = 0; i < n; i++) x[i] = (r() - 0.5) * 4;
  return x;
}

type Mat = TernaryMatrix | DenseMatrix;

export async function kernelSuite(o: KernelSuiteOptions): Promise<{ results: BenchResult[]; notes: string[] }> {
  const results: BenchResult[] = [], notes: string[] = [];
  for (const build of o.builds) {
    const rt = await createRuntime({ build });
    const kernels = KERNEL_NAMES.filter((k) => k !== 'scalar' && rt.exports.kernel_available(KERNEL_IDS[k]) === 1);
    for (const model of o.models) {
      const shapes = o.shapesOverride ?? MODEL_SHAPES[model];
      // Streamed rows for the largest shape of each model: the one decode spends most time in.
      const streamShape = shapes.reduce((a, b) => (a[0] * a[1] >= b[0] * b[1] ? a : b));
      for (const [M, K] of shapes) {
        const t = trits(M * K, M * 31 + K);
        const wf = new Float32Array(M * K);
        for (let i = 0; i < wf.length; i++) wf[i] = t[i] * 0.02;
        const entries: { kernel: string; make: (streaming: boolean) => Mat }[] = [
          ...kernels.map((k) => ({ kernel: k as string, make: (s: boolean) => TernaryMatrix.fromTernary(t, M, K, 0.02, { runtime: rt, kernel: k, streaming: s }) })),
          { kernel: 'dense-f32', make: () => DenseMatrix.fromFloat32(wf, M, K, 'f32', rt) },
          { kernel: 'dense-i8', make: () => DenseMatrix.fromFloat32(wf, M, K, 'i8', rt) },
        ];
        const shapeResults: BenchResult[] = [];
        const row = (kernel: string, n: number, mode: string, m: Mat, { ms, samples, batch }: Timing) => {
          const r: BenchResult = {
            suite: 'kernels', engine: 'bitnet-wasm', runtime: o.runtime, build, kernel, threads: 1,
            test: `${n === 1 ? 'gemv' : `gemm${n}`} ${M}x${K} ${mode}`,
            params: { model, shape: `${M}x${K}`, n, mode, bitsPerWeight: +(m.byteLength * 8 / (M * K)).toFixed(3), callsPerSample: batch },
            metrics: { gops: 2 * M * K * n / ms / 1e6, weightGBs: m.byteLength / ms / 1e6, ms },
            repetitions: samples,
          };
          shapeResults.push(r);
          return r;
        };
        for (const { kernel, make } of entries) {
          const m = make(false);
          try {
            for (const n of o.batches) {
              // The dense baselines have GEMV only (the model's dense path is the head, one row at a time).
              if (n > 1 && !(m instanceof TernaryMatrix)) continue;
              const x = floats(K * n, 7 + n), y = new Float32Array(M * n);
              const fn = n === 1 ? () => { m.gemv(x, y); } : () => { (m as TernaryMatrix).gemm(x, n, y); };
              const tm = await measure(`${kernel} ${n}`, fn, o.timeMs);
              row(kernel, n, 'hot', m, tm);
            }
            if (o.streamMB > 0 && M === streamShape[0] && K === streamShape[1]) {
              const first = m instanceof TernaryMatrix ? make(true) : m; // ternary gets the streaming hint (touch-ahead)
              const copies = Math.max(2, Math.ceil(o.streamMB * 1e6 / m.byteLength));
              const pool: Mat[] = [first];
              try {
                for (let i = 1; i < copies; i++) pool.push(first.clone());
                const x = floats(K, 5), y = new Float32Array(M);
                let i = 0;
                const probeGBs = await o.probe(); // right before: the machine's load changes during a run
                const tm = await measure(`${kernel} streamed`, () => { pool[i].gemv(x, y); i = (i + 1) % copies; }, o.timeMs);
                const r = row(kernel, 1, 'streamed', m, tm);
                r.metrics.bandwidthFraction = r.metrics.weightGBs / probeGBs;
              } finally {
                for (let j = 1; j < pool.length; j++) pool[j].dispose();
                if (first !== m) first.dispose();
              }
            }
          } finally {
            m.dispose();
          }
        }
        // Ratio to f32 GEMV in the same mode, same shape, same build.
        for (const r of shapeResults) {
          const f32 = shapeResults.find((b) => b.kernel === 'dense-f32' && b.params.mode === r.params.mode && b.params.n === 1);
          if (f32) r.metrics.overF32 = r.metrics.gops / f32.metrics.gops;
        }
        results.push(...shapeResults);
      }
    }
  }
  if (o.streamMB > 0 && o.streamMB < 256) notes.push(`streamed pool of ${o.streamMB} MB may fit in cache (quick mode): streamed figures are not memory-bound`);
  return { results, notes };
}
