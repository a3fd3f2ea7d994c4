/** inspectModel / formatInspection / info command on synthetic tiny models. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseGGUFHeader } from '../../src/gguf/index.js';
import { estimateMemory, formatInspection, forwardScratchBytes, inspectHeader, inspectModel, loadingStagingBytes, workerScratchBytes } from '../../src/model/inspect.js';
import { makeModel } from '../../src/synth/make-model.js';
import { PRESETS, ternaryWeightCount } from '../../src/synth/presets.js';
import { DEFAULT_MODEL, main } from '../../src/cli/main.js';

let dir = '';
let tinyPath = '';
let tiny: Uint8Array;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'inspect-'));
  tiny = await makeModel({ ternaryType: 'TQ2_0', seed: 2 });
  tinyPath = join(dir, 'tiny.gguf');
  writeFileSync(tinyPath, tiny);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const W = ternaryWeightCount(PRESETS.tiny); // 4 * (2*256*256 + 2*256*128 + 3*256*768)

describe('inspectModel', () => {
  it('architecture, hyperparameters and tensor statistics of the tiny preset', async () => {
    const i = await inspectModel(tiny);
    const nVocab = i.hyperparameters.nVocab;
    expect(i.architecture).toBe('bitnet');
    expect(i.name).toBe(PRESETS.tiny.name);
    expect(i.fileSize).toBe(tiny.length);
    expect(i.hyperparameters).toEqual({
      nVocab, nCtx: 512, nEmbd: 256, nLayer: 4, nHead: 4, nHeadKv: 2, headDim: 64, nFf: 768,
      ropeBase: 10000, ropeDim: 64, rmsEps: 1e-5, activation: 'silu', tiedEmbeddings: true, subNorms: true,
    });
    expect(i.tokenizer).toMatchObject({ model: 'gpt2', pre: 'llama-bpe', tokens: nVocab, chatTemplate: true });
    expect(i.tensorCount).toBe(46);
    expect(i.byType.TQ2_0).toEqual({ count: 28, elements: W, bytes: (W / 256) * 66 });
    expect(i.byType.F16).toEqual({ count: 1, elements: 256 * nVocab, bytes: 512 * nVocab });
    expect(i.byType.F32.count).toBe(1 + 4 * 4);
    expect(i.ternary).toEqual({ tensors: 28, weights: W, bytes: (W / 256) * 66, bitsPerWeight: 2.0625, types: ['TQ2_0'] });
    expect(i.embedding).toEqual({ type: 'F16', shape: [256, nVocab], entries: 256 * nVocab, bytes: 512 * nVocab });
    expect(i.output).toBeUndefined();
    expect(i.norms).toEqual({ tensors: 17, entries: 256 + 4 * (3 * 256 + 768), bytes: 4 * (256 + 4 * (3 * 256 + 768)) });
    // The same from a path and from a parsed header.
    expect(await inspectModel(tinyPath)).toEqual(i);
    expect(inspectHeader(await parseGGUFHeader(tiny))).toEqual(i);
  });

  it('memory estimate: the build\'s model kernel (tl3 5/3 bits; i2 2 bits), f32 embedding (small vocabulary), f32 norms, f32 KV cache', async () => {
    const i = await inspectModel(tiny);
    const nVocab = i.hyperparameters.nVocab;
    const norms = 4 * (256 + 4 * (3 * 256 + 768));
    const kv = 2 * 4 * 512 * 2 * 64 * 4; // 2 (K,V) * n_layer * n_ctx * n_head_kv * head_dim * f32
    expect(kv).toBe(2 << 20);
    expect(i.embeddingMode).toBe('f32');
    expect(i.contextLength).toBe(512);
    // With the kernel given: its layout; the loaded tensors plus the larger of loading's staging and
    // KV cache + scratch. Without: each build's widest layout (relaxed i2, simd128 tl3).
    const tl3 = Math.ceil((W * 5) / 24);
    const staging = loadingStagingBytes(await parseGGUFHeader(tiny));
    for (const [build, kernel] of [['relaxed', 'tl3-relaxed'], ['simd128', 'tl3']] as const) {
      const m = (await inspectModel(tiny, { kernel })).memory[build];
      expect(m.scratch).toBe(forwardScratchBytes(i.hyperparameters, 512, 'tl3'));
      expect(m).toEqual({ kernel, layout: 'tl3', bitsPerWeight: 5 / 3, ternary: tl3, embedding: 4 * 256 * nVocab, norms, other: 0, kvCache: kv,
        scratch: m.scratch, workers: 0, staging, total: tl3 + 4 * 256 * nVocab + norms + Math.max(staging, kv + m.scratch) });
      // Threads: each worker past the first has its own scratch (attention's score rows over the
      // context: 4 heads x 512 positions, and 4 x 16 f32 per head, the 4 heads' q re-laid, 32 decoded rows of 64).
      const t3 = (await inspectModel(tiny, { kernel, threads: 3 })).memory[build];
      expect(workerScratchBytes(i.hyperparameters, 512, 'tl3')).toBe(4 * (4 * 512 + 4 * 64 + 4 * 64 + 32 * 64));
      expect(t3).toEqual({ ...m, workers: 2 * 4 * (4 * 512 + 4 * 64 + 4 * 64 + 32 * 64), total: m.total - Math.max(staging, kv + m.scratch) + Math.max(staging, kv + m.scratch + t3.workers) });
    }
    for (const threads of [0, 1.5, -2]) await expect(inspectModel(tiny, { threads }), String(threads)).rejects.toMatchObject({ code: 'BAD_ARGUMENT' });
    expect(i.memory.relaxed).toMatchObject({ kernel: 'i2-dot', layout: 'i2', ternary: W / 4 });
    expect(i.memory.simd128).toMatchObject({ kernel: 'tl3', layout: 'tl3', ternary: tl3 });
    // The i2 layout (i2-dot kernels): 2 bits per weight.
    const args = { ternaryWeights: W, embeddingEntries: 256 * nVocab, embeddingRows: nVocab, embeddingMode: 'f32', normEntries: norms / 4, otherBytes: 0,
      nLayer: 4, nCtx: 512, nHeadKv: 2, headDim: 64 } as const;
    expect(estimateMemory({ ...args, kernel: 'i2-dot' })).toMatchObject({ layout: 'i2', bitsPerWeight: 2, ternary: W / 4, total: W / 4 + 4 * 256 * nVocab + norms + kv });
    // A context override changes the KV cache (and attention's share of scratch) only.
    const j = await inspectModel(tiny, { contextLength: 64 });
    expect(j.memory.relaxed.kvCache).toBe(kv / 8);
    expect({ ...j.memory.relaxed, kvCache: 0, scratch: 0, total: 0 }).toEqual({ ...i.memory.relaxed, kvCache: 0, scratch: 0, total: 0 });
  });

  it('a large embedding is held as int8 + a row scale; other ternary types', async () => {
    const q = await inspectModel(await makeModel({ ternaryType: 'TQ1_0', embeddingType: 'Q8_0', config: { nVocab: 40000 } }));
    const n = q.hyperparameters.nVocab;
    expect(n).toBe(40000); // 40000 x 256 x 4 bytes > 32 MiB: int8 rows
    expect(q.embeddingMode).toBe('int8');
    expect(q.memory.relaxed.embedding).toBe(256 * n + 4 * n);
    expect(q.embedding).toMatchObject({ type: 'Q8_0', bytes: (256 * n * 34) / 32 });
    expect(q.ternary.bitsPerWeight).toBe(1.6875);
    expect(q.memory.relaxed.ternary).toBe(W / 4); // repacked: independent of the file's type

    const i2 = await inspectModel(await makeModel({ ternaryType: 'I2_S' }));
    expect(i2.ternary.bytes).toBe(W / 4 + 28 * 32);
    expect(i2.ternary.bitsPerWeight).toBeCloseTo(2 + (28 * 32 * 8) / W, 10);

    const untied = await inspectModel(await makeModel({ arch: 'llama', embeddingType: 'F32', config: { tiedEmbeddings: false } }));
    expect(untied.architecture).toBe('llama');
    expect(untied.hyperparameters).toMatchObject({ tiedEmbeddings: false, subNorms: false, activation: 'silu' });
    const n2 = untied.hyperparameters.nVocab;
    expect(untied.output).toMatchObject({ type: 'F32', shape: [256, n2] });
    expect(untied.memory.relaxed.embedding).toBe(2 * 4 * 256 * n2); // token_embd + output, both f32

    const b158 = await inspectModel(await makeModel({ arch: 'bitnet-b1.58' }));
    expect(b158.hyperparameters.activation).toBe('relu2');
    const relu = await inspectModel(await makeModel({ config: { activation: 'relu2' } }));
    expect(relu.hyperparameters.activation).toBe('relu2');
  });

  it('formatInspection renders the main facts', async () => {
    const text = formatInspection(await inspectModel(tiny));
    expect(text).toMatch(/\[bitnet\]/);
    expect(text).toMatch(/heads \/ kv heads\s+4 \/ 2 \(head_dim 64, GQA 2:1\)/);
    expect(text).toMatch(/TQ2_0\s+28 tensors/);
    expect(text).toMatch(/2\.063 bits\/weight/);
    expect(text).toMatch(/relaxed .*i2-dot kernel, i2, 2\.00 b\/w/);
    expect(text).toMatch(/simd128 .*tl3, 1\.67 b\/w/);
    expect(text).toMatch(/KV cache 2\.00 MiB/);
  });
});

describe('info command', () => {
  const io = () => {
    const out: string[] = [], err: string[] = [];
    return { out, err, io: { out: (l: string) => out.push(l), err: (l: string) => err.push(l), write: (t: string) => out.push(t) } };
  };
  it('text and --json', async () => {
    const a = io();
    expect(await main(['info', tinyPath], a.io)).toBe(0);
    expect(a.out.join('\n')).toMatch(/estimated memory/);
    const b = io();
    expect(await main(['info', tinyPath, '--json', '--ctx', '128'], b.io)).toBe(0);
    const j = JSON.parse(b.out.join('\n'));
    expect(j.architecture).toBe('bitnet');
    expect(j.contextLength).toBe(128);
    expect(j.memory.relaxed.kvCache).toBe(2 * 4 * 128 * 2 * 64 * 4);
    expect(j.memory.relaxed.workers).toBe(0);
    const c = io();
    expect(await main(['info', tinyPath, '--ctx', '128', '-t', '4'], c.io)).toBe(0);
    expect(c.out.join('\n')).toMatch(/context 128, 4 threads, .*\n.*threads' scratch 36\.0 KiB/);
  });
  it('without a file: the shipped model, as run and serve take it', async () => {
    const a = io(), b = io();
    expect(await main(['info', '--json'], a.io)).toBe(0);
    expect(await main(['info', DEFAULT_MODEL, '--json'], b.io)).toBe(0);
    expect(JSON.parse(a.out.join('\n'))).toEqual(JSON.parse(b.out.join('\n')));
    expect(JSON.parse(a.out.join('\n')).hyperparameters.nEmbd).toBe(256);
  });
  it('bad arguments: one line and 2; unreadable file: 1', async () => {
    const cases: [string[], RegExp][] = [[['a', 'b'], /unexpected argument "b"/], [['--bogus', tinyPath], /unknown option --bogus/], [[tinyPath, '--ctx', 'x'], /--ctx needs an integer, got "x"/]];
    for (const [args, re] of cases) {
      const c = io();
      expect(await main(['info', ...args], c.io)).toBe(2);
      expect(c.err).toHaveLength(1);
      expect(c.err[0]).toMatch(re);
    }
    const c = io();
    expect(await main(['info', join(dir, 'missing.gguf')], c.io)).toBe(1);
    expect(c.err[0]).toMatch(/missing\.gguf: no such file/);
    const notGguf = join(dir, 'not.gguf');
    writeFileSync(notGguf, 'hello world, not a model at all');
    expect(await main(['info', notGguf], c.io)).toBe(1);
    expect(c.err.join('\n')).toMatch(/BAD_GGUF/);
  });
});
