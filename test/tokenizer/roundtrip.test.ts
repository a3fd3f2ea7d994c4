import { describe, expect, it } from 'vitest';
import { createDetokenizer, createTokenizer, type Tokenizer } from '../../src/tokenizer';
import { buildByteLevelVocab, buildSentencePieceVocab } from '../../src/synth/vocab-builders';
import { fuzzTexts, hasLoneSurrogate, llama3Bpe, llamaSpm } from './helpers';
import { TEXTS } from './texts';

const tokenizers: [string, () => Tokenizer][] = [
  ['LLaMA SPM 32k', llamaSpm],
  ['llama3 BPE 128k', llama3Bpe],
  ['small byte-level BPE', () => createTokenizer(buildByteLevelVocab())],
  ['small SentencePiece', () => createTokenizer(buildSentencePieceVocab())],
];

/** Feeds ids one at a time; checks every chunk, returns the concatenation. */
function stream(tok: Tokenizer, ids: ArrayLike<number>, special = false): { text: string; chunks: string[] } {
  const d = createDetokenizer(tok, { special });
  const chunks: string[] = [];
  for (let i = 0; i < ids.length; i++) chunks.push(d.push(ids[i]));
  chunks.push(d.flush());
  return { text: chunks.join(''), chunks };
}

describe.each(tokenizers)('%s', (_name, make) => {
  const tok = make();
  const texts = [...TEXTS, ...fuzzTexts(500, 3)];

  it('decode(encode(x)) === x', () => {
    // SentencePiece writes spaces as U+2581, so a literal U+2581 decodes as a space (as in llama.cpp).
    for (const t of texts.filter((x) => tok.model !== 'llama' || !x.includes('\u2581'))) {
      expect(tok.decode(tok.encode(t))).toBe(t);
      expect(tok.decode(tok.encode(t, { addBos: false }))).toBe(t);
    }
  });

  it('the streaming detokenizer reproduces decode, one id at a time, never splitting a character', () => {
    for (const t of texts) {
      const ids = tok.encode(t);
      const { text, chunks } = stream(tok, ids);
      expect(text).toBe(tok.decode(ids));
      for (const c of chunks) {
        expect(hasLoneSurrogate(c)).toBe(false);
        if (!t.includes('\uFFFD')) expect(c.includes('\uFFFD')).toBe(false);
      }
    }
  });

  it('an emoji split over byte tokens comes out whole, only once all its bytes arrived', () => {
    const ids = tok.encode('🦙', { addBos: false });
    const { chunks } = stream(tok, ids);
    expect(chunks.join('')).toBe('🦙');
    expect(chunks.filter((c) => c !== '')).toEqual(['🦙']);
  });

  it('flush() emits an incomplete tail as U+FFFD, like decode, then starts over', () => {
    const ids = Array.from(tok.encode('x🦙', { addBos: false }));
    const cut = ids.slice(0, ids.length - 1); // drop the last byte of the emoji
    const d = createDetokenizer(tok);
    let s = '';
    for (const id of cut) s += d.push(id);
    s += d.flush();
    expect(s).toBe(tok.decode(cut));
    expect(s.endsWith('\uFFFD')).toBe(true);
    for (const id of ids) d.push(id);
    expect(d.flush()).toBe('');
  });

  it('tokenToPiece of BOS is empty unless special, then its text', () => {
    expect(tok.bos, 'each tokenizer here has a BOS').toBeGreaterThanOrEqual(0);
    expect(tok.tokenToPiece(tok.bos).length).toBe(0);
    expect(new TextDecoder().decode(tok.tokenToPiece(tok.bos, { special: true }))).toBe(tok.tokenText(tok.bos));
  });
});

describe('special tokens round trip', () => {
  it('llama3: text with control tokens decodes back with special: true', () => {
    const tok = llama3Bpe();
    const t = '<|start_header_id|>user<|end_header_id|>\n\nHi 😀<|eot_id|>';
    const ids = tok.encode(t, { addBos: false, parseSpecial: true });
    expect(tok.decode(ids, { special: true })).toBe(t);
    expect(tok.decode(ids)).toBe('user\n\nHi 😀');
    expect(stream(tok, ids, true).text).toBe(t);
    const withBos = tok.encode(t, { parseSpecial: true });
    expect(tok.decode(withBos, { special: true })).toBe(`<|begin_of_text|>${t}`);
  });

  it('SentencePiece: the leading space is stripped from the first text piece only', () => {
    const tok = llamaSpm();
    const ids = tok.encode('Hello world');
    expect(tok.decode(ids)).toBe('Hello world');
    expect(tok.decode(ids, { stripLeadingSpace: false })).toBe(' Hello world');
    expect(tok.decode(ids, { special: true })).toBe('<s> Hello world'); // as llama.cpp renders it
    expect(stream(tok, ids).text).toBe('Hello world');
    expect(tok.decode(tok.encode('  two spaces'))).toBe('  two spaces');
    expect(tok.decode(tok.encode('a\u2581b'))).toBe('a b'); // inherent to SentencePiece's escaping
  });
});
