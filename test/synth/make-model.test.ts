/**
 * Synthetic models: layout and metadata round-trip through our reader, determinism, streaming,
 * preset shapes, and llama.cpp (node-llama-cpp 3.21.1) loading, tokenizing and generating.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadLlama, type Llama } from '../model/oracle.js';
import { dequantize, metadataValue, parseGGUFHeader, readTensorBytes, writeGGUF, type GGUFHeader } from '../../src/gguf/index.js';
import { makeModel, planModel, writeModelFile, type TernaryTypeName } from '../../src/synth/make-model.js';
import { PRESETS, headDim, resolveConfig, tensorPlan, ternaryWeightCount } from '../../src/synth/presets.js';
import { main } from '../../src/cli/main.js';
import { createTokenizer } from '../../src/tokenizer/index.js';


let dir = '';
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'make-model-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const rawMetadata = (h: GGUFHeader) => Object.fromEntries([...h.metadata].map(([k, v]) => [k, v.value]));
const tiny = PRESETS.tiny;

describe('tiny preset round-trips through the reader', () => {
  for (const ternaryType of ['TQ1_0', 'TQ2_0', 'I2_S'] as TernaryTypeName[]) {
    it(`${ternaryType}: metadata, names, shapes, types, values`, async () => {
      const bytes = await makeModel({ preset: 'tiny', ternaryType, seed: 7 });
      const h = await parseGGUFHeader(bytes);
      expect(h.fileSize).toBe(bytes.length);
      const md = (k: string) => metadataValue(h, k);
      expect(md('general.architecture')).toBe('bitnet');
      expect(md('general.name')).toBe(tiny.name);
      expect(md('general.alignment')).toBe(32);
      expect(md('bitnet.context_length')).toBe(512);
      expect(md('bitnet.embedding_length')).toBe(256);
      expect(md('bitnet.block_count')).toBe(4);
      expect(md('bitnet.feed_forward_length')).toBe(768);
      expect(md('bitnet.attention.head_count')).toBe(4);
      expect(md('bitnet.attention.head_count_kv')).toBe(2);
      expect(md('bitnet.rope.dimension_count')).toBe(64);
      expect(md('bitnet.rope.freq_base')).toBe(10000);
      expect(md('bitnet.attention.layer_norm_rms_epsilon')).toBeCloseTo(1e-5, 10);
      expect(h.metadata.has('bitnet.hidden_activation')).toBe(false); // SiLU: llama.cpp's default
      const nVocab = md('bitnet.vocab_size') as number;
      expect(nVocab).toBeGreaterThan(450);
      expect((md('tokenizer.ggml.tokens') as string[]).length).toBe(nVocab);
      expect(md('tokenizer.ggml.model')).toBe('gpt2');
      expect(md('tokenizer.ggml.pre')).toBe('llama-bpe');
      expect((md('tokenizer.ggml.merges') as string[]).length).toBeGreaterThan(100);
      expect(md('tokenizer.ggml.add_bos_token')).toBe(true);
      expect(typeof md('tokenizer.chat_template')).toBe('string');
      expect(h.metadata.get('tokenizer.ggml.token_type')).toMatchObject({ type: 'array', itemType: 'i32' });

      const plan = tensorPlan(tiny, nVocab);
      expect(h.tensors.map((t) => t.name)).toEqual(plan.map((p) => p.name));
      expect(h.tensors.length).toBe(2 + 4 * 11);
      for (const [i, t] of h.tensors.entries()) {
        expect(t.shape).toEqual(plan[i].shape);
        expect(t.typeName).toBe(plan[i].kind === 'ternary' ? ternaryType : plan[i].kind === 'embedding' ? 'F16' : 'F32');
      }
      const byName = new Map(h.tensors.map((t) => [t.name, t]));
      expect(byName.get('token_embd.weight')!.shape).toEqual([256, nVocab]);
      expect(byName.get('blk.0.attn_k.weight')!.shape).toEqual([256, 128]); // GQA: 2 kv heads x 64
      expect(byName.get('blk.3.ffn_down.weight')!.shape).toEqual([768, 256]);
      expect(byName.get('blk.3.ffn_sub_norm.weight')!.shape).toEqual([768]);
      expect(byName.has('output.weight')).toBe(false);

      // Ternary tensor: trits times one scale, about a third zeros.
      const q = byName.get('blk.1.attn_q.weight')!;
      const w = dequantize(ternaryType, await readTensorBytes(bytes, h, q), q.nElements);
      const scale = Math.max(...w.map(Math.abs));
      expect(scale).toBeGreaterThan(0.05);
      expect(scale).toBeLessThan(0.15);
      let zeros = 0;
      for (const x of w) {
        if (x === 0) zeros++;
        else expect(Math.abs(x)).toBe(scale);
      }
      expect(zeros / w.length).toBeGreaterThan(0.3);
      expect(zeros / w.length).toBeLessThan(0.37);
      if (ternaryType === 'TQ2_0') {
        // Every block stores the same d (its f16 at byte 64 of each 66-byte block).
        const raw = await readTensorBytes(bytes, h, q);
        const ds = new Set<number>();
        for (let b = 0; b < raw.length; b += 66) ds.add(raw[b + 64] | (raw[b + 65] << 8));
        expect(ds.size).toBe(1);
      }
      // Norms near 1, embedding small and centred.
      const norm = dequantize('F32', await readTensorBytes(bytes, h, 'blk.0.attn_norm.weight'), 256);
      for (const x of norm) expect(Math.abs(x - 1)).toBeLessThan(0.3);
      const e = byName.get('token_embd.weight')!;
      const emb = dequantize('F16', await readTensorBytes(bytes, h, e), e.nElements);
      const mean = emb.reduce((s, x) => s + x, 0) / emb.length;
      const std = Math.sqrt(emb.reduce((s, x) => s + (x - mean) ** 2, 0) / emb.length);
      expect(Math.abs(mean)).toBeLessThan(0.005);
      expect(std).toBeGreaterThan(0.08);
      expect(std).toBeLessThan(0.12);
    });
  }

  it('same seed gives the same bytes, another seed other weights (same header)', async () => {
    const a = await makeModel({ seed: 3 });
    const b = await makeModel({ seed: 3 });
    const c = await makeModel({ seed: 4 });
    expect(Buffer.from(a).equals(Buffer.from(b))).toBe(true);
    expect(c.length).toBe(a.length);
    expect(Buffer.from(a).equals(Buffer.from(c))).toBe(false);
    const h = await parseGGUFHeader(a);
    expect(Buffer.from(a.subarray(0, h.dataOffset)).equals(Buffer.from(c.subarray(0, h.dataOffset)))).toBe(true);
  });

  it('the file is exactly what writeGGUF writes for the same metadata and tensors', async () => {
    const bytes = await makeModel({ ternaryType: 'TQ1_0', embeddingType: 'Q8_0', tokenizer: 'spm' });
    const h = await parseGGUFHeader(bytes);
    const tensors = await Promise.all(h.tensors.map(async (t) => ({ name: t.name, shape: t.shape, type: t.type, data: await readTensorBytes(bytes, h, t) })));
    const again = writeGGUF({ metadata: h.metadata, tensors });
    expect(Buffer.from(again).equals(Buffer.from(bytes))).toBe(true);
  });

  it('writeModelFile streams the same bytes; planModel predicts the size', async () => {
    const path = join(dir, 'stream.gguf');
    let last = 0;
    const plan0 = await planModel({ seed: 9, ternaryType: 'TQ1_0' });
    const plan = await writeModelFile(path, { seed: 9, ternaryType: 'TQ1_0' }, (w, total) => {
      expect(w).toBeGreaterThan(last);
      expect(total).toBe(plan0.fileSize);
      last = w;
    });
    const file = readFileSync(path);
    expect(file.length).toBe(plan.fileSize);
    expect(last).toBe(plan.fileSize);
    expect(file.equals(Buffer.from(await makeModel({ seed: 9, ternaryType: 'TQ1_0' })))).toBe(true);
  });

  it('architecture spellings and options', async () => {
    const llama = await parseGGUFHeader(await makeModel({ arch: 'llama', embeddingType: 'Q6_K', config: { tiedEmbeddings: false } }));
    expect(metadataValue(llama, 'general.architecture')).toBe('llama');
    expect(metadataValue(llama, 'llama.embedding_length')).toBe(256);
    expect(llama.tensors.some((t) => t.name.includes('sub_norm'))).toBe(false);
    expect(llama.tensors.find((t) => t.name === 'output.weight')?.typeName).toBe('Q6_K');
    expect(llama.tensors.length).toBe(3 + 4 * 9);

    const b158 = await parseGGUFHeader(await makeModel({ arch: 'bitnet-b1.58' }));
    expect(metadataValue(b158, 'general.architecture')).toBe('bitnet-b1.58');
    expect(metadataValue(b158, 'bitnet-b1.58.block_count')).toBe(4);
    expect(b158.metadata.has('bitnet-b1.58.hidden_activation')).toBe(false); // implied ReLU^2
    expect(resolveConfig('tiny', 'bitnet-b1.58').activation).toBe('relu2');

    const relu = await parseGGUFHeader(await makeModel({ config: { activation: 'relu2' }, arch: 'bitnet' }));
    expect(metadataValue(relu, 'bitnet.hidden_activation')).toBe('relu2');

    const spm = await parseGGUFHeader(await makeModel({ tokenizer: 'spm', config: { nVocab: 700 } }));
    expect(metadataValue(spm, 'tokenizer.ggml.model')).toBe('llama');
    expect((metadataValue(spm, 'tokenizer.ggml.tokens') as string[]).length).toBe(700);
    expect(spm.tensors[0].shape).toEqual([256, 700]);
    expect((metadataValue(spm, 'tokenizer.ggml.scores') as Float32Array).length).toBe(700);
  });

  it('rejects configs the types cannot hold', async () => {
    await expect(makeModel({ config: { nEmbd: 192, nHead: 3, nHeadKv: 1 } })).rejects.toThrow(/multiple of 256/);
    await expect(makeModel({ ternaryType: 'Q4_0' as never })).rejects.toThrow(/ternary type/);
    await expect(makeModel({ config: { nHeadKv: 3 } })).rejects.toThrow(/nHeadKv/);
    await expect(makeModel({ seed: -1 })).rejects.toThrow(/seed/);
    await expect(makeModel({ tokenizer: 'spm', config: { nVocab: 10 } })).rejects.toThrow(/smaller/);
  });
});

describe('large and 2b4t presets (configs and plans only, never generated here)', () => {
  it('large = 1bitLLM bitnet_b1_58-large', () => {
    const c = PRESETS.large;
    expect(c).toMatchObject({ arch: 'bitnet', nEmbd: 1536, nLayer: 24, nHead: 16, nHeadKv: 16, nFf: 4096, nVocab: 32000, nCtx: 2048, ropeBase: 10000, activation: 'silu', tiedEmbeddings: true, subNorms: true, tokenizer: 'llama' });
    expect(headDim(c)).toBe(96);
    expect(ternaryWeightCount(c)).toBe(24 * (4 * 1536 * 1536 + 3 * 1536 * 4096));
  });

  it('2b4t = microsoft/bitnet-b1.58-2B-4T', async () => {
    const c = PRESETS['2b4t'];
    expect(c).toMatchObject({ nEmbd: 2560, nLayer: 30, nHead: 20, nHeadKv: 5, nFf: 6912, nVocab: 128256, nCtx: 4096, ropeBase: 500000, rmsEps: 1e-5, activation: 'relu2', tiedEmbeddings: true, subNorms: true, tokenizer: 'llama3' });
    expect(headDim(c)).toBe(128);
    const w = ternaryWeightCount(c);
    expect(w / 1e9).toBeCloseTo(2.08, 2);
    const plan = await planModel({ preset: '2b4t', ternaryType: 'I2_S' });
    expect(plan.nVocab).toBe(128256);
    expect(plan.metadata['bitnet.hidden_activation']).toEqual({ type: 'string', value: 'relu2' });
    expect(plan.metadata['tokenizer.ggml.eot_token_id']).toEqual({ type: 'u32', value: 128009 });
    expect(plan.tensors.length).toBe(2 + 30 * 11);
    expect(plan.tensors.find((t) => t.name === 'blk.29.attn_v.weight')!.shape).toEqual([2560, 640]);
    expect(plan.tensors.find((t) => t.name === 'token_embd.weight')).toMatchObject({ shape: [2560, 128256], byteSize: 2560 * 128256 * 2 });
    // I2_S: 2 bits per weight + a 32-byte tail per tensor; F16 embedding 656 MB.
    const ternaryBytes = plan.tensors.filter((t) => t.kind === 'ternary').reduce((s, t) => s + t.byteSize, 0);
    expect(ternaryBytes).toBe(w / 4 + 32 * 30 * 7);
    expect(plan.fileSize / 1e9).toBeGreaterThan(1.18);
    expect(plan.fileSize / 1e9).toBeLessThan(1.2);
    const b158 = await planModel({ preset: '2b4t', arch: 'bitnet-b1.58' });
    expect(b158.metadata['general.architecture']).toEqual({ type: 'string', value: 'bitnet-b1.58' });
    expect(b158.metadata['bitnet-b1.58.hidden_activation']).toBeUndefined();
  });
});

describe('make-model command', () => {
  const io = () => {
    const out: string[] = [], err: string[] = [];
    return { out, err, io: { out: (l: string) => out.push(l), err: (l: string) => err.push(l), write: (t: string) => out.push(t) } };
  };
  it('writes the file', async () => {
    const c = io();
    const path = join(dir, 'cli.gguf');
    expect(await main(['make-model', '--preset', 'tiny', '--ternary', 'TQ1_0', '--embedding', 'Q8_0', '--tokenizer', 'spm', '--seed', '5', '-o', path], c.io)).toBe(0);
    expect(readFileSync(path).equals(Buffer.from(await makeModel({ ternaryType: 'TQ1_0', embeddingType: 'Q8_0', tokenizer: 'spm', seed: 5 })))).toBe(true);
    expect(c.out.join('\n')).toMatch(/wrote .*cli\.gguf/);
  });
  it('bad arguments: one line naming the problem, exit 2', async () => {
    const cases: [string[], RegExp][] = [
      [[], /missing -o FILE/], [['--preset', 'huge', '-o', 'x'], /--preset must be one of/], [['--ternary', 'Q4_0', '-o', 'x'], /--ternary must be one of/],
      [['--seed', 'abc', '-o', 'x'], /--seed needs an integer, got "abc"/], [['--bogus'], /unknown option --bogus/], [['-o', 'x', 'extra'], /unexpected argument "extra"/],
    ];
    for (const [args, re] of cases) {
      const c = io();
      expect(await main(['make-model', ...args], c.io)).toBe(2);
      expect(c.err).toHaveLength(1);
      expect(c.err[0]).toMatch(re);
    }
  });
});

describe('llama.cpp (node-llama-cpp 3.21.1) loads the tiny models', () => {
  let llama: Llama;
  // A missing oracle fails every test here (a throwing beforeAll), never turns them into passes.
  beforeAll(async () => {
    llama = await loadLlama();
  }, 120_000);
  afterAll(async () => {
    await llama?.dispose();
  });

  const TEXTS = ['The quick brown fox jumps over the lazy dog.', 'Hello, world! 3.14159 and 2024.', "it's   spaced\nout\ttext", 'ternary weights: -1, 0, +1', 'Ünïcödé → 日本語 🙂'];

  for (const ternaryType of ['TQ1_0', 'TQ2_0'] as const) {
    for (const tokenizer of ['bpe', 'spm'] as const) {
      it(`bitnet ${ternaryType} ${tokenizer}: loads, tokenizes like us, generates`, async () => {
        const bytes = await makeModel({ ternaryType, tokenizer, seed: 11 });
        const path = join(dir, `ll-${ternaryType}-${tokenizer}.gguf`);
        writeFileSync(path, bytes);
        const ours = createTokenizer(rawMetadata(await parseGGUFHeader(bytes)));
        const m = await llama.loadModel({ modelPath: path, gpuLayers: 0, useMmap: false });
        try {
          expect(m.trainContextSize).toBe(512);
          expect(m.tokens.bos).toBe(ours.bos);
          expect(m.tokens.eos).toBe(ours.eos);
          for (const text of TEXTS) {
            expect(Array.from(m.tokenize(text)), text).toEqual(Array.from(ours.encode(text, { addBos: false })));
          }
          const ctx = await m.createContext({ contextSize: 128, threads: 1, batchSize: 32 });
          try {
            const seq = ctx.getSequence();
            const prompt = [ours.bos, ...ours.encode('The quick brown fox', { addBos: false })];
            const out: number[] = [];
            for await (const t of seq.evaluate(prompt as never, { temperature: 0 })) {
              out.push(t as number);
              if (out.length >= 16) break;
            }
            expect(out.length).toBe(16);
            for (const t of out) expect(t).toBeLessThan(ours.vocabSize);
            expect(new Set(out).size).toBeGreaterThan(4); // greedy decoding does not lock onto one token
          } finally {
            await ctx.dispose();
          }
        } finally {
          await m.dispose();
        }
      });
    }
  }

  for (const tokenizer of ['llama', 'llama3'] as const) {
    it(`real ${tokenizer} vocabulary: llama.cpp tokenizes like us and generates`, async () => {
      const bytes = await makeModel({ tokenizer, embeddingType: 'Q8_0' });
      const path = join(dir, `real-${tokenizer}.gguf`);
      writeFileSync(path, bytes);
      const ours = createTokenizer(rawMetadata(await parseGGUFHeader(bytes)));
      expect(ours.vocabSize).toBe(tokenizer === 'llama' ? 32000 : 128256);
      const m = await llama.loadModel({ modelPath: path, gpuLayers: 0, useMmap: false });
      try {
        for (const text of TEXTS) expect(Array.from(m.tokenize(text)), text).toEqual(Array.from(ours.encode(text, { addBos: false })));
        const ctx = await m.createContext({ contextSize: 64, threads: 1, batchSize: 32 });
        try {
          const out: number[] = [];
          for await (const t of ctx.getSequence().evaluate([ours.bos, ...ours.encode('The quick brown fox', { addBos: false })] as never, { temperature: 0 })) {
            out.push(t as number);
            if (out.length >= 8) break;
          }
          expect(new Set(out).size).toBeGreaterThan(2);
        } finally {
          await ctx.dispose();
        }
      } finally {
        await m.dispose();
      }
    });
  }

  it('refuses I2_S (bitnet.cpp only) and the bitnet-b1.58 spelling (bitnet.cpp only)', async () => {
    for (const [name, opts] of [['i2s', { ternaryType: 'I2_S' }], ['b158', { arch: 'bitnet-b1.58' }]] as const) {
      const path = join(dir, `refused-${name}.gguf`);
      writeFileSync(path, await makeModel(opts));
      await expect(llama.loadModel({ modelPath: path, gpuLayers: 0, useMmap: false })).rejects.toThrow();
    }
  });
});
