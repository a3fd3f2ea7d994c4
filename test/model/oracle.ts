// llama.cpp (node-llama-cpp's prebuilt CPU build) as an oracle for the decoder: loading it, its
// next-token distribution, and the one comparison rule every model-level test uses.
import { expect } from 'vitest';
import { f16BitsToF32, f32ToF16Bits, parseGGUFHeader } from '../../src/gguf/index.js';

export type Llama = Awaited<ReturnType<typeof import('node-llama-cpp')['getLlama']>>;
type Sequence = import('node-llama-cpp').LlamaContextSequence;

/** Loads llama.cpp; throws when it cannot (so the calling beforeAll fails every test, never passes them). */
export async function loadLlama(): Promise<Llama> {
  const { getLlama, LlamaLogLevel } = await import('node-llama-cpp');
  return getLlama({ gpu: false, build: 'never', logLevel: LlamaLogLevel.error, progressLogs: false });
}

export function softmax(l: Float32Array): Float64Array {
  let m = -Infinity; for (const v of l) m = Math.max(m, v);
  const p = Float64Array.from(l, (v) => Math.exp(v - m));
  const s = p.reduce((a, b) => a + b, 0);
  return p.map((v) => v / s);
}
export const argmax = (a: ArrayLike<number>) => { let b = 0; for (let i = 1; i < a.length; i++) if (a[i] > a[b]) b = i; return b; };
/** Total variation distance of two distributions. */
export const totalVariation = (a: ArrayLike<number>, b: ArrayLike<number>) => { let s = 0; for (let i = 0; i < a.length; i++) s += Math.abs(a[i] - b[i]); return s / 2; };

/** llama.cpp's next-token distribution (dense, nVocab) after feeding `tokens` to `seq`. */
export async function llamaNextProbs(seq: Sequence, tokens: number[], nVocab: number): Promise<Float64Array> {
  const items = tokens.map((t, i) => (i === tokens.length - 1 ? [t, { generateNext: { probabilities: true } }] : t));
  const out = await seq.controlledEvaluate(items as Parameters<Sequence['controlledEvaluate']>[0]);
  const dense = new Float64Array(nVocab);
  for (const [tok, p] of out[tokens.length - 1]!.next!.probabilities!) dense[tok] = p;
  return dense;
}

/**
 * How close our next-token distribution must be to llama.cpp's. The engines quantize activations
 * differently (llama.cpp: Q8_K blocks of 256 and an F16 KV cache; here: one int8 scale per token as
 * BitNet defines it, f32 cache), so on this CPU (x86 AVX2 kernels) the files here measure TV
 * 0.02-0.055; llama.cpp's kernels for other CPUs (ARM dot products, AVX-512) round in other places.
 * A wrong hyperparameter, layout or scale measures 0.15-0.9. So: TV below 0.1 (room for another
 * CPU's rounding, still well below any bug seen), and our top token is llama.cpp's top or a
 * near-tie of it (within 0.1 of its probability), never a clear loser.
 */
export const TV_BOUND = 0.1;
export const NEAR_TIE = 0.1;
export function expectCloseToLlama(ours: ArrayLike<number>, theirs: ArrayLike<number>, what: string): number {
  const tv = totalVariation(ours, theirs);
  const top = argmax(theirs), mine = argmax(ours);
  expect(tv, `${what}: total variation vs llama.cpp`).toBeLessThan(TV_BOUND);
  expect(theirs[top] - theirs[mine], `${what}: our top token ${mine} is not llama.cpp's top ${top} nor a near-tie of it`).toBeLessThan(NEAR_TIE);
  return tv;
}

/** Multiplies the F16 token embedding in place. A factor above 1 gives larger logits (tied head), a
 *  peaked next-token distribution, so greedy decoding is decided by clear margins, not near-ties. */
export async function scaleEmbedding(bytes: Uint8Array, factor: number): Promise<Uint8Array> {
  const h = await parseGGUFHeader(bytes);
  const t = h.tensors.find((x) => x.name === 'token_embd.weight')!;
  expect(t.typeName).toBe('F16');
  const dv = new DataView(bytes.buffer, bytes.byteOffset + t.absoluteOffset, t.byteSize);
  for (let i = 0; i < t.byteSize; i += 2) dv.setUint16(i, f32ToF16Bits(f16BitsToF32(dv.getUint16(i, true)) * factor), true);
  return bytes;
}

/** Overwrites the value of an existing u32 metadata key in place (make-model has no option for it). */
export function setMetadataU32(bytes: Uint8Array, key: string, value: number): Uint8Array {
  const k = new TextEncoder().encode(key);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let i = 8; i + k.length + 8 <= bytes.length; i++) {
    if (dv.getUint32(i - 8, true) !== k.length || dv.getUint32(i - 4, true) !== 0) continue;
    if (!k.every((c, j) => bytes[i + j] === c)) continue;
    const at = i + k.length;
    expect(dv.getUint32(at, true), `${key} is a u32 (GGUF type 4)`).toBe(4);
    dv.setUint32(at + 4, value, true);
    return bytes;
  }
  throw new Error(`metadata key ${key} not found`);
}
