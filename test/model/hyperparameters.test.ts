// Every hyperparameter that src/model/config.ts reads, at a value other than its default (and other
// than the tiny preset's), checked against llama.cpp on the same file. Where the value changes the
// numbers, the same weights written with the default value are run through our decoder too and must
// be far from llama.cpp (TV above the bound): that is what ignoring the value would give, so each case
// shows it can fail.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeModel, type MakeModelOptions } from '../../src/synth/make-model.js';
import { loadModel } from '../../src/model/model.js';
import { TV_BOUND, expectCloseToLlama, llamaNextProbs, loadLlama, scaleEmbedding, setMetadataU32, softmax, totalVariation, type Llama } from './oracle.js';

let llama: Llama;
let dir = '';
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'bitnet-hparams-'));
  llama = await loadLlama();
}, 120_000);
afterAll(async () => {
  await llama?.dispose();
  rmSync(dir, { recursive: true, force: true });
});

// Long enough (~80 tokens) that rope's low frequencies turn by a visible angle.
const PROMPT = 'The quick brown fox jumps over the lazy dog. Once upon a time a ternary network stored every weight as -1, 0 or +1, and the kernel added the activations where the weight was +1.';
const BASE: MakeModelOptions = { preset: 'tiny', ternaryType: 'TQ2_0', tokenizer: 'bpe', seed: 21 };

type Edit = (b: Uint8Array) => Promise<Uint8Array> | Uint8Array;
interface Case {
  name: string;
  /** The file with the non-default value. */
  opts: MakeModelOptions;
  edit?: Edit;
  /** The same weights with the default value (what ignoring the key would compute). */
  ignored?: { opts: MakeModelOptions; edit?: Edit };
  /** Our config must read this. */
  config: Record<string, unknown>;
}

const sharp: Edit = (b) => scaleEmbedding(b, 2);
// rms eps only shows when the normalized vector's mean square is near it: token embeddings of std
// ~1e-3 (mean square ~1e-6) and an untied output head, so the logits keep their usual spread.
const tiny: Edit = (b) => scaleEmbedding(b, 0.0125);
const untied = { tiedEmbeddings: false };
// llama.cpp's bitnet graph has no output.weight (always tied): untied heads are llama files.
const LLAMA: MakeModelOptions = { ...BASE, arch: 'llama' };

const CASES: Case[] = [
  {
    name: 'rope base 500000 (Llama-3 family, 2B4T)',
    opts: { ...BASE, config: { ropeBase: 500000 } }, edit: sharp,
    ignored: { opts: BASE, edit: sharp },
    config: { ropeBase: 500000 },
  },
  {
    name: 'RMS epsilon 1e-6 (llama, untied)',
    opts: { ...LLAMA, config: { ...untied, rmsEps: 1e-6 } }, edit: tiny,
    ignored: { opts: { ...LLAMA, config: untied }, edit: tiny },
    config: { rmsEps: Math.fround(1e-6) },
  },
  {
    name: 'GQA 8 query heads over 2 KV heads (head_dim 32)',
    opts: { ...BASE, config: { nHead: 8, nHeadKv: 2 } }, edit: sharp,
    config: { nHead: 8, nHeadKv: 2, headDim: 32 },
  },
  {
    name: 'MQA: 4 query heads over 1 KV head',
    opts: { ...BASE, config: { nHead: 4, nHeadKv: 1 } }, edit: sharp,
    config: { nHead: 4, nHeadKv: 1 },
  },
  {
    name: 'no GQA: 4 query heads, 4 KV heads',
    opts: { ...BASE, config: { nHead: 4, nHeadKv: 4 } }, edit: sharp,
    config: { nHead: 4, nHeadKv: 4 },
  },
  {
    name: 'rope dimension 32 of head_dim 64 (partial rotary)',
    opts: BASE, edit: async (b) => sharp(setMetadataU32(b, 'bitnet.rope.dimension_count', 32)),
    ignored: { opts: BASE, edit: sharp },
    config: { ropeDim: 32, headDim: 64 },
  },
  {
    name: 'untied output head (output.weight; llama)',
    opts: { ...LLAMA, config: untied }, edit: sharp,
    ignored: { opts: LLAMA, edit: sharp }, // the same token_embd used as the head
    config: {},
  },
  {
    name: 'llama architecture: interleaved rope, no sub-norms, rope base 500000, GQA 8/2, untied',
    opts: { ...LLAMA, config: { ...untied, ropeBase: 500000, nHead: 8, nHeadKv: 2 } }, edit: sharp,
    ignored: { opts: { ...LLAMA, config: { ...untied, nHead: 8, nHeadKv: 2 } }, edit: sharp },
    config: { ropeType: 'interleaved', subNorms: false, ropeBase: 500000 },
  },
];

describe.each(CASES)('llama.cpp agrees on a non-default hyperparameter: $name', (c) => {
  it('our config reads it, our next-token distribution is llama.cpp\'s, and ignoring it would not be', async () => {
    const bytes = await (c.edit ?? ((b) => b))(await makeModel(c.opts));
    const path = join(dir, `${c.name.replace(/\W+/g, '_')}.gguf`);
    writeFileSync(path, bytes);
    const ours = await loadModel(bytes);
    const m = await llama.loadModel({ modelPath: path, gpuLayers: 0, useMmap: false });
    const ctx = await m.createContext({ contextSize: 256, threads: 1, batchSize: 256 });
    try {
      expect(ours.config).toMatchObject(c.config);
      const toks = ours.tokenize(PROMPT);
      expect(toks.length).toBeGreaterThan(60);
      const theirs = await llamaNextProbs(ctx.getSequence(), toks, ours.config.nVocab);
      const tv = expectCloseToLlama(softmax(ours.logits(toks)), theirs, c.name);
      let line = `${c.name}: TV vs llama.cpp ${tv.toFixed(4)}`;
      if (c.ignored) {
        const wrong = await loadModel(await (c.ignored.edit ?? ((b) => b))(await makeModel(c.ignored.opts)));
        const tvWrong = totalVariation(softmax(wrong.logits(toks)), theirs);
        wrong.dispose();
        line += `; with the value ignored ${tvWrong.toFixed(4)}`;
        expect(tvWrong, 'ignoring the value must be visible to this comparison').toBeGreaterThan(TV_BOUND);
      }
      console.log(line);
    } finally {
      await ctx.dispose();
      await m.dispose();
      ours.dispose();
    }
  }, 120_000);
});

describe('context length', () => {
  it('a trained context of 300 (not the 2048 default): ours and llama.cpp read 300, and generation stops there', async () => {
    const bytes = await makeModel({ ...BASE, config: { nCtx: 300 } });
    const path = join(dir, 'ctx300.gguf');
    writeFileSync(path, bytes);
    const ours = await loadModel(bytes);
    const m = await llama.loadModel({ modelPath: path, gpuLayers: 0, useMmap: false });
    try {
      expect(m.trainContextSize).toBe(300);
      expect(ours.config.nCtxTrain).toBe(300);
      expect(ours.contextLength).toBe(300); // the default context is the trained one
      const r = await ours.generate(ours.tokenize('Once'), { maxTokens: 400, temperature: 0 });
      expect(ours.tokenize('Once').length + r.tokens.length).toBeLessThanOrEqual(300);
    } finally {
      await m.dispose();
      ours.dispose();
    }
  }, 120_000);
});
