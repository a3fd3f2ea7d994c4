// The sampler against hand-computed distributions. A 6-token vocabulary whose logits are ln(p) for
// p = 0.40, 0.25, 0.15, 0.10, 0.06, 0.04 (scattered over the ids), so every kept set and its
// renormalized probabilities can be written down by hand. Each case checks 4000 draws one by one
// against a reference pick from the same PRNG (src/sampling.ts's Rng): the sampler must choose the
// token whose cumulative probability first exceeds u * total, with exactly the hand-computed kept
// set in descending order. Then a frequency test over many seeds (chi-square) against the exact
// distribution checks the PRNG and the pick together.
import { beforeAll, describe, expect, it } from 'vitest';
import { createRuntime } from '../src/init.js';
import { Rng, Sampler, type SamplingOptions } from '../src/sampling.js';
import type { WasmRuntime } from '../bindings/runtime.js';

let rt: WasmRuntime;
beforeAll(async () => { rt = await createRuntime({ build: 'simd128' }); });

// token id -> probability at temperature 1
const P: Record<number, number> = { 3: 0.4, 0: 0.25, 5: 0.15, 1: 0.1, 4: 0.06, 2: 0.04 };
const logitsOf = (shift = 0) => Float32Array.from({ length: 6 }, (_, t) => Math.log(P[t]) + shift);

/** The kept set with unnormalized weights, by hand; normalized here, ordered by weight. */
function dist(w: Record<number, number>): [number, number][] {
  const total = Object.values(w).reduce((a, b) => a + b, 0);
  return Object.entries(w).map(([t, v]) => [Number(t), v / total] as [number, number]).sort((a, b) => b[1] - a[1]);
}
/** The token a correct sampler picks for uniform u. */
function pick(d: [number, number][], u: number): number {
  let c = 0;
  for (const [t, p] of d) { c += p; if (c > u) return t; }
  return d[d.length - 1][0];
}

function expectSamples(opts: SamplingOptions, logits: Float32Array, history: number[], want: Record<number, number>, everyKeptDrawn = true) {
  const d = dist(want);
  const s = new Sampler({ seed: 7, ...opts }, rt);
  const r = new Rng(opts.seed ?? 7);
  const seen = new Map<number, number>();
  for (let i = 0; i < 4000; i++) {
    const u = r.next();
    const got = s.sample(logits, history);
    expect(got, `draw ${i} (u = ${u})`).toBe(pick(d, u));
    seen.set(got, (seen.get(got) ?? 0) + 1);
  }
  // Every kept token was drawn, no other one (4000 draws: the rarest kept token here has p >= 0.04).
  if (everyKeptDrawn) expect([...seen.keys()].sort()).toEqual(d.map(([t]) => t).sort());
}

