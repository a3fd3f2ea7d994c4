// Attention suite: one decode step of one layer over nPos cached positions with 2B4T's heads
// (20 query / 5 KV heads, head_dim 128), f32 and f16 caches. GFLOP/s counts QK and PV (4*H*nPos*D).
import { createRuntime, type BuildName } from '../init.js';
import { measure } from './measure.js';
import type { BenchResult } from './types.js';

/** The attention exports of the wasm (used by the forward pass; not in the typed kernel table). */
interface AttentionExports {
  attention(q: number, k: number, v: number, nHead: number, nKv: number, hd: number, nPos: number, out: number, scratch: number): void;
  attention_f16(q: number, k: number, v: number, nHead: number, nKv: number, hd: number, nPos: number, out: number, scratch: number): void;
  kv_store_f16(src: number, n: number, dst: number): void;
}

export async function attentionSuite(o: { runtime: string; builds: BuildName[]; positions: number[]; timeMs: number }): Promise<BenchResult[]> {
  const nHead = 20, nKv = 5, hd = 128;
  const results: BenchResult[] = [];
  for (const build of o.builds) {
    for (const nPos of o.positions) {
      const rt = await createRuntime({ build });
      const e = rt.exports as unknown as AttentionExports;
      const n = nPos * nKv * hd;
      const q = rt.alloc(nHead * hd * 4), k = rt.alloc(n * 4), v = rt.alloc(n * 4), out = rt.alloc(nHead * hd * 4);
      const scratch = rt.alloc(rt.exports.attention_scratch_bytes(nHead, nKv, hd, nPos));
      for (let i = 0; i < nHead * hd; i++) rt.f32[(q >> 2) + i] = Math.sin(i) * 0.1;
      for (let i = 0; i < n; i++) { rt.f32[(k >> 2) + i] = Math.cos(i * 0.7) * 0.1; rt.f32[(v >> 2) + i] = Math.sin(i * 0.3); }
      const k16 = rt.alloc(n * 2), v16 = rt.alloc(n * 2);
      e.kv_store_f16(k, n, k16); e.kv_store_f16(v, n, v16);
      const variants: [string, () => void][] = [
        ['f32', () => e.attention(q, k, v, nHead, nKv, hd, nPos, out, scratch)],
        ['f16', () => e.attention_f16(q, k16, v16, nHead, nKv, hd, nPos, out, scratch)],
      ];
      for (const [cache, fn] of variants) {
        const t = await measure(`attention ${cache} ${nPos}`, fn, o.timeMs);
        results.push({
          suite: 'attention', engine: 'bitnet-wasm', runtime: o.runtime, build, kernel: `attention-${cache}`, threads: 1,
          test: `attention ${cache} ${nPos}`, params: { cache, nPos, heads: `${nHead}/${nKv}x${hd}` },
          metrics: { ms: t.ms, gflops: 4 * nHead * nPos * hd / t.ms / 1e6 }, repetitions: t.samples,
        });
      }
    }
  }
  return results;
}
