// State across calls: concurrent calls never interfere (FIFO per sequence), KV reuse of the
// longest cached prefix, chat sessions, several sequences within a cache budget, context shift.
// Every property is checked against a fresh model (empty cache) as the reference, bit for bit.
import { beforeAll, describe, expect, it } from 'vitest';
import { makeModel } from '../../src/synth/make-model.js';
import { loadModel, type GenerateOptions, type Model } from '../../src/model/model.js';
import { BitnetError } from '../../src/errors.js';
import { mulberry32 } from '../../src/synth/make-model.js';
import { commonPrefix } from '../../src/model/sequence.js';
import { createDetokenizer } from '../../src/tokenizer/index.js';

let bytes: Uint8Array;
beforeAll(async () => { bytes = await makeModel({ preset: 'tiny', ternaryType: 'TQ2_0', tokenizer: 'bpe', seed: 11 }); }, 60_000);

/** Two key caches compared in f32 ulps of each head's largest value in `kb`: the worst, and how many values differ. */
function keyUlps(ka: Float32Array, kb: Float32Array, headDim: number): { worst: number; differ: number } {
  let worst = 0, differ = 0;
  for (let h = 0; h < kb.length; h += headDim) {
    let scale = 0;
    for (let i = h; i < h + headDim; i++) scale = Math.max(scale, Math.abs(kb[i]));
    for (let i = h; i < h + headDim; i++) {
      worst = Math.max(worst, Math.abs(ka[i] - kb[i]) / scale / 2 ** -24);
      if (ka[i] !== kb[i]) differ++;
    }
  }
  return { worst, differ };
}
const bitsOf = (f: Float32Array) => Array.from(new Uint32Array(f.buffer.slice(f.byteOffset, f.byteOffset + f.byteLength)));
const fresh = (ctx = 256) => loadModel(bytes, { contextLength: ctx, batchSize: 5 });
/** The reference: a model whose cache is emptied before every call (no reuse). */
async function reference(ctx = 256): Promise<Model> {
  const m = await fresh(ctx);
  const clear = () => m.mainSequence.clear();
  const wrap = <A extends unknown[], R>(f: (...a: A) => R) => (...a: A): R => { clear(); return f.apply(m, a); };
  m.generate = wrap(m.generate); m.chat = wrap(m.chat); m.logits = wrap(m.logits); m.stream = wrap(m.stream);
  return m;
}
const PROMPTS = ['Once upon a time', 'The jury said', 'In a land far away, the', 'Hello there', 'Once upon a mountain'];

type Call = { kind: 'generate' | 'stream' | 'chat' | 'logits'; prompt: string; opts: GenerateOptions; abortAfter?: number };
type Outcome = { tokens?: number[]; text?: string; logits?: number[]; aborted?: boolean };

/** Runs one call; `abortAfter` aborts a stream after that many pieces (0: before it starts). */
async function perform(m: Model, c: Call): Promise<Outcome> {
  const ac = new AbortController();
  const opts = { ...c.opts, signal: ac.signal };
  if (c.abortAfter === 0) ac.abort();
  try {
    if (c.kind === 'logits') { await Promise.resolve(); return { logits: bitsOf(m.logits(m.tokenize(c.prompt))) }; }
    if (c.kind === 'chat') { const r = await m.chat([{ role: 'user', content: c.prompt }], opts); return { tokens: r.tokens, text: r.text }; }
    if (c.kind === 'generate') { const r = await m.generate(c.prompt, opts); return { tokens: r.tokens, text: r.text }; }
    let text = '', n = 0;
    for await (const piece of m.stream(c.prompt, opts)) { text += piece; if (++n === c.abortAfter) ac.abort(); }
    return { text };
  } catch (e) {
    if (ac.signal.aborted) return { aborted: true };
    throw e;
  }
}

