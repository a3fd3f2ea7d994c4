import { describe, expect, it } from 'vitest';
import { BitnetError } from '../../src/errors';
import { createDetokenizer, createTokenizer } from '../../src/tokenizer';
import { buildByteLevelVocab, buildSentencePieceVocab } from '../../src/synth/vocab-builders';

function expectBadArgument(fn: () => unknown, message?: RegExp): void {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  expect(caught).toBeInstanceOf(BitnetError);
  expect((caught as BitnetError).code).toBe('BAD_ARGUMENT');
  if (message) expect((caught as BitnetError).message).toMatch(message);
}

const spm = () => buildSentencePieceVocab({ merges: 32 });
const bpe = () => buildByteLevelVocab({ merges: 32 });
const without = (md: Record<string, unknown>, key: string) => {
  const copy = { ...md };
  delete copy[key];
  return copy;
};

describe('bad metadata', () => {
  it('not an object', () => {
    expectBadArgument(() => createTokenizer(null as unknown as Record<string, unknown>));
    expectBadArgument(() => createTokenizer('llama' as unknown as Record<string, unknown>));
  });

  it('missing keys', () => {
    expectBadArgument(() => createTokenizer(without(spm(), 'tokenizer.ggml.model')), /missing tokenizer\.ggml\.model/);
    expectBadArgument(() => createTokenizer(without(spm(), 'tokenizer.ggml.tokens')), /missing tokenizer\.ggml\.tokens/);
    expectBadArgument(() => createTokenizer(without(bpe(), 'tokenizer.ggml.merges')), /merges/);
  });

  it('duplicate tokens are refused with both ids; empty ones are renamed [EMPTY_id] first (as llama.cpp)', () => {
    const md = bpe();
    const tokens = [...(md['tokenizer.ggml.tokens'] as string[])];
    expectBadArgument(() => createTokenizer({ ...md, 'tokenizer.ggml.tokens': [...tokens, tokens[40]] }), new RegExp(`duplicate token '.+' at ids 40 and ${tokens.length}$`));
    tokens[3] = '';
    tokens[7] = '';
    const t = createTokenizer({ ...md, 'tokenizer.ggml.tokens': tokens });
    expect([t.tokenId('[EMPTY_3]'), t.tokenId('[EMPTY_7]'), t.tokenText(7), t.tokenId('')]).toEqual([3, 7, '[EMPTY_7]', undefined]);
    expectBadArgument(() => createTokenizer({ ...md, 'tokenizer.ggml.tokens': [...tokens, '[EMPTY_3]'] }), /duplicate token '\[EMPTY_3\]' at ids 3 and/);
  });

  it('unknown tokenizer model or pre-tokenizer', () => {
    expectBadArgument(() => createTokenizer({ ...spm(), 'tokenizer.ggml.model': 't5' }), /unsupported tokenizer model 't5'/);
    expectBadArgument(() => createTokenizer({ ...spm(), 'tokenizer.ggml.model': 42 }));
    expectBadArgument(() => createTokenizer({ ...bpe(), 'tokenizer.ggml.pre': 'no-such-pre' }), /pre-tokenizer/);
  });

  it('malformed arrays', () => {
    expectBadArgument(() => createTokenizer({ ...spm(), 'tokenizer.ggml.tokens': [] }), /empty/);
    expectBadArgument(() => createTokenizer({ ...spm(), 'tokenizer.ggml.tokens': ['a', 1] }));
    expectBadArgument(() => createTokenizer({ ...spm(), 'tokenizer.ggml.tokens': ['a', 'b', 'a'] }), /duplicate/);
    expectBadArgument(() => createTokenizer({ ...spm(), 'tokenizer.ggml.scores': [0, 1] }), /scores/);
    expectBadArgument(() => createTokenizer({ ...spm(), 'tokenizer.ggml.token_type': 'x' }), /token_type/);
    expectBadArgument(() => createTokenizer({ ...bpe(), 'tokenizer.ggml.merges': [1, 2] }), /merges/);
  });

  it('special token ids outside the vocabulary or missing when required', () => {
    expectBadArgument(() => createTokenizer({ ...spm(), 'tokenizer.ggml.bos_token_id': 1e6 }), /outside the vocabulary/);
    expectBadArgument(() => createTokenizer({ ...spm(), 'tokenizer.ggml.eos_token_id': -1 }), /outside the vocabulary/);
    expectBadArgument(() => createTokenizer({ ...spm(), 'tokenizer.ggml.bos_token_id': 1.5 }), /integer/);
    expectBadArgument(() => createTokenizer(without(bpe(), 'tokenizer.ggml.bos_token_id')), /add_bos_token is true/);
  });
});

describe('bad calls', () => {
  const tok = createTokenizer(spm());

  it('ids out of range', () => {
    for (const id of [-1, tok.vocabSize, 1.5, Number.NaN]) {
      expectBadArgument(() => tok.decode([5, id]), /outside the vocabulary/);
      expectBadArgument(() => tok.tokenToPiece(id));
      expectBadArgument(() => tok.tokenText(id));
      expectBadArgument(() => createDetokenizer(tok).push(id));
    }
  });

  it('wrong argument types', () => {
    expectBadArgument(() => tok.encode(42 as unknown as string));
    expectBadArgument(() => tok.decode(null as unknown as number[]));
    expectBadArgument(() => createDetokenizer({} as never));
  });

  it('addBos or addEos without such a token', () => {
    const md = { ...bpe(), 'tokenizer.ggml.add_bos_token': false };
    delete md['tokenizer.ggml.bos_token_id'];
    delete md['tokenizer.ggml.eos_token_id'];
    const t = createTokenizer(md);
    expect(t.bos).toBe(-1);
    expect(Array.from(t.encode('hi')).length).toBeGreaterThan(0);
    expectBadArgument(() => t.encode('hi', { addBos: true }), /BOS/);
    expectBadArgument(() => t.encode('hi', { addEos: true }), /EOS/);
  });
});
