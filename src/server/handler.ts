// An OpenAI-compatible HTTP API as one Fetch handler, `(Request) => Promise<Response>`: the same
// function serves Node (through toNodeListener), Deno.serve, Bun.serve and Cloudflare Workers.
//   POST /v1/chat/completions, POST /v1/completions   (stream: true = server-sent events)
//   GET  /v1/models, /v1/models/{id}, /health
// It never throws: every failure is an HTTP status with OpenAI's error object.
import { constraintFor } from '../grammar/index.js';
import type { GenerateResult, Model } from '../model/model.js';
import { ApiError, CLIENT_CLOSED, errorResponse, toApiError } from './errors.js';
import { parseCompletionRequest, type CompletionRequest, type Endpoint } from './params.js';
import { RequestQueue } from './queue.js';

/** Workers' third fetch argument: waitUntil keeps the isolate's work for a request alive after
 *  its client has gone (workerd otherwise drops the timers of a cancelled request, and the
 *  generation could never notice its abort and hand the model on). */
export interface WaitUntilContext { waitUntil(p: Promise<unknown>): void }

/** `(request) => Promise<Response>`; Workers also pass `(request, env, ctx)`. */
export type FetchHandler = (request: Request, env?: unknown, ctx?: WaitUntilContext) => Promise<Response>;

export interface ServerOptions {
  /** The model, a promise of it, or a function that loads it on the first request (Workers). */
  model: Model | Promise<Model> | (() => Model | Promise<Model>);
  /** Name in /v1/models and in responses (default: the file's general.name, else 'bitnet-wasm'). */
  modelId?: string;
  /** Requests that may wait while one generates (default 16); one more gets HTTP 429. */
  maxQueue?: number;
  /** Largest request body in bytes (default 1 MiB); larger ones get HTTP 413. */
  maxBodyBytes?: number;
  /** max_tokens when a request gives none (default 512; generation also ends at the context's end). */
  defaultMaxTokens?: number;
  /** Jinja chat template for models whose file has none (default: a plain "role: content" one). */
  chatTemplate?: string;
  /** Value of Access-Control-Allow-Origin on every response (default: no CORS headers). */
  cors?: string;
}

/** For files without tokenizer.chat_template: "role: content" turns, then "assistant:". */
export const FALLBACK_CHAT_TEMPLATE = "{{ bos_token }}{% for m in messages %}{{ m.role }}: {{ m.content }}\n{% endfor %}{% if add_generation_prompt %}assistant:{% endif %}";

// The library's finish reasons in OpenAI's words: a grammar dead end (an incomplete match) is
// reported like a cut-off output.
const FINISH: Record<string, 'stop' | 'length'> = { eos: 'stop', stop: 'stop', length: 'length', context: 'length', grammar: 'length' };
const JSON_HEADERS = { 'content-type': 'application/json' };
const SSE_HEADERS = { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', 'x-accel-buffering': 'no' };

function randomHex(bytes: number): string {
  return Array.from(crypto.getRandomValues(new Uint8Array(bytes)), (b) => b.toString(16).padStart(2, '0')).join('');
}

/** The body as JSON, refusing (413) more than `max` bytes before reading them all. */
async function readJson(req: Request, max: number): Promise<unknown> {
  const declared = req.headers.get('content-length');
  const tooLarge = () => new ApiError(413, `The request body is larger than ${max} bytes.`, 'invalid_request_error', null, 'request_too_large');
  if (declared !== null && Number(declared) > max) throw tooLarge();
  const chunks: Uint8Array[] = [];
  let total = 0;
  if (req.body) {
    const reader = req.body.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.length;
      if (total > max) { await reader.cancel().catch(() => undefined); throw tooLarge(); }
      chunks.push(value);
    }
  }
  const bytes = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) { bytes.set(c, at); at += c.length; }
  let text: string;
  try { text = new TextDecoder('utf-8', { fatal: true }).decode(bytes); } catch {
    throw new ApiError(400, 'The request body is not valid UTF-8.', 'invalid_request_error', null, 'invalid_json');
  }
  if (text.trim() === '') throw new ApiError(400, 'The request body is empty; expected a JSON object.', 'invalid_request_error', null, 'invalid_json');
  try { return JSON.parse(text); } catch (e) {
    throw new ApiError(400, `We could not parse the JSON body of your request (${(e as Error).message}).`, 'invalid_request_error', null, 'invalid_json');
  }
}

