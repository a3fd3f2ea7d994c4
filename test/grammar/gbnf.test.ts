// The GBNF parser and matcher on llama.cpp's published grammars and on hand-written cases:
// acceptance checked against hand-made expectations, JSON.parse and regular expressions.
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Grammar, parseGBNF } from '../../src/grammar/index.js';
import { BitnetError } from '../../src/errors.js';

const load = (name: string) => readFileSync(new URL(`./llama.cpp/${name}.gbnf`, import.meta.url), 'utf8');
const FILES = ['json', 'json-2023', 'arithmetic', 'list', 'chess'];

describe('llama.cpp grammars', () => {
  it('all parse', () => {
    for (const f of FILES) expect(Grammar.parse(load(f)).rules.names).toContain('root');
  });

  it('json.gbnf: hand-checked strings', () => {
    const g = Grammar.parse(load('json'));
    const yes = ['{}', '{ }', '{"a": 1}', '{"a": [1, -2.5, "x\\n\\u00e9", true, false, null, {}]}', '{"é": "😀"}', '{"a":{"b":[[]]}}', '{\n  "k": 1e5\n}', '{"a": 0.25E-3} '];
    const no = ['', '[]', '{', '{"a"}', '{"a":}', '{"a": 01}', '{"a": "x"', '{"a": tru}', '{"a": "\\q"}', '{"a": 1e10}', '{"a":"\x01"}', '{} x'];
    for (const s of yes) expect(g.accepts(s), s).toBe(true);
    for (const s of no) expect(g.accepts(s), s).toBe(false);
  });

  it('json.gbnf agrees with JSON.parse: what it accepts parses, and stringified objects are accepted', () => {
    const g = Grammar.parse(load('json'));
    const value = fc.letrec((tie) => ({
      v: fc.oneof({ depthSize: 'small' }, fc.string({ unit: 'binary' }), fc.integer(), fc.boolean(), fc.constant(null), fc.array(tie('v'), { maxLength: 3 }), tie('o')),
      o: fc.dictionary(fc.string({ unit: 'binary', maxLength: 6 }), tie('v'), { maxKeys: 3 }),
    }));
    fc.assert(fc.property(value.o, fc.nat(), fc.nat(), (o, cut, at) => {
      const s = JSON.stringify(o);
      expect(g.accepts(s)).toBe(true);
      expect(g.accepts(JSON.stringify(o, null, 2))).toBe(true);
      // A damaged copy is accepted only if it still parses.
      const chars = [...s];
      const i = at % chars.length;
      const bad = [chars.slice(0, i).join(''), chars.slice(i + 1 + (cut % 2)).join('')].join('');
      let parses = true;
      try { JSON.parse(bad); } catch { parses = false; }
      if (g.accepts(bad)) expect(parses).toBe(true);
    }), { numRuns: 100, seed: 13 });
  });

  it('arithmetic.gbnf', () => {
    const g = Grammar.parse(load('arithmetic'));
    for (const s of ['a+b=c\n', '1+2=3\n4*5=20\n', '(x1_ +y)*2= 7\n', 'q=(1)\n']) expect(g.accepts(s), s).toBe(true);
    for (const s of ['a+b=c', '=1\n', 'A=1\n', '1+=2\n', 'x = (1 + 2)\n', '(1=2\n', '1=2\nx']) expect(g.accepts(s), s).toBe(false);
  });

  it('chess.gbnf and list.gbnf agree with equivalent regular expressions', () => {
    const chess = Grammar.parse(load('chess'));
    const move = '(?:(?:(?:[a-h]x)?[a-h][1-8](?:=[NBKQR])?|[NBKQR][a-h]?[1-8]?x?[a-h][1-8]|O-O(?:-O)?)[+#]?)';
    const chessRe = new RegExp(`^1\\. ${move} ${move}\\n(?:[1-9][0-9]?\\. ${move} ${move}\\n)+$`);
    const list = Grammar.parse(load('list'));
    const listRe = /^(?:- [^\r\n\x0b\x0c\x85\u2028\u2029]+\n)+$/;
    const chessText = fc.array(fc.constantFrom('1. ', '2. ', '12. ', 'e4', 'exd5', 'Nf3', 'Qxe7+', 'O-O', 'O-O-O#', 'e8=Q', ' ', '\n', 'x', 'Z'), { maxLength: 14 }).map((a) => a.join(''));
    fc.assert(fc.property(chessText, (s) => { expect(chess.accepts(s)).toBe(chessRe.test(s)); }), { numRuns: 2000, seed: 1 });
    for (const s of ['1. e4 e5\n2. Nf3 Nc6\n', '1. O-O-O# exd5\n10. e8=Q Kxe7\n']) expect(chess.accepts(s)).toBe(true);
    const listText = fc.array(fc.constantFrom('- ', 'a', 'é', '\n', '\r', '\u2028', '-', ' '), { maxLength: 10 }).map((a) => a.join(''));
    fc.assert(fc.property(listText, (s) => { expect(list.accepts(s)).toBe(listRe.test(s)); }), { numRuns: 2000, seed: 2 });
  });
});

