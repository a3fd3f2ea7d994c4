// Request bodies of /v1/chat/completions and /v1/completions: one table row per OpenAI field says
// which endpoint takes it and how it is checked and mapped to generate() options. A field of the
// wrong type or range, an unknown field, or a feature this server does not have is a 400 that
// names the field (`param`), never a silent default.
import type { ChatMessage, GenerateOptions } from '../model/model.js';
import { badParam } from './errors.js';

export type Endpoint = 'chat' | 'text';

export interface CompletionRequest {
  endpoint: Endpoint;
  messages?: ChatMessage[];
  prompt?: string | number[];
  stream: boolean;
  includeUsage: boolean;
  echo: boolean;
  maxTokens?: number;
  /** Sampling and stop options for generate() (maxTokens, signal and onText are added later). */
  options: GenerateOptions;
}

const typeName = (v: unknown) => (v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v === 'object' ? 'an object' : `a ${typeof v}`);
const wrongType = (p: string, want: string, v: unknown) => badParam(p, `Invalid type for '${p}': expected ${want}, but got ${typeName(v)} instead.`, 'invalid_type');

function num(v: unknown, p: string, lo: number, hi: number): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) throw wrongType(p, 'a number', v);
  if (v < lo || v > hi) throw badParam(p, `Invalid '${p}': expected a value in [${lo}, ${hi}], but got ${v} instead.`);
  return v;
}
function int(v: unknown, p: string, lo: number, hi: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v)) throw wrongType(p, 'an integer', v);
  return num(v, p, lo, hi);
}
function bool(v: unknown, p: string): boolean {
  if (typeof v !== 'boolean') throw wrongType(p, 'a boolean', v);
  return v;
}
function str(v: unknown, p: string): string {
  if (typeof v !== 'string') throw wrongType(p, 'a string', v);
  return v;
}
function obj(v: unknown, p: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw wrongType(p, 'an object', v);
  return v as Record<string, unknown>;
}
const unsupported = (p: string, what: string) => badParam(p, `'${p}' ${what} is not supported by this server.`, 'unsupported_parameter');

/** OpenAI allows up to 4 stop sequences. */
const MAX_STOP = 4, MAX_STOP_LENGTH = 256;
function stop(v: unknown, p: string): string[] {
  const list = typeof v === 'string' ? [v] : Array.isArray(v) ? v : null;
  if (!list) throw wrongType(p, 'a string or an array of strings', v);
  if (list.length > MAX_STOP) throw badParam(p, `Invalid '${p}': at most ${MAX_STOP} stop sequences, got ${list.length}.`);
  list.forEach((s, i) => {
    if (typeof s !== 'string') throw wrongType(`${p}[${i}]`, 'a string', s);
    if (s.length === 0 || s.length > MAX_STOP_LENGTH) throw badParam(`${p}[${i}]`, `Invalid '${p}[${i}]': a stop sequence has 1 to ${MAX_STOP_LENGTH} characters.`);
  });
  return list as string[];
}

// developer is OpenAI's newer name for system; chat templates know system.
const ROLES: Record<string, string> = { system: 'system', developer: 'system', user: 'user', assistant: 'assistant', tool: 'tool' };

function messages(v: unknown, p: string): ChatMessage[] {
  if (!Array.isArray(v)) throw wrongType(p, 'an array', v);
  if (v.length === 0) throw badParam(p, `Invalid '${p}': empty array. Expected an array with minimum length 1.`, 'empty_array');
  return v.map((m, i) => {
    const at = `${p}[${i}]`;
    const o = obj(m, at);
    const role = ROLES[str(o.role, `${at}.role`)];
    if (!role) throw badParam(`${at}.role`, `Invalid '${at}.role': expected one of ${Object.keys(ROLES).join(', ')}, but got '${o.role}'.`);
    return { role, content: content(o.content, `${at}.content`, role) };
  });
}

/** A message's content: a string, or text parts (other part types are not supported here). */
function content(v: unknown, p: string, role: string): string {
  if (typeof v === 'string') return v;
  if (v === null || v === undefined) {
    if (role === 'assistant') return ''; // an assistant turn that only called tools
    throw badParam(p, `Missing required parameter: '${p}'.`, 'missing_required_parameter');
  }
  if (!Array.isArray(v)) throw wrongType(p, 'a string or an array of content parts', v);
  return v.map((part, j) => {
    const o = obj(part, `${p}[${j}]`);
    if (o.type !== 'text') throw unsupported(`${p}[${j}].type`, `of '${String(o.type)}' (only text content)`);
    return str(o.text, `${p}[${j}].text`);
  }).join('');
}

