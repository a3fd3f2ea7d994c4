// The grammar as flat arrays, and llama.cpp-style matching: a state is the set of parse stacks
// whose top element is a character class (the empty stack = the grammar can end here). Stacks are
// interned frames (position, rest), so equal stacks share one id and a state has a stable key.
import { BitnetError } from '../errors.js';
import { parseGBNF, type GrammarRules } from './gbnf.js';

const END = 0, CHAR = 1, REF = 2;

/** Bytes of UTF-8 still expected after a lead byte, and the smallest code point of that length. */
const UTF8_MIN = [0, 0x80, 0x800, 0x10000];

/** Where matching stands: stacks (sorted frame ids; 0 = the empty stack) and a pending partial
 *  UTF-8 character (`need` continuation bytes still to come, `cp` the bits so far). States are
 *  interned per grammar (equal content, same object and `id`), and each remembers where its bytes
 *  lead: the matcher becomes a byte automaton built lazily, so a trie walk mostly looks up arrays. */
export interface MatchState {
  readonly stacks: readonly number[];
  readonly cp: number;
  readonly need: number;
  /** UTF-8 length of the pending character (for the overlong check). */
  readonly len: number;
  /** Unique per grammar (never reused). */
  readonly id: number;
  /** @internal next[b]: the state after byte b (null: rejected; undefined: not computed yet). */
  readonly next: (MatchState | null | undefined)[];
}

/** Interned states kept before the table starts over (states in use stay valid: transitions only
 *  ever point to states with the right content). */
const MAX_STATES = 100_000;

export class Grammar {
  private kind: number[] = [];
  private arg: number[] = [];
  private sets: { ranges: Uint32Array; negate: boolean }[] = [];
  private alts: number[][] = [];
  // Interned frames: id -> (pos, next); id 0 is the empty stack.
  private fpos: number[] = [0];
  private fnext: number[] = [0];
  private intern = new Map<number, number>();
  private states = new Map<string, MatchState>();
  private nextId = 1;
  /** Per-tokenizer caches (token masks by state), kept with the grammar so reusing a Grammar object reuses them. */
  readonly caches = new WeakMap<object, unknown>();

  constructor(readonly rules: GrammarRules) {
    const starts: number[][] = [];
    rules.rules.forEach((alts, r) => {
      starts[r] = [];
      for (const seq of alts) {
        starts[r].push(this.kind.length);
        for (const e of seq) {
          if (e.type === 'ref') { this.kind.push(REF); this.arg.push(e.rule); }
          else { this.kind.push(CHAR); this.arg.push(this.sets.length); this.sets.push({ ranges: Uint32Array.from(e.ranges), negate: e.negate }); }
        }
        this.kind.push(END); this.arg.push(0);
      }
    });
    this.alts = starts;
  }

  /** Parses GBNF text (see parseGBNF). */
  static parse(text: string, root = 'root'): Grammar { return new Grammar(parseGBNF(text, root)); }

  private frame(pos: number, next: number): number {
    const key = pos * 4294967296 + next;
    let id = this.intern.get(key);
    if (id === undefined) {
      id = this.fpos.length;
      this.fpos.push(pos); this.fnext.push(next);
      this.intern.set(key, id);
    }
    return id;
  }

  /** Adds to `out` the stacks reached from element `pos` over the stack `next` once references are
   *  expanded and finished sequences popped (their tops are character classes, or empty). */
  private expand(pos: number, next: number, out: Set<number>, seen: Set<number>): void {
    for (;;) {
      const k = this.kind[pos];
      if (k === CHAR) { out.add(this.frame(pos, next)); return; }
      if (k === REF) {
        const key = pos * 4294967296 + next;
        if (seen.has(key)) return;
        seen.add(key);
        // Tail position: nothing to come back to in this sequence, so push no frame for it.
        const rest = this.kind[pos + 1] === END ? next : this.frame(pos + 1, next);
        for (const s of this.alts[this.arg[pos]]) this.expand(s, rest, out, seen);
        return;
      }
      // END: pop.
      if (next === 0) { out.add(0); return; }
      pos = this.fpos[next]; next = this.fnext[next];
    }
  }

  private sorted(out: Set<number>): number[] { return [...out].sort((a, b) => a - b); }

  /** The state before any character. */
  initial(): MatchState {
    const out = new Set<number>();
    const seen = new Set<number>();
    for (const s of this.alts[this.rules.root]) this.expand(s, 0, out, seen);
    return this.state(this.sorted(out), 0, 0, 0);
  }

  private state(stacks: readonly number[], cp: number, need: number, len: number): MatchState {
    const key = need ? `${stacks.join(',')}|${cp},${need},${len}` : stacks.join(',');
    let s = this.states.get(key);
    if (!s) {
      if (this.states.size >= MAX_STATES) this.states.clear();
      s = { stacks, cp, need, len, id: this.nextId++, next: [] };
      this.states.set(key, s);
    }
    return s;
  }

