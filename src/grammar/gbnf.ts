// GBNF (llama.cpp's grammar format) -> rules of alternatives of sequences. Repetitions become
// helper rules (right-recursive, so the matcher's stacks stay flat); groups become anonymous rules.
// Errors are BitnetError BAD_ARGUMENT with the line, column and offset of the problem.
import { BitnetError } from '../errors.js';

/** A code point class (inclusive [lo, hi] pairs, optionally negated) or a reference to a rule. */
export type Element = { type: 'char'; ranges: number[]; negate: boolean } | { type: 'ref'; rule: number };
export type Sequence = Element[];

export interface GrammarRules {
  /** Rule names; helper rules are named `<parent>_<n>` as llama.cpp names them. */
  names: string[];
  /** rules[id] = alternatives; an empty sequence matches the empty string. */
  rules: Sequence[][];
  root: number;
}

const MAX_CODE_POINT = 0x10ffff;
/** Repetition bounds above this are refused (each copy becomes grammar elements). */
const MAX_REPEAT = 10_000;
const ESCAPES: Record<string, number> = { t: 9, r: 13, n: 10, '\\': 92, '"': 34, '[': 91, ']': 93 };
const HEX_ESCAPES: Record<string, number> = { x: 2, u: 4, U: 8 };

const isWordChar = (c: string) => /[A-Za-z0-9_-]/.test(c);

class Parser {
  pos = 0;
  private ids = new Map<string, number>();
  readonly names: string[] = [];
  readonly rules: (Sequence[] | undefined)[] = [];
  private definedAt: number[] = [];
  private firstUse = new Map<number, number>();

  constructor(private readonly src: string) {}

  fail(msg: string, at = this.pos): never {
    const before = this.src.slice(0, at).split('\n');
    throw new BitnetError('BAD_ARGUMENT', `grammar: ${msg} at line ${before.length} column ${before[before.length - 1].length + 1}`, { offset: at });
  }

  private symbol(name: string, at: number): number {
    let id = this.ids.get(name);
    if (id === undefined) {
      id = this.names.length;
      this.ids.set(name, id);
      this.names.push(name);
      this.rules.push(undefined);
    }
    if (!this.firstUse.has(id)) this.firstUse.set(id, at);
    return id;
  }

  private helper(parent: string): number {
    let n = this.names.length;
    while (this.ids.has(`${parent}_${n}`)) n++;
    const id = this.symbol(`${parent}_${n}`, this.pos);
    this.definedAt[id] = this.pos;
    return id;
  }

  private define(id: number, alts: Sequence[]): void { this.rules[id] = alts; }

  private peek(k = 0): string { return this.src[this.pos + k] ?? ''; }

  /** Spaces, tabs and # comments; newlines too when `newlines`. */
  private space(newlines: boolean): void {
    for (;;) {
      const c = this.peek();
      if (c === '#') { while (this.pos < this.src.length && this.peek() !== '\n') this.pos++; }
      else if (c === ' ' || c === '\t' || (newlines && (c === '\r' || c === '\n'))) this.pos++;
      else return;
    }
  }

  private word(): string {
    const start = this.pos;
    while (isWordChar(this.peek())) this.pos++;
    if (this.pos === start) this.fail(`expected a rule name, found ${this.peek() ? JSON.stringify(this.peek()) : 'the end'}`);
    return this.src.slice(start, this.pos);
  }

  /** One (possibly escaped) code point. */
  private char(): number {
    if (this.pos >= this.src.length) this.fail('unexpected end of the grammar');
    if (this.peek() === '\\') {
      const e = this.peek(1);
      const digits = HEX_ESCAPES[e];
      if (digits !== undefined) {
        const hex = this.src.slice(this.pos + 2, this.pos + 2 + digits);
        if (!new RegExp(`^[0-9a-fA-F]{${digits}}$`).test(hex)) this.fail(`\\${e} needs ${digits} hex digits`);
        const v = parseInt(hex, 16);
        if (v > MAX_CODE_POINT) this.fail(`\\${e}${hex} is beyond U+10FFFF`);
        this.pos += 2 + digits;
        return v;
      }
      if (e in ESCAPES) { this.pos += 2; return ESCAPES[e]; }
      this.fail(`unknown escape ${JSON.stringify('\\' + e)}`);
    }
    const cp = this.src.codePointAt(this.pos)!;
    this.pos += cp > 0xffff ? 2 : 1;
    return cp;
  }

