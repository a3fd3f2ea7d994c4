import { describe, expect, it } from 'vitest';
import { preTokenize } from '../../src/tokenizer';
import { fuzzTexts, llama, llama3, llama3Bpe, llamaSpm } from './helpers';
import { TEXTS } from './texts';

const LLAMA3_SPECIALS = ['<|begin_of_text|>', '<|eot_id|>', '<|start_header_id|>', '<|end_header_id|>', '<|reserved_special_token_5|>'];

describe('LLaMA SentencePiece (32k) vs llama-tokenizer-js', () => {
  const tok = llamaSpm();

  it('loads the real vocabulary', () => {
    expect(tok.model).toBe('llama');
    expect(tok.vocabSize).toBe(32000);
    expect(tok.bos).toBe(1);
    expect(tok.eos).toBe(2);
    expect(tok.addBos).toBe(true);
    expect(tok.addSpacePrefix).toBe(true);
    expect(tok.isControl(1)).toBe(true);
    expect(tok.isControl(29871)).toBe(false);
  });

  it.each(TEXTS.map((t) => [t]))('same ids with BOS: %j', (text) => {
    expect(Array.from(tok.encode(text))).toEqual(llama.encode(text, true, true));
  });

  it('same ids without BOS', () => {
    for (const text of TEXTS) expect(Array.from(tok.encode(text, { addBos: false }))).toEqual(llama.encode(text, false, true));
  });

  it('same ids on 3000 deterministic random texts', () => {
    const diffs = fuzzTexts(3000, 7).filter((t) => JSON.stringify(Array.from(tok.encode(t))) !== JSON.stringify(llama.encode(t, true, true)));
    expect(diffs).toEqual([]);
  });

  it("the package's own expected ids (from the real tokenizer)", () => {
    expect(Array.from(tok.encode('grabbed'))).toEqual([1, 2646, 1327, 287]);
    expect(Array.from(tok.encode('           grabbed'))).toEqual([1, 9651, 2646, 1327, 287]);
    expect(Array.from(tok.encode('\ttabs\t\t\t\tout here'))).toEqual([1, 29871, 12, 21175, 12, 12, 12, 12, 449, 1244]);
    expect(Array.from(tok.encode('🦙Ꙋ'))).toEqual([1, 29871, 243, 162, 169, 156, 237, 156, 141]);
  });

  it('known difference: empty text gives [BOS] (llama.cpp), the package gives []', () => {
    expect(Array.from(tok.encode(''))).toEqual([1]);
    expect(llama.encode('', true, true)).toEqual([]);
    expect(Array.from(tok.encode('', { addBos: false }))).toEqual([]);
  });

  it('special tokens: split out only with parseSpecial, and a space prefix follows them (llama.cpp)', () => {
    expect(Array.from(tok.encode('<s>Hi</s>', { addBos: false }))).toEqual(llama.encode('<s>Hi</s>', false, true));
    const ids = Array.from(tok.encode('Hi</s>Hi', { addBos: false, parseSpecial: true }));
    const hi = llama.encode('Hi', false, true);
    expect(ids).toEqual([...hi, 2, ...hi]);
  });
});

describe('llama3 byte-level BPE (128k) vs llama3-tokenizer-js', () => {
  const tok = llama3Bpe();

  it('loads the real vocabulary', () => {
    expect(tok.model).toBe('gpt2');
    expect(tok.preKind).toBe('llama3');
    expect(tok.vocabSize).toBe(128256);
    expect(tok.bos).toBe(128000);
    expect(tok.addBos).toBe(true);
    expect(tok.addSpacePrefix).toBe(false);
    expect(tok.isControl(128009)).toBe(true);
    expect(tok.isEog(128009)).toBe(true); // <|eot_id|>, recognized by text as llama.cpp does
    expect(tok.isEog(128001)).toBe(true);
    expect(tok.isEog(40)).toBe(false);
  });

  it.each(TEXTS.map((t) => [t]))('same ids with BOS: %j', (text) => {
    expect(Array.from(tok.encode(text))).toEqual(llama3.encode(text, { bos: true, eos: false }));
  });

  it('same ids without BOS, and with special tokens in the text', () => {
    for (const text of TEXTS) expect(Array.from(tok.encode(text, { addBos: false }))).toEqual(llama3.encode(text, { bos: false, eos: false }));
    const chat = '<|start_header_id|>user<|end_header_id|>\n\nHi there!<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n';
    expect(Array.from(tok.encode(chat, { parseSpecial: true }))).toEqual(llama3.encode(chat, { bos: true, eos: false }));
  });

  it('same ids on 3000 deterministic random texts with special tokens', () => {
    const diffs = fuzzTexts(3000, 11, LLAMA3_SPECIALS).filter(
      (t) => JSON.stringify(Array.from(tok.encode(t, { parseSpecial: true }))) !== JSON.stringify(llama3.encode(t, { bos: true, eos: false })),
    );
    expect(diffs).toEqual([]);
  });

  it("the package's own expected ids", () => {
    const e = (s: string) => Array.from(tok.encode(s, { addBos: false }));
    expect(e('grabbed')).toEqual([59312, 2788]);
    expect(e('           grabbed')).toEqual([1881, 30418]);
    expect(e(' \n')).toEqual([720]);
    expect(e('\ttabs\t\t\t\tout here')).toEqual([3324, 3518, 573, 14294, 1618]);
    expect(e('🦙Ꙋ')).toEqual([9468, 99, 247, 166, 247, 232]);
    expect(e('This is a test sentence.')).toEqual([2028, 374, 264, 1296, 11914, 13]);
  });

  it('control tokens in the text are plain text unless parseSpecial (llama.cpp); the package always parses', () => {
    const plain = Array.from(tok.encode('a<|eot_id|>', { addBos: false }));
    expect(plain).not.toContain(128009);
    expect(tok.decode(plain)).toBe('a<|eot_id|>');
    expect(Array.from(tok.encode('a<|eot_id|>', { addBos: false, parseSpecial: true }))).toEqual([64, 128009]);
  });

  it('known difference: whitespace is Unicode White_Space (llama.cpp), not JavaScript \\s', () => {
    // U+0085 is White_Space but not JS \s; U+FEFF is JS \s but not White_Space.
    expect(preTokenize('llama3', 'x\u0085,')).toEqual(['x', '\u0085', ',']);
    expect(preTokenize('llama3', 'a\ufeff,')).toEqual(['a', '\ufeff,']);
    const mine = Array.from(tok.encode('\u0085,x', { addBos: false }));
    expect(mine).toEqual([116360, 13095]); // '\u0085' ',x' as llama.cpp splits it
    expect(llama3.encode('\u0085,x', { bos: false, eos: false })).toEqual([116360, 11, 87]); // '\u0085,' 'x'
  });
});
