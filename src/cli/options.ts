/**
 * One table of options per command drives parsing (node:util parseArgs, strict), validation of
 * types and ranges, and the --help text, so the three can never disagree.
 */
import { parseArgs } from 'node:util';
import { UsageError } from './errors.js';

/** How an option's value is read and checked. */
export type Kind = 'flag' | 'string' | 'file' | 'int' | 'ints' | 'number' | 'choice' | 'choices' | 'ids';

export interface Option {
  /** Long name: --name. */
  name: string;
  /** One-letter spelling: -x. */
  short?: string;
  /** Other long spellings (older names of this CLI). */
  aliases?: string[];
  kind: Kind;
  /** Value placeholder in the help (N, TEXT, FILE). */
  arg?: string;
  help: string;
  /** Applied when the option is absent; shown in the help. */
  default?: number | string | boolean;
  /** The default in words, when it depends on the model (shown instead of `default`). */
  defaultText?: string;
  min?: number;
  max?: number;
  /** Values allowed outside [min, max] (llama.cpp's -1 = "unlimited" / "random"). */
  special?: number[];
  choices?: readonly string[];
  /** Said after a range error: why the range is what it is. */
  rangeNote?: string;
}

export interface Positional {
  name: string;
  help: string;
  /** The positional is another spelling of this option (e.g. MODEL for -m). */
  option?: string;
  required?: boolean;
}

export interface CommandSpec {
  name: string;
  /** One line for the list of commands. */
  summary: string;
  /** What the command does, for its --help. */
  description: string;
  positionals: Positional[];
  options: Option[];
  /** Shown at the end of --help. */
  examples?: string[];
}

export type Values = Record<string, string | number | boolean | number[] | string[] | undefined>;

/** Options every command has. */
export const COMMON_OPTIONS: Option[] = [
  { name: 'help', short: 'h', kind: 'flag', help: 'print this help and exit' },
  { name: 'version', kind: 'flag', help: 'print the version and exit' },
];

/** llama.cpp options that have no meaning here: refused with the reason instead of a guess. */
const LLAMA_ONLY: Record<string, string> = {
  '-ngl': 'GPU offload (bitnet-wasm runs on the CPU, in WebAssembly)',
  '--n-gpu-layers': 'GPU offload (bitnet-wasm runs on the CPU, in WebAssembly)',
  '--gpu-layers': 'GPU offload (bitnet-wasm runs on the CPU, in WebAssembly)',
  '-fa': 'flash attention (not implemented)',
  '--flash-attn': 'flash attention (not implemented)',
  '-tb': 'batch threads (bitnet-wasm uses -t for prefill and decode alike)',
  '--threads-batch': 'batch threads (bitnet-wasm uses -t for prefill and decode alike)',
  '-cnv': 'conversation mode (not implemented; the library has model.chat())',
  '--conversation': 'conversation mode (not implemented; the library has model.chat())',
  '-ub': 'physical batch size (not implemented; -b sets the prefill batch)',
  '-np': 'parallel sequences (not implemented)',
  '--mlock': 'memory locking (the weights live in wasm memory)',
};

/** "-n, --n-predict" for messages. */
export const spelling = (o: Option) => (o.short ? `-${o.short}, --${o.name}` : `--${o.name}`);

/** Optimal string alignment distance (a transposition counts as one edit). */
function editDistance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.length][b.length];
}

/** The closest of `known` to `word`, if it is close enough to be a typo. */
export function closest(word: string, known: string[]): string | undefined {
  let best: string | undefined, bestD = Infinity;
  for (const k of known) {
    const dist = editDistance(word, k);
    if (dist < bestD) { best = k; bestD = dist; }
  }
  return bestD <= (word.length <= 3 ? 1 : 2) ? best : undefined;
}

/** The spelling the user typed, with the long name when that was a short one. */
const label = (o: Option, shown: string) => (shown.startsWith('--') ? shown : `${shown} (--${o.name})`);

const NUMBER = /^[-+]?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?$/i;

function inRange(o: Option, raw: string, v: number, what: string, shown: string): number {
  if (o.special?.includes(v)) return v;
  const lo = o.min ?? -Infinity, hi = o.max ?? Infinity;
  if (v >= lo && v <= hi) return v;
  const range = lo === hi ? `be ${lo}` : hi === Infinity ? `be ${what} >= ${lo}` : `be ${what} in [${lo}, ${hi}]`;
  const special = o.special?.length ? ` or ${o.special.join(', ')}` : '';
  throw new UsageError(`${label(o, shown)} must ${range}${special}, got ${raw}${o.rangeNote ? ` (${o.rangeNote})` : ''}`);
}