describe('concurrent calls on one model', () => {
  it('2..8 concurrent mixed calls (generate, stream, chat, logits, aborts) each equal their solo output bit for bit', async () => {
    const m = await fresh();
    const solo = await reference();
    const rand = mulberry32(7);
    const kinds = ['generate', 'stream', 'chat', 'logits'] as const;
    for (let n = 2; n <= 8; n++) {
      const calls: Call[] = Array.from({ length: n }, (_, i) => ({
        kind: kinds[(i + n) % 4], prompt: PROMPTS[Math.floor(rand() * PROMPTS.length)],
        opts: { maxTokens: 4 + Math.floor(rand() * 8), temperature: rand() < 0.5 ? 0 : 0.8, seed: i, topK: 20 },
        abortAfter: rand() < 0.25 ? Math.floor(rand() * 3) : undefined,
      }));
      // aborts only make sense for the streaming and queued calls
      for (const c of calls) if (c.kind === 'logits') c.abortAfter = undefined;
      const together = await Promise.all(calls.map((c) => perform(m, c)));
      for (const [i, c] of calls.entries()) {
        const alone = await perform(solo, { ...c, abortAfter: undefined });
        const got = together[i];
        if (got.aborted) { expect(c.abortAfter, `call ${i} of ${n}`).toBeDefined(); continue; }
        if (c.abortAfter !== undefined && c.kind === 'stream') {
          // aborted after k pieces: what came is a prefix of the solo text
          expect(alone.text!.startsWith(got.text!), `call ${i} of ${n}`).toBe(true);
          continue;
        }
        expect(got, `call ${i} of ${n} (${c.kind})`).toEqual(alone);
      }
    }
    m.dispose(); solo.dispose();
  });

  it('a queued call aborted while it waits leaves the queue at once; the running call is undisturbed', async () => {
    const m = await fresh();
    const gen = m.stream(PROMPTS[0], { maxTokens: 6 });
    const first = await gen.next(); // the stream now holds the main sequence
    expect(first.done).toBe(false);
    const ac = new AbortController();
    const waiting = m.generate(PROMPTS[1], { maxTokens: 3, signal: ac.signal });
    const later = m.generate(PROMPTS[2], { maxTokens: 3 });
    ac.abort();
    await expect(waiting).rejects.toThrow();
    let text = first.value as string;
    for await (const p of gen) text += p;
    const solo = await reference();
    expect(text).toBe((await solo.generate(PROMPTS[0], { maxTokens: 6 })).text);
    expect((await later).tokens).toEqual((await solo.generate(PROMPTS[2], { maxTokens: 3 })).tokens);
    // a synchronous call while a stream holds the sequence runs on a temporary cache
    const g2 = m.stream(PROMPTS[3], { maxTokens: 5 });
    let t2 = (await g2.next()).value as string;
    expect(bitsOf(m.logits(m.tokenize(PROMPTS[4])))).toEqual(bitsOf(solo.logits(solo.tokenize(PROMPTS[4]))));
    for await (const p of g2) t2 += p;
    expect(t2).toBe((await solo.generate(PROMPTS[3], { maxTokens: 5 })).text);
    m.dispose(); solo.dispose();
  });

  it('breaking out of a stream frees the sequence for the next call', async () => {
    const m = await fresh();
    for await (const _ of m.stream(PROMPTS[0], { maxTokens: 20 })) break;
    const r = await Promise.race([m.generate(PROMPTS[1], { maxTokens: 2 }), new Promise((r) => setTimeout(() => r('stuck'), 20_000))]);
    expect(r).not.toBe('stuck');
    m.dispose();
  });
});

describe('KV reuse', () => {
  it('a repeated or extended prompt prefills only the new tokens and gives the same bits as an empty cache', async () => {
    const m = await fresh(), solo = await reference();
    const a = await m.generate(PROMPTS[0], { maxTokens: 8 });
    expect(a.stats.cachedTokens).toBe(0);
    const b = await m.generate(PROMPTS[0], { maxTokens: 8 });
    const n = m.tokenize(PROMPTS[0]).length;
    expect(b.stats.cachedTokens).toBe(n - 1); // the last prompt token is re-run for its logits
    expect(b.tokens).toEqual(a.tokens);
    // prompt + the reply: everything but the last generated token is cached
    const ext = [...m.tokenize(PROMPTS[0]), ...a.tokens, ...m.tokenize(' and then', { addBos: false })];
    const c = await m.generate(ext, { maxTokens: 8, temperature: 0.7, seed: 3 });
    expect(c.stats.cachedTokens).toBe(n + a.tokens.length - 1);
    expect(c.tokens).toEqual((await solo.generate(ext, { maxTokens: 8, temperature: 0.7, seed: 3 })).tokens);
    // logits() reuses too, with the same bits
    expect(bitsOf(m.logits(ext.slice(0, n + 3)))).toEqual(bitsOf(solo.logits(ext.slice(0, n + 3))));
    m.dispose(); solo.dispose();
  });

  it('a chat session\'s turn 2 equals a fresh model fed the whole conversation, prefilling only the new turn', async () => {
    const m = await fresh(512);
    const s = m.createChat({ system: 'Be brief.' });
    const opts = { maxTokens: 12, temperature: 0.8, seed: 4 };
    const r1 = await s.send('Hello there, how are you?', opts);
    const turn1 = m.tokenize(m.applyChatTemplate([{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'Hello there, how are you?' }]), { addBos: false, parseSpecial: true });
    expect(r1.stats.cachedTokens).toBe(0);
    const r2 = await s.send('Tell me about the jury.', opts);
    expect(s.messages.map((x) => x.role)).toEqual(['system', 'user', 'assistant', 'user', 'assistant']);
    const solo = await reference(512);
    const ref = await solo.chat(s.messages.slice(0, 4), opts);
    expect(r2.tokens).toEqual(ref.tokens);
    expect(r2.text).toBe(ref.text);
    expect(r2.stats.promptTokens).toBe(ref.stats.promptTokens);
    // the whole first turn's prompt came from the cache; only the reply text and the new turn were prefilled
    expect(r2.stats.cachedTokens).toBeGreaterThanOrEqual(turn1.length);
    const newTurn = m.tokenize(m.applyChatTemplate(s.messages.slice(0, 4)), { addBos: false, parseSpecial: true }).length - turn1.length;
    expect(r2.stats.promptTokens - r2.stats.cachedTokens).toBeLessThanOrEqual(newTurn);
    expect(ref.stats.cachedTokens).toBe(0);
    m.dispose(); solo.dispose();
  });

  it('the temporary cache of a synchronous call on a busy sequence counts in the cache budget', async () => {
    const probe = await fresh(64);
    const perPosition = probe.mainSequence.byteLength / 64;
    probe.dispose();
    const solo = await reference(64);
    const ids = solo.tokenize(PROMPTS[4]);
    // room for the main cache and a temporary one of exactly ids.length positions
    const m = await loadModel(bytes, { contextLength: 64, cacheBudget: (64 + ids.length) * perPosition });
    const g = m.stream(PROMPTS[3], { maxTokens: 5 });
    let text = (await g.next()).value as string; // the stream holds the main sequence
    expect(bitsOf(m.logits(ids))).toEqual(bitsOf(solo.logits(ids)));
    let err: unknown;
    try { m.logits([...ids, ids[1]]); } catch (e) { err = e; }
    expect(err).toMatchObject({ code: 'OUT_OF_MEMORY', message: expect.stringMatching(/temporary KV cache.*cache budget/) });
    for await (const p of g) text += p;
    expect(text).toBe((await solo.generate(PROMPTS[3], { maxTokens: 5 })).text);
    // both temporary caches are gone: a sequence of that size fits now
    m.createSequence({ contextLength: ids.length }).dispose();
    m.dispose(); solo.dispose();
  });

  it('sequences: independent caches side by side, a cache budget, explicit eviction', async () => {
    const probe = await fresh(128);
    const per = probe.mainSequence.byteLength;
    probe.dispose();
    const m = await loadModel(bytes, { contextLength: 128, cacheBudget: 2.5 * per });
    const a = m.createSequence(), b = m.createSequence({ contextLength: 64 });
    expect(b.byteLength).toBe(per / 2);
    expect(() => m.createSequence()).toThrow(/cache budget/);
    const solo = await reference();
    // interleaved streams on two sequences: each as alone
    const ga = a.stream(PROMPTS[0], { maxTokens: 10 }), gb = b.stream(PROMPTS[1], { maxTokens: 10 });
    let ta = '', tb = '';
    for (;;) {
      const [x, y] = [await ga.next(), await gb.next()];
      if (!x.done) ta += x.value; if (!y.done) tb += y.value;
      if (x.done && y.done) break;
    }
    expect(ta).toBe((await solo.generate(PROMPTS[0], { maxTokens: 10 })).text);
    expect(tb).toBe((await solo.generate(PROMPTS[1], { maxTokens: 10 })).text);
    expect(a.tokens.length).toBeGreaterThan(0);
    a.dispose();
    expect(() => a.logits([1])).toThrow(BitnetError);
    const c = m.createSequence(); // fits again
    expect(() => m.createSequence({ contextLength: 1000 })).toThrow(BitnetError);
    c.dispose(); b.dispose();
    m.dispose(); solo.dispose();
  });
});

