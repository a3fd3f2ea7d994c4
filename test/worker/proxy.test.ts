// The worker model's protocol (src/worker: proxy.ts on the page side, host.ts on the engine side)
// over a real MessageChannel (structured clone and transfer as between a page and its worker; the
// engine runs in this thread here, the browsers run it in a Worker: test/runtimes/worker-proxy).
// Every answer is compared with the same call on a Model loaded in-process, bit for bit.
import { MessageChannel } from 'node:worker_threads';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeModel } from '../../src/synth/make-model.js';
import { loadModel as loadInProcess, type Model } from '../../src/model/model.js';
import { BitnetError } from '../../src/errors.js';
import { serveEngine } from '../../src/worker/host.js';
import { loadModel, type WorkerModel } from '../../src/worker/proxy.js';
import type { WorkerLike } from '../../src/worker/protocol.js';

/** A Worker stand-in: one end of a MessageChannel; serveEngine answers on the other. */
function channelWorker(): WorkerLike & { terminated: boolean } {
  const { port1, port2 } = new MessageChannel();
  serveEngine(port2 as never);
  port2.start();
  port1.start();
  const w = {
    terminated: false,
    postMessage: (m: unknown, t?: unknown[]) => port1.postMessage(m, t as never),
    addEventListener: (type: string, f: (ev: { data?: unknown }) => void) => { if (type === 'message') port1.addEventListener('message', f as never); },
    terminate: () => { w.terminated = true; port1.close(); port2.close(); },
  };
  return w;
}

const bitsOf = (f: Float32Array) => Array.from(new Uint32Array(f.buffer, f.byteOffset, f.length));
const SAMPLING = { maxTokens: 24, temperature: 0.9, topK: 40, topP: 0.95, seed: 1234 };
let bytes: Uint8Array;
let ref: Model;
let wm: WorkerModel;
let worker: ReturnType<typeof channelWorker>;

beforeAll(async () => {
  bytes = await makeModel({ preset: 'tiny', ternaryType: 'TQ2_0', tokenizer: 'bpe', seed: 7 });
  ref = await loadInProcess(bytes, { contextLength: 128 });
  worker = channelWorker();
  wm = await loadModel(bytes.slice(), { contextLength: 128, worker });
}, 60_000);
afterAll(() => { wm?.dispose(); ref?.dispose(); });

describe('worker model = in-process model', () => {
  it('loads with the same shape and kernels, and the bytes are transferred (not copied)', async () => {
    const copy = bytes.slice();
    const progress: number[] = [];
    const m = await loadModel(copy, { contextLength: 64, worker: channelWorker(), onProgress: (p) => progress.push(p.loadedBytes) });
    expect(copy.byteLength).toBe(0); // detached: moved to the engine
    expect(progress.length).toBeGreaterThan(0);
    expect(progress.at(-1)).toBeGreaterThan(0);
    expect(m.contextLength).toBe(64);
    expect(m.kernel).toBe(ref.kernel);
    // What the load measured in the worker comes along (kernel, threads, the decode split).
    expect([m.decodeChoice.kernel, m.decodeChoice.threads]).toEqual([m.kernel, m.threads]);
    expect(m.threads).toBe(ref.threads);
    // The engine here shares this thread's runtime, whose cache holds ref's split for these shapes:
    // the worker model reports the choice its load made, field for field.
    const split = (d: Model['decodeChoice']) => [d.kernel, d.minWork, d.timed, d.minWorkMs];
    expect(split(m.decodeChoice)).toEqual(split(ref.decodeChoice));
    expect(m.config).toEqual(ref.config);
    expect(m.kernelInfo().build).toBeTypeOf('string');
    m.dispose();
  });

  it('tokenize, detokenize, logits (same bits), perplexity', async () => {
    const ids = ref.tokenize('Once upon a time, the ternary weights said:');
    expect(await wm.tokenize('Once upon a time, the ternary weights said:')).toEqual(ids);
    expect(await wm.detokenize(ids)).toBe(ref.detokenize(ids));
    const l = await wm.logits(ids);
    expect(l).toBeInstanceOf(Float32Array);
    expect(bitsOf(l)).toEqual(bitsOf(ref.logits(ids)));
    let steps = 0;
    const p = await wm.perplexity(ids, { onProgress: () => { steps++; } });
    expect(p).toEqual(ref.perplexity(ids));
    expect(steps).toBe(ids.length - 1);
  });

  it('generate, stream, generateTokens and chat give the in-process tokens and text', async () => {
    const g = await wm.generate('Once upon a time', SAMPLING);
    const r = await ref.generate('Once upon a time', SAMPLING);
    expect(g.tokens).toEqual(r.tokens);
    expect(g.text).toBe(r.text);
    expect(g.finishReason).toBe(r.finishReason);
    const pieces: string[] = [];
    const g2 = await wm.generate('Once upon a time', { ...SAMPLING, onText: (t) => pieces.push(t) });
    expect(pieces.join('')).toBe(g2.text);
    let text = '';
    for await (const piece of wm.stream('Once upon a time', SAMPLING)) text += piece;
    expect(text).toBe(r.text);
    const toks: number[] = [];
    const it = wm.generateTokens('Once upon a time', SAMPLING);
    let step = await it.next();
    while (!step.done) { toks.push(step.value); step = await it.next(); }
    expect(toks).toEqual(r.tokens);
    expect(step.value).toBe(r.finishReason);
    const msgs = [{ role: 'user', content: 'Hi' }];
    const tmpl = '{% for m in messages %}{{ m.role }}: {{ m.content }}\n{% endfor %}assistant:';
    expect((await wm.chat(msgs, { ...SAMPLING, template: tmpl })).tokens).toEqual((await ref.chat(msgs, { ...SAMPLING, template: tmpl })).tokens);
    expect(await wm.applyChatTemplate(msgs, tmpl)).toBe(ref.applyChatTemplate(msgs, tmpl));
  });

  it('sequences and chat sessions', async () => {
    const s = await wm.createSequence({ contextLength: 64 });
    expect(s.contextLength).toBe(64);
    const a = await s.generate('The jury said', SAMPLING);
    expect(a.tokens).toEqual((await ref.generate('The jury said', SAMPLING)).tokens);
    expect((await s.tokens()).length).toBeGreaterThan(0);
    await s.clear();
    expect(await s.tokens()).toEqual([]);
    await s.dispose();
    await expect(s.generate('x')).rejects.toMatchObject({ code: 'DISPOSED' });
    const tmpl = '{% for m in messages %}{{ m.role }}: {{ m.content }}\n{% endfor %}assistant:';
    const chat = await wm.createChat({ system: 'Be brief.', template: tmpl });
    const refChat = ref.createChat({ system: 'Be brief.', template: tmpl });
    for (const say of ['Hello', 'And then?']) expect((await chat.send(say, SAMPLING)).tokens).toEqual((await refChat.send(say, SAMPLING)).tokens);
    expect(chat.messages).toEqual(refChat.messages);
    refChat.dispose();
    await chat.dispose();
  });
});