const { sqrt, exp, log } = Math;
describe('kept sets and probabilities, by hand', () => {
  it('temperature 1, no filter: all six at p', () => expectSamples({ temperature: 1 }, logitsOf(), [], P));
  it('top-k 3: {3, 0, 5} at 0.4/0.8, 0.25/0.8, 0.15/0.8', () => expectSamples({ temperature: 1, topK: 3 }, logitsOf(), [], { 3: 0.4, 0: 0.25, 5: 0.15 }));
  it('top-k 1 is greedy', () => expectSamples({ temperature: 1, topK: 1 }, logitsOf(), [], { 3: 1 }));
  it('top-p 0.5: the smallest prefix reaching 0.5 is {3, 0} (0.40 < 0.5 <= 0.65)', () => expectSamples({ temperature: 1, topP: 0.5 }, logitsOf(), [], { 3: 0.4, 0: 0.25 }));
  it('top-p 0.7: {3, 0, 5} (0.65 < 0.7 <= 0.80), not one more', () => expectSamples({ temperature: 1, topP: 0.7 }, logitsOf(), [], { 3: 0.4, 0: 0.25, 5: 0.15 }));
  it('top-p 0.85: {3, 0, 5, 1} (0.80 < 0.85 <= 0.90)', () => expectSamples({ temperature: 1, topP: 0.85 }, logitsOf(), [], { 3: 0.4, 0: 0.25, 5: 0.15, 1: 0.1 }));
  it('top-p 0.3: the top token alone (0.3 <= 0.40)', () => expectSamples({ temperature: 1, topP: 0.3 }, logitsOf(), [], { 3: 1 }));
  it('top-k 2 then top-p 0.6 on the renormalized pair (0.615 >= 0.6): the top token alone', () => expectSamples({ temperature: 1, topK: 2, topP: 0.6 }, logitsOf(), [], { 3: 1 }));
  it('min-p 0.3: p >= 0.12 keeps {3, 0, 5}', () => expectSamples({ temperature: 1, minP: 0.3 }, logitsOf(), [], { 3: 0.4, 0: 0.25, 5: 0.15 }));
  it('min-p 0.2: p >= 0.08 keeps {3, 0, 5, 1}', () => expectSamples({ temperature: 1, minP: 0.2 }, logitsOf(), [], { 3: 0.4, 0: 0.25, 5: 0.15, 1: 0.1 }));
  it('min-p 0.5: p >= 0.2 keeps {3, 0}', () => expectSamples({ temperature: 1, minP: 0.5 }, logitsOf(), [], { 3: 0.4, 0: 0.25 }));
  it('temperature 2: p^(1/2) renormalized', () => expectSamples({ temperature: 2 }, logitsOf(), [], Object.fromEntries(Object.entries(P).map(([t, p]) => [t, sqrt(p)]))));
  it('temperature 0.5: p^2 renormalized (0.16, 0.0625, 0.0225, 0.01, 0.0036, 0.0016)', () => expectSamples({ temperature: 0.5 }, logitsOf(), [], { 3: 0.16, 0: 0.0625, 5: 0.0225, 1: 0.01, 4: 0.0036, 2: 0.0016 }));
  it('temperature 0 is argmax whatever the seed', () => {
    for (let seed = 0; seed < 50; seed++) expect(new Sampler({ temperature: 0, seed }, rt).sample(logitsOf(), [])).toBe(3);
  });
  it('top-k 0 keeps all', () => expectSamples({ temperature: 1, topK: 0 }, logitsOf(), [], P));
  it('ties: top-p 0.5 over two equal logits keeps the lower id alone (0.5 >= 0.5)', () => expectSamples({ temperature: 1, topP: 0.5 }, new Float32Array([0, 0, -30]), [], { 0: 1 }));
  it('ties: min-p 1 keeps every token tied at the top', () => expectSamples({ temperature: 1, minP: 1 }, new Float32Array([-1, 2, 0, 2]), [], { 1: 1, 3: 1 }));
  it('ties: top-k 1 and greedy take the lower id', () => {
    const l = new Float32Array([0, 3, 1, 3, 3]);
    expectSamples({ temperature: 1, topK: 1 }, l, [], { 1: 1 });
    expect(new Sampler({ temperature: 0 }, rt).sample(l, [])).toBe(1);
  });
  it('top-k 40 of 1000 random logits (the heap path): the 40 largest, ties by lower id, at softmax weights', () => {
    const r = new Rng(99);
    const l = Float32Array.from({ length: 1000 }, () => Math.round((r.next() * 8 - 4) * 64) / 64); // many ties
    const order = Array.from(l.keys()).sort((a, b) => l[b] - l[a] || a - b).slice(0, 40);
    expectSamples({ temperature: 1, topK: 40 }, l, [], Object.fromEntries(order.map((t) => [t, exp(l[t])])), false);
    for (const k of [1, 2, 3, 7, 999]) {
      const top = Array.from(l.keys()).sort((a, b) => l[b] - l[a] || a - b).slice(0, k);
      expectSamples({ temperature: 100, topK: k }, l, [], Object.fromEntries(top.map((t) => [t, exp(l[t] / 100)])), false);
    }
  });
  it('translation of the logits changes nothing', () => expectSamples({ temperature: 1, topP: 0.7 }, logitsOf(5), [], { 3: 0.4, 0: 0.25, 5: 0.15 }));
});