describe('context full', () => {
  const argmax = (l: Float32Array) => { let b = 0; for (let j = 1; j < l.length; j++) if (l[j] > l[b]) b = j; return b; };

  it('without contextShift: finishReason "context" once every position is used', async () => {
    const m = await fresh(24);
    const n = m.tokenize(PROMPTS[2]).length;
    const r = await m.generate(PROMPTS[2], { maxTokens: 100 });
    expect(r.finishReason).toBe('context');
    // prompt and generated tokens fill the context (the last one is sampled, never run)
    expect(r.tokens.length).toBe(24 - n);
    m.dispose();
  });

  it('contextShift keeps the first `keep` tokens, drops half of the rest and goes on: the documented tokens', async () => {
    const ctx = 24;
    const m = await fresh(ctx), solo = await reference(ctx);
    for (const keep of [undefined, 4]) {
      const prompt = m.tokenize(PROMPTS[2]);
      const r = await m.generate(prompt, { maxTokens: 60, contextShift: keep === undefined ? true : { keep } });
      expect(r.tokens.length).toBe(60);
      // The rule, replayed on a fresh model: the cache C holds tokens; when C and the next token
      // would fill the context, C = C[0..k) ++ C[k + max(1, (|C| - k) >> 1)..) first. k defaults to
      // 1 (the BOS).
      const k = keep ?? (prompt[0] === m.tokenizer.bos ? 1 : 0);
      let C = prompt.slice();
      const want: number[] = [];
      while (want.length < 60) {
        const next = argmax(solo.logits(C));
        want.push(next);
        if (C.length + 1 === ctx) C = [...C.slice(0, k), ...C.slice(k + Math.max(1, (C.length - k) >> 1))];
        C.push(next);
      }
      expect(r.tokens).toEqual(want);
    }
    await expect(m.generate(PROMPTS[2], { contextShift: { keep: 23 } })).rejects.toMatchObject({ code: 'BAD_ARGUMENT' });
    m.dispose(); solo.dispose();
  });

  it("a chat's context shift keeps its system message (chat sessions and model.chat): the documented tokens", async () => {
    const ctx = 160, system = 'You are a careful assistant.';
    const m = await fresh(ctx), solo = await reference(ctx);
    const user = 'Tell me a story';
    // The system turn as the built-in llama3-style template renders it alone, written out by hand.
    const bosText = m.tokenizer.tokenText(m.tokenizer.bos);
    const sys = m.tokenize(`${bosText}<|start_header_id|>system<|end_header_id|>\n\n${system}<|eot_id|>`, { addBos: false, parseSpecial: true });
    const prompt = m.tokenize(m.applyChatTemplate([{ role: 'system', content: system }, { role: 'user', content: user }]), { addBos: false, parseSpecial: true });
    expect(prompt.slice(0, sys.length)).toEqual(sys);
    expect(sys.length).toBeGreaterThan(10);
    /** The rule of 'context full' (above), replayed on a fresh model with k kept tokens. */
    const replay = (k: number, n: number) => {
      let C = prompt.slice();
      const want: number[] = [];
      while (want.length < n) {
        const next = argmax(solo.logits(C));
        want.push(next);
        if (C.length + 1 === ctx) C = [...C.slice(0, k), ...C.slice(k + Math.max(1, (C.length - k) >> 1))];
        C.push(next);
      }
      return want;
    };
    const n = ctx - prompt.length + 10; // at least one shift
    const session = m.createChat({ system, contextLength: ctx });
    const r = await session.send(user, { maxTokens: n, contextShift: true, stopTokens: [] });
    expect(r.tokens.length).toBe(n);
    expect(r.tokens).toEqual(replay(sys.length, n));
    expect(session.sequence.tokens.slice(0, sys.length)).toEqual(sys); // the system message is still cached
    expect(r.tokens).not.toEqual(replay(1, n)); // (keeping only the BOS gives other tokens here)
    // model.chat does the same; an explicit keep still wins; { method } alone keeps the system message too.
    const messages = [{ role: 'system', content: system }, { role: 'user', content: user }];
    expect((await m.chat(messages, { maxTokens: n, contextShift: { method: 'reprefill' } })).tokens).toEqual(r.tokens);
    expect((await m.chat(messages, { maxTokens: n, contextShift: { keep: 1 } })).tokens).toEqual(replay(1, n));
    // A system message that leaves no room to shift is a clear error (not a silent BOS-only shift).
    const tight = m.createChat({ system: system.repeat(8), contextLength: ctx });
    await expect(tight.send(user, { contextShift: true })).rejects.toMatchObject({ code: 'BAD_ARGUMENT', message: expect.stringMatching(/system message takes \d+ tokens/) });
    session.dispose(); tight.dispose(); m.dispose(); solo.dispose();
  });
});