/** Reading and checking one value of each kind. */
const KINDS: Record<Exclude<Kind, 'flag'>, (o: Option, raw: string, shown: string) => string | number | number[] | string[]> = {
  string: (_o, raw) => raw,
  file: (_o, raw, shown) => {
    if (raw === '') throw new UsageError(`${shown} needs a file name, got an empty string`);
    return raw;
  },
  int: (o, raw, shown) => {
    if (!/^[-+]?\d+$/.test(raw)) throw new UsageError(`${label(o, shown)} needs an integer, got ${JSON.stringify(raw)}`);
    return inRange(o, raw, Number(raw), 'an integer', shown);
  },
  ints: (o, raw, shown) => { // llama-bench's lists: -p 128,512
    const parts = raw.split(',').map((s) => s.trim());
    if (parts.some((p) => !/^[-+]?\d+$/.test(p))) throw new UsageError(`${label(o, shown)} needs integers separated by commas like 64,128, got ${JSON.stringify(raw)}`);
    return parts.map((p) => inRange(o, p, Number(p), 'an integer', shown));
  },
  number: (o, raw, shown) => {
    if (!NUMBER.test(raw) || !Number.isFinite(Number(raw))) throw new UsageError(`${label(o, shown)} needs a number, got ${JSON.stringify(raw)}`);
    return inRange(o, raw, Number(raw), 'a number', shown);
  },
  choice: (o, raw, shown) => {
    if (o.choices!.includes(raw)) return raw;
    const near = closest(raw, [...o.choices!]);
    throw new UsageError(`${label(o, shown)} must be one of ${o.choices!.join(', ')}, got ${JSON.stringify(raw)}${near ? ` (did you mean ${near}?)` : ''}`);
  },
  choices: (o, raw, shown) => [...new Set(raw.split(',').map((s) => KINDS.choice(o, s.trim(), shown) as string))], // --runtime node,deno
  ids: (o, raw, shown) => {
    const parts = raw.split(',').map((s) => s.trim());
    if (parts.some((p) => !/^\d+$/.test(p))) throw new UsageError(`${label(o, shown)} needs comma-separated token ids like 1,2,3, got ${JSON.stringify(raw)}`);
    return parts.map((p) => inRange(o, p, Number(p), 'a token id', shown));
  },
};

export interface Parsed {
  values: Values;
  /** Which options the user gave (not defaults). */
  given: Set<string>;
}

/**
 * Parses argv against a command's table. Throws UsageError with one line naming the problem.
 * Defaults from the table are filled in; positionals bound to an option set that option.
 */
export function parseCommand(spec: CommandSpec, argv: string[], others: CommandSpec[] = []): Parsed {
  const options = [...spec.options, ...COMMON_OPTIONS];
  const byName = new Map<string, Option>();
  for (const o of options) { byName.set(o.name, o); for (const a of o.aliases ?? []) byName.set(a, o); }
  const byShort = new Map(options.filter((o) => o.short).map((o) => [o.short!, o]));
  const longNames = [...byName.keys()];
  const numeric = (o?: Option) => o?.kind === 'int' || o?.kind === 'ints' || o?.kind === 'number';

  // Before parseArgs: what it would misread.
  const args: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--') { args.push(...argv.slice(i)); break; }
    if (LLAMA_ONLY[a]) throw new UsageError(`${a} is a llama.cpp option for ${LLAMA_ONLY[a]}; bitnet-wasm ${spec.name} does not take it`);
    // -temp: one dash before a long name would be read as -t with the value "emp".
    if (/^-[a-z][a-z-]+$/.test(a) && byName.has(a.slice(1))) throw new UsageError(`unknown option ${a} (did you mean --${a.slice(1)}?)`);
    // A negative number after a numeric option (llama.cpp's -n -1, --seed -1) is its value.
    const o = a.startsWith('--') ? byName.get(a.slice(2)) : /^-[a-zA-Z]$/.test(a) ? byShort.get(a[1]) : undefined;
    if (numeric(o) && i + 1 < argv.length && /^-(\d|\.\d)/.test(argv[i + 1])) { args.push(`--${o!.name}=${argv[++i]}`); continue; }
    args.push(a);
  }

  const config: Record<string, { type: 'string' | 'boolean'; short?: string }> = {};
  for (const o of options) {
    const type = o.kind === 'flag' ? 'boolean' : 'string';
    config[o.name] = o.short ? { type, short: o.short } : { type };
    for (const a of o.aliases ?? []) config[a] = { type };
  }
  let tokens;
  try {
    tokens = parseArgs({ args, options: config, strict: true, allowPositionals: true, tokens: true }).tokens;
  } catch (e) {
    throw usageFromParseArgs(e, longNames, others);
  }

  const values: Values = {};
  const given = new Set<string>();
  const positionals: string[] = [];
  for (const t of tokens) {
    if (t.kind === 'positional') { positionals.push(t.value); continue; }
    if (t.kind !== 'option') continue;
    const o = byName.get(t.name)!;
    given.add(o.name);
    values[o.name] = o.kind === 'flag' ? true : KINDS[o.kind](o, t.value ?? '', t.rawName);
  }
  if (values.help || values.version) return { values, given };

  // Positionals go to those whose option was not given as a flag: the required ones always, the
  // optional ones (in order) only when there are more (perplexity [MODEL] FILE).
  const open = spec.positionals.filter((p) => !(p.option && given.has(p.option)));
  if (positionals.length > open.length) {
    const extra = positionals[open.length];
    throw new UsageError(`unexpected argument ${JSON.stringify(extra)}${extra.startsWith('-') ? '' : ` (${spec.name} takes ${spec.positionals.length ? spec.positionals.map((p) => p.name).join(' ') : 'no arguments'})`}`);
  }
  let optional = positionals.length - open.filter((p) => p.required).length;
  const filled = open.filter((p) => p.required || optional-- > 0);
  for (const p of filled.slice(positionals.length)) throw new UsageError(`missing ${p.name}${p.option ? ` (or --${p.option})` : ''}`);
  positionals.forEach((v, i) => {
    const p = filled[i];
    const key = p.option ?? p.name;
    const o = p.option ? byName.get(p.option)! : undefined;
    values[key] = o && o.kind !== 'flag' ? KINDS[o.kind](o, v, p.name) : v;
    given.add(key);
  });
  for (const o of options) if (values[o.name] === undefined && o.default !== undefined) values[o.name] = o.default;
  return { values, given };
}

