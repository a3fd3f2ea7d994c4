// The shipped default model (models/default.gguf, trained by tools/train): its perplexity on the
// fixed validation slice is the recorded one (the engine is deterministic), and agrees to 3
// significant digits with the training script's own evaluation of the same exported weights.
import { readFileSync, statSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadModel, type Model } from '../../src/model/model.js';

const MODEL = 'models/default.gguf';
const record = JSON.parse(readFileSync('models/default.json', 'utf8'));
const sig3 = (x: number) => Number(x.toPrecision(3));
let model: Model;

beforeAll(async () => { model = await loadModel(new Uint8Array(readFileSync(MODEL))); });
afterAll(() => model?.dispose());

describe('default model', () => {
  it('is a small ternary bitnet file', () => {
    expect(statSync(MODEL).size).toBeLessThanOrEqual(8 * 2 ** 20);
    expect(statSync(MODEL).size).toBe(record.bytes);
    expect(model.config.architecture).toBe('bitnet');
    expect(model.config.activation).toBe('relu2');
    expect(model.config.nEmbd).toBe(record.architecture.n_embd);
    expect(model.config.nLayer).toBe(record.architecture.n_layer);
    expect(model.config.nVocab).toBe(record.architecture.n_vocab);
  });

  it('has the recorded perplexity on the fixed validation slice', () => {
    const text = readFileSync('models/val-slice.txt', 'utf8');
    const ids = model.tokenize(text, { addBos: false });
    const r = model.perplexity(ids);
    expect(r.count).toBe(record.engine.sliceTokensPredicted);
    expect(Math.abs(r.perplexity / record.engine.slicePerplexity - 1)).toBeLessThan(1e-6);
    // The training script's float64 evaluation with the engine's numerics, same weights and ids.
    expect(sig3(r.perplexity)).toBe(sig3(record.ternary.engine_numerics_slice_ppl));
  });

  it('continues a corpus-style prompt with English words (greedy)', async () => {
    const out = await model.generate('The jury said that', { maxTokens: 40 });
    const text = out.text;
    expect(text.length).toBeGreaterThan(40);
    const ascii = [...text].filter((ch) => /[A-Za-z0-9 ,.;:'"!?()\n-]/.test(ch)).length;
    expect(ascii / text.length).toBeGreaterThan(0.95);
    const words = text.split(/\s+/).filter((w) => /^[A-Za-z]+[,.;:]?$/.test(w));
    expect(words.length).toBeGreaterThanOrEqual(5);
  });
});