  parse(rootName: string): GrammarRules {
    this.space(true);
    while (this.pos < this.src.length) {
      const at = this.pos;
      const name = this.word();
      const id = this.symbol(name, at);
      if (this.rules[id] !== undefined) this.fail(`rule '${name}' is defined twice`, at);
      this.definedAt[id] = at;
      this.space(false);
      if (!this.src.startsWith('::=', this.pos)) this.fail(`expected ::= after '${name}'`);
      this.pos += 3;
      this.space(true);
      this.define(id, this.alternates(name, false));
      if (this.peek() === '\r') this.pos++;
      if (this.peek() === '\n') this.pos++;
      else if (this.pos < this.src.length) this.fail(`expected the end of the line, found ${JSON.stringify(this.peek())}`);
      this.space(true);
    }
    for (const [id, at] of this.firstUse) if (this.rules[id] === undefined) this.fail(`undefined rule '${this.names[id]}'`, at);
    const root = this.ids.get(rootName);
    if (root === undefined) this.fail(`no rule named '${rootName}' (the start rule)`, 0);
    const out: GrammarRules = { names: this.names, rules: this.rules as Sequence[][], root };
    checkLeftRecursion(out, (id) => this.fail(`left recursion is not supported: ${id}`, this.definedAt[this.rootOf(id)] ?? 0));
    return out;
  }

  private rootOf(name: string): number { return this.ids.get(name.split(' ')[0]) ?? 0; }

  private alternates(rule: string, nested: boolean): Sequence[] {
    const alts = [this.sequence(rule, nested)];
    while (this.peek() === '|') {
      this.pos++;
      this.space(true);
      alts.push(this.sequence(rule, nested));
    }
    return alts;
  }