describe('penalties, by hand (logits ln p + 1.2: token 3 at +0.284, token 0 at -0.186; history 3, 3, 0)', () => {
  const L = (t: number) => log(P[t]) + 1.2;
  const hist = [3, 3, 0];
  const rest = { 5: P[5], 1: P[1], 4: P[4], 2: P[2] };
  const w = (l: number) => exp(l - 1.2); // the common factor e^1.2 cancels
  it('repeat penalty 2: a positive logit is halved, a negative one doubled; once per token, not per count', () =>
    expectSamples({ temperature: 1, repeatPenalty: 2 }, logitsOf(1.2), hist, { 3: w(L(3) / 2), 0: w(L(0) * 2), ...rest }));
  it('frequency penalty 0.5: minus 0.5 per occurrence (token 3 twice, token 0 once)', () =>
    expectSamples({ temperature: 1, frequencyPenalty: 0.5 }, logitsOf(1.2), hist, { 3: w(L(3) - 1), 0: w(L(0) - 0.5), ...rest }));
  it('presence penalty 0.7: minus 0.7 once for each token present', () =>
    expectSamples({ temperature: 1, presencePenalty: 0.7 }, logitsOf(1.2), hist, { 3: w(L(3) - 0.7), 0: w(L(0) - 0.7), ...rest }));
  it('penalty window 1: only the last token (0) is penalized', () =>
    expectSamples({ temperature: 1, repeatPenalty: 2, penaltyLastN: 1 }, logitsOf(1.2), hist, { 3: P[3], 0: w(L(0) * 2), ...rest }));
  it('all three, then top-k 3 on the penalized order', () => {
    // token 3: 0.284 / 2 - 2 * 0.5 - 0.7 -> weight 0.0634; token 0: -0.186 * 2 - 0.5 - 0.7 -> 0.0625;
    // token 4 stays at 0.06: the top three are 5, 1 and 3.
    const w3 = w(L(3) / 2 - 2 * 0.5 - 0.7), w0 = w(L(0) * 2 - 0.5 - 0.7);
    expect(w3).toBeGreaterThan(w0); expect(w0).toBeGreaterThan(P[4]);
    expectSamples({ temperature: 1, repeatPenalty: 2, frequencyPenalty: 0.5, presencePenalty: 0.7, topK: 3 }, logitsOf(1.2), hist, { 5: P[5], 1: P[1], 3: w3 });
  });
});

