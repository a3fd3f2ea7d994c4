// The OpenAI-compatible Fetch handler (src/server) in-process, on the shipped model: answers equal
// what the library generates for the same prompt and options, streaming gives the same text as
// chunks, the queue serializes and refuses with 429 when full, a client that leaves stops its
// generation, and every malformed request of the table gets its status and error object.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadModel, type Model } from '../../src/model/model.js';
import { createHandler, FALLBACK_CHAT_TEMPLATE, type FetchHandler } from '../../src/server/handler.js';
import { caseBody, MALFORMED } from './malformed.js';

let model: Model;
let handler: FetchHandler;
const BASE = 'http://test.local';

beforeAll(async () => {
  model = await loadModel(new Uint8Array(readFileSync('models/default.gguf')));
  handler = createHandler({ model, modelId: 'default', maxQueue: 2 });
});
afterAll(() => model?.dispose());

const post = (path: string, body: unknown, init: RequestInit = {}) =>
  handler(new Request(BASE + path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), ...init }));

/** The data lines of a server-sent-events body. */
async function events(res: Response): Promise<string[]> {
  const text = await res.text();
  expect(text.endsWith('\n\n')).toBe(true);
  return text.split('\n\n').filter(Boolean).map((e) => { expect(e.startsWith('data: ')).toBe(true); return e.slice(6); });
}

/** Waits (bounded) until the handler's queue reaches a state: requests reach it after reading their body. */
async function queueAt(want: { running: number; waiting: number }) {
  for (let i = 0; i < 500; i++) {
    const q = (await health()).queue;
    if (q.running === want.running && q.waiting === want.waiting) return;
    await new Promise((r) => setTimeout(r, 2));
  }
  expect((await health()).queue).toMatchObject(want);
}

const health = async () => (await (await handler(new Request(`${BASE}/health`))).json()) as { status: string; queue: { running: number; waiting: number } };