describe('a prompt that does not fit', () => {
  it('with contextShift it is shifted by the same rule before it runs (both methods); without, CONTEXT_OVERFLOW', async () => {
    const ctx = 24;
    const m = await fresh(ctx), solo = await reference(ctx);
    const long = m.tokenize(`${PROMPTS[2]} ${PROMPTS[0]} ${PROMPTS[1]} ${PROMPTS[3]} ${PROMPTS[4]} ${PROMPTS[2]}`);
    expect(long.length).toBeGreaterThan(2 * ctx);
    // the rule: while the prompt leaves no position for the next token, keep 2 and drop half of the rest
    let C = long.slice(), dropped = 0;
    while (C.length > ctx - 1) { const d = Math.max(1, (C.length - 2) >> 1); C = [...C.slice(0, 2), ...C.slice(2 + d)]; dropped += d; }
    expect(C.length + 4).toBeLessThan(ctx); // (no shift while generating)
    const want = await solo.generate(C, { maxTokens: 4 });
    for (const method of ['reprefill', 'kshift'] as const) {
      m.mainSequence.clear();
      const r = await m.generate(long, { maxTokens: 4, contextShift: { keep: 2, method } });
      expect(r.tokens).toEqual(want.tokens); // (nothing cached: kshift has nothing to rotate)
      expect(r.stats).toMatchObject({ promptTokens: C.length, cachedTokens: 0, droppedTokens: dropped });
    }
    // without contextShift: as before
    await expect(m.generate(long, { maxTokens: 4 })).rejects.toMatchObject({ code: 'CONTEXT_OVERFLOW' });
    m.dispose(); solo.dispose();
  });
});

