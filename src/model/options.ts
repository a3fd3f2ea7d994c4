// Argument checks of the model API in one place: every public call validates its arguments' types
// and ranges here first, so a wrong argument is a BAD_ARGUMENT naming it, never a TypeError from
// deep inside (or a silently ignored option).
import { BitnetError } from '../errors.js';

const bad = (message: string): never => { throw new BitnetError('BAD_ARGUMENT', message); };

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}...` : v);
  if (typeof v === 'object') return `an object (${(v as object).constructor?.name ?? 'no prototype'})`;
  if (typeof v === 'symbol') return 'a symbol';
  return `${typeof v} ${String(v)}`;
}

/** An options argument: undefined means "no options"; anything else must be a plain object. */
export function checkOptions<T extends object>(name: string, opts: T | undefined): T {
  if (opts === undefined) return {} as T;
  if (opts === null || typeof opts !== 'object' || Array.isArray(opts)) bad(`${name} must be an object, got ${describe(opts)}`);
  return opts;
}

const is = {
  boolean: (v: unknown) => typeof v === 'boolean',
  function: (v: unknown) => typeof v === 'function',
  signal: (v: unknown) => typeof v === 'object' && v !== null && typeof (v as AbortSignal).aborted === 'boolean'
    && typeof (v as AbortSignal).throwIfAborted === 'function' && typeof (v as AbortSignal).addEventListener === 'function',
};

/** Checks the named optional fields of an options object: each absent, or of its kind. */
function fields(where: string, opts: Record<string, unknown>, kinds: Record<string, keyof typeof is | 'int' | 'uint' | 'strings'>): void {
  for (const [k, kind] of Object.entries(kinds)) {
    const v = opts[k];
    if (v === undefined) continue;
    const ok = kind === 'int' ? Number.isSafeInteger(v)
      : kind === 'uint' ? Number.isSafeInteger(v) && (v as number) >= 0
      : kind === 'strings' ? Array.isArray(v) && v.every((s) => typeof s === 'string' && s.length > 0)
      : is[kind](v);
    if (!ok) {
      const want = { int: 'an integer', uint: 'a non-negative integer', strings: 'an array of non-empty strings', boolean: 'a boolean', function: 'a function', signal: 'an AbortSignal' }[kind];
      bad(`${where}.${k} must be ${want}, got ${describe(v)}`);
    }
  }
}

/** Token ids for logits / perplexity / detokenize: an array (or typed array) of integers. */
export function checkTokens(name: string, tokens: unknown): ArrayLike<number> {
  if ((Array.isArray(tokens) || ArrayBuffer.isView(tokens)) && !(tokens instanceof DataView)
      && Array.prototype.every.call(tokens, (id: unknown) => Number.isInteger(id))) return tokens as ArrayLike<number>;
  return bad(`${name} must be an array of integer token ids, got ${describe(tokens)}`);
}

export function checkString(name: string, v: unknown): string {
  if (typeof v !== 'string') bad(`${name} must be a string, got ${describe(v)}`);
  return v as string;
}

/** A prompt: text, or token ids (integers; their range is checked against the vocabulary later). */
export function checkPrompt(prompt: unknown): string | number[] {
  if (typeof prompt === 'string') return prompt;
  if (Array.isArray(prompt) || ArrayBuffer.isView(prompt)) {
    const ids = Array.from(prompt as ArrayLike<number>);
    if (ids.every((id) => Number.isInteger(id))) return ids;
  }
  return bad(`prompt must be a string or an array of integer token ids, got ${describe(prompt)}`);
}

/** generate / stream / chat / generateTokens options (sampling values are checked by the Sampler). */
export function checkGenerateOptions<T extends object>(opts: T | undefined): T {
  const o = checkOptions('opts', opts);
  fields('opts', o as Record<string, unknown>, {
    maxTokens: 'uint', stop: 'strings', signal: 'signal', addBos: 'boolean', parseSpecial: 'boolean', onText: 'function',
  });
  const shift = (o as { contextShift?: unknown }).contextShift;
  if (shift !== undefined && typeof shift !== 'boolean') {
    if (typeof shift !== 'object' || shift === null) bad(`opts.contextShift must be a boolean or { keep }, got ${describe(shift)}`);
    fields('opts.contextShift', shift as Record<string, unknown>, { keep: 'uint' });
  }
  return o;
}

/** loadModel options. */
export function checkLoadOptions<T extends object>(opts: T | undefined): T {
  const o = checkOptions('opts', opts);
  fields('opts', o as Record<string, unknown>, { contextLength: 'uint', batchSize: 'uint', onProgress: 'function', onWarning: 'function', signal: 'signal' });
  const kernel = (o as { kernel?: unknown }).kernel;
  if (kernel !== undefined && typeof kernel !== 'string') bad(`opts.kernel must be a kernel name, got ${describe(kernel)}`);
  const threads = (o as { threads?: unknown }).threads;
  if (threads !== undefined && threads !== 'auto' && !(typeof threads === 'number' && Number.isInteger(threads) && threads >= 1)) {
    bad(`opts.threads must be 'auto' or an integer >= 1, got ${describe(threads)}`);
  }
  const cache = (o as { cache?: unknown }).cache;
  if (cache !== undefined && typeof cache !== 'boolean') {
    if (typeof cache !== 'object' || cache === null) bad(`opts.cache must be a boolean or { name, chunkBytes, parallel, retries, retryDelayMs }, got ${describe(cache)}`);
    fields('opts.cache', cache as Record<string, unknown>, { chunkBytes: 'uint', parallel: 'uint', retries: 'uint', retryDelayMs: 'uint' });
    const name = (cache as { name?: unknown }).name;
    if (name !== undefined && typeof name !== 'string') bad(`opts.cache.name must be a string, got ${describe(name)}`);
  }
  return o;
}
