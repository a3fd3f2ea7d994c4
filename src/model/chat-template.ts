// Chat templates are code from the model file. They run in @huggingface/jinja's interpreter on the
// caller's thread, so they run under a budget: a template that is too large, loops too long, builds
// too large a value or runs too long ends with a BitnetError instead of a hung or aborted process.
// (An interpreter budget costs ~nothing per call; a terminable worker costs a thread start per call
// and does not exist in every runtime: bench/chat-template.mjs measures both.)
import { Environment, Interpreter, Template } from '@huggingface/jinja';
import { BitnetError } from '../errors.js';

export const TEMPLATE_LIMITS = {
  /** Characters of template source (real chat templates are a few KiB, the largest ~40 KiB). */
  maxSourceChars: 1 << 20,
  /** Sum of squared whitespace-run lengths: the library's preprocessing regex is quadratic in each
   *  run of whitespace (100,000 spaces took 9 s); 2^26 is ~0.1 s at worst. */
  maxWhitespaceCost: 1 << 26,
  /** Interpreter steps (one per evaluated node). A 1,000-message chat takes ~60,000. */
  maxSteps: 2_000_000,
  /** Elements of any array a template builds (range(), concatenation, filters). */
  maxArrayLength: 1 << 16,
  /** Characters of any string a template builds, beyond twice the characters of the input. */
  maxStringChars: 1 << 22,
  /** Width argument of indent / center / tojson(indent=). */
  maxWidth: 1024,
  /** Wall time in milliseconds. */
  maxMillis: 500,
};

type Limits = typeof TEMPLATE_LIMITS;
type Value = { type: string; value: unknown };
type Node = { type: string };

const limitError = (what: string) => new BitnetError('BAD_ARGUMENT', `chat template exceeds its limits: ${what}`);

/** Rejects sources the lexer cannot handle in bounded time, before it sees them. */
function checkSource(src: string, limits: Limits): void {
  if (src.length > limits.maxSourceChars) throw limitError(`${src.length} characters (at most ${limits.maxSourceChars})`);
  let cost = 0;
  for (const m of src.matchAll(/\s{64,}/g)) cost += m[0].length * m[0].length;
  if (cost > limits.maxWhitespaceCost) throw limitError(`whitespace runs too long (the template lexer is quadratic in them)`);
}

const now = () => (typeof performance !== 'undefined' ? performance.now() : Date.now());

/** @huggingface/jinja's interpreter with a step count, a deadline and size checks on every value
 *  an expression builds (values read from the inputs are the caller's and pass as they are). Its
 *  evaluate() is private in the typings, so the budget wraps it on the instance; every recursive
 *  call goes through this.evaluate. */
function budgetInterpreter(env: Environment, limits: Limits, maxChars: number) {
  type Args = [Value[], Map<string, Value>];
  type FilterNode = Node & { value?: string; callee?: { value?: string } };
  type Internals = {
    evaluate(node: Node | undefined, env: Environment): Value; evaluateBlock(body: Node[], env: Environment): Value; run(p: unknown): Value;
    applyFilter(operand: Value, filter: FilterNode, env: Environment): Value; evaluateArguments(args: Node[], env: Environment): Args;
  };
  const interp = new Interpreter(env) as unknown as Internals;
  const { evaluate, evaluateBlock, applyFilter, evaluateArguments } = interp;
  const deadline = now() + limits.maxMillis;
  let steps = 0;
  const checkSize = (v: Value) => {
    if (typeof v.value === 'string' && v.value.length > maxChars) throw limitError(`a string of ${v.value.length} characters (at most ${maxChars})`);
    if (Array.isArray(v.value) && v.value.length > limits.maxArrayLength) throw limitError(`an array of ${v.value.length} elements (at most ${limits.maxArrayLength})`);
  };
  const tick = () => {
    if (++steps > limits.maxSteps) throw limitError(`more than ${limits.maxSteps} steps`);
    if ((steps & 63) === 0 && now() > deadline) throw limitError(`more than ${limits.maxMillis} ms`);
  };
  // evaluateBlock runs each loop iteration's body, even an empty one.
  interp.evaluateBlock = function (body, scope) { tick(); return evaluateBlock.call(this, body, scope); };
  // Filters that pad by a width (indent, center, tojson's indent) would allocate width x lines
  // characters in one call, before any size check: their numbers are bounded up front.
  let widthFilter = '';
  interp.applyFilter = function (operand, filter, scope) {
    const name = filter.value ?? filter.callee?.value ?? '';
    const outer = widthFilter;
    widthFilter = WIDTH_FILTERS.has(name) ? name : '';
    try { return applyFilter.call(this, operand, filter, scope); } finally { widthFilter = outer; }
  };
  interp.evaluateArguments = function (args, scope) {
    const r = evaluateArguments.call(this, args, scope);
    if (widthFilter) {
      for (const v of [...r[0], ...r[1].values()]) {
        if (typeof v.value === 'number' && Math.abs(v.value) > limits.maxWidth) throw limitError(`${widthFilter}() with a width of ${v.value} (at most ${limits.maxWidth})`);
      }
    }
    return r;
  };
  interp.evaluate = function (node, scope) {
    tick();
    const v = evaluate.call(this, node, scope);
    if (node && node.type !== 'Identifier' && node.type !== 'MemberExpression') checkSize(v);
    return v;
  };
  return { run: (program: unknown) => { const out = interp.run(program); checkSize(out); return out; } };
}

