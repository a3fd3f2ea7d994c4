// Timing with tinybench (benchmark.js is archived and compiles code from strings, which workerd
// and strict-CSP pages refuse). Median latency: the machine may be shared, the median moves least.
import { Bench } from 'tinybench';

export interface Timing {
  /** Milliseconds per call (median of the samples). */
  ms: number;
  samples: number;
}

export async function measure(name: string, fn: () => void, timeMs: number): Promise<Timing> {
  const bench = new Bench({ time: timeMs, warmupTime: Math.min(100, timeMs / 2), warmupIterations: 2, iterations: 3 });
  bench.add(name, fn);
  await bench.run();
  const r = bench.tasks[0].result;
  if (!r || r.state !== 'completed') throw new Error(`${name}: ${r?.state} ${r && 'error' in r ? String(r.error) : ''}`);
  return { ms: r.latency.p50 || r.period, samples: r.latency.samplesCount };
}

/** Wall time of one call of `fn`, in milliseconds (for work too long to repeat many times). */
export async function timeOnce<T>(fn: () => T | Promise<T>): Promise<{ ms: number; value: T }> {
  const t0 = performance.now();
  const value = await fn();
  return { ms: performance.now() - t0, value };
}

export const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
