export { createTokenizer } from './tokenizer';
export type { Tokenizer, EncodeOptions, DecodeOptions, PieceOptions } from './tokenizer';
export { createDetokenizer } from './detokenizer';
export type { Detokenizer } from './detokenizer';
export { TokenType, loadVocab } from './vocab';
export type { Vocab, TokenizerModel, PreTokenizerKind, TokenTypeValue } from './vocab';
export { preTokenize } from './pretokenize';
export { BYTE_TO_CHAR, bytesToByteLevel, byteLevelToBytes } from './byte-level';
