import llama from 'llama-tokenizer-js';
import llama3 from 'llama3-tokenizer-js';
import {
  createTokenizer,
  type Tokenizer,
} from '../../src/tokenizer';
import { metadataFromLlama3TokenizerJs, metadataFromLlamaTokenizerJs, type PackageTokenizerLike } from '../../src/synth/vocab-builders';

export { llama, llama3 };

let spm: Tokenizer | undefined;
let bpe: Tokenizer | undefined;

/** LLaMA 32k SentencePiece tokenizer built from llama-tokenizer-js's vocabulary. */
export function llamaSpm(): Tokenizer {
  spm ??= createTokenizer(metadataFromLlamaTokenizerJs(llama as unknown as PackageTokenizerLike));
  return spm;
}

/** llama3 128k byte-level BPE tokenizer built from llama3-tokenizer-js's vocabulary. */
export function llama3Bpe(): Tokenizer {
  bpe ??= createTokenizer(metadataFromLlama3TokenizerJs(llama3 as unknown as PackageTokenizerLike));
  return bpe;
}

/** Deterministic pseudo-random generator (LCG), so fuzz cases are the same on every run. */
export function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return s / 0x100000000;
  };
}

/** Deterministic random texts assembled from pieces that exercise every tokenizer path. */
export function fuzzTexts(count: number, seed: number, extra: readonly string[] = []): string[] {
  const pieces = [
    'a', 'b', 'e', 'the', ' ', '  ', '   ', '\n', '\n\n', '\t', '.', ',', "'s", "'S", "'ll", "'RE", '1', '23', '456',
    'é', 'ü', 'ß', 'İ', 'ǅ', 'Ⅻ', '½', '日', '本', '😀', '👍🏽', '\u200d', '\u0301', '▁', '\u00a0', '\u3000', '\r\n',
    '#', '!', '?', '-', '(', ')', 'A', 'Z', 'x', 'tion', 'ing', ' grabbed', 'Hello', ' world', '<', '>', '|',
    ...extra,
  ];
  const rnd = lcg(seed);
  const out: string[] = [];
  for (let k = 0; k < count; k++) {
    let t = '';
    const n = 1 + Math.floor(rnd() * 12);
    for (let i = 0; i < n; i++) t += pieces[Math.floor(rnd() * pieces.length)];
    out.push(t);
  }
  return out;
}

/** True when the string has an unpaired UTF-16 surrogate. */
export function hasLoneSurrogate(s: string): boolean {
  return /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(s);
}