/** A completion prompt: a string or token ids, alone or as a one-element array (one prompt per request). */
function prompt(v: unknown, p: string, vocab: number): string | number[] {
  if (typeof v === 'string') return v;
  if (!Array.isArray(v)) throw wrongType(p, 'a string, an array of token ids, or an array of one of those', v);
  if (v.length > 0 && v.every((t) => typeof t === 'number')) {
    v.forEach((t, i) => int(t, `${p}[${i}]`, 0, vocab - 1));
    return v as number[];
  }
  if (v.length !== 1) throw badParam(p, `Invalid '${p}': this server takes one prompt per request, got ${v.length}.`, 'unsupported_parameter');
  return prompt(v[0], `${p}[0]`, vocab);
}

type Parse = (v: unknown, p: string, r: CompletionRequest, ctx: { nVocab: number }) => void;
const both: Endpoint[] = ['chat', 'text'];
const opt = (k: keyof GenerateOptions, read: (v: unknown, p: string) => unknown): Parse => (v, p, r) => { (r.options as Record<string, unknown>)[k] = read(v, p); };
const only = <T>(allowed: (v: T) => boolean, check: (v: unknown, p: string) => T, what: string): Parse => (v, p) => { if (!allowed(check(v, p))) throw unsupported(p, what); };

