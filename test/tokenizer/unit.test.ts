import { describe, expect, it } from 'vitest';
import {
  BYTE_TO_CHAR,
  byteLevelToBytes,
  bytesToByteLevel,
  createTokenizer,
  preTokenize,
  TokenType,
} from '../../src/tokenizer';
import { buildByteLevelVocab, buildSentencePieceVocab } from '../../src/synth/vocab-builders';

describe('GPT-2 byte-level alphabet', () => {
  it('is a bijection with the known anchors', () => {
    expect(new Set(BYTE_TO_CHAR).size).toBe(256);
    expect(BYTE_TO_CHAR[0x20]).toBe('Ġ');
    expect(BYTE_TO_CHAR[0x0a]).toBe('Ċ');
    expect(BYTE_TO_CHAR[0x41]).toBe('A');
    expect(BYTE_TO_CHAR[0x00]).toBe('Ā');
    expect(BYTE_TO_CHAR[0xad]).toBe('Ń');
    const all = Uint8Array.from({ length: 256 }, (_, i) => i);
    expect(Array.from(byteLevelToBytes(bytesToByteLevel(all), new TextEncoder()))).toEqual(Array.from(all));
  });
});

describe('pre-tokenizers', () => {
  it('llama3 pattern', () => {
    expect(preTokenize('llama3', 'Hello world')).toEqual(['Hello', ' world']);
    expect(preTokenize('llama3', "I'M here, they'Re")).toEqual(['I', "'M", ' here', ',', ' they', "'Re"]);
    expect(preTokenize('llama3', '1234567')).toEqual(['123', '456', '7']);
    expect(preTokenize('llama3', '   x')).toEqual(['  ', ' x']);
    expect(preTokenize('llama3', 'a  \n\n b')).toEqual(['a', '  \n\n', ' b']);
    expect(preTokenize('llama3', 'x!!\n\ny')).toEqual(['x', '!!\n\n', 'y']);
    expect(preTokenize('llama3', 'end   ')).toEqual(['end', '   ']);
    expect(preTokenize('llama3', ' 12')).toEqual([' ', '12']);
  });

  it('gpt-2 pattern', () => {
    expect(preTokenize('gpt2', "Hello world's 12345 ok!!")).toEqual(['Hello', ' world', "'s", ' 12345', ' ok', '!!']);
    expect(preTokenize('gpt2', 'a \tb')).toEqual(['a', ' ', '\t', 'b']);
    expect(preTokenize('gpt2', "IT'S")).toEqual(['IT', "'", 'S']); // case-sensitive, unlike llama3
  });

  it('default (llama.cpp fallback) patterns applied in turn', () => {
    expect(preTokenize('default', 'hi, there 12345')).toEqual(['hi', ',', ' there', ' ', '123', '45']);
  });
});

