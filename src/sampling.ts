// Token sampling. Deterministic everywhere: an integer PRNG (no Math.random), f64 arithmetic in
// JS (IEEE, no contraction), and softmax's exp computed in wasm (not JS Math.exp, whose last bits
// differ between engines).
import type { WasmRuntime } from '../bindings/runtime.js';
import { BitnetError } from './errors.js';

export interface SamplingOptions {
  /** 0 (default) = greedy. */
  temperature?: number;
  /** Keep the k most likely tokens (default 40; 0 = all). */
  topK?: number;
  /** Nucleus: keep the smallest set whose probability reaches topP (default 1 = off). */
  topP?: number;
  /** Keep tokens with p >= minP * p_max (default 0 = off). */
  minP?: number;
  /** llama.cpp-style repetition penalty over the last `penaltyLastN` tokens (default 1 = off). */
  repeatPenalty?: number;
  presencePenalty?: number;
  frequencyPenalty?: number;
  penaltyLastN?: number;
  /** PRNG seed (default 0). The same seed gives the same tokens in every runtime. */
  seed?: number;
  /** Added to a token's logit before sampling (token id -> bias, after the penalties); -Infinity bans the token. */
  logitBias?: Record<number, number> | Map<number, number>;
  /** n > 0: record, for each generated token, its log-probability and the n most likely tokens with
   *  theirs (llama.cpp's n_probs). Taken from the model's logits (before penalties, bias, grammar). */
  topLogprobs?: number;
}

/** Restricts which tokens may come next (a grammar): apply() sets the others to -Infinity. */
export interface LogitConstraint {
  apply(logits: Float32Array): Float32Array;
  accept(token: number): void;
  /** The output so far is complete (a finished match). */
  canEnd(): boolean;
}

/** One generated token's log-probability and the most likely alternatives (ties: lower id first). */
export interface TokenLogprob {
  token: number;
  logprob: number;
  top: { token: number; logprob: number }[];
}

/** splitmix32-seeded xorshift128: 32-bit integer ops only. */
export class Rng {
  private s = new Uint32Array(4);
  constructor(seed: number) {
    const mix = (z: number) => {
      let t = z;
      t = Math.imul(t ^ (t >>> 16), 0x85ebca6b) >>> 0;
      t = Math.imul(t ^ (t >>> 13), 0xc2b2ae35) >>> 0;
      return (t ^ (t >>> 16)) >>> 0;
    };
    let z = (seed >>> 0) ^ 0x9e3779b9;
    for (let i = 0; i < 4; i++) {
      z = (z + 0x9e3779b9) >>> 0;
      this.s[i] = mix(z);
    }
    // Seeds beyond 32 bits (up to +-2^53) differ from their low 32 bits (seeds below 2^32 keep
    // the state they always had).
    const hi = Math.floor(seed / 2 ** 32) >>> 0;
    if (hi !== 0) for (let i = 0; i < 4; i++) this.s[i] ^= mix((hi + Math.imul(i + 1, 0x632be5ab)) >>> 0);
    if (!(this.s[0] | this.s[1] | this.s[2] | this.s[3])) this.s[0] = 1;
  }
  nextU32(): number {
    const s = this.s;
    let t = s[3];
    const u = s[0];
    s[3] = s[2]; s[2] = s[1]; s[1] = u;
    t ^= t << 11; t ^= t >>> 8;
    s[0] = (t ^ u ^ (u >>> 19)) >>> 0;
    return s[0];
  }
  /** Uniform in [0, 1) with 24 bits. */
  next(): number { return (this.nextU32() >>> 8) / 16777216; }
}

function parseBias(bias: SamplingOptions['logitBias'], nVocab: number): [number, number][] {
  if (bias === undefined) return [];
  if (bias === null || typeof bias !== 'object') throw new BitnetError('BAD_ARGUMENT', 'logitBias must be an object or a Map of token id -> bias');
  const out: [number, number][] = [];
  for (const [k, v] of bias instanceof Map ? bias : Object.entries(bias)) {
    const t = Number(k);
    if (!Number.isInteger(t) || t < 0 || t >= nVocab) throw new BitnetError('BAD_ARGUMENT', `logitBias: token id ${String(k)} is not in 0..${nVocab - 1}`);
    if (typeof v !== 'number' || Number.isNaN(v) || v === Infinity) throw new BitnetError('BAD_ARGUMENT', `logitBias: the bias of token ${t} must be a finite number or -Infinity, got ${String(v)}`);
    out.push([t, v]);
  }
  return out;
}

