import { Heap } from './heap';
import type { Vocab } from './vocab';

interface Bigram {
  left: number;
  right: number;
  rank: number;
  size: number;
}

const bigramFirst = (a: Bigram, b: Bigram) => a.rank < b.rank || (a.rank === b.rank && a.left < b.left);

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
  const len = new Int32Array(m).fill(1);
  const prev = new Int32Array(m);
  const next = new Int32Array(m);
  for (let k = 0; k < m; k++) {
    prev[k] = k - 1;
    next[k] = k + 1 < m ? k + 1 : -1;
  }
  const queue = new Heap<Bigram>(bigramFirst);
  const tryAdd = (left: number, right: number) => {
    if (left < 0 || right < 0) return;
    const rank = mergeRanks.get(`${word.substr(left, len[left])} ${word.substr(right, len[right])}`);
    if (rank === undefined) return;
    queue.push({ left, right, rank, size: len[left] + len[right] });
  };
  for (let k = 1; k < m; k++) tryAdd(k - 1, k);

  for (let b = queue.pop(); b !== undefined; b = queue.pop()) {
    const l = b.left;
    const r = b.right;
    if (len[l] === 0 || len[r] === 0 || len[l] + len[r] !== b.size) continue;
    len[l] += len[r];
    len[r] = 0;
    next[l] = next[r];
    if (next[r] >= 0) prev[next[r]] = l;
    tryAdd(prev[l], l);
    tryAdd(l, next[l]);
  }

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