/** parseArgs' own errors as one line in this CLI's words. */
function usageFromParseArgs(e: unknown, longNames: string[], others: CommandSpec[]): UsageError {
  const err = e as { code?: string; message?: string };
  const msg = err.message ?? String(e);
  const quoted = /'([^']+)'/.exec(msg)?.[1] ?? '';
  if (err.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
    const name = quoted.replace(/^-+/, '').replace(/=.*$/, '');
    const near = quoted.startsWith('--') ? closest(name, longNames) : undefined;
    const takers = others.filter((c) => c.options.some((o) => (quoted.startsWith('--') ? o.name === name || o.aliases?.includes(name) : o.short === name)));
    const hint = near ? ` (did you mean --${near}?)` : takers.length ? ` (an option of ${takers.map((c) => c.name).join(', ')})` : '';
    return new UsageError(`unknown option ${quoted}${hint}`);
  }
  if (err.code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
    const flag = quoted.replace(/ <value>$/, '').replace(', ', '/');
    if (/does not take an argument/.test(msg)) return new UsageError(`${flag} takes no value`);
    if (/ambiguous/.test(msg)) {
      const long = /use '(--[^=']+)=/.exec(msg)?.[1] ?? flag;
      return new UsageError(`${flag} needs a value (for a value that starts with '-', write ${long}=VALUE)`);
    }
    return new UsageError(`${flag} needs a value`);
  }
  return new UsageError(msg.split('\n')[0]);
}

/** The --help text of a command, from its table. */
export function formatHelp(spec: CommandSpec, program: string): string {
  const options = [...spec.options, ...COMMON_OPTIONS];
  const pos = spec.positionals.map((p) => (p.required ? p.name : `[${p.name}]`)).join(' ');
  const rows: [string, string][] = [];
  const describe = (o: Option) => {
    const dflt = o.defaultText ?? (o.default !== undefined && o.kind !== 'flag' ? String(o.default) : undefined);
    const choices = o.kind === 'choice' ? ` (${o.choices!.join(', ')})` : o.kind === 'choices' ? ` (comma-separated: ${o.choices!.join(', ')})` : '';
    return `${o.help}${choices}${dflt !== undefined ? ` (default: ${dflt})` : ''}`;
  };
  const lines = [`usage: ${program} ${spec.name}${pos ? ` ${pos}` : ''} [options]`, '', spec.description];
  if (spec.positionals.length) {
    lines.push('', 'arguments:');
    for (const p of spec.positionals) rows.push([p.name, p.help + (p.option ? ` (same as --${p.option})` : '')]);
  }
  const posRows = rows.length;
  for (const o of options) {
    const aliases = (o.aliases ?? []).map((a) => `, --${a}`).join('');
    rows.push([`${spelling(o)}${aliases}${o.kind === 'flag' ? '' : ` ${o.arg ?? 'VALUE'}`}`, describe(o)]);
  }
  const width = Math.min(30, Math.max(...rows.map(([l]) => l.length)) + 2);
  const row = ([l, r]: [string, string]) => (l.length + 2 > width ? `  ${l}\n  ${' '.repeat(width)}${r}` : `  ${l.padEnd(width)}${r}`);
  lines.push(...rows.slice(0, posRows).map(row), '', 'options:', ...rows.slice(posRows).map(row));
  if (spec.examples?.length) lines.push('', 'examples:', ...spec.examples.map((x) => `  ${x}`));
  return lines.join('\n');
}