  private matches(set: number, cp: number): boolean {
    const { ranges, negate } = this.sets[set];
    for (let i = 0; i < ranges.length; i += 2) if (cp >= ranges[i] && cp <= ranges[i + 1]) return !negate;
    return negate;
  }

  /** Some code point in [lo, hi] is accepted by the class (for a partial UTF-8 character). */
  private overlaps(set: number, lo: number, hi: number): boolean {
    const { ranges, negate } = this.sets[set];
    if (!negate) {
      for (let i = 0; i < ranges.length; i += 2) if (ranges[i] <= hi && ranges[i + 1] >= lo) return true;
      return false;
    }
    // Negated: is [lo, hi] entirely covered by the ranges? Walk it from lo.
    let x = lo;
    for (let moved = true; moved && x <= hi;) {
      moved = false;
      for (let i = 0; i < ranges.length; i += 2) if (ranges[i] <= x && ranges[i + 1] >= x) { x = ranges[i + 1] + 1; moved = true; }
    }
    return x <= hi;
  }

  /** Stacks after one code point (empty: the character is not allowed). */
  advance(stacks: readonly number[], cp: number): number[] {
    const out = new Set<number>();
    const seen = new Set<number>();
    for (const f of stacks) {
      if (f === 0) continue;
      const pos = this.fpos[f];
      if (this.matches(this.arg[pos], cp)) this.expand(pos + 1, this.fnext[f], out, seen);
    }
    return out.size ? this.sorted(out) : EMPTY;
  }

  /** The state after one byte, or null if no continuation of the grammar has it. */
  step(s: MatchState, b: number): MatchState | null {
    let t = s.next[b];
    if (t === undefined) t = (s.next as (MatchState | null)[])[b] = this.computeStep(s, b);
    return t;
  }

  private computeStep(s: MatchState, b: number): MatchState | null {
    let cp: number, need: number, len: number;
    if (s.need === 0) {
      if (b < 0x80) return this.complete(s.stacks, b);
      if (b >= 0xc2 && b <= 0xdf) { cp = b & 0x1f; need = 1; }
      else if (b >= 0xe0 && b <= 0xef) { cp = b & 0x0f; need = 2; }
      else if (b >= 0xf0 && b <= 0xf4) { cp = b & 0x07; need = 3; }
      else return null;
      len = need;
    } else {
      if ((b & 0xc0) !== 0x80) return null;
      cp = (s.cp << 6) | (b & 0x3f); need = s.need - 1; len = s.len;
      if (need === 0) {
        if (cp < UTF8_MIN[len] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return null;
        return this.complete(s.stacks, cp);
      }
    }
    // Pending character: keep the state only if some class can take a code point with this prefix.
    const lo = Math.max(cp * 2 ** (6 * need), UTF8_MIN[len]), hi = Math.min(cp * 2 ** (6 * need) + 2 ** (6 * need) - 1, 0x10ffff);
    // (surrogates U+D800..U+DFFF are not characters: leave them out of the range)
    const parts = [[lo, Math.min(hi, 0xd7ff)], [Math.max(lo, 0xe000), hi]].filter(([a, b]) => a <= b);
    for (const f of s.stacks) {
      if (f !== 0 && parts.some(([a, b]) => this.overlaps(this.arg[this.fpos[f]], a, b))) return this.state(s.stacks, cp, need, len);
    }
    return null;
  }

  private complete(stacks: readonly number[], cp: number): MatchState | null {
    const next = this.advance(stacks, cp);
    return next.length ? this.state(next, 0, 0, 0) : null;
  }

  /** The state after these bytes, or null. */
  stepBytes(s: MatchState | null, bytes: ArrayLike<number>): MatchState | null {
    for (let i = 0; i < bytes.length && s; i++) s = this.step(s, bytes[i]);
    return s;
  }

  /** The grammar can end here (a complete match, no pending partial character). */
  canEnd(s: MatchState): boolean { return s.need === 0 && s.stacks[0] === 0; }

  /** The grammar cannot take any more characters. */
  isDone(s: MatchState): boolean { return s.stacks.length === 1 && s.stacks[0] === 0; }

  /** True if the whole text is in the grammar's language. */
  accepts(text: string): boolean {
    const s = this.stepBytes(this.initial(), new TextEncoder().encode(text));
    return s !== null && this.canEnd(s);
  }

}

const EMPTY: number[] = [];

/** Compiled grammars by source text (a few, so repeated calls with the same text reuse masks). */
const compiled = new Map<string, Grammar>();
export function grammarFor(g: string | Grammar): Grammar {
  if (g instanceof Grammar) return g;
  if (typeof g !== 'string') throw new BitnetError('BAD_ARGUMENT', 'grammar must be GBNF text or a Grammar');
  let out = compiled.get(g);
  if (!out) {
    out = Grammar.parse(g);
    if (compiled.size >= 16) compiled.delete(compiled.keys().next().value!);
    compiled.set(g, out);
  }
  return out;
}
