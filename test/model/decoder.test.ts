// Decoder properties that need no oracle: identical bits across kernels and builds, incremental
// decode == full recompute, seeded sampling, stop strings, typed errors, abort.
import { beforeAll, describe, expect, it, vi } from 'vitest';
import type { WasmRuntime } from '../../bindings/runtime.js';
import { makeModel, modelChunks, planModel } from '../../src/synth/make-model.js';
import { createRuntime, KERNEL_IDS, KERNEL_NAMES, type KernelName } from '../../src/index.js';
import { loadModel, type Model } from '../../src/model/model.js';
import { loadingStagingBytes } from '../../src/model/inspect.js';
import { parseGGUFHeader } from '../../src/gguf/index.js';
import { BitnetError } from '../../src/errors.js';

let bytes: Uint8Array;
const runtimes: { build: string; rt: WasmRuntime }[] = [];

beforeAll(async () => {
  bytes = await makeModel({ preset: 'tiny', ternaryType: 'TQ2_0', tokenizer: 'bpe', seed: 11 });
  for (const build of ['simd128', 'relaxed'] as const) {
    try { runtimes.push({ build, rt: await createRuntime({ build }) }); } catch (e) {
      // Only the engine's lack of relaxed SIMD (Node 20) is expected; that build is checked in the Node 24 pass.
      if (build !== 'relaxed' || (e as { code?: string }).code !== 'UNSUPPORTED_BUILD' || process.env.BITNET_TEST_BUILD === 'relaxed') throw e;
    }
  }
}, 60_000);

const PROMPT = 'Once upon a time, in a land far away,';
const bitsOf = (f: Float32Array) => Array.from(new Uint32Array(f.buffer.slice(f.byteOffset, f.byteOffset + f.byteLength)));