describe('the PRNG and the options', () => {
  // An independent transcription of the published algorithms: murmur3's fmix32 over a Weyl sequence
  // (step 0x9e3779b9) seeds Marsaglia's xorshift128 (t = x ^ x << 11; w = w ^ w >>> 19 ^ t ^ t >>> 8).
  function reference(seed: number, n: number): number[] {
    const M = 2n ** 32n, G = 0x9e3779b9n;
    const fmix = (h: bigint) => { h ^= h >> 16n; h = (h * 0x85ebca6bn) % M; h ^= h >> 13n; h = (h * 0xc2b2ae35n) % M; return h ^ (h >> 16n); };
    let z = (BigInt(seed >>> 0) ^ G) % M;
    const st: bigint[] = [];
    for (let i = 0; i < 4; i++) { z = (z + G) % M; st.push(fmix(z)); }
    // Seeds beyond 32 bits (negative ones too) fold their high word in: s[i] ^= fmix(hi + (i + 1) * 0x632be5ab).
    const hi = BigInt.asUintN(32, BigInt(Math.floor(seed / 2 ** 32)));
    if (hi !== 0n) for (let i = 0; i < 4; i++) st[i] ^= fmix((hi + BigInt(i + 1) * 0x632be5abn) % M);
    let [w, z2, y, x] = st; // s[0] is the newest word
    const out: number[] = [];
    for (let i = 0; i < n; i++) {
      let t = x ^ ((x << 11n) % M);
      t ^= t >> 8n;
      [x, y, z2] = [y, z2, w];
      w = w ^ (w >> 19n) ^ t;
      out.push(Number(w >> 8n) / 2 ** 24);
    }
    return out;
  }
  it('Rng is fmix32-seeded xorshift128 with 24-bit uniforms (seeds beyond 32 bits fold their high word in)', () => {
    for (const seed of [0, 1, 42, 0xffffffff, -5, 2 ** 32 + 7, -(2 ** 53)]) {
      const r = new Rng(seed);
      expect(Array.from({ length: 50 }, () => r.next()), `seed ${seed}`).toEqual(reference(seed, 50));
    }
  });
  it('rejects out-of-range options with BAD_ARGUMENT naming the option; accepts the bounds', () => {
    const bad: [keyof SamplingOptions, unknown][] = [['temperature', -0.1], ['temperature', 100.5], ['temperature', NaN], ['temperature', '1'],
      ['topK', -1], ['topP', 1.01], ['topP', -0.01], ['minP', 2], ['repeatPenalty', -1], ['presencePenalty', 101], ['frequencyPenalty', -101],
      ['penaltyLastN', -1], ['seed', 2 ** 54]];
    for (const [k, v] of bad) {
      expect(() => new Sampler({ [k]: v } as SamplingOptions, rt), `${k} = ${String(v)}`).toThrow(expect.objectContaining({ code: 'BAD_ARGUMENT', message: expect.stringContaining(`${k} must be a number in [`) }));
    }
    for (const o of [{ temperature: 0 }, { temperature: 100 }, { topP: 0 }, { topP: 1 }, { minP: 1 }, { topK: 0 }, { repeatPenalty: 0 }, { presencePenalty: -100 }, { frequencyPenalty: 100 }, { seed: -(2 ** 53) }]) {
      expect(() => new Sampler(o, rt), JSON.stringify(o)).not.toThrow();
    }
  });
  it('defaults: temperature 0, top-k 40, top-p 1, min-p 0, no penalties over a window of 64', () => {
    expect({ ...new Sampler({}, rt), rt: undefined, rng: undefined }).toMatchObject({ temperature: 0, topK: 40, topP: 1, minP: 0, repeatPenalty: 1, presencePenalty: 0, frequencyPenalty: 0, penaltyLastN: 64 });
  });
});

describe('frequencies over many seeds', () => {
  // Chi-square with 5 degrees of freedom; 20.52 is its 0.999 quantile. The draws are seeded, so the
  // outcome is fixed: a correct sampler and PRNG give ~5, a sampler off by one percentage point on
  // one token gives ~50+.
  const chi2 = (counts: number[], probs: number[], n: number) => counts.reduce((s, c, i) => s + (c - n * probs[i]) ** 2 / (n * probs[i]), 0);
  const ids = [3, 0, 5, 1, 4, 2];
  it('first draw of 20000 seeds', () => {
    const counts = new Map<number, number>();
    for (let seed = 0; seed < 20000; seed++) {
      const t = new Sampler({ temperature: 1, seed }, rt).sample(logitsOf(), []);
      counts.set(t, (counts.get(t) ?? 0) + 1);
    }
    const x = chi2(ids.map((t) => counts.get(t) ?? 0), ids.map((t) => P[t]), 20000);
    console.log(`chi-square over 20000 seeds (5 dof): ${x.toFixed(2)}`);
    expect(x).toBeLessThan(20.52);
  });
  it('20000 draws from one seed, temperature 2 with top-k 4', () => {
    const kept = [3, 0, 5, 1], tot = kept.reduce((a, t) => a + sqrt(P[t]), 0);
    const s = new Sampler({ temperature: 2, topK: 4, seed: 12345 }, rt);
    const counts = new Map<number, number>();
    for (let i = 0; i < 20000; i++) { const t = s.sample(logitsOf(), []); counts.set(t, (counts.get(t) ?? 0) + 1); }
    expect([...counts.keys()].sort()).toEqual([...kept].sort());
    const x = chi2(kept.map((t) => counts.get(t)!), kept.map((t) => sqrt(P[t]) / tot), 20000);
    console.log(`chi-square, one seed, 20000 draws (3 dof): ${x.toFixed(2)}`);
    expect(x).toBeLessThan(16.27); // 0.999 quantile, 3 dof
  });
});