describe('SentencePiece behaviour (small vocabulary)', () => {
  const md = buildSentencePieceVocab();
  const tok = createTokenizer(md);

  it('has LLaMA-style layout', () => {
    expect(tok.model).toBe('llama');
    expect(tok.tokenText(0)).toBe('<unk>');
    expect(tok.tokenType(0)).toBe(TokenType.UNKNOWN);
    expect(tok.tokenText(3)).toBe('<0x00>');
    expect(tok.tokenType(3 + 0x0a)).toBe(TokenType.BYTE);
  });

  it('merges the highest-scoring pair first and prefixes a space', () => {
    const ids = Array.from(tok.encode('the', { addBos: false }));
    expect(ids.map((i) => tok.tokenText(i)).join('')).toBe('\u2581the');
    expect(ids.length).toBe(1);
  });

  it('falls back to byte tokens for characters outside the vocabulary', () => {
    const ids = Array.from(tok.encode('日', { addBos: false }));
    const bytes = [0xe6, 0x97, 0xa5];
    expect(ids.slice(-3)).toEqual(bytes.map((b) => 3 + b));
  });

  it('without byte tokens, falls back to the unknown token', () => {
    const tokens = (md['tokenizer.ggml.tokens'] as string[]).map((t) => (/^<0x/.test(t) ? `${t}!` : t));
    const t2 = createTokenizer({ ...md, 'tokenizer.ggml.tokens': tokens });
    expect(Array.from(t2.encode('日', { addBos: false })).slice(-3)).toEqual([0, 0, 0]);
  });

  it('add_space_prefix = false is honoured', () => {
    const t2 = createTokenizer({ ...md, 'tokenizer.ggml.add_space_prefix': false });
    const ids = Array.from(t2.encode('the', { addBos: false }));
    expect(ids.map((i) => t2.tokenText(i)).join('')).toBe('the');
    expect(t2.decode(ids)).toBe('the');
  });

  it('add_eos_token appends EOS', () => {
    const t2 = createTokenizer({ ...md, 'tokenizer.ggml.add_eos_token': true });
    const ids = Array.from(t2.encode('the'));
    expect(ids[0]).toBe(1);
    expect(ids[ids.length - 1]).toBe(2);
    expect(t2.decode(ids)).toBe('the');
  });

  it('user-defined tokens are split out even without parseSpecial', () => {
    const tokens = [...(md['tokenizer.ggml.tokens'] as string[]), '<tool>'];
    const types = [...(md['tokenizer.ggml.token_type'] as number[]), TokenType.USER_DEFINED];
    const scores = [...(md['tokenizer.ggml.scores'] as Float32Array), 0];
    const t2 = createTokenizer({ ...md, 'tokenizer.ggml.tokens': tokens, 'tokenizer.ggml.token_type': types, 'tokenizer.ggml.scores': scores });
    const id = tokens.length - 1;
    expect(Array.from(t2.encode('a<tool>b', { addBos: false }))).toContain(id);
    expect(t2.decode(t2.encode('a<tool>b'))).toBe('a<tool> b'); // space prefix after a special token
  });
});

describe('byte-level BPE behaviour (small vocabulary)', () => {
  const md = buildByteLevelVocab();
  const tok = createTokenizer(md);

  it('layout: 256 byte tokens, merged tokens, three control tokens', () => {
    expect(tok.tokenText(0x20)).toBe('Ġ');
    expect(tok.vocabSize).toBe(256 + (md['tokenizer.ggml.merges'] as string[]).length + 3);
    expect(tok.isControl(tok.bos)).toBe(true);
    expect(tok.tokenText(tok.bos)).toBe('<|begin_of_text|>');
    expect(tok.isEog(tok.tokenId('<|eot_id|>') as number)).toBe(true);
  });

  it('merges reduce common words to few tokens', () => {
    expect(tok.encode(' the', { addBos: false }).length).toBe(1);
    expect(tok.encode('tokenizer', { addBos: false }).length).toBeLessThan(5);
  });

  it('ignore_merges (llama3) emits a whole-word vocabulary entry directly', () => {
    // A vocabulary entry no merge sequence reaches: only ignore_merges can produce it.
    const tokens = [...(md['tokenizer.ggml.tokens'] as string[]), 'xyzzy'];
    const types = [...(md['tokenizer.ggml.token_type'] as number[]), TokenType.NORMAL];
    const id = tokens.length - 1;
    const t3 = createTokenizer({ ...md, 'tokenizer.ggml.tokens': tokens, 'tokenizer.ggml.token_type': types });
    expect(Array.from(t3.encode('xyzzy', { addBos: false }))).toEqual([id]);
    const t2 = createTokenizer({ ...md, 'tokenizer.ggml.tokens': tokens, 'tokenizer.ggml.token_type': types, 'tokenizer.ggml.pre': 'gpt-2' });
    expect(Array.from(t2.encode('xyzzy', { addBos: false }))).not.toEqual([id]);
    expect(t2.addBos).toBe(true); // from add_bos_token in the metadata
  });

  it('accepts bigint ids and typed arrays, as GGUF readers return them', () => {
    const t2 = createTokenizer({
      ...md,
      'tokenizer.ggml.bos_token_id': BigInt(md['tokenizer.ggml.bos_token_id'] as number),
      'tokenizer.ggml.token_type': Int32Array.from(md['tokenizer.ggml.token_type'] as number[]),
    });
    expect(t2.bos).toBe(tok.bos);
    expect(Array.from(t2.encode('hello there'))).toEqual(Array.from(tok.encode('hello there')));
  });

  it('is deterministic', () => {
    expect(buildByteLevelVocab()).toEqual(md);
    expect(buildSentencePieceVocab()).toEqual(buildSentencePieceVocab());
  });
});