describe('OpenAI-compatible handler', () => {
  it('/v1/completions returns what model.generate() gives for the same prompt and options', async () => {
    const res = await post('/v1/completions', { model: 'default', prompt: 'The jury said', max_tokens: 24, temperature: 0.8, top_p: 0.9, seed: 7 });
    expect(res.status).toBe(200);
    const j = await res.json();
    const ref = await model.generate('The jury said', { maxTokens: 24, temperature: 0.8, topP: 0.9, seed: 7 });
    expect(j.object).toBe('text_completion');
    expect(j.id).toMatch(/^cmpl-[0-9a-f]{24}$/);
    expect(j.choices).toEqual([{ index: 0, text: ref.text, logprobs: null, finish_reason: 'length' }]);
    expect(j.usage).toEqual({ prompt_tokens: ref.stats.promptTokens, completion_tokens: 24, total_tokens: ref.stats.promptTokens + 24 });
  });

  it('/v1/chat/completions renders the messages with the chat template and generates from them', async () => {
    const messages = [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: [{ type: 'text', text: 'The city' }, { type: 'text', text: ' council' }] }];
    const res = await post('/v1/chat/completions', { model: 'default', messages, max_tokens: 16, temperature: 0, seed: 1 });
    const j = await res.json();
    const prompt = model.applyChatTemplate([{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'The city council' }],
      typeof model.header.metadata.get('tokenizer.chat_template')?.value === 'string' ? undefined : FALLBACK_CHAT_TEMPLATE);
    const ids = model.tokenize(prompt, { addBos: false, parseSpecial: true });
    const ref = await model.generate(ids, { maxTokens: 16, temperature: 0 });
    expect(j.object).toBe('chat.completion');
    expect(j.choices[0].message).toEqual({ role: 'assistant', content: ref.text, refusal: null });
    expect(j.usage.prompt_tokens).toBe(ids.length);
  });

  it('streams the same text as chunks in OpenAI format, ending with finish_reason, usage and [DONE]', async () => {
    const body = { prompt: 'The jury said', max_tokens: 20, temperature: 0.7, seed: 3 };
    const whole = await (await post('/v1/completions', body)).json();
    const res = await post('/v1/completions', { ...body, stream: true, stream_options: { include_usage: true } });
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const ev = await events(res);
    expect(ev.at(-1)).toBe('[DONE]');
    const chunks = ev.slice(0, -1).map((e) => JSON.parse(e));
    expect(new Set(chunks.map((c) => c.id)).size).toBe(1);
    expect(chunks.every((c) => c.object === 'text_completion')).toBe(true);
    const usage = chunks.pop();
    expect(usage.choices).toEqual([]);
    expect(usage.usage).toEqual(whole.usage);
    expect(chunks.at(-1).choices[0].finish_reason).toBe('length');
    expect(chunks.slice(0, -1).every((c) => c.choices[0].finish_reason === null && c.usage === null)).toBe(true);
    expect(chunks.length).toBeGreaterThan(5);
    expect(chunks.map((c) => c.choices[0].text).join('')).toBe(whole.choices[0].text);
  });

  it('streams chat deltas: a role chunk first, content deltas, an empty delta with finish_reason', async () => {
    const body = { messages: [{ role: 'user', content: 'Hello' }], max_tokens: 12, seed: 5 };
    const whole = await (await post('/v1/chat/completions', body)).json();
    const ev = await events(await post('/v1/chat/completions', { ...body, stream: true }));
    expect(ev.pop()).toBe('[DONE]');
    const chunks = ev.map((e) => JSON.parse(e));
    expect(chunks.every((c) => c.object === 'chat.completion.chunk' && !('usage' in c))).toBe(true);
    expect(chunks[0].choices[0].delta).toEqual({ role: 'assistant', content: '' });
    expect(chunks.at(-1).choices[0]).toEqual({ index: 0, delta: {}, logprobs: null, finish_reason: whole.choices[0].finish_reason });
    expect(chunks.slice(1, -1).map((c) => c.choices[0].delta.content).join('')).toBe(whole.choices[0].message.content);
  });

  it('stop sequences end the text before them with finish_reason "stop"', async () => {
    const free = await (await post('/v1/completions', { prompt: 'The jury said', max_tokens: 40, temperature: 0 })).json();
    const text: string = free.choices[0].text;
    const stop = text.slice(10, 13); // a piece the greedy text is known to contain
    const j = await (await post('/v1/completions', { prompt: 'The jury said', max_tokens: 40, temperature: 0, stop: [stop, 'zzzz'] })).json();
    expect(j.choices[0].finish_reason).toBe('stop');
    expect(j.choices[0].text).toBe(text.slice(0, text.indexOf(stop)));
  });

  it('echo prepends the prompt; token-id prompts work', async () => {
    const ids = model.tokenize('The jury said');
    const a = await (await post('/v1/completions', { prompt: ids, max_tokens: 8, temperature: 0, echo: true })).json();
    const b = await (await post('/v1/completions', { prompt: 'The jury said', max_tokens: 8, temperature: 0 })).json();
    expect(a.choices[0].text).toBe(model.detokenize(ids) + b.choices[0].text);
  });

  it('the same seed gives the same completion; no seed draws a random one', async () => {
    const body = { prompt: 'Once upon a time', max_tokens: 24, temperature: 1.5, top_k: 0 };
    const texts = await Promise.all([1, 1, 2].map(async (seed) => (await (await post('/v1/completions', { ...body, seed })).json()).choices[0].text));
    expect(texts[0]).toBe(texts[1]);
    expect(texts[2]).not.toBe(texts[0]);
    const unseeded = new Set<string>();
    for (let i = 0; i < 3; i++) unseeded.add((await (await post('/v1/completions', body)).json()).choices[0].text);
    expect(unseeded.size).toBeGreaterThan(1);
  });

  it('concurrent requests are served one at a time, each equal to its solo output', async () => {
    const bodies = Array.from({ length: 3 }, (_, i) => ({ prompt: ['The jury said', 'Once upon a time', 'The city'][i], max_tokens: 16, temperature: 0.9, seed: 10 + i }));
    const solo = [];
    for (const b of bodies) solo.push((await (await post('/v1/completions', b)).json()).choices[0].text);
    const together = await Promise.all(bodies.map(async (b) => (await (await post('/v1/completions', b)).json()).choices[0].text));
    expect(together).toEqual(solo);
  });

  it('answers 429 with an OpenAI error when the queue is full, and serves the waiting ones', async () => {
    // maxQueue 2: one streaming generation runs, two wait, the fourth is refused.
    const long = { prompt: 'The jury said', max_tokens: 200, temperature: 0, stream: true };
    const running = await post('/v1/completions', long);
    const waiting = [post('/v1/completions', { prompt: 'a', max_tokens: 2 }), post('/v1/completions', { prompt: 'b', max_tokens: 2 })];
    await queueAt({ running: 1, waiting: 2 });
    const refused = await post('/v1/completions', { prompt: 'c', max_tokens: 2 });
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toBe('1');
    expect(await refused.json()).toEqual({ error: { message: expect.stringMatching(/busy: 2 requests are already waiting/), type: 'rate_limit_error', param: null, code: 'rate_limit_exceeded' } });
    await running.text();
    for (const w of await Promise.all(waiting)) expect(w.status).toBe(200);
    expect((await health()).queue).toEqual({ running: 0, waiting: 0, limit: 2 });
  });

  it('a streaming client that cancels stops its generation and frees the model', async () => {
    const h = createHandler({ model, modelId: 'default' });
    const served = async () => (await (await h(new Request(`${BASE}/health`))).json()).served;
    const body = (n: number, stream: boolean) => JSON.stringify({ prompt: 'The jury said', max_tokens: n, temperature: 0, stream });
    // Uncancelled, this request streams 200 pieces (greedy text without EOS here).
    expect((await (await h(new Request(`${BASE}/v1/completions`, { method: 'POST', body: body(200, false) }))).json()).usage.completion_tokens).toBe(200);
    const before = await served();
    const res = await h(new Request(`${BASE}/v1/completions`, { method: 'POST', body: body(200, true) }));
    const reader = res.body!.getReader();
    for (let i = 0; i < 3; i++) await reader.read();
    await reader.cancel();
    await new Promise((r) => setTimeout(r, 20));
    const after = await served();
    expect(after.cancelled - before.cancelled).toBe(1);
    expect(after.completed).toBe(before.completed);
    // Speed-independent: no piece is produced once the server has seen the cancel (how many came
    // before it depends on how fast tokens are, so it is only bounded by the request: < 200).
    expect(after.afterCancel).toBe(before.afterCancel);
    expect(after.textPieces - before.textPieces).toBeLessThan(200);
    const next = await h(new Request(`${BASE}/v1/completions`, { method: 'POST', body: body(5, false) }));
    expect(next.status).toBe(200);
    expect((await served()).completed).toBe(before.completed + 1);
  });

  it('a non-streaming client that aborts frees the model (its answer is never sent)', async () => {
    const ac = new AbortController();
    const p = post('/v1/completions', { prompt: 'The jury said', max_tokens: 200, temperature: 0 }, { signal: ac.signal });
    setTimeout(() => ac.abort(), 5);
    const res = await p;
    expect(res.status).toBe(499);
    expect((await health()).queue.running).toBe(0);
    // A request aborted while it waits in the queue gives up its place.
    const first = await post('/v1/completions', { prompt: 'The jury said', max_tokens: 100, temperature: 0, stream: true });
    const ac2 = new AbortController();
    const queued = post('/v1/completions', { prompt: 'x', max_tokens: 2 }, { signal: ac2.signal });
    await queueAt({ running: 1, waiting: 1 });
    ac2.abort();
    expect((await queued).status).toBe(499);
    expect((await health()).queue.waiting).toBe(0);
    await first.text();
  });

  it('/v1/models and /health describe the served model', async () => {
    const list = await (await handler(new Request(`${BASE}/v1/models`))).json();
    expect(list).toEqual({ object: 'list', data: [{ id: 'default', object: 'model', created: expect.any(Number), owned_by: 'bitnet-wasm' }] });
    expect((await (await handler(new Request(`${BASE}/v1/models/default`))).json()).id).toBe('default');
    expect(await health()).toEqual({ status: 'ok', model: 'default', contextLength: model.contextLength, queue: { running: 0, waiting: 0, limit: 2 },
      served: { completed: expect.any(Number), cancelled: expect.any(Number), failed: 0, textPieces: expect.any(Number), afterCancel: 0 } });
  });

  it('a lazily loaded model: /health says loading (503) until it is there; a failed load is a 503 error, retried next time', async () => {
    let attempts = 0;
    const h = createHandler({ model: async () => { if (attempts++ === 0) throw new Error('disk on fire'); return model; } });
    const first = await h(new Request(`${BASE}/v1/models`));
    expect(first.status).toBe(503);
    expect((await first.json()).error).toMatchObject({ type: 'server_error', code: 'model_unavailable', message: expect.stringMatching(/disk on fire/) });
    const hl = await h(new Request(`${BASE}/health`));
    expect(hl.status).toBe(503);
    expect((await hl.json()).status).toBe('loading');
    expect((await h(new Request(`${BASE}/v1/models`))).status).toBe(200);
  });

  it("logit_bias moves the output as the library's logitBias does; -100 keeps the greedy token out", async () => {
    const ids = model.tokenize('The jury said');
    const greedy = await model.generate(ids, { maxTokens: 1, temperature: 0 });
    const first = greedy.tokens[0];
    const banned = await (await post('/v1/completions', { prompt: ids, max_tokens: 6, temperature: 0, logit_bias: { [first]: -100 } })).json();
    const ref = await model.generate(ids, { maxTokens: 6, temperature: 0, logitBias: { [first]: -100 } });
    expect(banned.choices[0].text).toBe(ref.text);
    expect(ref.tokens[0]).not.toBe(first);
    const forced = await (await post('/v1/completions', { prompt: ids, max_tokens: 1, temperature: 0, logit_bias: { 300: 100 } })).json();
    expect(forced.choices[0].text).toBe(model.detokenize([300]));
  });

  it('response_format json_schema constrains the reply to JSON that validates; the same as the library with jsonSchema', async () => {
    const schema = { type: 'object', properties: { answer: { type: 'integer' } }, required: ['answer'], additionalProperties: false };
    const messages = [{ role: 'user', content: 'What is 6 times 7?' }];
    const j = await (await post('/v1/chat/completions', { messages, max_tokens: 40, seed: 1, temperature: 0.8, response_format: { type: 'json_schema', json_schema: { name: 'answer', schema } } })).json();
    const content = j.choices[0].message.content;
    expect(Object.keys(JSON.parse(content))).toEqual(['answer']);
    expect(Number.isInteger(JSON.parse(content).answer)).toBe(true);
    expect(j.choices[0].finish_reason).toBe('stop');
    const prompt = model.tokenize(model.applyChatTemplate(messages), { addBos: false, parseSpecial: true });
    expect(content).toBe((await model.generate(prompt, { maxTokens: 40, seed: 1, temperature: 0.8, jsonSchema: schema })).text);
    // json_object: any JSON object; here the first character at least.
    const o = await (await post('/v1/chat/completions', { messages, max_tokens: 8, seed: 2, response_format: { type: 'json_object' } })).json();
    expect(o.choices[0].message.content.startsWith('{')).toBe(true);
  });

  it('a grammar or schema that does not compile is a 400 naming its field, before any generation', async () => {
    const bad = [
      [{ response_format: { type: 'json_schema', json_schema: { name: 'x', schema: { type: 'frobnicate' } } } }, 'response_format', /frobnicate/],
      [{ grammar: 'root ::= ((' }, 'grammar', /expected '\)'/],
      [{ logit_bias: { abc: 1 } }, 'logit_bias.abc', /not a token id/],
      [{ logit_bias: { 5: 101 } }, 'logit_bias.5', /\[-100, 100\]/],
      [{ response_format: { type: 'xml' } }, 'response_format.type', /'text', 'json_object' or 'json_schema'/],
    ] as const;
    for (const [extra, param, msg] of bad) {
      const res = await post('/v1/chat/completions', { messages: [{ role: 'user', content: 'x' }], stream: true, ...extra });
      expect(res.status).toBe(400);
      expect((await res.json()).error).toMatchObject({ param, message: expect.stringMatching(msg) });
    }
  });

  it('a table of malformed requests: each gets its status and OpenAI error object, and the server still works after', async () => {
    const rows: string[] = ['| request | HTTP | error.type | error.param | error.code | error.message |', '|---|---:|---|---|---|---|'];
    for (const c of MALFORMED) {
      const res = await handler(new Request(BASE + (c.path ?? '/'), { method: c.method ?? 'POST', body: caseBody(c) }));
      const j = await res.json();
      expect({ name: c.name, status: res.status }).toEqual({ name: c.name, status: c.status });
      expect(res.headers.get('content-type')).toBe('application/json');
      expect(Object.keys(j)).toEqual(['error']);
      expect({ name: c.name, ...j.error }).toEqual({ name: c.name, type: c.type, param: c.param, code: c.code, message: expect.stringMatching(c.message) });
      rows.push(`| ${c.name} | ${res.status} | ${j.error.type} | ${j.error.param ?? 'null'} | ${j.error.code} | ${j.error.message.replace(/\|/g, '\\|').slice(0, 140)} |`);
    }
    expect(MALFORMED.length).toBeGreaterThanOrEqual(12);
    mkdirSync('test-artifacts', { recursive: true });
    writeFileSync('test-artifacts/server-malformed-requests.md', rows.join('\n') + '\n');
    expect((await post('/v1/completions', { prompt: 'x', max_tokens: 2 })).status).toBe(200);
    expect((await health()).queue).toEqual({ running: 0, waiting: 0, limit: 2 });
  });
});
