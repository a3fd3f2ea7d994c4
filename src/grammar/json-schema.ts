// JSON Schema -> GBNF, after llama.cpp's json-schema-to-grammar: one rule per schema node,
// properties in their declared order (optional ones may be left out), no properties beyond the
// declared ones (additionalProperties false unless the object declares none), one optional space
// after each token so every output is bounded where the schema is. Unsupported keywords are errors.
import { BitnetError } from '../errors.js';

type Schema = boolean | { [k: string]: unknown };

const PRIMITIVES: Record<string, string> = {
  space: '" "?',
  char: '[^"\\\\\\x7F\\x00-\\x1F] | "\\\\" (["\\\\/bfnrt] | "u" [0-9a-fA-F]{4})',
  string: '"\\"" char* "\\"" space',
  'integral-part': '[0] | [1-9] [0-9]{0,15}',
  'decimal-part': '[0-9]{1,16}',
  number: '("-"? integral-part) ("." decimal-part)? ([eE] [-+]? integral-part)? space',
  integer: '("-"? integral-part) space',
  boolean: '("true" | "false") space',
  null: '"null" space',
  value: 'object | array | string | number | boolean | null',
  object: '"{" space (string ":" space value ("," space string ":" space value)*)? "}" space',
  array: '"[" space (value ("," space value)*)? "]" space',
};
// What each primitive refers to (added with it).
const DEPENDS: Record<string, string[]> = {
  string: ['char', 'space'], number: ['integral-part', 'decimal-part', 'space'], integer: ['integral-part', 'space'],
  boolean: ['space'], null: ['space'], value: ['object', 'array', 'string', 'number', 'boolean', 'null'],
  object: ['string', 'value', 'space'], array: ['value', 'space'],
};

/** Keywords that only annotate (ignored), and what each type understands. */
const ANNOTATIONS = new Set(['$schema', '$id', '$comment', 'title', 'description', 'default', 'examples', 'deprecated', 'readOnly', 'writeOnly', '$defs', 'definitions']);
const TYPE_KEYWORDS: Record<string, string[]> = {
  object: ['properties', 'required', 'additionalProperties'],
  array: ['items', 'minItems', 'maxItems'],
  string: ['minLength', 'maxLength'],
  number: [], integer: [], boolean: [], null: [],
};
const MAX_BOUND = 10_000;

/** GBNF literal for a string (escapes for ", \ and control characters). */
function literal(s: string): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (ch === '"' || ch === '\\') out += '\\' + ch;
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (c < 0x20 || c === 0x7f) out += '\\x' + c.toString(16).padStart(2, '0');
    else out += ch;
  }
  return out + '"';
}

class Converter {
  private rules = new Map<string, string>();
  private refs = new Map<string, string>();

  constructor(private readonly root: Schema) {}

  private fail(msg: string, path: string): never {
    throw new BitnetError('BAD_ARGUMENT', `jsonSchema: ${msg} (at ${path})`);
  }

  private primitive(name: string): string {
    if (!this.rules.has(name)) {
      this.rules.set(name, PRIMITIVES[name]);
      for (const d of DEPENDS[name] ?? []) this.primitive(d);
    }
    return name;
  }

  private add(hint: string, body: string): string {
    const base = hint.replace(/[^A-Za-z0-9-]+/g, '-').replace(/^-+|-+$/g, '') || 'rule';
    let name = base, i = 1;
    while (this.rules.has(name) || name in PRIMITIVES) name = `${base}-${i++}`;
    this.rules.set(name, body);
    return name;
  }

  private count(s: Record<string, unknown>, key: string, path: string): number | undefined {
    const v = s[key];
    if (v === undefined) return undefined;
    if (!Number.isInteger(v) || (v as number) < 0 || (v as number) > MAX_BOUND) this.fail(`${key} must be an integer in 0..${MAX_BOUND}`, path);
    return v as number;
  }

  /** A rule name matching `schema`. */
  visit(schema: Schema, path: string, hint: string): string {
    if (schema === true) return this.primitive('value');
    if (schema === false) this.fail('the schema false matches nothing', path);
    if (schema === null || typeof schema !== 'object' || Array.isArray(schema)) this.fail('a schema must be an object or a boolean', path);
    const s = schema;
    if (typeof s.$ref === 'string') return this.ref(s.$ref, path);
    if ('const' in s) { this.primitive('space'); return this.add(hint, `${literal(JSON.stringify(s.const))} space`); }
    if (Array.isArray(s.enum)) {
      if (s.enum.length === 0) this.fail('enum is empty', path);
      this.primitive('space');
      return this.add(hint, `(${s.enum.map((v) => literal(JSON.stringify(v))).join(' | ')}) space`);
    }
    for (const k of ['anyOf', 'oneOf'] as const) {
      if (s[k] === undefined) continue;
      const list = s[k];
      if (!Array.isArray(list) || list.length === 0) this.fail(`${k} must be a non-empty array`, path);
      return this.add(hint, list.map((sub, i) => this.visit(sub as Schema, `${path}/${k}/${i}`, `${hint}-${i}`)).join(' | '));
    }
    let type = s.type;
    if (type === undefined) {
      if (s.properties !== undefined) type = 'object';
      else if (s.items !== undefined) type = 'array';
      else {
        this.checkKeywords(s, [], path);
        return this.primitive('value');
      }
    }
    if (Array.isArray(type)) {
      if (type.length === 0) this.fail('type is an empty array', path);
      // Each type keeps the keywords that apply to it (maxLength only constrains the string branch).
      const known = type.flatMap((t) => TYPE_KEYWORDS[t as string] ?? []);
      this.checkKeywords(s, known, path);
      return this.add(hint, type.map((t) => {
        const own = Object.fromEntries(Object.entries(s).filter(([k]) => !known.includes(k) || TYPE_KEYWORDS[t as string]?.includes(k)));
        return this.visit({ ...own, type: t }, path, `${hint}-${String(t)}`);
      }).join(' | '));
    }
    if (typeof type !== 'string' || !(type in TYPE_KEYWORDS)) this.fail(`type ${JSON.stringify(type)} is not supported`, path);
    this.checkKeywords(s, TYPE_KEYWORDS[type], path);
    switch (type) {
      case 'object': return this.object(s, path, hint);
      case 'array': return this.array(s, path, hint);
      case 'string': {
        const min = this.count(s, 'minLength', path), max = this.count(s, 'maxLength', path);
        if (min === undefined && max === undefined) return this.primitive('string');
        if (max !== undefined && min !== undefined && max < min) this.fail('maxLength < minLength', path);
        this.primitive('string');
        return this.add(hint, `"\\"" char{${min ?? 0},${max ?? ''}} "\\"" space`);
      }
      default: return this.primitive(type);
    }
  }

