import { BitnetError } from '../errors';
import { buildStringLookup, type StringLookup } from './string-index';

/** GGUF `tokenizer.ggml.token_type` values. */
export const TokenType = {
  UNDEFINED: 0,
  NORMAL: 1,
  UNKNOWN: 2,
  CONTROL: 3,
  USER_DEFINED: 4,
  UNUSED: 5,
  BYTE: 6,
} as const;
export type TokenTypeValue = (typeof TokenType)[keyof typeof TokenType];

export type TokenizerModel = 'llama' | 'gpt2';

/** Pre-tokenizer families implemented here (llama.cpp's LLAMA_VOCAB_PRE_TYPE_*). */
export type PreTokenizerKind = 'llama3' | 'gpt2' | 'default';

/** `tokenizer.ggml.pre` names, mapped as llama.cpp's llama_vocab::load does. */
const PRE_NAMES: Record<string, PreTokenizerKind> = {
  default: 'default',
  llama3: 'llama3',
  'llama-v3': 'llama3',
  'llama-bpe': 'llama3',
  falcon3: 'llama3',
  'falcon-h1': 'llama3',
  pixtral: 'llama3',
  'midm-2.0': 'llama3',
  lfm2: 'llama3',
  dbrx: 'llama3',
  'smaug-bpe': 'llama3',
  'gpt-2': 'gpt2',
  'phi-2': 'gpt2',
  'jina-es': 'gpt2',
  'jina-de': 'gpt2',
  'jina-v2-es': 'gpt2',
  'jina-v2-de': 'gpt2',
  gigachat: 'gpt2',
  mpt: 'gpt2',
  olmo: 'gpt2',
  jais: 'gpt2',
  trillion: 'gpt2',
  exaone4: 'gpt2',
};

/** The validated vocabulary every tokenizer part works from. */
export interface Vocab {
  readonly model: TokenizerModel;
  /** `tokenizer.ggml.pre` as given ('' when absent). */
  readonly pre: string;
  readonly preKind: PreTokenizerKind;
  readonly tokens: readonly string[];
  readonly scores: Float32Array;
  /** token types, 0 for values outside 1..6 (llama.cpp: LLAMA_TOKEN_ATTR_UNDEFINED). */
  readonly types: Uint8Array;
  readonly textToId: StringLookup;
  /** BPE merges "left right" -> rank (first occurrence wins, as in llama.cpp). Empty for SPM. */
  readonly mergeRanks: StringLookup;
  /** -1 when absent. */
  readonly bos: number;
  readonly eos: number;
  readonly unk: number;
  readonly pad: number;
  readonly eot: number;
  readonly eom: number;
  readonly addBos: boolean;
  readonly addEos: boolean;
  readonly addSpacePrefix: boolean;
  /** BPE: a pre-token that is a whole vocabulary entry is emitted without merging (llama3). */
  readonly ignoreMerges: boolean;
  /** Control, user-defined and unknown tokens, longest text first (llama.cpp cache_special_tokens). */
  readonly specialIds: readonly number[];
  /** End-of-generation tokens: eos, eot, eom and tokens llama.cpp recognizes by text. */
  readonly eogIds: ReadonlySet<number>;
  /** SPM byte fallback: byte -> token id, -1 when the vocabulary has none. */
  readonly byteTokens: Int32Array;
}

const KEY = 'tokenizer.ggml.';
const NO_MERGES: StringLookup = { get: () => undefined, size: 0 };

function bad(message: string): never {
  throw new BitnetError('BAD_ARGUMENT', `tokenizer metadata: ${message}`);
}

function isArrayLikeOfNumbers(v: unknown): v is ArrayLike<number | bigint> {
  if (ArrayBuffer.isView(v) && !(v instanceof DataView)) return true;
  return Array.isArray(v) && v.every((x) => typeof x === 'number' || typeof x === 'bigint');
}

function toNumber(v: unknown): number | undefined {
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  return undefined;
}