describe('chat sessions after a context shift', () => {
  // (this tokenizer spells the llama3 headers in bytes: a new turn is ~70 tokens)
  const ctx = 320, system = 'You are a careful assistant.';
  const tok = (m: Model, text: string) => m.tokenize(text, { addBos: false, parseSpecial: true });
  /** The system turn and a new turn as the built-in llama3-style template renders them, written out by hand. */
  const sysTurn = (m: Model) => tok(m, `${m.tokenizer.tokenText(m.tokenizer.bos)}<|start_header_id|>system<|end_header_id|>\n\n${system}<|eot_id|>`);
  const newTurn = (m: Model, user: string) => tok(m, `<|eot_id|><|start_header_id|>user<|end_header_id|>\n\n${user}<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n`);
  const shiftOnce = (C: number[], k: number) => [...C.slice(0, k), ...C.slice(k + Math.max(1, (C.length - k) >> 1))];
  /** The documented rule, replayed on token lists: the prompt shifted until it leaves a position, then
   *  every reply token but the last run (the last one never is), shifting when the cache is full.
   *  ran: the prompt as it ran; cache: the tokens the cache holds after; W: cache + the last reply token. */
  const replay = (prompt: number[], k: number, reply: number[]) => {
    let C = prompt.slice();
    while (C.length > ctx - 1) C = shiftOnce(C, k);
    const ran = C.slice();
    for (const t of reply.slice(0, -1)) { if (C.length + 1 >= ctx) C = shiftOnce(C, k); C.push(t); }
    return { ran, cache: C, W: [...C, reply[reply.length - 1]], dropped: prompt.length + reply.length - 1 - C.length };
  };
  const USERS = ['Tell me a story', 'And then what happened?', 'Wait', 'Tell me more about the jury, the city and the election that was held there, please.'];
  const sampling = { temperature: 0.8, seed: 5, repeatPenalty: 1.1 };
  /** A session (with the system message, or with `template` and keep 4) whose turn 1 (greedy, EOS
   *  banned) shifts, checked against the replayed rule; and a reference model. */
  const shiftedSession = async (contextShift: { method?: 'reprefill' | 'kshift'; keep?: number }, template?: string) => {
    const m = await fresh(ctx), solo = await reference(ctx);
    const s = m.createChat({ ...(template === undefined ? { system } : { template }), contextLength: ctx });
    const first = [...(template === undefined ? [{ role: 'system', content: system }] : []), { role: 'user', content: USERS[0] }];
    const p1 = tok(m, m.applyChatTemplate(first, template));
    const k = template === undefined ? sysTurn(m).length : 4;
    if (template === undefined) expect(p1.slice(0, k)).toEqual(sysTurn(m));
    const r1 = await s.send(USERS[0], { maxTokens: ctx - p1.length + 10, contextShift, logitBias: { [m.tokenizer.eos]: -Infinity } });
    expect(r1.finishReason).toBe('length');
    expect(m.detokenize(r1.tokens)).toBe(r1.text); // (every reply token spells the reply: W holds all of them)
    const t1 = replay(p1, k, r1.tokens);
    expect(t1.dropped).toBeGreaterThan(0);
    expect(r1.stats.droppedTokens).toBe(t1.dropped);
    expect(s.sequence.tokens).toEqual(t1.cache);
    return { m, solo, s, k, p1, r1, t1 };
  };

  it("'reprefill': every turn after the shift is a fresh model fed the documented tokens, prefilling only the new turn; an aborted turn leaves no trace; a turn that overflows is shifted first", async () => {
    const shift = { method: 'reprefill' as const };
    const { m, solo, s, k, t1 } = await shiftedSession(shift); // turn 1 shifts at least once
    // (the whole conversation rendered again no longer fits: before W, this turn was CONTEXT_OVERFLOW)
    const whole = tok(m, m.applyChatTemplate([...s.messages, { role: 'user', content: USERS[1] }]));
    expect(whole.length).toBeGreaterThan(ctx - 1);
    // turn 2: W + the new turn, bit for bit a fresh model given those tokens; prefills the new turn and the reply's last token
    const doc2 = [...t1.W, ...newTurn(m, USERS[1])];
    expect(doc2.length + 8).toBeLessThan(ctx); // (no shift in this turn)
    const r2 = await s.send(USERS[1], { maxTokens: 8, contextShift: shift, ...sampling });
    const ref2 = await solo.generate(doc2, { maxTokens: 8, ...sampling });
    expect(r2.tokens).toEqual(ref2.tokens);
    expect(r2.text).toBe(ref2.text);
    expect(r2.finishReason).toBe('length');
    expect(r2.stats).toMatchObject({ promptTokens: doc2.length, droppedTokens: 0 });
    expect(r2.stats.promptTokens - r2.stats.cachedTokens).toBe(newTurn(m, USERS[1]).length + 1);
    expect(s.messages.map((x) => x.role)).toEqual(['system', 'user', 'assistant', 'user', 'assistant']);
    // an aborted turn changes neither the history nor W (its prompt overflowed and was shifted too)
    const ac = new AbortController();
    let pieces = 0;
    await expect(s.send(USERS[2], { maxTokens: 40, contextShift: shift, signal: ac.signal, onText: () => { if (++pieces === 2) ac.abort(); } })).rejects.toThrow();
    expect(s.messages.length).toBe(5);
    // turn 3 does not fit (W + the new turn): shifted by the rule first, then a fresh model given what ran
    expect(m.detokenize(r2.tokens)).toBe(r2.text); // (every reply token spells the reply: W2 holds all of them)
    const given3 = [...doc2, ...r2.tokens, ...newTurn(m, USERS[3])];
    expect(given3.length).toBeGreaterThan(ctx - 1);
    const cachedBefore = s.sequence.tokens;
    const r3 = await s.send(USERS[3], { maxTokens: 6, contextShift: shift });
    const t3 = replay(given3, k, r3.tokens);
    expect(t3.ran.length + 6).toBeLessThan(ctx); // (the prompt's shift only)
    const ref3 = await solo.generate(t3.ran, { maxTokens: 6 });
    expect(r3.tokens).toEqual(ref3.tokens);
    expect(r3.stats).toMatchObject({ promptTokens: t3.ran.length, droppedTokens: t3.dropped });
    expect(r3.stats.cachedTokens).toBe(commonPrefix(cachedBefore, t3.ran)); // (reprefill: the kept prefix, rest re-run)
    expect(s.sequence.tokens).toEqual(t3.cache);
    s.dispose(); m.dispose(); solo.dispose();
  });

  it("'kshift': the same token lists and prefill counts (a turn that overflows rotates what is cached and prefills only the new turn); each turn equals a plain sequence fed those tokens", async () => {
    const m = await fresh(ctx), other = await fresh(ctx), ref = await fresh(ctx);
    const sys = sysTurn(m), k = sys.length;
    const shift = { method: 'kshift' as const };
    const s = m.createChat({ system, contextLength: ctx });
    // the reference: a plain sequence given the documented token lists, with the same keep (same K-shifted cache)
    const plain = other.mainSequence;
    const p1 = tok(m, m.applyChatTemplate([{ role: 'system', content: system }, { role: 'user', content: USERS[0] }]));
    const o1 = { maxTokens: ctx - p1.length + 10 };
    const r1 = await s.send(USERS[0], { ...o1, contextShift: shift });
    expect(r1.tokens).toEqual((await plain.generate(p1, { ...o1, contextShift: { ...shift, keep: k } })).tokens);
    expect(r1.finishReason).toBe('length');
    expect(m.detokenize(r1.tokens)).toBe(r1.text);
    const t1 = replay(p1, k, r1.tokens);
    expect(r1.stats.droppedTokens).toBe(t1.dropped);
    expect(s.sequence.tokens).toEqual(t1.cache);
    const doc2 = [...t1.W, ...newTurn(m, USERS[1])];
    const o2 = { maxTokens: 8, ...sampling };
    const r2 = await s.send(USERS[1], { ...o2, contextShift: shift });
    const q2 = await plain.generate(doc2, { ...o2, contextShift: { ...shift, keep: k } });
    expect(r2.tokens).toEqual(q2.tokens);
    expect(r2.finishReason).toBe('length');
    expect(r2.stats.promptTokens - r2.stats.cachedTokens).toBe(newTurn(m, USERS[1]).length + 1);
    expect(m.detokenize(r2.tokens)).toBe(r2.text);
    const given3 = [...doc2, ...r2.tokens, ...newTurn(m, USERS[3])];
    expect(given3.length).toBeGreaterThan(ctx - 1);
    const r3 = await s.send(USERS[3], { maxTokens: 6, contextShift: shift });
    expect(r3.tokens).toEqual((await plain.generate(given3, { maxTokens: 6, contextShift: { ...shift, keep: k } })).tokens);
    const t3 = replay(given3, k, r3.tokens);
    expect(r3.stats).toMatchObject({ promptTokens: t3.ran.length, droppedTokens: t3.dropped });
    expect(doc2.length + r2.tokens.length - 1).toBeGreaterThan(k + t3.dropped); // (the cache holds tokens past the drop: rotated)
    expect(r3.stats.promptTokens - r3.stats.cachedTokens).toBe(newTurn(m, USERS[3]).length + 1);
    expect(s.sequence.tokens).toEqual(t3.cache);
    // The rotated rows are those tokens at their new positions: layer 0 (token and position only)
    // against a fresh prefill of them, values exactly, keys to rounding (as 'context shift by rotating keys').
    ref.logits(t3.cache);
    const c = m.config, n = t3.cache.length * c.nHeadKv * c.headDim;
    const layer0 = (x: Float32Array, p: number) => x.slice(p >>> 2, (p >>> 2) + n);
    expect(bitsOf(layer0(m.rt.f32, s.sequence.v))).toEqual(bitsOf(layer0(ref.rt.f32, ref.mainSequence.v)));
    expect(keyUlps(layer0(m.rt.f32, s.sequence.k), layer0(ref.rt.f32, ref.mainSequence.k), c.headDim).worst).toBeLessThan(8);
    s.dispose(); m.dispose(); other.dispose(); ref.dispose();
  });

  it("a stop string's tokens are not in W: the next turn has the reply's tokens up to it, then the rest of the reply's text with the new turn", async () => {
    const { m, solo, s, k, t1 } = await shiftedSession({});
    const doc2 = [...t1.W, ...newTurn(m, USERS[1])];
    // A stop string that starts inside reply token i: its last character and the next token's first.
    const o2 = { maxTokens: 12, ...sampling };
    const g = (await solo.generate(doc2, o2)).tokens;
    const detok = createDetokenizer(m.tokenizer);
    const pieces = g.map((t) => detok.push(t));
    const text = pieces.join('');
    const i = pieces.findIndex((p, j) => j > 0 && p.length >= 2 && pieces[j + 1]?.length > 0 && !p.includes('\uFFFD')
      && text.indexOf(p.slice(-1) + pieces[j + 1][0]) === pieces.slice(0, j + 1).join('').length - 1);
    expect(i).toBeGreaterThan(0);
    const stop = pieces[i].slice(-1) + pieces[i + 1][0];
    const r2 = await s.send(USERS[1], { ...o2, contextShift: {}, stop: [stop] });
    expect(r2.text).toBe(pieces.slice(0, i + 1).join('').slice(0, -1));
    expect(r2.tokens).toEqual(g.slice(0, i + 2));
    // W2 = doc2 + g[0..i); the rest of the reply's text (token i's text but its last character) goes with the new turn
    const given3 = [...doc2, ...g.slice(0, i), ...tok(m, `${pieces[i].slice(0, -1)}<|eot_id|><|start_header_id|>user<|end_header_id|>\n\n${USERS[3]}<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n`)];
    const r3 = await s.send(USERS[3], { maxTokens: 6, contextShift: {} });
    const t3 = replay(given3, k, r3.tokens);
    expect(r3.tokens).toEqual((await solo.generate(t3.ran, { maxTokens: 6 })).tokens);
    expect(r3.stats).toMatchObject({ promptTokens: t3.ran.length, droppedTokens: t3.dropped });
    s.dispose(); m.dispose(); solo.dispose();
  });

  it('a reply cut inside a character (its last token a UTF-8 lead byte): W holds every reply token and the next turn adds nothing for them', async () => {
    const m = await fresh(ctx), solo = await reference(ctx);
    const lead = Array.from({ length: m.tokenizer.vocabSize }, (_, id) => id)
      .find((id) => { const p = m.tokenizer.tokenToPiece(id); return p.length === 1 && p[0] === 0xe2; });
    expect(lead).toBeDefined();
    const shift = { method: 'reprefill' as const };
    const s = m.createChat({ system, contextLength: ctx });
    const p1 = tok(m, m.applyChatTemplate([{ role: 'system', content: system }, { role: 'user', content: USERS[0] }]));
    // Every reply token is that byte: each spells U+FFFD once the next arrives, the last one only at the flush.
    const r1 = await s.send(USERS[0], { maxTokens: ctx - p1.length + 10, contextShift: shift, logitBias: { [lead!]: 1000 } });
    expect(new Set(r1.tokens)).toEqual(new Set([lead]));
    expect(r1.text).toBe('\uFFFD'.repeat(r1.tokens.length));
    const t1 = replay(p1, sysTurn(m).length, r1.tokens);
    expect(r1.stats.droppedTokens).toBe(t1.dropped);
    expect(t1.dropped).toBeGreaterThan(0);
    const doc2 = [...t1.W, ...newTurn(m, USERS[1])];
    const r2 = await s.send(USERS[1], { maxTokens: 8, contextShift: shift, ...sampling });
    expect(r2.stats.promptTokens).toBe(doc2.length);
    expect(r2.tokens).toEqual((await solo.generate(doc2, { maxTokens: 8, ...sampling })).tokens);
    expect(r2.stats.promptTokens - r2.stats.cachedTokens).toBe(newTurn(m, USERS[1]).length + 1);
    s.dispose(); m.dispose(); solo.dispose();
  });

  it('a template that renders more between the generation prompt and a reply (the shipped model\'s "Assistant:" / "Assistant: " + content) is continued: W, then what follows the reply', async () => {
    const template = "{% for m in messages %}{% if m.role == 'user' %}{{ 'User: ' + (m.content | trim) + '\\n' }}{% else %}{{ 'Assistant: ' + (m.content | trim) + '\\n' }}{% endif %}{% endfor %}"
      + "{% if add_generation_prompt %}{{ 'Assistant:' }}{% endif %}";
    const shift = { keep: 4 };
    const { m, solo, s, t1 } = await shiftedSession(shift, template);
    expect(m.applyChatTemplate([{ role: 'user', content: USERS[0] }], template)).toBe(`User: ${USERS[0]}\nAssistant:`);
    const next = tok(m, `\nUser: ${USERS[1]}\nAssistant:`); // (not the space the template renders before the reply's content)
    const r2 = await s.send(USERS[1], { maxTokens: 6, contextShift: shift, ...sampling });
    expect(r2.tokens).toEqual((await solo.generate([...t1.W, ...next], { maxTokens: 6, ...sampling })).tokens);
    expect(r2.stats.promptTokens - r2.stats.cachedTokens).toBe(next.length + 1);
    s.dispose(); m.dispose(); solo.dispose();
  });

  it('a template that rewrites the earlier conversation cannot be continued: the turn after a shift renders the whole history again, shifted to fit', async () => {
    // the message count leads the text, so each turn's rendering changes the one before it
    const template = "{{ messages|length }}:{% for m in messages %}<|start_header_id|>{{ m.role }}<|end_header_id|>\n\n{{ m.content }}<|eot_id|>{% endfor %}"
      + "{% if add_generation_prompt %}<|start_header_id|>assistant<|end_header_id|>\n\n{% endif %}";
    const shift = { keep: 4 };
    const { m, solo, s } = await shiftedSession(shift, template);
    const whole = tok(m, m.applyChatTemplate([...s.messages, { role: 'user', content: USERS[1] }], template));
    const r2 = await s.send(USERS[1], { maxTokens: 6, contextShift: shift });
    const t2 = replay(whole, 4, r2.tokens);
    expect(t2.dropped).toBeGreaterThan(0);
    expect(r2.tokens).toEqual((await solo.generate(t2.ran, { maxTokens: 6 })).tokens);
    expect(r2.stats).toMatchObject({ promptTokens: t2.ran.length, droppedTokens: t2.dropped });
    s.dispose(); m.dispose(); solo.dispose();
  });
});