/** The stopTokens option as a set (validated against the vocabulary). */
export function checkStopTokens(ids: unknown, nVocab: number): Set<number> | undefined {
  if (ids === undefined) return undefined;
  if (!Array.isArray(ids) || ids.some((t) => !Number.isInteger(t) || t < 0 || t >= nVocab)) {
    throw new BitnetError('BAD_ARGUMENT', `stopTokens must be an array of token ids in 0..${nVocab - 1}`);
  }
  return new Set(ids);
}

function check(name: string, v: number | undefined, lo: number, hi: number, dflt: number): number {
  if (v === undefined) return dflt;
  if (typeof v !== 'number' || !(v >= lo && v <= hi)) throw new BitnetError('BAD_ARGUMENT', `${name} must be a number in [${lo}, ${hi}], got ${String(v)}`);
  return v;
}

export class Sampler {
  readonly temperature: number; readonly topK: number; readonly topP: number; readonly minP: number;
  readonly repeatPenalty: number; readonly presencePenalty: number; readonly frequencyPenalty: number; readonly penaltyLastN: number;
  /** undefined: no log-probabilities are recorded. */
  readonly topLogprobs: number | undefined;
  private rng: Rng;
  private bias: [number, number][] = [];

  /** `nVocab` checks logitBias ids against the vocabulary; `constraint` (a grammar) masks each step. */
  constructor(opts: SamplingOptions, private rt: WasmRuntime, nVocab = 2 ** 31, readonly constraint?: LogitConstraint) {
    this.temperature = check('temperature', opts.temperature, 0, 100, 0);
    this.topK = check('topK', opts.topK, 0, 2 ** 31, 40);
    this.topP = check('topP', opts.topP, 0, 1, 1);
    this.minP = check('minP', opts.minP, 0, 1, 0);
    this.repeatPenalty = check('repeatPenalty', opts.repeatPenalty, 0, 100, 1);
    this.presencePenalty = check('presencePenalty', opts.presencePenalty, -100, 100, 0);
    this.frequencyPenalty = check('frequencyPenalty', opts.frequencyPenalty, -100, 100, 0);
    this.penaltyLastN = check('penaltyLastN', opts.penaltyLastN, 0, 2 ** 31, 64);
    const seed = check('seed', opts.seed, -(2 ** 53), 2 ** 53, 0);
    if (!Number.isInteger(seed)) throw new BitnetError('BAD_ARGUMENT', `seed must be an integer in [-2^53, 2^53], got ${seed}`);
    this.rng = new Rng(seed);
    this.topLogprobs = opts.topLogprobs === undefined ? undefined : check('topLogprobs', opts.topLogprobs, 0, nVocab, 0);
    if (this.topLogprobs !== undefined && !Number.isInteger(this.topLogprobs)) throw new BitnetError('BAD_ARGUMENT', `topLogprobs must be an integer, got ${this.topLogprobs}`);
    this.bias = parseBias(opts.logitBias, nVocab);
  }

  /** The logits sampling sees: penalties over `history`, then logit bias. Returns `logits` itself
   *  (no copy) when nothing applies. */
  adjust(logits: Float32Array, history: ArrayLike<number>): Float32Array {
    let l = logits;
    if (this.repeatPenalty !== 1 || this.presencePenalty !== 0 || this.frequencyPenalty !== 0) {
      l = Float32Array.from(logits);
      const counts = new Map<number, number>();
      for (let i = Math.max(0, history.length - this.penaltyLastN); i < history.length; i++) counts.set(history[i], (counts.get(history[i]) ?? 0) + 1);
      for (const [t, c] of counts) {
        if (t < 0 || t >= l.length) continue;
        let v = l[t];
        if (this.repeatPenalty !== 1) v = v > 0 ? v / this.repeatPenalty : v * this.repeatPenalty;
        l[t] = v - c * this.frequencyPenalty - this.presencePenalty;
      }
    }
    if (this.bias.length) {
      if (l === logits) l = Float32Array.from(logits);
      for (const [t, b] of this.bias) if (t < l.length) l[t] += b;
    }
    return l;
  }

