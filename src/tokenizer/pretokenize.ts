import type { PreTokenizerKind } from './vocab';

/**
 * Unicode White_Space, the set llama.cpp's unicode tables use for `\s`. JavaScript's `\s`
 * differs (it adds U+FEFF and lacks U+0085), so the patterns spell the class out.
 */
const WS = '\\t-\\r \\x85\\xA0\\u1680\\u2000-\\u200A\\u2028\\u2029\\u202F\\u205F\\u3000';
const S = `[${WS}]`;
const NOT_S = `[^${WS}]`;

/**
 * llama3 (`llama-bpe`): tokenizer.json's pattern with the `(?i:...)` group spelled out in
 * classes, as llama.cpp does (its hand-written unicode_regex_split_custom_llama3 implements
 * exactly this pattern).
 */
const LLAMA3 =
  `(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])` +
  `|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+` +
  `|\\p{N}{1,3}` +
  `| ?[^${WS}\\p{L}\\p{N}]+[\\r\\n]*` +
  `|${S}*[\\r\\n]+` +
  `|${S}+(?!${NOT_S})` +
  `|${S}+`;

/** GPT-2's pattern; text the pattern skips (a lone whitespace before a non-space) becomes its own piece. */
const GPT2 = `'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^${WS}\\p{L}\\p{N}]+|${S}+(?!${NOT_S})`;

const PATTERNS: Record<PreTokenizerKind, readonly RegExp[]> = {
  llama3: [new RegExp(LLAMA3, 'gu')],
  gpt2: [new RegExp(GPT2, 'gu')],
  // llama.cpp's fallback for `tokenizer.ggml.pre` missing or 'default': four patterns applied in turn.
  default: [
    new RegExp('[\\p{P}\\$\\+<=>\\^~\\|]+', 'gu'),
    new RegExp(GPT2, 'gu'),
    new RegExp('\\p{N}+', 'gu'),
    new RegExp('[0-9][0-9][0-9]', 'gu'),
  ],
};

/** Splits `piece` into matches and the gaps between them (llama.cpp's unicode_regex_split). */
function splitOne(piece: string, re: RegExp, out: string[]): void {
  let last = 0;
  re.lastIndex = 0;
  for (let m = re.exec(piece); m !== null; m = re.exec(piece)) {
    const s = m.index;
    const e = s + m[0].length;
    if (e === s) {
      re.lastIndex++;
      continue;
    }
    if (s > last) out.push(piece.slice(last, s));
    out.push(m[0]);
    last = e;
  }
  if (last < piece.length) out.push(piece.slice(last));
}

/** Splits text into pre-tokens with the patterns of a pre-tokenizer family. */
export function preTokenize(kind: PreTokenizerKind, text: string): string[] {
  let pieces = [text];
  for (const re of PATTERNS[kind]) {
    const next: string[] = [];
    for (const p of pieces) splitOne(p, re, next);
    pieces = next;
  }
  return pieces;
}