describe('context shift by rotating keys', () => {
  it("method 'kshift': layer 0 of the cache is then what a fresh prefill at the new positions holds (values exactly, keys to rounding); same tokens in both builds", async () => {
    const { createRuntime } = await import('../../src/index.js');
    const ctx = 24;
    const m = await fresh(ctx), ref = await fresh(ctx);
    const prompt = m.tokenize(PROMPTS[2]);
    // one shift: the cache fills after ctx - prompt tokens, then 8 more steps
    const r = await m.generate(prompt, { maxTokens: ctx - prompt.length + 8, contextShift: { method: 'kshift', keep: 2 } });
    expect(r.tokens.length).toBe(ctx - prompt.length + 8);
    const held = m.mainSequence.tokens;
    const drop = (ctx - 1 - 2) >> 1;
    expect(held).toEqual([...prompt, ...r.tokens].slice(0, -1).filter((_, i) => i < 2 || i >= 2 + drop));
    ref.logits(held);
    // Layer 0's keys and values depend on the token and its position only, not on the context.
    const c = m.config, kd = c.nHeadKv * c.headDim, n = held.length * kd;
    const layer0 = (x: Model, which: 'k' | 'v') => x.rt.f32.slice(x.mainSequence[which] >>> 2, (x.mainSequence[which] >>> 2) + n);
    expect(bitsOf(layer0(m, 'v'))).toEqual(bitsOf(layer0(ref, 'v')));
    const ka = layer0(m, 'k'), kb = layer0(ref, 'k');
    // Rotating by p, rounding, then by -drop and rounding again: a few f32 ulps of the head's scale.
    const { worst, differ } = keyUlps(ka, kb, c.headDim);
    expect(differ).toBeGreaterThan(0);
    expect(worst).toBeLessThan(8);
    // the kept prefix and the rows run after the shift are bit-identical; the rotated ones only close
    for (let i = 0; i < 2 * kd; i++) expect(ka[i]).toBe(kb[i]);
    console.log(`kshift: ${differ} of ${n} layer-0 key values differ from a fresh prefill, by at most ${worst.toFixed(2)} ulps of their head's largest`);
    // the same tokens on the other build
    const rt = await createRuntime({ build: 'relaxed' }).catch(() => null);
    if (rt) {
      const other = await loadModel(bytes, { runtime: rt, contextLength: ctx, batchSize: 5 });
      expect((await other.generate(prompt, { maxTokens: ctx - prompt.length + 8, contextShift: { method: 'kshift', keep: 2 } })).tokens).toEqual(r.tokens);
      other.dispose();
    }
    await expect(m.generate(prompt, { contextShift: { method: 'rope' as never } })).rejects.toMatchObject({ code: 'BAD_ARGUMENT' });
    m.dispose(); ref.dispose();
  });
});