describe('decoder', () => {
  it('every kernel of every build gives the same logits and tokens, bit for bit', async () => {
    let ref: { logits: number[]; tokens: number[] } | null = null;
    for (const { build, rt } of runtimes) {
      for (const kernel of KERNEL_NAMES.filter((k) => rt.exports.kernel_available(KERNEL_IDS[k]) === 1) as KernelName[]) {
        const m = await loadModel(bytes, { runtime: rt, kernel, batchSize: 7 });
        try {
          const ids = m.tokenize(PROMPT);
          const got = { logits: bitsOf(m.logits(ids)), tokens: (await m.generate(PROMPT, { maxTokens: 24, temperature: 0.9, topK: 20, seed: 5 })).tokens };
          if (!ref) ref = got;
          else {
            expect(got.logits, `${build}/${kernel} logits`).toEqual(ref.logits);
            expect(got.tokens, `${build}/${kernel} tokens`).toEqual(ref.tokens);
          }
        } finally { m.dispose(); }
      }
    }
  });

  let m: Model;
  beforeAll(async () => { m = await loadModel(bytes, { contextLength: 64, batchSize: 5 }); });

  it('incremental decode equals a full recompute; prefill batch size does not matter', async () => {
    const r = await m.generate(PROMPT, { maxTokens: 8, temperature: 0 });
    const prompt = m.tokenize(PROMPT);
    const all = [...prompt, ...r.tokens];
    // The greedy choice at each step is the argmax of the full-recompute logits.
    for (let i = prompt.length; i < all.length; i++) {
      const l = m.logits(all.slice(0, i));
      let b = 0; for (let j = 1; j < l.length; j++) if (l[j] > l[b]) b = j;
      expect(b).toBe(all[i]);
    }
    const other = await loadModel(bytes, { contextLength: 64, batchSize: 1 });
    expect(bitsOf(other.logits(all))).toEqual(bitsOf(m.logits(all)));
    other.dispose();
  });

  it('seeded sampling is reproducible and the seed matters', async () => {
    const a = await m.generate(PROMPT, { maxTokens: 16, temperature: 1, topK: 0, topP: 0.95, minP: 0.01, seed: 42 });
    const b = await m.generate(PROMPT, { maxTokens: 16, temperature: 1, topK: 0, topP: 0.95, minP: 0.01, seed: 42 });
    const c = await m.generate(PROMPT, { maxTokens: 16, temperature: 1, topK: 0, topP: 0.95, minP: 0.01, seed: 43 });
    expect(a.tokens).toEqual(b.tokens);
    expect(c.tokens).not.toEqual(a.tokens);
    expect(a.stats.promptTokens).toBe(m.tokenize(PROMPT).length);
    expect(a.stats.generatedTokens).toBe(16);
    expect(a.text).toBe(m.detokenize(a.tokens));
  });

  it('stream() yields the same text as generate(); stop strings cut the text', async () => {
    const opts = { maxTokens: 20, temperature: 0.8, seed: 9 };
    const full = await m.generate(PROMPT, opts);
    let streamed = '';
    for await (const piece of m.stream(PROMPT, opts)) streamed += piece;
    expect(streamed).toBe(full.text);
    const stop = full.text.slice(3, 5);
    if (stop.length === 2) {
      const cut = await m.generate(PROMPT, { ...opts, stop: [stop] });
      expect(cut.text).toBe(full.text.slice(0, full.text.indexOf(stop)));
      expect(cut.finishReason).toBe('stop');
    }
  });

  it('typed errors: context overflow, bad token ids, bad options; abort leaves the model usable', async () => {
    const long = 'word '.repeat(200);
    await expect(m.generate(long, { maxTokens: 1 })).rejects.toMatchObject({ code: 'CONTEXT_OVERFLOW' });
    expect(() => m.logits([1, 2, 100000])).toThrow(BitnetError);
    expect(() => m.logits([])).toThrow(BitnetError);
    await expect(m.generate(PROMPT, { temperature: -1 })).rejects.toMatchObject({ code: 'BAD_ARGUMENT' });
    const ac = new AbortController();
    const got: number[] = [];
    await expect((async () => {
      for await (const t of m.generateTokens(PROMPT, { maxTokens: 50, signal: ac.signal })) { got.push(t); if (got.length === 3) ac.abort(); }
    })()).rejects.toThrow();
    expect(got.length).toBe(3);
    const after = await m.generate(PROMPT, { maxTokens: 4, temperature: 0 });
    expect(after.tokens.length).toBe(4);
  });

  it("finishReason: 'context' when the KV cache fills before maxTokens, 'length' when maxTokens is reached exactly then", async () => {
    const n = m.tokenize(PROMPT).length;
    const full = await m.generate(PROMPT, { maxTokens: 1000, temperature: 0 });
    expect(full.finishReason).toBe('context');
    expect(n + full.tokens.length).toBe(m.contextLength);
    const exact = await m.generate(PROMPT, { maxTokens: m.contextLength - n, temperature: 0 });
    expect(exact.finishReason).toBe('length');
    expect(exact.tokens).toEqual(full.tokens);
    const short = await m.generate(PROMPT, { maxTokens: 3, temperature: 0 });
    expect(short.finishReason).toBe('length');
  });

  it('a contextLength beyond the trained context warns once (onWarning, else console.warn); within it, silence', async () => {
    const warnings: string[] = [];
    const over = await loadModel(bytes, { contextLength: 1024, onWarning: (w) => warnings.push(w) });
    over.dispose();
    expect(warnings).toEqual(['contextLength 1024 exceeds the context this model was trained for (512 tokens): output at positions past 512 may degrade']);
    const within = await loadModel(bytes, { contextLength: 512, onWarning: (w) => warnings.push(w) });
    within.dispose();
    expect(warnings.length).toBe(1);
    const spy = vi.spyOn(console, 'warn').mockImplementation(() => {});
    try {
      (await loadModel(bytes, { contextLength: 600 })).dispose();
      expect(spy).toHaveBeenCalledTimes(1);
      expect(String(spy.mock.calls[0][0])).toMatch(/contextLength 600 exceeds .* \(512 tokens\)/);
    } finally { spy.mockRestore(); }
  });

  it("perplexity: 'llama' mode is llama-perplexity's definition, 'all' scores every token; both equal a recompute from logits()", () => {
    const ids = m.tokenize('The quick brown fox jumps over the lazy dog, and then it runs far away into the dark woods. '.repeat(3));
    const W = 16;
    expect(ids.length).toBeGreaterThan(3 * W + 2);
    const nll = (ctx: number[], next: number) => {
      const l = m.logits(ctx);
      let mx = -Infinity; for (const v of l) mx = Math.max(mx, v);
      let s = 0; for (const v of l) s += Math.exp(v - mx);
      return mx + Math.log(s) - l[next];
    };
    // llama-perplexity: floor(n / W) windows, BOS first, logits at positions W/2 .. W-2 scored.
    let want = 0, count = 0;
    const windows: number[] = [];
    for (let w = 0; w + W <= ids.length; w += W) {
      const chunk = ids.slice(w, w + W);
      chunk[0] = m.tokenizer.bos;
      for (let j = W / 2; j < W - 1; j++) { want += nll(chunk.slice(0, j + 1), chunk[j + 1]); count++; }
      windows.push(Math.exp(want / count));
    }
    const got = m.perplexity(ids, { mode: 'llama', window: W });
    expect(got.count).toBe(Math.floor(ids.length / W) * (W / 2 - 1));
    expect(got.count).toBe(count);
    expect(got.meanNll).toBeCloseTo(want / count, 5);
    expect(got.windows.length).toBe(windows.length);
    got.windows.forEach((p, i) => expect(p).toBeCloseTo(windows[i], 3));
    expect(got.uncertainty).toBeGreaterThan(0);
    const seen: [number, number][] = [];
    m.perplexity(ids, { mode: 'llama', window: W, onWindow: (i, p) => seen.push([i, p]) });
    expect(seen).toEqual(got.windows.map((p, i) => [i, p]));
    // 'all': every token after the first of its window, windows of W from an empty cache, no BOS swap.
    let all = 0, allCount = 0;
    for (let w = 0; w + 1 < ids.length; w += W) {
      const chunk = ids.slice(w, w + W);
      for (let j = 0; j + 1 < chunk.length; j++) { all += nll(chunk.slice(0, j + 1), chunk[j + 1]); allCount++; }
    }
    const a = m.perplexity(ids, { window: W });
    expect(a.count).toBe(allCount);
    expect(a.meanNll).toBeCloseTo(all / allCount, 5);
    expect(m.perplexity(ids).count).toBe(ids.length - Math.ceil((ids.length - 1) / m.contextLength));
    expect(() => m.perplexity(ids.slice(0, W - 1), { mode: 'llama', window: W })).toThrow(/at least 16 tokens/);
    expect(() => m.perplexity(ids, { mode: 'llama', window: 128 })).toThrow(/does not fit the context of 64/);
  });

  it('bad model files are typed errors', async () => {
    await expect(loadModel(bytes.subarray(0, 5000))).rejects.toBeInstanceOf(BitnetError);
    await expect(loadModel(bytes.subarray(0, bytes.length - 100))).rejects.toBeInstanceOf(BitnetError);
    await expect(loadModel(new Uint8Array(100))).rejects.toMatchObject({ code: 'BAD_GGUF' });
  });

  it('chat() renders the file\'s Jinja template and generates from it', async () => {
    const msgs = [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'Hello there' }];
    const m = await loadModel(bytes, { contextLength: 512 });
    const text = m.applyChatTemplate(msgs);
    expect(text).toContain('Hello there');
    expect(text).toContain('Be brief.');
    const a = await m.chat(msgs, { maxTokens: 6, temperature: 0 });
    const b = await m.generate(text, { maxTokens: 6, temperature: 0, parseSpecial: true, addBos: false });
    expect(a.tokens).toEqual(b.tokens);
    expect(() => m.applyChatTemplate([{ role: 'user' } as never])).toThrow(BitnetError);
    expect(() => m.applyChatTemplate(msgs, '{% for %}')).toThrow(BitnetError);
    m.dispose();
  });

  it('a model or context too large for 4 GiB of wasm memory is refused before any data is read, saying what fits', async () => {
    // Only the header exists: the data is never read, so a 28-billion-weight model costs nothing here.
    const plan = await planModel({ preset: '2b4t', config: { nLayer: 400 } });
    const header = modelChunks(plan).next().value as Uint8Array;
    let dataReads = 0;
    const source = {
      size: plan.fileSize,
      async read(offset: number, length: number) {
        const out = new Uint8Array(Math.max(0, Math.min(length, plan.fileSize - offset)));
        if (offset < header.length) out.set(header.subarray(offset, Math.min(header.length, offset + length)));
        else dataReads++; // (the header parser may read ahead past the header; that is not tensor data)
        return out;
      },
    };
    await expect(loadModel(source)).rejects.toThrow(/needs .* GiB .* too large for bitnet-wasm/);
    expect(dataReads).toBe(0);
    const err = await loadModel(bytes, { contextLength: 1 << 20 }).catch((e) => e);
    expect(err).toBeInstanceOf(BitnetError);
    expect(err.code).toBe('OUT_OF_MEMORY');
    expect(err.message).toMatch(/KV cache for 1048576 positions 4\.00 GiB\); wasm memory is limited to 4\.00 GiB and .* is free here\. It fits with contextLength <= \d+ \(about twice that with cacheType: 'f16'\)\.$/);
    const fit = Number(/contextLength <= (\d+)/.exec(err.message)?.[1]);
    expect(fit).toBeGreaterThan(1000);
    const ok = await loadModel(bytes, { contextLength: Math.min(fit, 4096) });
    ok.dispose();
  });

  it('resident memory: loading grows wasm memory by at most 1.15x what the model holds, plus the staging loading needs', async () => {
    const rt = await createRuntime({ build: 'simd128' });
    const file = await makeModel({ preset: 'tiny', config: { nEmbd: 512, nLayer: 8, nFf: 1536, nHead: 8, nHeadKv: 4 }, seed: 2 });
    const before = rt.exports.memory.buffer.byteLength;
    const m = await loadModel(file, { runtime: rt, contextLength: 1024 });
    const grown = rt.exports.memory.buffer.byteLength - before;
    const w = (m as unknown as { weights: { byteLength: number } }).weights.byteLength;
    const c = m.config, kv = 2 * c.nLayer * 1024 * c.nHeadKv * c.headDim * 4;
    console.log(`packed weights ${w} B, KV ${kv} B, model total ${m.byteLength} B, wasm memory grew ${grown} B (${(grown / (w + kv)).toFixed(3)}x)`);
    // Staging (the largest ternary tensor and its trits, one embedding row batch) is free again
    // after loading, but wasm memory never shrinks.
    expect(grown).toBeLessThanOrEqual(1.15 * m.byteLength + loadingStagingBytes(await parseGGUFHeader(file)));
    m.dispose();
  });

  it('dispose', async () => {
    const x = await loadModel(bytes);
    x.dispose();
    expect(() => x.tokenize('a')).toThrow(BitnetError);
  });
});