export function createHandler(opts: ServerOptions): FetchHandler {
  const queue = new RequestQueue(opts.maxQueue ?? 16);
  // Generations so far, for /health: cancelled = the client left; textPieces = streamed-size pieces of text
  // produced; afterCancel = pieces produced after the server saw a client leave (its generation checks the
  // abort between tokens, so this stays 0: the bound the serving checks assert, whatever the token speed).
  const served = { completed: 0, cancelled: 0, failed: 0, textPieces: 0, afterCancel: 0 };
  const maxBody = opts.maxBodyBytes ?? 1 << 20;
  const defaultMaxTokens = opts.defaultMaxTokens ?? 512;
  const cors: Record<string, string> = opts.cors ? { 'access-control-allow-origin': opts.cors } : {};
  // When the model was first served (not at module scope: a Worker's clock reads 0 there).
  let created = 0;
  const createdAt = () => (created ||= Math.floor(Date.now() / 1000));

  // The model, loaded once (a failed load is retried by the next request).
  const given = opts.model as Model | PromiseLike<Model> | (() => unknown);
  let model: Model | null = typeof given === 'function' || typeof (given as PromiseLike<Model>).then === 'function' ? null : given as Model;
  let loading: Promise<Model> | null = null;
  const getModel = (): Promise<Model> => {
    if (model) return Promise.resolve(model);
    loading ??= Promise.resolve(typeof opts.model === 'function' ? opts.model() : opts.model).then(
      (m) => (model = m),
      (e) => { loading = null; throw new ApiError(503, `the model failed to load: ${(e as Error)?.message ?? e}`, 'server_error', null, 'model_unavailable'); });
    return loading;
  };
  const modelId = (m: Model) => opts.modelId ?? (m.header.metadata.get('general.name')?.value as string | undefined) ?? 'bitnet-wasm';
  const json = (status: number, body: unknown, headers: Record<string, string> = {}) =>
    new Response(JSON.stringify(body), { status, headers: { ...JSON_HEADERS, ...cors, ...headers } });

  /** The prompt's token ids (chat: through the chat template), refused when it cannot fit the context. */
  function promptIds(m: Model, r: CompletionRequest): { ids: number[]; text?: string } {
    let ids: number[], text: string | undefined;
    if (r.endpoint === 'chat') {
      const hasTemplate = typeof m.header.metadata.get('tokenizer.chat_template')?.value === 'string';
      text = m.applyChatTemplate(r.messages!, opts.chatTemplate ?? (hasTemplate ? undefined : FALLBACK_CHAT_TEMPLATE));
      ids = m.tokenize(text, { addBos: false, parseSpecial: true });
    } else if (typeof r.prompt === 'string') {
      text = r.prompt;
      ids = m.tokenize(text);
    } else ids = r.prompt!;
    const param = r.endpoint === 'chat' ? 'messages' : 'prompt';
    if (ids.length === 0) throw new ApiError(400, 'The prompt is empty (no tokens).', 'invalid_request_error', param, 'invalid_value');
    if (ids.length >= m.contextLength) {
      throw new ApiError(400, `This model's maximum context length is ${m.contextLength} tokens. However, your prompt has ${ids.length} tokens, `
        + 'which leaves no room for a completion. Please reduce the length of the prompt.', 'invalid_request_error', param, 'context_length_exceeded');
    }
    return { ids, text };
  }

  async function completion(endpoint: Endpoint, req: Request, keepAlive: (p: Promise<unknown>) => void): Promise<Response> {
    const body = await readJson(req, maxBody);
    const m = await getModel();
    const r = parseCompletionRequest(endpoint, body, { nVocab: m.config.nVocab });
    const { ids, text } = promptIds(m, r);
    // A grammar or schema that does not compile is the request's fault: say so before queueing
    // (and before a stream's 200), naming the field.
    try {
      const c = constraintFor(r.options, m.tokenizer);
      if (c) { const { jsonSchema: _schema, ...rest } = r.options; r.options = { ...rest, grammar: c.grammar }; } // compiled once, reused by generate()
    } catch (e) {
      const field = r.options.grammar !== undefined ? 'grammar' : 'response_format';
      throw new ApiError(400, `Invalid '${field}': ${(e as Error).message}`, 'invalid_request_error', field, 'invalid_value');
    }
    // Aborted by the client leaving: the request's signal (Node adapter, Deno, Bun) or the
    // response stream's cancel (workerd, browsers).
    const ac = new AbortController();
    const clientSignal = req.signal as AbortSignal | undefined; // (some runtimes have none)
    const onAbort = () => ac.abort(clientSignal?.reason);
    if (clientSignal?.aborted) onAbort(); else clientSignal?.addEventListener('abort', onAbort, { once: true });
    let release: () => void;
    try {
      release = await queue.acquire(ac.signal);
    } catch (e) {
      clientSignal?.removeEventListener('abort', onAbort);
      throw e;
    }
    const generate = async (onText?: (piece: string) => void) => {
      try {
        const g = await m.generate(ids, {
          temperature: 1, seed: crypto.getRandomValues(new Uint32Array(1))[0], ...r.options,
          maxTokens: r.maxTokens ?? defaultMaxTokens, signal: ac.signal, onText: (s) => { served.textPieces++; if (ac.signal.aborted) served.afterCancel++; onText?.(s); },
        });
        served.completed++;
        return g;
      } catch (e) {
        if (ac.signal.aborted) served.cancelled++; else served.failed++;
        throw e;
      }
    };
    const done = () => { release(); clientSignal?.removeEventListener('abort', onAbort); };
    const id = `${endpoint === 'chat' ? 'chatcmpl' : 'cmpl'}-${randomHex(12)}`;
    // One fingerprint: every kernel, build and runtime gives the same bits for the same seed.
    const head = { id, object: endpoint === 'chat' ? 'chat.completion' : 'text_completion', created: Math.floor(Date.now() / 1000), model: modelId(m), system_fingerprint: 'bitnet-wasm' };
    const echo = r.echo ? (text ?? m.detokenize(ids)) : '';
    const usage = (g: GenerateResult) => ({ prompt_tokens: ids.length, completion_tokens: g.stats.generatedTokens, total_tokens: ids.length + g.stats.generatedTokens });

    if (!r.stream) {
      try {
        const job = generate();
        keepAlive(job);
        const g = await job;
        const finish_reason = FINISH[g.finishReason] ?? 'length';
        const choice = endpoint === 'chat'
          ? { index: 0, message: { role: 'assistant', content: g.text, refusal: null }, logprobs: null, finish_reason }
          : { index: 0, text: echo + g.text, logprobs: null, finish_reason };
        return json(200, { ...head, choices: [choice], usage: usage(g) });
      } finally {
        done();
      }
    }

    const chunkHead = { ...head, object: endpoint === 'chat' ? 'chat.completion.chunk' : 'text_completion' };
    const piece = (s: string, finish_reason: string | null = null) => endpoint === 'chat'
      ? { ...chunkHead, choices: [{ index: 0, delta: finish_reason ? {} : { content: s }, logprobs: null, finish_reason }] }
      : { ...chunkHead, choices: [{ index: 0, text: s, logprobs: null, finish_reason }] };
    const withUsage = (o: object) => (r.includeUsage ? { ...o, usage: null } : o);
    const enc = new TextEncoder();
    let closed = false;
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        const send = (data: unknown) => { if (!closed) controller.enqueue(enc.encode(`data: ${typeof data === 'string' ? data : JSON.stringify(data)}\n\n`)); };
        keepAlive((async () => {
          try {
            if (endpoint === 'chat') send(withUsage({ ...chunkHead, choices: [{ index: 0, delta: { role: 'assistant', content: '' }, logprobs: null, finish_reason: null }] }));
            else if (echo) send(withUsage(piece(echo)));
            const g = await generate((s) => send(withUsage(piece(s))));
            send(withUsage(piece('', FINISH[g.finishReason] ?? 'length')));
            if (r.includeUsage) send({ ...chunkHead, choices: [], usage: usage(g) });
            send('[DONE]');
          } catch (e) {
            // OpenAI's clients raise an error event's object as an APIError.
            if (!ac.signal.aborted) send({ error: toApiError(e).body.error });
          } finally {
            done();
            if (!closed) { closed = true; controller.close(); }
          }
        })());
      },
      cancel(reason) { closed = true; ac.abort(reason); },
    });
    return new Response(stream, { status: 200, headers: { ...SSE_HEADERS, ...cors } });
  }

  async function models(): Promise<Response> {
    const m = await getModel();
    return json(200, { object: 'list', data: [{ id: modelId(m), object: 'model', created: createdAt(), owned_by: 'bitnet-wasm' }] });
  }

  async function oneModel(req: Request): Promise<Response> {
    const m = await getModel();
    const want = decodeURIComponent(new URL(req.url).pathname.slice('/v1/models/'.length));
    if (want !== modelId(m)) throw new ApiError(404, `The model '${want}' does not exist; this server has '${modelId(m)}'.`, 'invalid_request_error', 'model', 'model_not_found');
    return json(200, { id: want, object: 'model', created: createdAt(), owned_by: 'bitnet-wasm' });
  }

  async function health(): Promise<Response> {
    const q = { ...queue.size, limit: queue.maxWaiting };
    if (!model) {
      getModel().catch(() => undefined); // start loading (lazy models)
      return json(503, { status: 'loading', queue: q });
    }
    return json(200, { status: 'ok', model: modelId(model), contextLength: model.contextLength, queue: q, served });
  }

  // path -> method -> route; /v1/models/{id} by prefix.
  type Route = (req: Request, keepAlive: (p: Promise<unknown>) => void) => Promise<Response>;
  const ROUTES: Record<string, Record<string, Route>> = {
    '/v1/chat/completions': { POST: (req, keepAlive) => completion('chat', req, keepAlive) },
    '/v1/completions': { POST: (req, keepAlive) => completion('text', req, keepAlive) },
    '/v1/models': { GET: models },
    '/v1/models/*': { GET: oneModel },
    '/health': { GET: health },
  };

  return async function handle(req: Request, _env?: unknown, ctx?: WaitUntilContext): Promise<Response> {
    const keepAlive = (p: Promise<unknown>) => { if (typeof ctx?.waitUntil === 'function') ctx.waitUntil(p.catch(() => undefined)); };
    try {
      const path = new URL(req.url).pathname;
      const key = path.startsWith('/v1/models/') ? '/v1/models/*' : path;
      const methods = Object.hasOwn(ROUTES, key) ? ROUTES[key] : undefined;
      if (!methods) throw new ApiError(404, `Unknown route ${req.method} ${path}. This server has POST /v1/chat/completions, POST /v1/completions, GET /v1/models and GET /health.`, 'not_found_error', null, 'unknown_url');
      if (req.method === 'OPTIONS' && opts.cors) {
        return new Response(null, { status: 204, headers: { ...cors, 'access-control-allow-methods': 'GET, POST, OPTIONS', 'access-control-allow-headers': 'authorization, content-type', 'access-control-max-age': '86400' } });
      }
      const route = methods[req.method];
      if (!route) throw new ApiError(405, `${path} does not take ${req.method}; use ${Object.keys(methods).join(' or ')}.`, 'invalid_request_error', null, 'method_not_allowed', { allow: Object.keys(methods).join(', ') });
      return await route(req, keepAlive);
    } catch (e) {
      const err = toApiError(e);
      if (err.status === CLIENT_CLOSED) return new Response(null, { status: CLIENT_CLOSED, headers: cors });
      return errorResponse(err, cors);
    }
  };
}