function readId(md: Record<string, unknown>, name: string, fallback: number, n: number): number {
  const key = `${KEY}${name}`;
  if (!(key in md) || md[key] === undefined) return fallback >= 0 && fallback < n ? fallback : -1;
  const id = toNumber(md[key]);
  if (id === undefined || !Number.isInteger(id)) bad(`${key} must be an integer`);
  if (id < 0 || id >= n) bad(`${key} = ${id} is outside the vocabulary (size ${n})`);
  return id;
}

function readBool(md: Record<string, unknown>, key: string, fallback: boolean): boolean {
  const v = md[key];
  if (v === undefined) return fallback;
  if (typeof v === 'boolean') return v;
  if (typeof v === 'number' || typeof v === 'bigint') return Number(v) !== 0;
  bad(`${key} must be a boolean`);
}

/** Texts llama.cpp treats as end-of-turn / end-of-generation markers. */
const EOT_TEXTS = ['<|eot_id|>', '<|im_end|>', '<|end|>', '<end_of_turn>', '<|endoftext|>', '<|end_of_text|>', '<EOT>'];
const EOG_TEXTS = [...EOT_TEXTS, '<|eom_id|>'];

/**
 * Validates a metadata object (the `tokenizer.ggml.*` keys of a GGUF file, as a GGUF reader
 * returns them) and builds the lookup tables. Defaults follow llama.cpp's llama_vocab::load.
 */
