import { TokenType, type Vocab } from './vocab';

/** A piece of input: raw text still to be tokenized, or the id of a special token found in it. */
export type Fragment = string | number;

/**
 * Splits text on special tokens before tokenization, as llama.cpp's tokenizer_st_partition:
 * every control, user-defined and unknown token, longest text first, is searched in every
 * remaining text fragment. Without parseSpecial, control and unknown tokens are left as text;
 * user-defined tokens are always matched.
 */
export function splitSpecial(vocab: Vocab, text: string, parseSpecial: boolean): Fragment[] {
  let frags: Fragment[] = text.length > 0 ? [text] : [];
  for (const id of vocab.specialIds) {
    const type = vocab.types[id];
    if (!parseSpecial && (type === TokenType.CONTROL || type === TokenType.UNKNOWN)) continue;
    const t = vocab.tokens[id];
    let found = false;
    for (const f of frags) {
      if (typeof f === 'string' && f.includes(t)) {
        found = true;
        break;
      }
    }
    if (!found) continue;
    const next: Fragment[] = [];
    for (const f of frags) {
      if (typeof f !== 'string') {
        next.push(f);
        continue;
      }
      let from = 0;
      for (let at = f.indexOf(t); at >= 0; at = f.indexOf(t, from)) {
        if (at > from) next.push(f.slice(from, at));
        next.push(id);
        from = at + t.length;
      }
      if (from < f.length) next.push(f.slice(from));
    }
    frags = next;
  }
  return frags;
}