  private sequence(rule: string, nested: boolean): Sequence {
    const seq: Sequence = [];
    let last = -1; // where the last repeatable item starts in seq
    for (;;) {
      const c = this.peek();
      const at = this.pos;
      if (c === '"') {
        this.pos++;
        last = seq.length;
        while (this.peek() !== '"') {
          if (this.pos >= this.src.length) this.fail('unterminated string literal', at);
          const cp = this.char();
          seq.push({ type: 'char', ranges: [cp, cp], negate: false });
        }
        this.pos++;
      } else if (c === '[') {
        this.pos++;
        const negate = this.peek() === '^';
        if (negate) this.pos++;
        const ranges: number[] = [];
        while (this.peek() !== ']') {
          if (this.pos >= this.src.length) this.fail('unterminated character class', at);
          const lo = this.char();
          let hi = lo;
          if (this.peek() === '-' && this.peek(1) !== ']' && this.peek(1) !== '') {
            this.pos++;
            hi = this.char();
            if (hi < lo) this.fail(`empty range in a character class (U+${hi.toString(16)} < U+${lo.toString(16)})`);
          }
          ranges.push(lo, hi);
        }
        this.pos++;
        last = seq.length;
        seq.push({ type: 'char', ranges, negate });
      } else if (c === '.') {
        this.pos++;
        last = seq.length;
        seq.push({ type: 'char', ranges: [0, MAX_CODE_POINT], negate: false });
      } else if (c !== '' && isWordChar(c)) {
        const name = this.word();
        last = seq.length;
        seq.push({ type: 'ref', rule: this.symbol(name, at) });
      } else if (c === '(') {
        this.pos++;
        this.space(true);
        const sub = this.helper(rule);
        this.define(sub, this.alternates(rule, true));
        if (this.peek() !== ')') this.fail(`expected ')' to close the group opened at offset ${at}`);
        this.pos++;
        last = seq.length;
        seq.push({ type: 'ref', rule: sub });
      } else if (c === '*' || c === '+' || c === '?') {
        if (last < 0) this.fail(`'${c}' needs an item before it`);
        this.pos++;
        this.repeat(rule, seq, last, c === '+' ? 1 : 0, c === '?' ? 1 : Infinity);
      } else if (c === '{') {
        if (last < 0) this.fail(`'{' needs an item before it`);
        this.pos++;
        this.space(nested);
        const m = /^(\d+)\s*(,\s*(\d*))?\s*\}/.exec(this.src.slice(this.pos));
        if (!m) this.fail('expected {m}, {m,} or {m,n}');
        const min = Number(m[1]);
        const max = m[2] === undefined ? min : m[3] === '' ? Infinity : Number(m[3]);
        if (max < min) this.fail(`repetition {${min},${max}} has max < min`);
        if (min > MAX_REPEAT || (max !== Infinity && max > MAX_REPEAT)) this.fail(`repetition bounds above ${MAX_REPEAT} are not supported`);
        this.pos += m[0].length;
        this.repeat(rule, seq, last, min, max);
      } else break;
      this.space(nested);
    }
    return seq;
  }

  /** Replaces seq[last..] (one item) by min copies, then (max - min) nested optionals or a star. */
  private repeat(rule: string, seq: Sequence, last: number, min: number, max: number): void {
    const item = seq.splice(last);
    for (let i = 0; i < min; i++) seq.push(...item);
    if (max === min) return;
    if (max === Infinity) {
      const star = this.helper(rule); // star ::= item star |
      this.define(star, [[...item, { type: 'ref', rule: star }], []]);
      seq.push({ type: 'ref', rule: star });
      return;
    }
    // opt_k ::= item opt_{k+1} | ;  the last: item |
    let next = -1;
    for (let k = max - min; k > 0; k--) {
      const opt = this.helper(rule);
      this.define(opt, [next < 0 ? [...item] : [...item, { type: 'ref', rule: next }], []]);
      next = opt;
    }
    seq.push({ type: 'ref', rule: next });
  }
}

/** Rules that can match the empty string. */
export function nullableRules(g: Pick<GrammarRules, 'rules'>): boolean[] {
  const nullable = g.rules.map(() => false);
  for (let changed = true; changed;) {
    changed = false;
    g.rules.forEach((alts, id) => {
      if (!nullable[id] && alts.some((s) => s.every((e) => e.type === 'ref' && nullable[e.rule]))) { nullable[id] = changed = true; }
    });
  }
  return nullable;
}

/** A rule that can reach itself without consuming a character would make the matcher's stacks
 *  grow forever (llama.cpp refuses it too): reports the cycle, e.g. "expr -> term -> expr". */
function checkLeftRecursion(g: GrammarRules, fail: (cycle: string) => never): void {
  const nullable = nullableRules(g);
  const left = g.rules.map((alts) => {
    const out = new Set<number>();
    for (const s of alts) {
      for (const e of s) {
        if (e.type !== 'ref') break;
        out.add(e.rule);
        if (!nullable[e.rule]) break;
      }
    }
    return [...out];
  });
  const state = new Uint8Array(g.rules.length); // 0 new, 1 on the path, 2 done
  const path: number[] = [];
  const visit = (r: number): void => {
    state[r] = 1; path.push(r);
    for (const n of left[r]) {
      if (state[n] === 1) fail([...path.slice(path.indexOf(n)), n].map((i) => g.names[i]).join(' -> '));
      if (state[n] === 0) visit(n);
    }
    path.pop(); state[r] = 2;
  };
  for (let r = 0; r < g.rules.length; r++) if (state[r] === 0) visit(r);
}

/** Parses GBNF text; `root` names the start rule (default "root"). */
export function parseGBNF(text: string, root = 'root'): GrammarRules {
  if (typeof text !== 'string') throw new BitnetError('BAD_ARGUMENT', 'grammar must be a GBNF string');
  return new Parser(text).parse(root);
}
