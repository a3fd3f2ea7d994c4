// Grammar-constrained sampling: which tokens keep the generated text a prefix of the grammar's
// language. Each token's whole byte string is checked, walking a trie of the vocabulary's byte
// strings (built once per tokenizer) so a rejected prefix prunes every token that starts with it.
// Masks are cached by grammar state: inside a JSON string, say, every step reuses the same mask.
import type { Tokenizer } from '../tokenizer/index.js';
import { Grammar, type MatchState } from './matcher.js';

// GGUF token types a grammar may emit (normal, user-defined, byte); control/unknown/unused never.
const TEXT_TYPES = new Set([1, 4, 6]);

/** The vocabulary's byte strings as a trie: children of node n are
 *  childByte/childNode[childStart[n] .. childStart[n + 1]); tokens ending at n are
 *  ends[endStart[n] .. endStart[n + 1]). */
interface TokenTrie {
  childStart: Int32Array; childByte: Uint8Array; childNode: Int32Array;
  endStart: Int32Array; ends: Int32Array;
  /** Each text token's bytes (undefined: never allowed under a grammar). */
  pieces: (Uint8Array | undefined)[];
  eog: number[];
}

const tries = new WeakMap<Tokenizer, TokenTrie>();

function trieFor(tk: Tokenizer): TokenTrie {
  let t = tries.get(tk);
  if (t) return t;
  type N = { kids: Map<number, N>; ends: number[]; id: number };
  const root: N = { kids: new Map(), ends: [], id: 0 };
  const pieces: (Uint8Array | undefined)[] = [];
  const eog: number[] = [];
  for (let id = 0; id < tk.vocabSize; id++) {
    if (tk.isEog(id)) { eog.push(id); continue; }
    if (!TEXT_TYPES.has(tk.tokenType(id))) continue;
    const p = tk.tokenToPiece(id);
    if (p.length === 0) continue;
    pieces[id] = p;
    let n = root;
    for (const b of p) {
      let c = n.kids.get(b);
      if (!c) { c = { kids: new Map(), ends: [], id: 0 }; n.kids.set(b, c); }
      n = c;
    }
    n.ends.push(id);
  }
  // Flatten breadth-first.
  const order: N[] = [root];
  for (let i = 0; i < order.length; i++) { order[i].id = i; for (const c of order[i].kids.values()) order.push(c); }
  const childStart = new Int32Array(order.length + 1), endStart = new Int32Array(order.length + 1);
  const childByte = new Uint8Array(order.length), childNode = new Int32Array(order.length);
  const ends: number[] = [];
  let k = 0;
  order.forEach((n, i) => {
    childStart[i] = k; endStart[i] = ends.length;
    for (const [b, c] of [...n.kids].sort((x, y) => x[0] - y[0])) { childByte[k] = b; childNode[k] = c.id; k++; }
    ends.push(...n.ends);
  });
  childStart[order.length] = k; endStart[order.length] = ends.length;
  t = { childStart, childByte, childNode, endStart, ends: Int32Array.from(ends), pieces, eog };
  tries.set(tk, t);
  return t;
}

/** Masks (bit i set = token i allowed) by state id, least recently used evicted first. */
class MaskCache {
  private map = new Map<number, Uint8Array>();
  constructor(private readonly limit: number) {}
  get(key: number): Uint8Array | undefined {
    const m = this.map.get(key);
    if (m) { this.map.delete(key); this.map.set(key, m); }
    return m;
  }
  set(key: number, m: Uint8Array): void {
    if (this.map.size >= this.limit) this.map.delete(this.map.keys().next().value!);
    this.map.set(key, m);
  }
}

/** The mask of tokens allowed in state `s` (EOG tokens: when the grammar can end). */
export function allowedTokens(g: Grammar, tk: Tokenizer, s: MatchState): Uint8Array {
  const t = trieFor(tk);
  const mask = new Uint8Array((tk.vocabSize + 7) >> 3);
  const set = (id: number) => { mask[id >> 3] |= 1 << (id & 7); };
  const walk = (node: number, st: MatchState) => {
    for (let c = t.childStart[node]; c < t.childStart[node + 1]; c++) {
      const next = g.step(st, t.childByte[c]);
      if (!next) continue;
      const child = t.childNode[c];
      for (let e = t.endStart[child]; e < t.endStart[child + 1]; e++) set(t.ends[e]);
      walk(child, next);
    }
  };
  walk(0, s);
  if (g.canEnd(s)) for (const id of t.eog) set(id);
  return mask;
}

export const isAllowed = (mask: Uint8Array, id: number) => (mask[id >> 3] & (1 << (id & 7))) !== 0;

/** One generation's grammar state: masks logits, advances on each accepted token. */
export class GrammarConstraint {
  private state: MatchState;
  private readonly trie: TokenTrie;
  private readonly cache: MaskCache;
  /** The detokenizer drops the first generated token's leading space (SentencePiece): match what it shows. */
  private stripNext: boolean;

  constructor(readonly grammar: Grammar, private readonly tokenizer: Tokenizer) {
    this.state = grammar.initial();
    this.trie = trieFor(tokenizer);
    let cache = grammar.caches.get(tokenizer) as MaskCache | undefined;
    if (!cache) { cache = new MaskCache(512); grammar.caches.set(tokenizer, cache); }
    this.cache = cache;
    this.stripNext = tokenizer.addSpacePrefix;
  }

  private bytesOf(id: number): Uint8Array | undefined {
    const p = this.trie.pieces[id];
    return p && this.stripNext && p[0] === 0x20 ? p.subarray(1) : p;
  }

  /** Bit i set = token i is allowed next. */
  mask(): Uint8Array {
    if (this.stripNext) {
      // Once per generation: check each token's stripped bytes directly (the trie holds unstripped ones).
      const mask = new Uint8Array((this.tokenizer.vocabSize + 7) >> 3);
      for (let id = 0; id < this.trie.pieces.length; id++) {
        const b = this.bytesOf(id);
        if (b && (b.length === 0 ? false : this.grammar.stepBytes(this.state, b))) mask[id >> 3] |= 1 << (id & 7);
      }
      if (this.grammar.canEnd(this.state)) for (const id of this.trie.eog) mask[id >> 3] |= 1 << (id & 7);
      return mask;
    }
    const key = this.state.id;
    let m = this.cache.get(key);
    if (!m) { m = allowedTokens(this.grammar, this.tokenizer, this.state); this.cache.set(key, m); }
    return m;
  }

  /** Logits with every token the grammar does not allow set to -Infinity (in place). */
  apply(logits: Float32Array): Float32Array {
    const m = this.mask();
    for (let i = 0; i < logits.length; i++) if (!(m[i >> 3] & (1 << (i & 7)))) logits[i] = -Infinity;
    return logits;
  }

  /** Advances over a sampled token (which apply() allowed). */
  accept(id: number): void {
    if (this.trie.eog.includes(id)) return;
    const b = this.bytesOf(id);
    const next = b && this.grammar.stepBytes(this.state, b);
    if (!next) throw new Error(`grammar: token ${id} was not allowed`); // apply() guarantees this
    this.state = next;
    this.stripNext = false;
  }

  /** The text so far is a complete match. */
  canEnd(): boolean { return this.grammar.canEnd(this.state); }
}
