// Timing with tinybench (benchmark.js is archived and compiles code from strings, which workerd
// and strict-CSP pages refuse). Median latency: the machine may be shared, the median moves least.
// Browsers coarsen performance.now() (Chromium 5-100 µs, Firefox up to 1 ms): a sample then
// batches as many calls as make it 100 clock steps long, and the figure is per call.
import { Bench } from 'tinybench';

export interface Timing {
  /** Milliseconds per call (median of the samples). */
  ms: number;
  samples: number;
  /** Calls per sample. */
  batch: number;
}

let resolution: number | undefined;

/** The smallest step of performance.now() here, in ms, measured (Infinity: the clock stands still
 *  while code runs, as in workerd, where nothing can be timed from inside). */
export function clockStep(): number {
  if (resolution !== undefined) return resolution;
  let step = Infinity;
  for (let k = 0; k < 5; k++) {
    const a = performance.now();
    let b = a;
    for (let i = 0; i < 1e7 && b === a; i++) b = performance.now();
    if (b > a) step = Math.min(step, b - a);
  }
  return (resolution = step);
}

/** Calls per sample so that one sample spans at least 100 steps of the clock. */
function batchSize(fn: () => void): number {
  const minMs = clockStep() * 100;
  let batch = 1;
  for (;;) {
    const t0 = performance.now();
    for (let i = 0; i < batch; i++) fn();
    const ms = performance.now() - t0;
    if (ms >= minMs || batch >= 1 << 20) return batch;
    batch *= ms > 0 ? Math.min(16, Math.max(2, Math.ceil(minMs / ms))) : 16;
  }
}

export async function measure(name: string, fn: () => void, timeMs: number): Promise<Timing> {
  if (!Number.isFinite(clockStep())) throw new Error(`${name}: the clock does not advance while code runs here, nothing can be timed`);
  const batch = batchSize(fn);
  const bench = new Bench({ time: timeMs, warmupTime: Math.min(100, timeMs / 2), warmupIterations: 2, iterations: 3 });
  bench.add(name, batch === 1 ? fn : () => { for (let i = 0; i < batch; i++) fn(); });
  await bench.run();
  const r = bench.tasks[0].result;
  if (!r || r.state !== 'completed') throw new Error(`${name}: ${r?.state} ${r && 'error' in r ? String(r.error) : ''}`);
  return { ms: (r.latency.p50 || r.period) / batch, samples: r.latency.samplesCount, batch };
}

/** Wall time of one call of `fn`, in milliseconds (for work too long to repeat many times). */
export async function timeOnce<T>(fn: () => T | Promise<T>): Promise<{ ms: number; value: T }> {
  const t0 = performance.now();
  const value = await fn();
  return { ms: performance.now() - t0, value };
}

export const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
