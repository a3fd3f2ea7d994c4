// Grammar-constrained generation on make-model files (byte-level BPE, SentencePiece) and on the shipped model: the trie mask
// equals a brute-force check of every token, outputs of llama.cpp's grammars stay in the
// language, and JSON-schema outputs parse and validate with ajv (the independent oracle).
import { readFileSync } from 'node:fs';
import { Ajv } from 'ajv';
import { beforeAll, describe, expect, it } from 'vitest';
import { allowedTokens, Grammar, jsonSchemaToGrammar } from '../../src/grammar/index.js';
import { isAllowed } from '../../src/grammar/constraint.js';
import { makeModel } from '../../src/synth/make-model.js';
import { loadModel, type Model } from '../../src/model/model.js';
import { BitnetError } from '../../src/errors.js';

const load = (name: string) => readFileSync(new URL(`./llama.cpp/${name}.gbnf`, import.meta.url), 'utf8');
const models: { name: string; m: Model }[] = [];

beforeAll(async () => {
  const made = await makeModel({ preset: 'tiny', ternaryType: 'TQ2_0', tokenizer: 'bpe', seed: 11 });
  models.push({ name: 'make-model tiny', m: await loadModel(made, { contextLength: 256 }) });
  models.push({ name: 'models/default.gguf', m: await loadModel(readFileSync(new URL('../../models/default.gguf', import.meta.url)), { contextLength: 256 }) });
  // SentencePiece with byte fallback: the detokenizer drops the first token's leading space, and the grammar matches what it shows.
  models.push({ name: 'make-model spm', m: await loadModel(await makeModel({ preset: 'tiny', ternaryType: 'TQ2_0', tokenizer: 'spm', seed: 3 }), { contextLength: 256 }) });
}, 60_000);

/** Every text token whose whole byte string keeps the text a prefix of the grammar: token by token. */
function bruteForce(g: Grammar, m: Model, s: ReturnType<Grammar['initial']>): Set<number> {
  const out = new Set<number>();
  const tk = m.tokenizer;
  for (let id = 0; id < tk.vocabSize; id++) {
    if (tk.isEog(id)) { if (g.canEnd(s)) out.add(id); continue; }
    if (![1, 4, 6].includes(tk.tokenType(id))) continue;
    const p = tk.tokenToPiece(id);
    if (p.length && g.stepBytes(s, p)) out.add(id);
  }
  return out;
}

describe('token masks', () => {
  it('the trie walk allows exactly the tokens a token-by-token check allows, EOG only at a complete match', () => {
    for (const { m } of models) {
      for (const [f, text] of [['json', '{"key": [1, "é'], ['arithmetic', '(ab +12) *'], ['chess', '1. e4 e5\n2. N'], ['list', '- x']] as const) {
        const g = Grammar.parse(load(f));
        const enc = new TextEncoder().encode(text);
        // Every prefix of the text, including ones that end inside a UTF-8 character.
        for (let i = 0; i <= enc.length; i++) {
          const s = g.stepBytes(g.initial(), enc.subarray(0, i))!;
          const mask = allowedTokens(g, m.tokenizer, s);
          const got = new Set<number>();
          for (let id = 0; id < m.tokenizer.vocabSize; id++) if (isAllowed(mask, id)) got.add(id);
          expect(got, `${f} after ${i} bytes`).toEqual(bruteForce(g, m, s));
        }
      }
      const done = Grammar.parse('root ::= "a"');
      const s = done.stepBytes(done.initial(), [0x61])!;
      expect([...bruteForce(done, m, s)].every((id) => m.tokenizer.isEog(id))).toBe(true);
      expect(isAllowed(allowedTokens(done, m.tokenizer, done.initial()), m.tokenizer.eos)).toBe(false);
    }
  });
});