  private checkKeywords(s: Record<string, unknown>, allowed: string[], path: string): void {
    for (const k of Object.keys(s)) {
      if (k !== 'type' && !ANNOTATIONS.has(k) && !allowed.includes(k)) this.fail(`keyword "${k}" is not supported${s.type !== undefined ? ` for type ${JSON.stringify(s.type)}` : ''}`, path);
    }
  }

  private ref(ref: string, path: string): string {
    const m = /^#\/(\$defs|definitions)\/([^/]+)$/.exec(ref);
    if (!m) this.fail(`$ref ${JSON.stringify(ref)} is not supported (only #/$defs/NAME and #/definitions/NAME)`, path);
    const name = decodeURIComponent(m[2]).replaceAll('~1', '/').replaceAll('~0', '~');
    const defs = typeof this.root === 'object' ? this.root[m[1]] as Record<string, Schema> | undefined : undefined;
    if (!defs || typeof defs !== 'object' || !Object.hasOwn(defs, name)) this.fail(`$ref ${JSON.stringify(ref)} points nowhere`, path);
    let rule = this.refs.get(ref);
    if (rule === undefined) {
      // Reserve the name first: a definition may refer to itself.
      rule = this.add(`ref-${name}`, '');
      this.refs.set(ref, rule);
      this.rules.set(rule, this.visit(defs[name], `#/${m[1]}/${m[2]}`, `${rule}-body`));
    }
    return rule;
  }

  private object(s: Record<string, unknown>, path: string, hint: string): string {
    const props = s.properties ?? {};
    if (typeof props !== 'object' || props === null || Array.isArray(props)) this.fail('properties must be an object', path);
    const required = s.required ?? [];
    if (!Array.isArray(required) || required.some((r) => typeof r !== 'string')) this.fail('required must be an array of strings', path);
    const names = Object.keys(props);
    for (const r of required as string[]) if (!names.includes(r)) this.fail(`required property "${r}" is not in properties`, path);
    const extra = s.additionalProperties;
    if (extra !== undefined && extra !== false) {
      if (names.length === 0 && extra === true) return this.primitive('object');
      this.fail('additionalProperties other than false is only supported on an object without properties', path);
    }
    if (names.length === 0 && extra === undefined) return this.primitive('object');
    this.primitive('space');
    const kv = names.map((n) => `${literal(JSON.stringify(n))} space ":" space ${this.visit((props as Record<string, Schema>)[n], `${path}/properties/${n}`, `${hint}-${n}`)}`);
    const req = new Set(required as string[]);
    // rest(i, first): properties i.. where `first` means no comma is due yet.
    const memo = new Map<string, string>();
    const rest = (i: number, first: boolean): string => {
      if (i === names.length) return '';
      const key = `${i},${first}`;
      const done = memo.get(key);
      if (done !== undefined) return done;
      const here = `${first ? '' : '"," space '}${kv[i]} ${rest(i + 1, false)}`.trim();
      const body = req.has(names[i]) ? here : `(${here})${rest(i + 1, first) ? ` | ${rest(i + 1, first)}` : '?'}`;
      const rule = this.add(`${hint}-${names[i]}-${first ? 'first' : 'next'}`, body);
      memo.set(key, rule);
      return rule;
    };
    return this.add(hint, `"{" space ${rest(0, true)} "}" space`);
  }

  private array(s: Record<string, unknown>, path: string, hint: string): string {
    const item = s.items === undefined ? this.primitive('value') : this.visit(s.items as Schema, `${path}/items`, `${hint}-item`);
    const min = this.count(s, 'minItems', path) ?? 0, max = this.count(s, 'maxItems', path);
    if (max !== undefined && max < min) this.fail('maxItems < minItems', path);
    this.primitive('space');
    let body: string;
    if (max === 0) body = '';
    else {
      const more = `("," space ${item}){${Math.max(0, min - 1)},${max === undefined ? '' : max - 1}}`;
      body = min === 0 ? `(${item} ${more})?` : `${item} ${more}`;
    }
    return this.add(hint, `"[" space ${body} "]" space`);
  }

  grammar(): string {
    const top = this.visit(this.root, '#', 'root');
    const lines = top === 'root' ? [] : [`root ::= ${top}`];
    for (const [name, body] of this.rules) lines.push(`${name} ::= ${body}`);
    return lines.join('\n') + '\n';
  }
}

/** GBNF text for a JSON schema (see the comment at the top for what is supported). */
export function jsonSchemaToGrammar(schema: unknown): string {
  if (typeof schema !== 'boolean' && (schema === null || typeof schema !== 'object' || Array.isArray(schema))) {
    throw new BitnetError('BAD_ARGUMENT', 'jsonSchema must be a JSON schema object');
  }
  return new Converter(schema as Schema).grammar();
}