const WIDTH_FILTERS = new Set(['indent', 'center', 'tojson', 'ljust', 'rjust']);

/** Jinja's range() that refuses, before building anything, more elements than the limit. */
function boundedRange(limits: Limits) {
  return (start: number, stop?: number, step = 1): number[] => {
    if (stop === undefined) { stop = start; start = 0; }
    if (![start, stop, step].every(Number.isInteger)) throw new Error('range() takes integers');
    if (step === 0) throw new Error('range() step must not be zero');
    const n = Math.max(0, Math.ceil((stop - start) / step));
    if (n > limits.maxArrayLength) throw limitError(`range() of ${n} elements (at most ${limits.maxArrayLength})`);
    return Array.from({ length: n }, (_, i) => start + i * step);
  };
}

function inputChars(v: unknown, depth = 0): number {
  if (typeof v === 'string') return v.length;
  if (depth > 32 || v === null || typeof v !== 'object') return 0;
  let n = 0;
  for (const x of Array.isArray(v) ? v : Object.values(v)) n += inputChars(x, depth + 1);
  return n;
}

/** Renders a Jinja chat template under TEMPLATE_LIMITS (or `limits`); every failure, the
 *  template's own errors included, is a BitnetError. */
export function renderChatTemplate(src: string, context: Record<string, unknown>, limits: Limits = TEMPLATE_LIMITS): string {
  checkSource(src, limits);
  let template: Template;
  try {
    template = new Template(src);
  } catch (e) {
    throw new BitnetError('BAD_ARGUMENT', `chat template failed to parse: ${(e as Error).message}`, { cause: e });
  }
  // The same globals Template.render() sets, with range() bounded.
  const env = new Environment();
  const globals: Record<string, unknown> = {
    false: false, true: true, none: null, False: false, True: true, None: null,
    raise_exception: (msg: unknown) => { throw new Error(String(msg)); },
    range: boundedRange(limits),
    strftime_now: (format: string) => strftime(new Date(), String(format)),
    ...context,
  };
  for (const [k, v] of Object.entries(globals)) env.set(k, v as never);
  const interp = budgetInterpreter(env, limits, limits.maxStringChars + 2 * inputChars(context));
  try {
    return String(interp.run((template as unknown as { parsed: unknown }).parsed).value);
  } catch (e) {
    if (e instanceof BitnetError) throw e;
    throw new BitnetError('BAD_ARGUMENT', `chat template failed: ${(e as Error)?.message ?? String(e)}`, { cause: e });
  }
}

// As @huggingface/jinja's strftime_now (the codes chat templates use).
function strftime(d: Date, format: string): string {
  const pad2 = (n: number) => String(n).padStart(2, '0');
  const month = (style: 'long' | 'short') => new Intl.DateTimeFormat(undefined, { month: style }).format(d);
  const codes: Record<string, () => string> = {
    '%Y': () => String(d.getFullYear()), '%m': () => pad2(d.getMonth() + 1), '%d': () => pad2(d.getDate()),
    '%b': () => month('short'), '%B': () => month('long'), '%H': () => pad2(d.getHours()), '%M': () => pad2(d.getMinutes()), '%%': () => '%',
  };
  return format.replace(/%[YmdbBHM%]/g, (t) => codes[t]());
}
