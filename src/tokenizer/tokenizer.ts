import { BitnetError } from '../errors';
import { bpeTokenizeWord } from './bpe';
import { byteLevelToBytes, bytesToByteLevel } from './byte-level';
import { preTokenize } from './pretokenize';
import { splitSpecial } from './special';
import { SPM_SPACE, spmTokenize } from './spm';
import { loadVocab, TokenType, type PreTokenizerKind, type TokenizerModel, type Vocab } from './vocab';

export interface EncodeOptions {
  /** Prepend the BOS token. Default: the model's `tokenizer.ggml.add_bos_token` (llama.cpp defaults). */
  addBos?: boolean;
  /** Append the EOS token. Default: the model's `tokenizer.ggml.add_eos_token` (usually false). */
  addEos?: boolean;
  /**
   * Recognize control tokens written in the text (e.g. `<|eot_id|>`) as single tokens.
   * Default false, as llama.cpp's common_tokenize. User-defined tokens are always recognized.
   */
  parseSpecial?: boolean;
}

export interface PieceOptions {
  /** Render control and unknown tokens as their text instead of nothing. Default false. */
  special?: boolean;
}

export interface DecodeOptions extends PieceOptions {
  /**
   * Remove one leading space from the first non-empty piece, undoing the space prefix that
   * SentencePiece encoding adds. Default: the model's add_space_prefix (true for llama).
   */
  stripLeadingSpace?: boolean;
}

export interface Tokenizer {
  readonly model: TokenizerModel;
  /** `tokenizer.ggml.pre` ('' when absent) and the pre-tokenizer family used for it. */
  readonly pre: string;
  readonly preKind: PreTokenizerKind;
  readonly vocabSize: number;
  /** Special token ids, -1 when the vocabulary has none. */
  readonly bos: number;
  readonly eos: number;
  readonly eot: number;
  readonly unk: number;
  readonly pad: number;
  readonly addBos: boolean;
  readonly addEos: boolean;
  readonly addSpacePrefix: boolean;
  encode(text: string, options?: EncodeOptions): Int32Array;
  decode(ids: ArrayLike<number>, options?: DecodeOptions): string;
  /** The bytes a token stands for (llama.cpp's token_to_piece): not always valid UTF-8 alone. */
  tokenToPiece(id: number, options?: PieceOptions): Uint8Array;
  /** The token's vocabulary string, as stored in the file. */
  tokenText(id: number): string;
  /** The token's GGUF type (1 normal, 2 unknown, 3 control, 4 user-defined, 5 unused, 6 byte). */
  tokenType(id: number): number;
  /** Id of the vocabulary entry spelled exactly `text`, or undefined. */
  tokenId(text: string): number | undefined;
  isControl(id: number): boolean;
  /** End of generation: EOS, EOT/EOM and the end-of-turn tokens llama.cpp recognizes. */
  isEog(id: number): boolean;
}

const EMPTY = new Uint8Array(0);
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;
/** Pre-token cache bound (BPE results per pre-token are deterministic, so caching is exact). */
const CACHE_LIMIT = 65536;

/** Builds a tokenizer from GGUF `tokenizer.ggml.*` metadata. Throws BitnetError('BAD_ARGUMENT'). */
export function createTokenizer(metadata: Record<string, unknown>): Tokenizer {
  return new GgufTokenizer(loadVocab(metadata));
}

class GgufTokenizer implements Tokenizer {
  readonly model: TokenizerModel;
  readonly pre: string;
  readonly preKind: PreTokenizerKind;
  readonly vocabSize: number;
  readonly bos: number;
  readonly eos: number;
  readonly eot: number;
  readonly unk: number;
  readonly pad: number;
  readonly addBos: boolean;
  readonly addEos: boolean;
  readonly addSpacePrefix: boolean;
  private readonly pieces: (Uint8Array | undefined)[];
  private readonly wordCache = new Map<string, number[]>();
  private readonly enc = new TextEncoder();

  constructor(private readonly vocab: Vocab) {
    this.model = vocab.model;
    this.pre = vocab.pre;
    this.preKind = vocab.preKind;
    this.vocabSize = vocab.tokens.length;
    this.bos = vocab.bos;
    this.eos = vocab.eos;
    this.eot = vocab.eot;
    this.unk = vocab.unk;
    this.pad = vocab.pad;
    this.addBos = vocab.addBos;
    this.addEos = vocab.addEos;
    this.addSpacePrefix = vocab.addSpacePrefix;
    this.pieces = new Array(this.vocabSize);
  }

