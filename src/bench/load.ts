// Load suite: an in-memory GGUF to ready-to-run weights, per kernel layout (each in a fresh module
// instance), and the wasm memory it ends with.
import { KERNEL_IDS, KERNEL_NAMES } from '../../bindings/exports.js';
import { createRuntime, type BuildName } from '../init.js';
import { loadModel } from '../model/model.js';
import { mean, timeOnce } from './measure.js';
import type { BenchResult } from './types.js';

export async function loadSuite(o: { runtime: string; bytes: Uint8Array; modelName: string; builds: BuildName[]; repetitions: number }): Promise<BenchResult[]> {
  const results: BenchResult[] = [];
  for (const build of o.builds) {
    const probe = await createRuntime({ build });
    for (const kernel of KERNEL_NAMES.filter((k) => k !== 'scalar' && probe.exports.kernel_available(KERNEL_IDS[k]) === 1)) {
      const ms: number[] = [];
      let memory = 0;
      for (let r = 0; r < o.repetitions; r++) {
        const rt = await createRuntime({ build });
        const t = await timeOnce(() => loadModel(o.bytes, { runtime: rt, kernel, contextLength: 256 }));
        ms.push(t.ms);
        memory = rt.exports.memory.buffer.byteLength;
        t.value.dispose();
      }
      const m = mean(ms);
      results.push({
        suite: 'load', engine: 'bitnet-wasm', runtime: o.runtime, build, kernel, threads: 1, test: 'load',
        params: { model: o.modelName, fileMB: +(o.bytes.length / 1e6).toFixed(1) },
        metrics: { ms: m, mbPerSec: o.bytes.length / 1e3 / m, residentMB: memory / 1e6 }, repetitions: ms.length,
      });
    }
  }
  return results;
}