describe('GBNF syntax', () => {
  const acc = (g: string, yes: string[], no: string[]) => {
    const gr = Grammar.parse(g);
    for (const s of yes) expect(gr.accepts(s), `${g} accepts ${JSON.stringify(s)}`).toBe(true);
    for (const s of no) expect(gr.accepts(s), `${g} rejects ${JSON.stringify(s)}`).toBe(false);
  };

  it('repetitions, groups, alternatives, classes, escapes', () => {
    acc('root ::= "a"{2,4}', ['aa', 'aaa', 'aaaa'], ['', 'a', 'aaaaa']);
    acc('root ::= "ab"{3}', ['ababab'], ['abab', 'abababab']);
    acc('root ::= [0-9]{2,} "."', ['12.', '12345.'], ['1.', '.']);
    acc('root ::= "x"{0,0} "y"', ['y'], ['xy']);
    acc('root ::= ("a" | "bc")* "d"?', ['', 'abca', 'bcd', 'd'], ['b', 'dd', 'ad a']);
    acc('root ::= ("a" "b"?)+', ['a', 'ab', 'aab'], ['', 'b', 'abb']);
    acc('root ::= [^a-cx]+', ['dé😀', 'zz'], ['a', 'db', 'x']);
    acc('root ::= [-az] [az-]', ['a-', '-z', 'zz'], ['b-', 'a']);
    acc('root ::= "\\x41\\u00e9\\U0001F600\\t\\n\\\\\\"\\[\\]"', ['Aé😀\t\n\\"[]'], ['A']);
    acc('root ::= .', ['a', '😀', '\n'], ['', 'ab']);
    acc('root ::= [é-ê]+', ['éêéê'], ['e']);
    acc('# comment\nroot ::= a b # trailing\na ::= "1"\n\nb ::=\n  "2" |\n  "3"\n', ['12', '13'], ['1', '123']);
    acc('root ::= | "x"', ['', 'x'], ['xx']);
  });

  it('nested right recursion and long repetitions keep the stacks flat', () => {
    const g = Grammar.parse('root ::= "a"* "b"');
    let s = g.initial();
    for (let i = 0; i < 20000; i++) s = g.step(s, 0x61)!;
    expect(s.stacks.length).toBe(2);
    expect(g.canEnd(g.step(s, 0x62)!)).toBe(true);
    const p = Grammar.parse('root ::= "(" root ")" | "x"');
    expect(p.accepts('((((x))))')).toBe(true);
    expect(p.accepts('((((x)))')).toBe(false);
  });

  it('partial UTF-8: a lead byte is kept only if some allowed character starts with it', () => {
    const g = Grammar.parse('root ::= "é" | "a"');
    const s = g.initial();
    expect(g.step(s, 0xc3)).not.toBeNull(); // é = C3 A9
    expect(g.step(s, 0xc4)).toBeNull();
    expect(g.step(s, 0xf0)).toBeNull(); // 4-byte characters start at U+10000: none allowed
    expect(g.stepBytes(s, [0xc3, 0xa9])).not.toBeNull();
    expect(g.stepBytes(s, [0xc3, 0xa8])).toBeNull();
    expect(g.stepBytes(s, [0xc0, 0x80])).toBeNull(); // overlong
    const any = Grammar.parse('root ::= [^x]');
    expect(any.stepBytes(any.initial(), [0xed, 0xa0, 0x80])).toBeNull(); // a surrogate
    expect(any.stepBytes(any.initial(), [0xed, 0xb0])).toBeNull(); // ... already known after two bytes
    expect(any.stepBytes(any.initial(), [0xed, 0x9f])).not.toBeNull(); // U+D7C0..U+D7FF are characters
    expect(any.step(any.initial(), 0x80)).toBeNull(); // a lone continuation byte
  });

  it('bad grammars: BAD_ARGUMENT with line, column and offset', () => {
    const cases: [string, RegExp, number][] = [
      ['root ::= a', /undefined rule 'a' at line 1 column 10/, 9],
      ['root ::= "x"\nroot ::= "y"', /rule 'root' is defined twice at line 2 column 1/, 13],
      ['root ::= [a-', /unterminated character class at line 1 column 10/, 9],
      ['root ::= "ab', /unterminated string literal at line 1 column 10/, 9],
      ['root ::= "\\q"', /unknown escape "\\\\q" at line 1 column 11/, 10],
      ['root ::= "\\x4"', /\\x needs 2 hex digits/, 10],
      ['root ::= [z-a]', /empty range/, 13],
      ['root ::= ("a"', /expected '\)'/, 13],
      ['root ::= *', /'\*' needs an item before it/, 9],
      ['root ::= "a"{3,2}', /max < min/, 13],
      ['root ::= "a"{x}', /expected \{m\}, \{m,\} or \{m,n\}/, 13],
      ['root ::= "a"{99999}', /above 10000/, 13],
      ['root "a"', /expected ::= after 'root' at line 1 column 6/, 5],
      ['rule ::= "a"', /no rule named 'root'/, 0],
      ['root ::= "a" )', /expected the end of the line, found "\)"/, 13],
      ['root ::= "\\U00110000"', /beyond U\+10FFFF/, 10],
      ['\n\nroot ::= root "x" | "y"', /left recursion is not supported: root -> root at line 3 column 1/, 2],
      ['root ::= a\na ::= b "x"\nb ::= c? a | "y"\nc ::= "z"', /left recursion is not supported: a -> b -> a at line 2 column 1/, 11],
      ['root ::= ("a"?)*', /left recursion is not supported: root_\d+ -> root_\d+ at line 1 column/, -1],
    ];
    for (const [text, msg, offset] of cases) {
      let err: unknown;
      try { parseGBNF(text); } catch (e) { err = e; }
      expect(err, text).toBeInstanceOf(BitnetError);
      expect((err as BitnetError).code).toBe('BAD_ARGUMENT');
      expect((err as Error).message, text).toMatch(msg);
      if (offset >= 0) expect((err as BitnetError).offset, text).toBe(offset);
    }
    expect(() => parseGBNF(42 as never)).toThrow(BitnetError);
  });
});
