// Caller misuse: every public function validates its arguments (BAD_ARGUMENT naming the argument,
// not a TypeError or a silently ignored option), dispose() during a generation ends it with
// DISPOSED and writes nothing to wasm, and loadModel(path) closes the file on every failure path.
import { readdirSync, writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeModel } from '../../src/synth/make-model.js';
import { loadModel, type Model } from '../../src/model/model.js';
import { createRuntime } from '../../src/index.js';
import { BitnetError } from '../../src/errors.js';
import { edit } from './rewrite.js';

let bytes: Uint8Array;
let model: Model;
beforeAll(async () => {
  bytes = await makeModel({ preset: 'tiny', ternaryType: 'TQ2_0', tokenizer: 'bpe', seed: 6 });
  model = await loadModel(bytes, { contextLength: 64 });
}, 60_000);
afterAll(() => model?.dispose());

async function badArgument(f: () => unknown, name: RegExp): Promise<void> {
  let err: unknown;
  try { await f(); } catch (e) { err = e; }
  expect(err, 'expected a BitnetError').toBeInstanceOf(BitnetError);
  expect((err as BitnetError).code, (err as Error).message).toBe('BAD_ARGUMENT');
  expect((err as Error).message).toMatch(name);
}

describe('arguments are validated with BAD_ARGUMENT naming them', () => {
  const m = () => model as unknown as Record<string, (...a: unknown[]) => unknown>;
  const cases: [string, () => unknown, RegExp][] = [
    ['prompt 42', () => m().generate(42), /prompt must be/],
    ['prompt null', () => m().generate(null), /prompt must be/],
    ['prompt {}', () => m().generate({}), /prompt must be/],
    ['prompt Symbol', () => m().generate(Symbol('x')), /prompt must be/],
    ['prompt [1.5]', () => m().generate([1.5]), /prompt must be/],
    ['stream prompt undefined', async () => { for await (const _ of m().stream(undefined) as AsyncIterable<string>) { /* */ } }, /prompt must be/],
    ['opts null', () => m().generate('Hi', null), /opts must be an object/],
    ['opts a string', () => m().generate('Hi', 'fast'), /opts must be an object/],
    ["stop: 'x'", () => m().generate('Hi', { stop: 'x' }), /opts\.stop must be an array of non-empty strings/],
    ["stop: ['']", () => m().generate('Hi', { stop: [''] }), /opts\.stop must be/],
    ['signal: {}', () => m().generate('Hi', { signal: {} }), /opts\.signal must be an AbortSignal/],
    ['maxTokens -1', () => m().generate('Hi', { maxTokens: -1 }), /opts\.maxTokens/],
    ['maxTokens 1.5', () => m().generate('Hi', { maxTokens: 1.5 }), /opts\.maxTokens/],
    ['onText 1', () => m().generate('Hi', { onText: 1 }), /opts\.onText must be a function/],
    ['contextShift: 1', () => m().generate('Hi', { contextShift: 1 }), /opts\.contextShift/],
    ['seed 1.5', () => m().generate('Hi', { seed: 1.5 }), /seed must be an integer/],
    ['seed 2^53 + 2', () => m().generate('Hi', { seed: 2 ** 53 + 2 }), /seed must be/],
    ['seed NaN', () => m().generate('Hi', { seed: NaN }), /seed must be/],
    ['chat opts null', () => m().chat([{ role: 'user', content: 'Hi' }], null), /opts must be an object/],
    ['chat messages null', () => m().chat(null), /messages must be an array/],
    ['chat template 5', () => m().applyChatTemplate([], 5), /template must be a string/],
    ['generateTokens opts null', () => (m().generateTokens('Hi', null) as AsyncGenerator).next(), /opts must be an object/],
    ['logits null', () => m().logits(null), /tokens must be an array of integer token ids/],
    ["logits 'abc'", () => m().logits('abc'), /tokens must be an array/],
    ['perplexity opts null', () => m().perplexity([1, 2, 3], null), /opts must be an object/],
    ['tokenize 5', () => m().tokenize(5), /text must be a string/],
    ['detokenize null', () => m().detokenize(null), /ids must be an array/],
    ['bench opts null', () => m().bench(null), /opts must be an object/],
    ['createSequence null', () => m().createSequence(null), /opts must be an object/],
    ["loadModel kernel 'bogus'", () => loadModel(bytes, { kernel: 'bogus' as never }), /kernel "bogus" is not one of this build's kernels/],
    ['loadModel opts null', () => loadModel(bytes, null as never), /opts must be an object/],
    ['loadModel onProgress 1', () => loadModel(bytes, { onProgress: 1 as never }), /opts\.onProgress must be a function/],
    ['loadModel signal {}', () => loadModel(bytes, { signal: {} as never }), /opts\.signal must be an AbortSignal/],
  ];
  for (const [name, f, message] of cases) it(name, () => badArgument(f, message));

  it('the model still works after all of that', async () => {
    expect((await model.generate('Hello', { maxTokens: 4 })).tokens.length).toBeGreaterThan(0);
  });
});

describe('seeds use their whole documented range (+-2^53)', () => {
  it('2^32 + 1 and 1 give different samples (they were equal)', async () => {
    const run = async (seed: number) => (await model.generate('The', { maxTokens: 24, temperature: 1.5, topK: 0, seed })).tokens;
    expect(await run(2 ** 32 + 1)).not.toEqual(await run(1));
    expect(await run(2 ** 53)).not.toEqual(await run(0));
    expect(await run(7)).toEqual(await run(7));
  });
});

describe('maxTokens 0 with a prompt of the whole context, as logits() accepts it', () => {
  it('prefills and generates nothing', async () => {
    const ids = Array.from({ length: model.contextLength }, (_, i) => 1 + (i % 50));
    const r = await model.generate(ids, { maxTokens: 0 });
    expect(r.tokens).toEqual([]);
    expect(r.finishReason).toBe('length');
    expect(model.logits(ids).length).toBe(model.config.nVocab);
    await expect(model.generate(ids, { maxTokens: 1 })).rejects.toThrow(/CONTEXT_OVERFLOW/);
    expect((await model.generate([1, 2, 3], { maxTokens: 0 })).tokens).toEqual([]);
  });
});

describe('dispose() during a generation', () => {
  it('ends it with DISPOSED and writes nothing to wasm memory after dispose', async () => {
    const rt = await createRuntime({ build: 'simd128' });
    const m = await loadModel(bytes, { runtime: rt, contextLength: 64 });
    let snapshot: Uint8Array | null = null;
    const p = m.generate('Once upon a time', { maxTokens: 32, onText: () => { if (!snapshot) { m.dispose(); snapshot = rt.u8.slice(); } } });
    await expect(p).rejects.toMatchObject({ code: 'DISPOSED' });
    expect(snapshot).not.toBeNull();
    expect(Buffer.compare(Buffer.from(rt.u8), Buffer.from(snapshot!))).toBe(0);
  });

  it('a stream consumer that disposes gets DISPOSED on its next step', async () => {
    const m = await loadModel(bytes, { contextLength: 64 });
    const it = m.stream('Once upon a time', { maxTokens: 32 })[Symbol.asyncIterator]();
    await it.next();
    m.dispose();
    await expect(it.next()).rejects.toMatchObject({ code: 'DISPOSED' });
  });
});

describe('loadModel(path) closes the file on every failure path', () => {
  const fds = () => readdirSync('/proc/self/fd').length;
  it('20 loads failing after the header leave no descriptor open', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bitnet-fd-'));
    const badTokenizer = join(dir, 'bad-tokenizer.gguf');
    writeFileSync(badTokenizer, await edit(bytes, (p) => p.metadata.set('tokenizer.ggml.pre', { type: 'string', value: 'nonsense' })));
    const good = join(dir, 'good.gguf');
    writeFileSync(good, bytes);
    const before = fds();
    for (let i = 0; i < 10; i++) {
      await expect(loadModel(badTokenizer)).rejects.toBeInstanceOf(BitnetError);
      await expect(loadModel(good, { contextLength: 1 << 21 })).rejects.toMatchObject({ code: 'BAD_ARGUMENT' });
    }
    expect(fds()).toBe(before);
  });
});
