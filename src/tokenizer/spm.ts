import { BitnetError } from '../errors';
import { mergeSymbols } from './merge';
import type { Vocab } from './vocab';

/** U+2581 LOWER ONE EIGHTH BLOCK: SentencePiece's visible space. */
export const SPM_SPACE = '\u2581';

const utf8 = new TextEncoder();

/**
 * SentencePiece BPE over one text fragment whose spaces are already escaped to U+2581, as
 * llama.cpp's llm_tokenizer_spm_session: start from single code points, repeatedly merge the
 * adjacent pair whose concatenation is the vocabulary entry with the highest score (ties: the
 * leftmost pair), then emit each symbol's token or, when the symbol is not in the vocabulary,
 * one byte token per UTF-8 byte (byte fallback, unknown token if the byte has no token).
 *
 * Symbol lengths are counted in UTF-16 units instead of UTF-8 bytes; the staleness test on a
 * queued pair only needs lengths that grow with each merge, so the result is the same.
 */
export function spmTokenize(vocab: Vocab, text: string, out: number[]): void {
  const n = text.length;
  if (n === 0) return;
  const start = new Int32Array(n);
  let m = 0;
  for (let i = 0; i < n; ) {
    start[m++] = i;
    const c = text.charCodeAt(i);
    i += c >= 0xd800 && c < 0xdc00 && i + 1 < n && (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00 ? 2 : 1;
  }
  const len = new Int32Array(m);
  for (let k = 0; k < m; k++) len[k] = (k + 1 < m ? start[k + 1] : n) - start[k];

  const { textToId, scores } = vocab;
  const next = mergeSymbols(m, len, (l, r) => {
    const id = textToId.get(text.substr(start[l], len[l] + len[r]));
    return id === undefined ? undefined : scores[id]; // highest score first
  });

  for (let k = 0; k !== -1; k = next[k]) {
    const piece = text.substr(start[k], len[k]);
    const id = textToId.get(piece);
    if (id !== undefined) {
      out.push(id);
      continue;
    }
    for (const byte of utf8.encode(piece)) out.push(byteToken(vocab, byte));
  }
}

function byteToken(vocab: Vocab, byte: number): number {
  const id = vocab.byteTokens[byte];
  if (id >= 0) return id;
  if (vocab.unk >= 0) return vocab.unk;
  throw new BitnetError(
    'BAD_ARGUMENT',
    `tokenizer: no byte token <0x${byte.toString(16).toUpperCase().padStart(2, '0')}> and no unknown token for byte fallback`,
  );
}