describe('abort, errors, dispose', () => {
  it('aborting a stream mid-way throws the signal\'s reason and leaves the model usable', async () => {
    const ac = new AbortController();
    let n = 0;
    const err = await (async () => {
      for await (const _ of wm.stream('Once upon a time', { ...SAMPLING, maxTokens: 64, signal: ac.signal })) if (++n === 3) ac.abort();
    })().catch((e) => e);
    expect(n).toBe(3);
    expect(err).toBe(ac.signal.reason);
    const after = await wm.generate('Once upon a time', SAMPLING);
    expect(after.tokens).toEqual((await ref.generate('Once upon a time', SAMPLING)).tokens);
    // aborted before it starts: the reason at once, nothing posted
    const pre = AbortSignal.abort(new Error('early'));
    await expect(wm.generate('x', { signal: pre })).rejects.toBe(pre.reason);
  });

  it('a reader that stops early (break) frees the sequence for the next call', async () => {
    let n = 0;
    for await (const _ of wm.stream('Once upon a time', { ...SAMPLING, maxTokens: 64 })) if (++n === 2) break;
    expect(n).toBe(2);
    expect((await wm.generate('Once upon a time', SAMPLING)).tokens).toEqual((await ref.generate('Once upon a time', SAMPLING)).tokens);
  });

  it('errors arrive as BitnetError with their code and offset', async () => {
    const e1 = await wm.tokenize(5 as never).catch((e) => e);
    expect(e1).toBeInstanceOf(BitnetError);
    expect(e1.code).toBe('BAD_ARGUMENT');
    expect(e1.message).toMatch(/^BAD_ARGUMENT: text must be a string/);
    const long = Array.from({ length: 200 }, () => 5);
    await expect(wm.generate(long)).rejects.toMatchObject({ code: 'CONTEXT_OVERFLOW' });
    const bad = bytes.slice();
    new DataView(bad.buffer).setUint32(0, 0x12345678, true);
    const inProc = await loadInProcess(bad.slice()).catch((e) => e);
    const viaWorker = await loadModel(bad, { worker: channelWorker() }).catch((e) => e);
    expect(viaWorker).toBeInstanceOf(BitnetError);
    expect(viaWorker.code).toBe(inProc.code);
    expect(viaWorker.offset).toBe(inProc.offset);
    expect(viaWorker.message).toBe(inProc.message);
    await expect(loadModel({ nope: 1 } as never, { worker: channelWorker() })).rejects.toMatchObject({ code: 'BAD_ARGUMENT' });
    // Node has no Web Worker: a clear error pointing at the in-process entry, not a TypeError
    const few = new Uint8Array(8);
    await expect(loadModel(few)).rejects.toMatchObject({ code: 'BAD_ARGUMENT', message: expect.stringMatching(/no Web Worker: in Node use loadModel from 'bitnet-wasm'/) });
    expect(few.byteLength).toBe(8); // refused before anything was transferred
  });

  it('dispose ends calls in flight with DISPOSED and terminates the worker', async () => {
    const w = channelWorker();
    const m = await loadModel(bytes.slice(), { contextLength: 128, worker: w });
    const running = m.generate('Once upon a time', { maxTokens: 100 });
    m.dispose();
    await expect(running).rejects.toMatchObject({ code: 'DISPOSED' });
    await expect(m.tokenize('x')).rejects.toMatchObject({ code: 'DISPOSED' });
    expect(w.terminated).toBe(false); // a worker passed in is the caller's
    expect(m.disposed).toBe(true);
  });
});