export function loadVocab(metadata: Record<string, unknown>): Vocab {
  if (metadata === null || typeof metadata !== 'object') bad('expected an object');
  const md = metadata;

  const model = md[`${KEY}model`];
  if (model === undefined) bad(`missing ${KEY}model`);
  if (typeof model !== 'string') bad(`${KEY}model must be a string`);
  if (model !== 'llama' && model !== 'gpt2') bad(`unsupported tokenizer model '${model}' (supported: llama, gpt2)`);

  const tokens = md[`${KEY}tokens`];
  if (tokens === undefined) bad(`missing ${KEY}tokens`);
  if (!Array.isArray(tokens) || !tokens.every((t) => typeof t === 'string')) bad(`${KEY}tokens must be an array of strings`);
  const n = tokens.length;
  if (n === 0) bad(`${KEY}tokens is empty`);

  // llama.cpp renames empty tokens `[EMPTY_id]`. A copy in one piece (slice), the caller's array
  // may change later; element by element into a new array cost more than indexing it.
  const list: string[] = tokens.some((t) => t === '') ? tokens.map((t, i) => (t === '' ? `[EMPTY_${i}]` : t)) : tokens.slice();
  const textToId = buildStringLookup(list, (i, prev) => bad(`duplicate token '${list[i]}' at ids ${prev} and ${i}`));

  const scores = new Float32Array(n);
  const rawScores = md[`${KEY}scores`];
  if (rawScores !== undefined) {
    if (!isArrayLikeOfNumbers(rawScores)) bad(`${KEY}scores must be an array of numbers`);
    if (rawScores.length < n) bad(`${KEY}scores has ${rawScores.length} entries for ${n} tokens`);
    for (let i = 0; i < n; i++) scores[i] = Number(rawScores[i]);
  }

  const types = new Uint8Array(n).fill(TokenType.NORMAL);
  const rawTypes = md[`${KEY}token_type`];
  if (rawTypes !== undefined) {
    if (!isArrayLikeOfNumbers(rawTypes)) bad(`${KEY}token_type must be an array of integers`);
    if (rawTypes.length < n) bad(`${KEY}token_type has ${rawTypes.length} entries for ${n} tokens`);
    for (let i = 0; i < n; i++) {
      const t = Number(rawTypes[i]);
      types[i] = Number.isInteger(t) && t >= 1 && t <= 6 ? t : TokenType.UNDEFINED;
    }
  }

  let mergeRanks: StringLookup = NO_MERGES;
  let preKind: PreTokenizerKind = 'default';
  const preRaw = md[`${KEY}pre`];
  if (preRaw !== undefined && typeof preRaw !== 'string') bad(`${KEY}pre must be a string`);
  const pre = preRaw ?? '';
  let addBos: boolean;
  let addSpacePrefix: boolean;
  let ignoreMerges = false;
  let bos: number;
  let eos: number;
  let unk: number;
  if (model === 'gpt2') {
    const merges = md[`${KEY}merges`];
    if (merges === undefined) bad(`missing ${KEY}merges (required for gpt2)`);
    if (!Array.isArray(merges) || !merges.every((m) => typeof m === 'string')) bad(`${KEY}merges must be an array of strings`);
    // "left right" -> rank, first occurrence wins. llama.cpp splits at word.find(' ', 1), so the
    // key left + ' ' + right is the merge string itself (or ' ' when it has no such space).
    const key = (m: string) => (m.indexOf(' ', 1) < 0 ? ' ' : m);
    mergeRanks = buildStringLookup(merges.every((m) => key(m) === m) ? merges.slice() : merges.map(key));
    if (pre === '') preKind = 'default';
    else {
      const k = Object.hasOwn(PRE_NAMES, pre) ? PRE_NAMES[pre] : undefined; // never Object.prototype's
      if (k === undefined) bad(`unsupported pre-tokenizer '${pre}' in ${KEY}pre (supported: ${Object.keys(PRE_NAMES).join(', ')})`);
      preKind = k;
    }
    ignoreMerges = preKind === 'llama3';
    addBos = preKind === 'llama3';
    addSpacePrefix = false;
    // llama.cpp defaults bos/eos to 11 for gpt2 vocabularies; absent keys mean "none" here.
    bos = readId(md, 'bos_token_id', -1, n);
    eos = readId(md, 'eos_token_id', -1, n);
    unk = readId(md, 'unknown_token_id', -1, n);
  } else {
    addBos = true;
    addSpacePrefix = true;
    bos = readId(md, 'bos_token_id', 1, n);
    eos = readId(md, 'eos_token_id', 2, n);
    unk = readId(md, 'unknown_token_id', 0, n);
  }
  const pad = readId(md, 'padding_token_id', -1, n);
  let eot = readId(md, 'eot_token_id', -1, n);
  let eom = readId(md, 'eom_token_id', -1, n);
  addSpacePrefix = readBool(md, `${KEY}add_space_prefix`, addSpacePrefix);
  addBos = readBool(md, `${KEY}add_bos_token`, addBos);
  const addEos = readBool(md, `${KEY}add_eos_token`, false);
  if (addBos && bos < 0) bad(`${KEY}add_bos_token is true, but ${KEY}bos_token_id is not set`);
  if (addEos && eos < 0) bad(`${KEY}add_eos_token is true, but ${KEY}eos_token_id is not set`);

  // Recognize end-of-generation tokens by text, as llama.cpp does; they become control tokens.
  const eogIds = new Set<number>();
  for (const t of EOG_TEXTS) {
    const id = textToId.get(t);
    if (id === undefined) continue;
    eogIds.add(id);
    if (types[id] !== TokenType.CONTROL) types[id] = TokenType.CONTROL;
    if (eot < 0 && EOT_TEXTS.includes(t)) eot = id;
    if (eom < 0 && t === '<|eom_id|>') eom = id;
  }
  for (const id of [eos, eot, eom]) if (id >= 0) eogIds.add(id);

  const specialIds: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = types[i];
    if (t === TokenType.CONTROL || t === TokenType.USER_DEFINED || t === TokenType.UNKNOWN) specialIds.push(i);
  }
  specialIds.sort((a, b) => list[b].length - list[a].length || a - b);

  const byteTokens = new Int32Array(256).fill(-1);
  for (let b = 0; b < 256; b++) {
    const hex = `<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`;
    const id = textToId.get(hex) ?? (b < 0x80 ? textToId.get(String.fromCharCode(b)) : undefined);
    if (id !== undefined) byteTokens[b] = id;
  }

  return {
    model,
    pre,
    preKind,
    tokens: list,
    scores,
    types,
    textToId,
    mergeRanks,
    bos,
    eos,
    unk,
    pad,
    eot,
    eom,
    addBos,
    addEos,
    addSpacePrefix,
    ignoreMerges,
    specialIds,
    eogIds,
    byteTokens,
  };
}
