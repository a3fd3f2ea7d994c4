import { mergeSymbols } from './merge';
import type { Vocab } from './vocab';

/**
 * Byte-level BPE over one pre-token already mapped to the GPT-2 byte alphabet (one UTF-16 unit
 * per byte), as llama.cpp's llm_tokenizer_bpe_session: with ignore_merges a pre-token that is
 * itself a vocabulary entry is emitted whole; otherwise start from single bytes, repeatedly
 * merge the adjacent pair with the lowest merge rank (ties: leftmost), and emit each symbol's
 * token; a symbol missing from the vocabulary falls back to its ASCII characters' tokens
 * (llama.cpp looks up each UTF-8 byte as a one-byte string; only ASCII can match).
 */
export function bpeTokenizeWord(vocab: Vocab, word: string, out: number[]): void {
  const { textToId, mergeRanks } = vocab;
  const m = word.length;
  if (m === 0) return;
  if (vocab.ignoreMerges || m === 1) {
    const whole = textToId.get(word);
    if (whole !== undefined) {
      out.push(whole);
      return;
    }
  }
  // Symbol k starts at k (merges join neighbours), so its text is word.substr(k, len[k]).
  const len = new Int32Array(m).fill(1);
  const next = mergeSymbols(m, len, (l, r) => {
    const rank = mergeRanks.get(`${word.substr(l, len[l])} ${word.substr(r, len[r])}`);
    return rank === undefined ? undefined : -rank; // lowest rank first
  });

  for (let k = 0; k !== -1; k = next[k]) {
    const piece = word.substr(k, len[k]);
    const id = textToId.get(piece);
    if (id !== undefined) {
      out.push(id);
      continue;
    }
    for (let i = 0; i < piece.length; i++) {
      const c = piece.charCodeAt(i);
      if (c >= 0x80) continue;
      const single = textToId.get(piece[i]);
      if (single !== undefined) out.push(single);
    }
  }
}