// Every field this server knows. `null` means "the default" for every optional field, as in OpenAI's API.
const FIELDS: Record<string, { on: Endpoint[]; parse: Parse }> = {
  model: { on: both, parse: (v, p) => { str(v, p); } }, // one model per server: any name is served by it
  messages: { on: ['chat'], parse: (v, p, r) => { r.messages = messages(v, p); } },
  prompt: { on: ['text'], parse: (v, p, r, c) => { r.prompt = prompt(v, p, c.nVocab); } },
  stream: { on: both, parse: (v, p, r) => { r.stream = bool(v, p); } },
  stream_options: { on: both, parse: (v, p, r) => {
    const o = obj(v, p);
    if (o.include_usage != null) r.includeUsage = bool(o.include_usage, `${p}.include_usage`);
  } },
  max_tokens: { on: both, parse: (v, p, r) => { r.maxTokens = int(v, p, 1, 2 ** 31 - 1); } },
  max_completion_tokens: { on: ['chat'], parse: (v, p, r) => { r.maxTokens = int(v, p, 1, 2 ** 31 - 1); } },
  temperature: { on: both, parse: opt('temperature', (v, p) => num(v, p, 0, 2)) },
  top_p: { on: both, parse: opt('topP', (v, p) => num(v, p, 0, 1)) },
  presence_penalty: { on: both, parse: opt('presencePenalty', (v, p) => num(v, p, -2, 2)) },
  frequency_penalty: { on: both, parse: opt('frequencyPenalty', (v, p) => num(v, p, -2, 2)) },
  seed: { on: both, parse: opt('seed', (v, p) => int(v, p, -(2 ** 53), 2 ** 53)) },
  stop: { on: both, parse: opt('stop', stop) },
  // llama.cpp server extensions.
  top_k: { on: both, parse: opt('topK', (v, p) => int(v, p, 0, 2 ** 31 - 1)) },
  min_p: { on: both, parse: opt('minP', (v, p) => num(v, p, 0, 1)) },
  repeat_penalty: { on: both, parse: opt('repeatPenalty', (v, p) => num(v, p, 0, 100)) },
  // Accepted only at the value that asks for nothing this server lacks.
  n: { on: both, parse: only((n: number) => n === 1, (v, p) => int(v, p, 1, 128), 'other than 1 (one choice per request)') },
  best_of: { on: ['text'], parse: only((n: number) => n === 1, (v, p) => int(v, p, 1, 128), 'other than 1') },
  echo: { on: ['text'], parse: (v, p, r) => { r.echo = bool(v, p); } },
  suffix: { on: ['text'], parse: only((s: string) => s === '', str, '(insertion)') },
  logprobs: { on: both, parse: (v, p, r) => {
    const off = r.endpoint === 'chat' ? bool(v, p) === false : int(v, p, 0, 20) === 0;
    if (!off) throw unsupported(p, '(log probabilities)');
  } },
  top_logprobs: { on: ['chat'], parse: only((n: number) => n === 0, (v, p) => int(v, p, 0, 20), '(log probabilities)') },
  // Token id -> bias added to its logit (-100..100, OpenAI's range; -100 all but bans a token).
  logit_bias: { on: both, parse: (v, p, r, c) => {
    const bias: Record<number, number> = {};
    for (const [k, b] of Object.entries(obj(v, p))) {
      if (!/^\d+$/.test(k) || Number(k) >= c.nVocab) throw badParam(`${p}.${k}`, `Invalid '${p}': '${k}' is not a token id of this model (0..${c.nVocab - 1}).`);
      bias[Number(k)] = num(b, `${p}.${k}`, -100, 100);
    }
    r.options.logitBias = bias;
  } },
  // Constrained output: JSON (any object, or one that validates against a schema) or a GBNF grammar.
  response_format: { on: ['chat'], parse: (v, p, r) => {
    const o = obj(v, p);
    const t = str(o.type, `${p}.type`);
    if (t === 'json_object') r.options.jsonSchema = { type: 'object' };
    else if (t === 'json_schema') {
      const js = obj(o.json_schema, `${p}.json_schema`);
      str(js.name, `${p}.json_schema.name`);
      r.options.jsonSchema = js.schema == null ? {} : obj(js.schema, `${p}.json_schema.schema`);
    } else if (t !== 'text') throw badParam(`${p}.type`, `Invalid '${p}.type': expected 'text', 'json_object' or 'json_schema', but got '${t}'.`);
  } },
  grammar: { on: both, parse: opt('grammar', str) }, // llama.cpp server extension: GBNF text
  tools: { on: ['chat'], parse: (v, p) => { if (!Array.isArray(v)) throw wrongType(p, 'an array', v); if (v.length) throw unsupported(p, '(tool calls)'); } },
  functions: { on: ['chat'], parse: (v, p) => { if (!Array.isArray(v)) throw wrongType(p, 'an array', v); if (v.length) throw unsupported(p, '(function calls)'); } },
  tool_choice: { on: ['chat'], parse: only((s: string) => s === 'none' || s === 'auto', str, "other than 'none' or 'auto'") },
  parallel_tool_calls: { on: ['chat'], parse: (v, p) => { bool(v, p); } },
  // Bookkeeping fields that do not change the output.
  user: { on: both, parse: (v, p) => { str(v, p); } },
  metadata: { on: ['chat'], parse: (v, p) => { obj(v, p); } },
  store: { on: ['chat'], parse: (v, p) => { bool(v, p); } },
  service_tier: { on: ['chat'], parse: (v, p) => { str(v, p); } },
  prompt_cache_key: { on: ['chat'], parse: (v, p) => { str(v, p); } },
  safety_identifier: { on: ['chat'], parse: (v, p) => { str(v, p); } },
};

const REQUIRED: Record<Endpoint, string> = { chat: 'messages', text: 'prompt' };

/** Checks a parsed JSON body against the endpoint's fields (throws a 400 ApiError naming the field). */
export function parseCompletionRequest(endpoint: Endpoint, body: unknown, ctx: { nVocab: number }): CompletionRequest {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw badParam('body', `The request body must be a JSON object, got ${typeName(body)}.`, 'invalid_body');
  }
  const r: CompletionRequest = { endpoint, stream: false, includeUsage: false, echo: false, options: {} };
  const b = body as Record<string, unknown>;
  for (const [k, v] of Object.entries(b)) {
    const f = Object.hasOwn(FIELDS, k) ? FIELDS[k] : undefined;
    if (!f || !f.on.includes(endpoint)) throw badParam(k, `Unrecognized request argument supplied: ${k}`, 'unknown_parameter');
    if (v !== null) f.parse(v, k, r, ctx);
  }
  const need = REQUIRED[endpoint];
  if (b[need] == null) throw badParam(need, `Missing required parameter: '${need}'.`, 'missing_required_parameter');
  if (b.stream_options != null && !r.stream) throw badParam('stream_options', "The 'stream_options' parameter is only allowed when 'stream' is enabled.");
  return r;
}