  encode(text: string, options: EncodeOptions = {}): Int32Array {
    if (typeof text !== 'string') throw new BitnetError('BAD_ARGUMENT', 'encode: text must be a string');
    const v = this.vocab;
    const addBos = options.addBos ?? v.addBos;
    const addEos = options.addEos ?? v.addEos;
    if (addBos && v.bos < 0) throw new BitnetError('BAD_ARGUMENT', 'encode: addBos, but the vocabulary has no BOS token');
    if (addEos && v.eos < 0) throw new BitnetError('BAD_ARGUMENT', 'encode: addEos, but the vocabulary has no EOS token');
    // llama.cpp tokenizes UTF-8; a lone surrogate would become U+FFFD on the way there.
    const wellFormed = text.replace(LONE_SURROGATE, '\uFFFD');
    const out: number[] = [];
    if (addBos) out.push(v.bos);
    const frags = splitSpecial(v, wellFormed, options.parseSpecial ?? false);
    if (v.model === 'llama') {
      let prevSpecial = true; // llama.cpp: prefix a space at the start and after every special token
      for (const f of frags) {
        if (typeof f === 'number') {
          out.push(f);
          prevSpecial = true;
          continue;
        }
        const t = v.addSpacePrefix && prevSpecial ? ` ${f}` : f;
        spmTokenize(v, t.replaceAll(' ', SPM_SPACE), out);
        prevSpecial = false;
      }
    } else {
      for (const f of frags) {
        if (typeof f === 'number') out.push(f);
        else this.encodeBpeText(f, out);
      }
    }
    if (addEos) out.push(v.eos);
    return Int32Array.from(out);
  }

  private encodeBpeText(text: string, out: number[]): void {
    const cache = this.wordCache;
    for (const word of preTokenize(this.vocab.preKind, text)) {
      let ids = cache.get(word);
      if (ids === undefined) {
        ids = [];
        bpeTokenizeWord(this.vocab, bytesToByteLevel(this.enc.encode(word)), ids);
        if (cache.size >= CACHE_LIMIT) cache.clear();
        cache.set(word, ids);
      }
      for (let i = 0; i < ids.length; i++) out.push(ids[i]);
    }
  }

  private checkId(id: number, where: string): void {
    if (!Number.isInteger(id) || id < 0 || id >= this.vocabSize) {
      throw new BitnetError('BAD_ARGUMENT', `${where}: token id ${id} is outside the vocabulary (size ${this.vocabSize})`);
    }
  }

  tokenToPiece(id: number, options: PieceOptions = {}): Uint8Array {
    this.checkId(id, 'tokenToPiece');
    const type = this.vocab.types[id];
    if (!options.special && (type === TokenType.CONTROL || type === TokenType.UNKNOWN)) return EMPTY;
    let p = this.pieces[id];
    if (p === undefined) {
      p = this.computePiece(id);
      this.pieces[id] = p;
    }
    return p;
  }

  /** llama.cpp's token_to_piece with special = true. */
  private computePiece(id: number): Uint8Array {
    const v = this.vocab;
    const text = v.tokens[id];
    switch (v.types[id]) {
      case TokenType.CONTROL:
      case TokenType.UNKNOWN:
      case TokenType.USER_DEFINED:
        return this.enc.encode(text);
      case TokenType.NORMAL:
        return v.model === 'llama' ? this.enc.encode(text.replaceAll(SPM_SPACE, ' ')) : byteLevelToBytes(text, this.enc);
      case TokenType.BYTE: {
        const b = parseInt(text.slice(3, 5), 16);
        return Number.isNaN(b) ? EMPTY : Uint8Array.of(b);
      }
      default:
        return EMPTY; // unused and undefined tokens render as nothing, as in llama.cpp
    }
  }

  decode(ids: ArrayLike<number>, options: DecodeOptions = {}): string {
    if (ids === null || typeof ids !== 'object' || typeof ids.length !== 'number') {
      throw new BitnetError('BAD_ARGUMENT', 'decode: ids must be an array of token ids');
    }
    const special = options.special ?? false;
    let strip = options.stripLeadingSpace ?? this.addSpacePrefix;
    const parts: Uint8Array[] = [];
    let total = 0;
    for (let i = 0; i < ids.length; i++) {
      let p = this.tokenToPiece(ids[i], { special });
      if (p.length === 0) continue;
      if (strip) {
        if (p[0] === 0x20) p = p.subarray(1);
        strip = false;
      }
      parts.push(p);
      total += p.length;
    }
    const bytes = new Uint8Array(total);
    let o = 0;
    for (const p of parts) {
      bytes.set(p, o);
      o += p.length;
    }
    return new TextDecoder('utf-8', { ignoreBOM: true }).decode(bytes);
  }

  tokenText(id: number): string {
    this.checkId(id, 'tokenText');
    return this.vocab.tokens[id];
  }

  tokenType(id: number): number {
    this.checkId(id, 'tokenType');
    return this.vocab.types[id];
  }

  tokenId(text: string): number | undefined {
    return this.vocab.textToId.get(text);
  }

  isControl(id: number): boolean {
    this.checkId(id, 'isControl');
    return this.vocab.types[id] === TokenType.CONTROL;
  }

  isEog(id: number): boolean {
    return this.vocab.eogIds.has(id);
  }
}