  /** log-softmax of the model's logits at `token`, and the `topLogprobs` best (logsumexp in wasm). */
  logprobs(logits: Float32Array, token: number): TokenLogprob {
    const rt = this.rt, n = logits.length;
    // The model's logits already sit in wasm memory (as perplexity uses them); other arrays are copied in.
    let p = logits.byteOffset;
    if (logits.buffer !== rt.f32.buffer) { p = rt.scratch(n * 4); rt.f32.set(logits, p >>> 2); }
    const lse = rt.exports.logsumexp(p, n);
    const lp = (t: number) => logits[t] - lse;
    return { token, logprob: lp(token), top: topK(logits, Math.min(this.topLogprobs ?? 0, n)).map((t) => ({ token: t, logprob: lp(t) })) };
  }

  /** Picks the next token from logits (not modified) given the tokens so far, and advances the
   *  constraint over it; -1 when no token is allowed. */
  sample(logits: Float32Array, history: ArrayLike<number>): number {
    let l = this.adjust(logits, history);
    if (this.constraint) l = this.constraint.apply(l === logits ? Float32Array.from(logits) : l);
    const t = this.pick(l);
    if (t >= 0) this.constraint?.accept(t);
    return t;
  }

  /** Samples from logits that already went through adjust() (and any masking); -1 when all are -Infinity. */
  pick(l: Float32Array): number {
    if (this.temperature === 0) { const b = argmax(l); return l[b] === -Infinity ? -1 : b; }
    // Candidates: top-k by logit (ties: lower id first), in descending order; banned ones dropped.
    const ids = topK(l, this.topK > 0 ? Math.min(this.topK, l.length) : l.length);
    let n = ids.length;
    while (n > 0 && l[ids[n - 1]] === -Infinity) n--;
    if (n === 0) return -1;
    // Softmax of logit / temperature in wasm.
    const rt = this.rt;
    const p = rt.scratch(n * 4);
    const f = rt.f32, base = p >>> 2;
    for (let i = 0; i < n; i++) f[base + i] = l[ids[i]] / this.temperature;
    rt.exports.softmax(p, n);
    const probs = rt.f32.slice(base, base + n);
    let keep = n;
    if (this.minP > 0) { const t = probs[0] * this.minP; while (keep > 1 && probs[keep - 1] < t) keep--; }
    if (this.topP < 1) {
      let c = 0;
      for (let i = 0; i < keep; i++) { c += probs[i]; if (c >= this.topP) { keep = i + 1; break; } }
    }
    let total = 0;
    for (let i = 0; i < keep; i++) total += probs[i];
    let r = this.rng.next() * total;
    for (let i = 0; i < keep; i++) { r -= probs[i]; if (r < 0) return ids[i]; }
    return ids[keep - 1];
  }
}

export function argmax(l: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < l.length; i++) if (l[i] > l[best]) best = i;
  return best;
}

/** Indices of the k largest values, descending (ties: lower index first). */
function topK(l: Float32Array, k: number): number[] {
  const better = (a: number, b: number) => l[a] > l[b] || (l[a] === l[b] && a < b);
  if (k >= l.length) return Array.from(l.keys()).sort((a, b) => (better(a, b) ? -1 : better(b, a) ? 1 : 0));
  // Min-heap of the best k seen (root = worst of them).
  const h: number[] = [];
  const down = (i: number) => {
    for (;;) {
      const a = 2 * i + 1, b = a + 1;
      let m = i;
      if (a < h.length && better(h[m], h[a])) m = a;
      if (b < h.length && better(h[m], h[b])) m = b;
      if (m === i) return;
      [h[i], h[m]] = [h[m], h[i]]; i = m;
    }
  };
  for (let i = 0; i < l.length; i++) {
    if (h.length < k) {
      h.push(i);
      for (let j = h.length - 1; j > 0;) { const p = (j - 1) >> 1; if (better(h[p], h[j])) { [h[p], h[j]] = [h[j], h[p]]; j = p; } else break; }
    } else if (better(i, h[0])) { h[0] = i; down(0); }
  }
  return h.sort((a, b) => (better(a, b) ? -1 : 1));
}