describe('constrained generation', () => {
  it("llama.cpp's grammars constrain: every output is in the language or a prefix of it, and complete when it says eos", async () => {
    const regex: Record<string, RegExp> = {
      list: /^(?:- [^\r\n\x0b\x0c\x85\u2028\u2029]+\n)+$/,
    };
    for (const { name, m } of models) {
      for (const f of ['json', 'json-2023', 'arithmetic', 'chess', 'list']) {
        const g = Grammar.parse(load(f));
        for (let seed = 0; seed < 4; seed++) {
          const r = await m.generate('The answer:', { grammar: load(f), temperature: 1, seed, maxTokens: 24 });
          const bytes = new TextEncoder().encode(r.text);
          const s = g.stepBytes(g.initial(), bytes);
          expect(s, `${name} ${f} ${JSON.stringify(r.text)}`).not.toBeNull();
          expect(['eos', 'length']).toContain(r.finishReason);
          if (r.finishReason === 'eos') {
            expect(g.canEnd(s!)).toBe(true);
            if (f.startsWith('json')) expect(typeof JSON.parse(r.text)).toBe('object');
            if (regex[f]) expect(r.text).toMatch(regex[f]);
          }
        }
      }
    }
  });

  it('seeded constrained sampling is reproducible; a Grammar object and its text give the same tokens', async () => {
    const { m } = models[0];
    const text = load('arithmetic');
    const a = await m.generate('x', { grammar: text, temperature: 0.9, seed: 7, maxTokens: 12 });
    const b = await m.generate('x', { grammar: Grammar.parse(text), temperature: 0.9, seed: 7, maxTokens: 12 });
    expect(b.tokens).toEqual(a.tokens);
    const greedy = await m.generate('x', { grammar: text, temperature: 0, maxTokens: 12 });
    const g = Grammar.parse(text);
    expect(g.stepBytes(g.initial(), new TextEncoder().encode(greedy.text))).not.toBeNull();
  });

  it("finish reasons: a finished grammar ends with eos (or 'stop' when EOS is banned); a dead end is 'grammar'", async () => {
    for (const { m } of models) {
      const eog = Array.from({ length: m.config.nVocab }, (_, i) => i).filter((i) => m.tokenizer.isEog(i));
      const r = await m.generate('x', { grammar: 'root ::= "yes" | "no"', temperature: 1, seed: 1, maxTokens: 10 });
      expect(['yes', 'no']).toContain(r.text);
      expect(r.finishReason).toBe('eos');
      const banned = Object.fromEntries(eog.map((i) => [i, -Infinity]));
      const s = await m.generate('x', { grammar: 'root ::= "yes" | "no"', temperature: 1, seed: 1, maxTokens: 10, logitBias: banned });
      expect(s.text).toBe(r.text);
      expect(s.finishReason).toBe('stop');
      // Ban every token that starts with "q": no token can spell the grammar's only text.
      const q = Array.from({ length: m.config.nVocab }, (_, i) => i).filter((i) => m.tokenizer.tokenToPiece(i)[0] === 0x71);
      const d = await m.generate('x', { grammar: 'root ::= "q"', maxTokens: 10, logitBias: Object.fromEntries(q.map((i) => [i, -Infinity])) });
      expect(d.tokens).toEqual([]);
      expect(d.finishReason).toBe('grammar');
    }
  });

  it('bad constraint options are typed errors', async () => {
    const { m } = models[0];
    await expect(m.generate('x', { grammar: 'root ::= nope' })).rejects.toMatchObject({ code: 'BAD_ARGUMENT' });
    await expect(m.generate('x', { grammar: 'root ::= "a"', jsonSchema: {} })).rejects.toMatchObject({ code: 'BAD_ARGUMENT' });
    await expect(m.generate('x', { grammar: 5 as never })).rejects.toMatchObject({ code: 'BAD_ARGUMENT' });
    await expect(m.generate('x', { jsonSchema: { type: 'string', pattern: 'a+' } })).rejects.toMatchObject({ code: 'BAD_ARGUMENT' });
  });
});

// Small schemas whose outputs are bounded (at most ~80 bytes, and every token spells at least one byte,
// so 96 tokens always finish), covering every keyword.
const SCHEMAS: object[] = [
  { type: 'object', properties: { name: { type: 'string', maxLength: 6 }, ok: { type: 'boolean' }, size: { enum: ['S', 'M', 'L', 1, null] } }, required: ['name', 'ok'], additionalProperties: false },
  { type: 'array', items: { type: 'integer', enum: [1, 2, 30] }, minItems: 1, maxItems: 3 },
  { anyOf: [{ type: 'boolean' }, { type: 'null' }, { const: { a: [1, 'x'] } }] },
  { $defs: { pt: { type: 'object', properties: { x: { enum: [0, 1] }, y: { enum: [0, 1] } }, required: ['x'], additionalProperties: false } }, type: 'array', items: { $ref: '#/$defs/pt' }, maxItems: 2 },
  { type: 'object', properties: { a: { type: 'string', minLength: 1, maxLength: 3 }, b: { oneOf: [{ type: 'integer', enum: [7] }, { type: 'string', maxLength: 2 }] } }, additionalProperties: false },
  { type: ['string', 'boolean'], maxLength: 4 },
];