describe('f16 KV cache', () => {
  it('half the cache bytes; the same bits with every kernel and build; close to the f32 cache; reuse and sessions work on it', async () => {
    const { createRuntime, KERNEL_IDS, KERNEL_NAMES } = await import('../../src/index.js');
    const f32 = await fresh(128);
    const ids = f32.tokenize(PROMPTS[2] + ' ' + PROMPTS[0] + ' ' + PROMPTS[1]);
    const ref = f32.logits(ids);
    let bits: number[] | null = null;
    for (const build of ['simd128', 'relaxed'] as const) {
      const rt = await createRuntime({ build }).catch(() => null); // relaxed: checked in the Node 24 pass
      if (!rt) continue;
      for (const kernel of KERNEL_NAMES.filter((k) => rt.exports.kernel_available(KERNEL_IDS[k]) === 1)) {
        const m = await loadModel(bytes, { runtime: rt, kernel, contextLength: 128, batchSize: 3, cacheType: 'f16' });
        expect(m.mainSequence.byteLength).toBe(f32.mainSequence.byteLength / 2);
        const got = bitsOf(m.logits(ids));
        if (!bits) bits = got; else expect(got, `${build}/${kernel}`).toEqual(bits);
        m.dispose();
      }
    }
    const m = await loadModel(bytes, { contextLength: 128, batchSize: 5, cacheType: 'f16' });
    const l = m.logits(ids);
    expect(bitsOf(l)).toEqual(bits);
    // f16 rounding shows, but the next-token distribution stays close (total variation)
    expect(bitsOf(l)).not.toEqual(bitsOf(ref));
    const softmax = (x: Float32Array) => { const mx = Math.max(...x); const e = Array.from(x, (v) => Math.exp(v - mx)); const s = e.reduce((a, b) => a + b); return e.map((v) => v / s); };
    const p = softmax(l), q = softmax(ref);
    const tv = p.reduce((acc, v, i) => acc + Math.abs(v - q[i]), 0) / 2;
    console.log(`f16 vs f32 cache: total variation ${tv.toFixed(4)} of the next-token distribution`);
    expect(tv).toBeLessThan(0.05);
    // reuse on an f16 cache gives the bits of an empty one
    const a = await m.generate(ids, { maxTokens: 6 });
    m.mainSequence.clear();
    const b = await m.generate(ids, { maxTokens: 6 });
    const c = await m.generate(ids, { maxTokens: 6 });
    expect(c.stats.cachedTokens).toBe(ids.length - 1);
    expect(b.tokens).toEqual(a.tokens);
    expect(c.tokens).toEqual(a.tokens);
    // both context shifts run on an f16 cache
    for (const method of ['reprefill', 'kshift'] as const) {
      const g = await m.generate(ids, { maxTokens: 150, contextShift: { method } });
      expect(g.finishReason === 'length' || g.finishReason === 'eos').toBe(true);
    }
    await expect(loadModel(bytes, { cacheType: 'f8' as never })).rejects.toMatchObject({ code: 'BAD_ARGUMENT' });
    m.dispose(); f32.dispose();
  });
});
