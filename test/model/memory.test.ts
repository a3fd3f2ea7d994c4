// Model memory: a model past 1 GiB loads and generates (linear memory is the JS heap's, with no
// block-size limit), and what loading grows linear memory by agrees with `info`'s estimate.
import { beforeAll, describe, expect, it } from 'vitest';
import type { WasmRuntime } from '../../bindings/runtime.js';
import { makeModel, modelChunks, planModel } from '../../src/synth/make-model.js';
import { parseGGUFHeader } from '../../src/gguf/index.js';
import { inspectHeader } from '../../src/model/inspect.js';
import { createRuntime } from '../../src/index.js';
import { loadModel } from '../../src/model/model.js';

const PROMPT = 'Once upon a time, in a land far away,';
let tiny: Uint8Array;
const runtimes: WasmRuntime[] = [];

beforeAll(async () => {
  tiny = await makeModel({ preset: 'tiny', ternaryType: 'TQ2_0', tokenizer: 'bpe', seed: 11 });
  for (const build of ['simd128', 'relaxed'] as const) {
    try { runtimes.push(await createRuntime({ build })); } catch { /* relaxed: checked in the Node 24 pass */ }
  }
}, 60_000);

describe('model memory', () => {
  it('a model whose memory passes 1 GiB (a small model at a long context) loads, generates, and its memory is reused by the next load', async () => {
    const rt = await createRuntime({ build: 'simd128' });
    const ctx = 300_000; // tiny: 4 KiB of KV cache per position -> 1.14 GiB
    const m = await loadModel(tiny, { runtime: rt, contextLength: ctx });
    expect(m.byteLength).toBeGreaterThan(2 ** 30);
    const r = await m.generate(PROMPT, { maxTokens: 8, temperature: 0 });
    const grown = rt.exports.memory.buffer.byteLength;
    m.dispose();
    const short = await loadModel(tiny, { runtime: rt, contextLength: 64 });
    expect((await short.generate(PROMPT, { maxTokens: 8, temperature: 0 })).tokens).toEqual(r.tokens); // same bits at any context
    short.dispose();
    (await loadModel(tiny, { runtime: rt, contextLength: ctx })).dispose();
    expect(rt.exports.memory.buffer.byteLength).toBe(grown);
  });

  it('the default context (trained, up to 4096) shrinks to what fits, with a warning; an explicit one is an error naming what fits', async () => {
    // 2B4T blocks x 120: 2 GB of weights, and 2.5 GB of KV cache at 4096. Only the header exists.
    const plan = await planModel({ preset: '2b4t', config: { nLayer: 120 } });
    const header = modelChunks(plan).next().value as Uint8Array;
    const source = () => ({ size: plan.fileSize, async read(offset: number, length: number) {
      const out = new Uint8Array(Math.max(0, Math.min(length, plan.fileSize - offset)));
      if (offset < header.length) out.set(header.subarray(offset, Math.min(header.length, offset + length)));
      return out;
    } });
    const rt = await createRuntime({ build: 'simd128' });
    const err = await loadModel(source(), { runtime: rt, contextLength: 4096 }).catch((e) => e);
    expect(err.code).toBe('OUT_OF_MEMORY');
    const fit = Number(/It fits with contextLength <= (\d+)/.exec(err.message)?.[1]);
    expect(fit).toBeGreaterThan(2048);
    expect(fit).toBeLessThan(4096);
    let warning = '';
    // Stop at the warning (before 4 GiB get reserved and the zeros read).
    await expect(loadModel(source(), { runtime: rt, onWarning: (w) => { warning = w; throw new Error('stop here'); } })).rejects.toThrow('stop here');
    expect(warning).toMatch(new RegExp(`^the default contextLength 4096 does not fit wasm memory with this model \\(.*\\); using ${fit - (fit % 256)}$`));
  });

  it("threads: each worker's scratch (attention's score rows over the context) is in info's estimate and in what loading grows memory by", async () => {
    // 16 query heads over 1 kv head of 32: a worker's score rows (16 x 4 B per position) are as
    // large as the whole KV cache (2 x 32 x 4 B per position), so leaving them out would show.
    const file = await makeModel({ preset: 'tiny', ternaryType: 'TQ2_0', seed: 9, config: { nEmbd: 512, nLayer: 1, nFf: 512, nHead: 16, nHeadKv: 1 } });
    const header = await parseGGUFHeader(file), ctx = 60_000;
    const rt = await createRuntime({ build: 'simd128', threads: 3 });
    try {
      const before = rt.exports.memory.buffer.byteLength;
      rt.heap.resetPeak();
      const m = await loadModel(file, { runtime: rt, contextLength: ctx, threads: 3, onWarning: () => {} });
      await m.generate(PROMPT, { maxTokens: 2 });
      const grown = rt.exports.memory.buffer.byteLength - before, peak = rt.heap.peak;
      const est = inspectHeader(header, { contextLength: ctx, kernel: m.kernel, threads: 3 }).memory.simd128;
      const solo = inspectHeader(header, { contextLength: ctx, kernel: m.kernel }).memory.simd128;
      console.log(`threads 3 (ctx ${ctx}): info ${est.total} B (workers ${est.workers} B; 1 thread: ${solo.total} B); memory grew ${grown} B, peak ${peak} B`);
      expect(est.workers).toBe(2 * Math.ceil((4 * (32 * 32 + 16 * 64 + 16 * 32 + 16 * ctx)) / 64) * 64); // (+ the q rows re-laid: 16 x 32)
      const tolerance = 0.05 * est.total;
      expect(Math.abs(grown - est.total)).toBeLessThan(tolerance);
      expect(Math.abs(peak - est.total)).toBeLessThan(tolerance);
      expect(Math.abs(peak - solo.total)).toBeGreaterThan(tolerance); // the workers' part is not noise
      m.dispose();
    } finally { rt.closeThreads(); }
  }, 60_000);

  const cases: [string, () => Promise<Uint8Array>, number][] = [
    ['tiny at its context', async () => tiny, 512],
    ['tiny past 1 GiB', async () => tiny, 300_000],
    ['wider, untied head, int8 embedding, TQ1_0', () => makeModel({ preset: 'tiny', ternaryType: 'TQ1_0', seed: 3,
      config: { nEmbd: 512, nLayer: 6, nFf: 1536, nHead: 8, nHeadKv: 2, nVocab: 20000, tiedEmbeddings: false } }), 2048],
    ['I2_S, Q8_0 embedding', () => makeModel({ preset: 'tiny', ternaryType: 'I2_S', embeddingType: 'Q8_0', seed: 4,
      config: { nEmbd: 768, nLayer: 4, nFf: 2048, nHead: 12, nHeadKv: 4, nVocab: 16000 } }), 4096],
  ];
  for (const [name, make, ctx] of cases) {
    it(`info's estimate is what loading grows linear memory by, within 5% (1 MiB for a few-MB model), on every build: ${name}`, async () => {
      const file = await make();
      const header = await parseGGUFHeader(file);
      expect(runtimes.length).toBeGreaterThan(0);
      for (const rt of runtimes) {
        const fresh = await createRuntime({ build: rt.build });
        const before = fresh.exports.memory.buffer.byteLength;
        fresh.heap.resetPeak(); // (the kernel calibration at createRuntime had its own peak)
        const m = await loadModel(file, { runtime: fresh, contextLength: ctx });
        await m.generate(PROMPT, { maxTokens: 2 }); // (the forward pass allocates nothing more)
        const grown = fresh.exports.memory.buffer.byteLength - before;
        const peak = fresh.heap.peak; // bytes in use at once: the reservation is not simply grown into
        const est = inspectHeader(header, { contextLength: ctx, kernel: m.kernel }).memory[fresh.build];
        const upper = inspectHeader(header, { contextLength: ctx }).memory[fresh.build]; // without knowing the kernel: never less
        expect(upper.total).toBeGreaterThanOrEqual(est.total);
        const pct = (x: number) => `${((x / est.total - 1) * 100).toFixed(2)}%`;
        console.log(`${name} (${fresh.build}, ${m.kernel}, ctx ${ctx}): info ${est.total} B; memory grew ${grown} B (${pct(grown)}), peak in use ${peak} B (${pct(peak)}); model holds ${m.byteLength} B`);
        // Within 5%, or 1 MiB for models of a few MB (the estimate's scratch is approximate).
        const tolerance = Math.max(0.05 * est.total, 2 ** 20);
        expect(Math.abs(grown - est.total)).toBeLessThan(tolerance);
        expect(Math.abs(peak - est.total)).toBeLessThan(tolerance);
        m.dispose();
      }
    }, 60_000);
  }
});
