// logitBias, stopTokens and topLogprobs, checked against the model's own logits with the
// expectations computed here by hand (argmax after bias, f64 log-sum-exp, sorted alternatives).
import { beforeAll, describe, expect, it } from 'vitest';
import { makeModel } from '../../src/synth/make-model.js';
import { loadModel, type Model } from '../../src/model/model.js';

const PROMPT = 'Once upon a time, in a land far away,';
let m: Model;
let prompt: number[];

beforeAll(async () => {
  m = await loadModel(await makeModel({ preset: 'tiny', ternaryType: 'TQ2_0', tokenizer: 'bpe', seed: 11 }), { contextLength: 128 });
  prompt = m.tokenize(PROMPT);
}, 60_000);

/** Token ids by logit, descending (ties: lower id first). */
const ranked = (l: Float32Array) => Array.from(l.keys()).sort((a, b) => l[b] - l[a] || a - b);

describe('logitBias', () => {
  it('-Infinity bans: greedy picks the best token left', async () => {
    const order = ranked(m.logits(prompt));
    const r = await m.generate(prompt, { maxTokens: 1, temperature: 0, logitBias: { [order[0]]: -Infinity, [order[1]]: -Infinity } });
    expect(r.tokens).toEqual([order[2]]);
    // A Map works the same.
    const r2 = await m.generate(prompt, { maxTokens: 1, temperature: 0, logitBias: new Map([[order[0], -Infinity], [order[1], -Infinity]]) });
    expect(r2.tokens).toEqual([order[2]]);
  });

  it('a bias is added to the logit: just enough lifts a token to first place, just too little does not', async () => {
    const l = m.logits(prompt);
    const order = ranked(l);
    const t = order[7];
    const gap = l[order[0]] - l[t];
    const up = await m.generate(prompt, { maxTokens: 1, temperature: 0, logitBias: { [t]: gap + 0.01 } });
    expect(up.tokens).toEqual([t]);
    const short = await m.generate(prompt, { maxTokens: 1, temperature: 0, logitBias: { [t]: gap - 0.01 } });
    expect(short.tokens).toEqual([order[0]]);
  });

  it('banned tokens never appear when sampling from the whole vocabulary', async () => {
    const free = await m.generate(prompt, { maxTokens: 40, temperature: 1.5, topK: 0, seed: 3 });
    const banned = [...new Set(free.tokens)].slice(0, 6);
    const bias = Object.fromEntries(banned.map((t) => [t, -Infinity]));
    for (let seed = 0; seed < 5; seed++) {
      const r = await m.generate(prompt, { maxTokens: 40, temperature: 1.5, topK: 0, seed, logitBias: bias });
      expect(r.tokens.filter((t) => banned.includes(t))).toEqual([]);
    }
  });

  it('bad biases are typed errors', async () => {
    for (const logitBias of [{ 99999: 1 }, { [-1]: 1 }, { 1.5: 1 }, { 3: NaN }, { 3: Infinity }, { 3: '1' }, 5] as never[]) {
      await expect(m.generate(prompt, { maxTokens: 1, logitBias })).rejects.toMatchObject({ code: 'BAD_ARGUMENT' });
    }
    const all = Object.fromEntries(Array.from({ length: m.config.nVocab }, (_, i) => [i, -Infinity]));
    await expect(m.generate(prompt, { maxTokens: 1, logitBias: all })).rejects.toThrow(/bans every token/);
  });
});

describe('stopTokens', () => {
  it('stops before the first stop token with finishReason stop', async () => {
    const opts = { maxTokens: 16, temperature: 0.9, seed: 4 };
    const full = await m.generate(prompt, opts);
    const i = 5, stop = full.tokens[i];
    const first = full.tokens.indexOf(stop);
    const cut = await m.generate(prompt, { ...opts, stopTokens: [99999 % m.config.nVocab, stop] });
    expect(cut.tokens).toEqual(full.tokens.slice(0, first));
    expect(cut.text).toBe(m.detokenize(full.tokens.slice(0, first)));
    expect(cut.finishReason).toBe('stop');
    await expect(m.generate(prompt, { stopTokens: [m.config.nVocab] })).rejects.toMatchObject({ code: 'BAD_ARGUMENT' });
    await expect(m.generate(prompt, { stopTokens: 3 as never })).rejects.toMatchObject({ code: 'BAD_ARGUMENT' });
  });
});

describe('topLogprobs', () => {
  it('each token: log-softmax of the model logits at that step and the n best, as computed here in f64', async () => {
    const n = 5;
    const r = await m.generate(prompt, { maxTokens: 6, temperature: 0.8, seed: 2, topLogprobs: n });
    expect(r.logprobs!.length).toBe(r.tokens.length);
    for (let i = 0; i < r.tokens.length; i++) {
      const l = m.logits([...prompt, ...r.tokens.slice(0, i)]);
      let max = -Infinity;
      for (const v of l) max = Math.max(max, v);
      let sum = 0;
      for (const v of l) sum += Math.exp(v - max);
      const lse = max + Math.log(sum);
      const e = r.logprobs![i];
      expect(e.token).toBe(r.tokens[i]);
      expect(e.logprob).toBeCloseTo(l[r.tokens[i]] - lse, 5);
      expect(e.top.map((x) => x.token)).toEqual(ranked(l).slice(0, n));
      for (const x of e.top) expect(x.logprob).toBeCloseTo(l[x.token] - lse, 5);
    }
    // Recorded from the model's logits, not the sampling distribution: same values at temperature 0.
    const g = await m.generate(prompt, { maxTokens: 1, temperature: 0, topLogprobs: 0 });
    expect(g.logprobs![0].top).toEqual([]);
    expect(g.logprobs![0].token).toBe(ranked(m.logits(prompt))[0]);
    expect((await m.generate(prompt, { maxTokens: 2 })).logprobs).toBeUndefined();
    for (const topLogprobs of [-1, 1.5, m.config.nVocab + 1]) {
      await expect(m.generate(prompt, { maxTokens: 1, topLogprobs })).rejects.toMatchObject({ code: 'BAD_ARGUMENT' });
    }
  });

  it('stop strings keep logprobs aligned with tokens', async () => {
    const full = await m.generate(prompt, { maxTokens: 12, temperature: 0.9, seed: 9, topLogprobs: 1 });
    const stop = full.text.slice(4, 6);
    const cut = await m.generate(prompt, { maxTokens: 12, temperature: 0.9, seed: 9, topLogprobs: 1, stop: [stop] });
    expect(cut.logprobs!.map((e) => e.token)).toEqual(cut.tokens);
    expect(cut.logprobs).toEqual(full.logprobs!.slice(0, cut.tokens.length));
  });
});