describe('jsonSchema', () => {
  it('200 seeded samples per model parse and validate against the schema (ajv)', async () => {
    const ajv = new Ajv({ strict: false });
    const validators = SCHEMAS.map((s) => ajv.compile(s));
    for (const { name, m } of models) {
      let valid = 0;
      for (let seed = 0; seed < 200; seed++) {
        const i = seed % SCHEMAS.length;
        const r = await m.generate('Data:', { jsonSchema: SCHEMAS[i], temperature: 1, topK: 0, seed, maxTokens: 96 });
        expect(r.finishReason, `${name} seed ${seed} ${JSON.stringify(r.text)}`).toBe('eos');
        const v = JSON.parse(r.text);
        expect(validators[i](v), `${name} schema ${i}: ${r.text} ${JSON.stringify(validators[i].errors)}`).toBe(true);
        valid++;
      }
      expect(valid).toBe(200);
    }
  }, 120_000);

  it('the compiled grammar accepts valid instances and rejects invalid ones (ajv decides which is which)', () => {
    const ajv = new Ajv({ strict: false });
    const instances = ['{"name": "ab", "ok": true}', '{"name":"ab","ok":false,"size":"M"}', '{"ok": true}', '{"name":"toolong","ok":true}',
      '{"name":"a","ok":true,"extra":1}', '[1]', '[1, 2, 30]', '[]', '[1,1,1,1]', '[3]', 'true', 'null', '{"a":[1,"x"]}', '{"a":[1,"y"]}',
      '[{"x": 0, "y": 1}, {"x": 1}]', '[{"y": 1}]', '{}', '{"a": "xyz", "b": 7}', '{"b": "hi"}', '{"a": ""}', '"abcd"', '"abcde"', 'false'];
    for (const [i, schema] of SCHEMAS.entries()) {
      const g = Grammar.parse(jsonSchemaToGrammar(schema));
      const validate = ajv.compile(schema);
      for (const text of instances) {
        // Properties in declared order only; the grammar may reject a valid instance that reorders them.
        expect(g.accepts(text), `schema ${i} on ${text}`).toBe(validate(JSON.parse(text)));
      }
    }
  });

  it('unsupported or broken schemas are BAD_ARGUMENT errors that name the keyword and where', () => {
    const bad: [unknown, RegExp][] = [
      [{ type: 'string', pattern: 'x' }, /keyword "pattern" is not supported for type "string" \(at #\)/],
      [{ type: 'object', properties: { a: { type: 'number', minimum: 0 } } }, /"minimum" is not supported .*at #\/properties\/a/],
      [{ type: 'object', properties: { a: {} }, additionalProperties: true }, /additionalProperties/],
      [{ type: 'object', properties: {}, required: ['x'] }, /required property "x"/],
      [{ $ref: '#/$defs/missing' }, /points nowhere/],
      [{ $ref: 'http://example.com/s.json' }, /only #\/\$defs/],
      [{ type: 'date' }, /type "date" is not supported/],
      [{ enum: [] }, /enum is empty/],
      [{ type: 'array', maxItems: -1 }, /maxItems must be an integer/],
      [{ type: 'string', minLength: 3, maxLength: 2 }, /maxLength < minLength/],
      [false, /matches nothing/],
      ['string', /must be a JSON schema object/],
      [{ anyOf: [] }, /anyOf must be a non-empty array/],
    ];
    for (const [schema, msg] of bad) {
      let err: unknown;
      try { jsonSchemaToGrammar(schema); } catch (e) { err = e; }
      expect(err, JSON.stringify(schema)).toBeInstanceOf(BitnetError);
      expect((err as BitnetError).code).toBe('BAD_ARGUMENT');
      expect((err as Error).message).toMatch(msg);
    }
  });

  it('recursive $defs work (a tree of bounded depth is accepted)', () => {
    const schema = { $defs: { node: { type: 'object', properties: { v: { type: 'integer' }, kids: { type: 'array', items: { $ref: '#/$defs/node' } } }, required: ['v'] } }, $ref: '#/$defs/node' };
    const g = Grammar.parse(jsonSchemaToGrammar(schema));
    expect(g.accepts('{"v": 1, "kids": [{"v": 2}, {"v": 3, "kids": []}]}')).toBe(true);
    expect(g.accepts('{"v": 1, "kids": [{"w": 2}]}')).toBe(false);
  });
});
