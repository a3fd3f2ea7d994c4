// The loader checks every tensor against the model config before reading data, and lookups keyed
// by strings from the file never reach Object.prototype. Each case was a plain TypeError before.
import { beforeAll, describe, expect, it } from 'vitest';
import { makeModel } from '../../src/synth/make-model.js';
import { loadModel } from '../../src/model/model.js';
import { BitnetError } from '../../src/errors.js';
import { encodeTensorData } from '../../src/gguf/index.js';
import { edit, type Parts } from './rewrite.js';

let base: Uint8Array;
beforeAll(async () => { base = await makeModel({ preset: 'tiny', ternaryType: 'TQ2_0', tokenizer: 'bpe', seed: 3 }); }, 60_000);

async function loadError(bytes: Uint8Array): Promise<BitnetError> {
  let err: unknown;
  try { (await loadModel(bytes, { contextLength: 64 })).dispose(); } catch (e) { err = e; }
  expect(err, 'expected a BitnetError').toBeInstanceOf(BitnetError);
  return err as BitnetError;
}

const f32 = (name: string, shape: number[], fill = 1) => ({ name, shape, type: 0, data: encodeTensorData({ name, shape, type: 'F32', data: new Float32Array(shape.reduce((a, b) => a * b, 1)).fill(fill) }) });
const tq2 = (name: string, shape: number[]) => ({ name, shape, type: 35, data: encodeTensorData({ name, shape, type: 'TQ2_0', data: new Int8Array(shape.reduce((a, b) => a * b, 1)).fill(1) }) });
const nLayer = (p: Parts) => Number(p.metadata.get('bitnet.block_count')!.value);

describe('loader: every tensor checked against the config before any data is read', () => {
  const cases: [string, (p: Parts) => void, RegExp][] = [
    ['a layer index at block_count', (p) => p.tensors.push(f32(`blk.${nLayer(p)}.attn_norm.weight`, [256])), /tensor blk\.\d+\.attn_norm\.weight is for layer \d+ but the model has \d+/],
    ['a layer index far past block_count', (p) => { p.tensors.find((t) => t.name === 'blk.0.ffn_norm.weight')!.name = 'blk.999999.ffn_norm.weight'; }, /blk\.999999\.ffn_norm\.weight is for layer 999999/],
    ['a ternary type on a norm', (p) => { const i = p.tensors.findIndex((t) => t.name === 'blk.1.attn_norm.weight'); p.tensors[i] = tq2('blk.1.attn_norm.weight', [256]); }, /tensor blk\.1\.attn_norm\.weight is TQ2_0; it must be F32, F16 or BF16/],
    ['a ternary type on a .scale', (p) => p.tensors.push(tq2('blk.0.attn_q.scale', [256])), /tensor blk\.0\.attn_q\.scale is TQ2_0; it must be F32, F16 or BF16/],
    ['a .scale with more than one value', (p) => p.tensors.push(f32('blk.0.attn_q.scale', [2])), /tensor blk\.0\.attn_q\.scale has shape \[2\], expected \[1\]/],
    ['an unknown tensor', (p) => p.tensors.push(f32('rope_freqs.weight', [32])), /tensor rope_freqs\.weight is not a tensor of this architecture/],
    ['a layer index with a leading zero', (p) => p.tensors.push(f32('blk.01.attn_norm.weight', [256])), /tensor blk\.01\.attn_norm\.weight is not a tensor/],
    ['a missing tensor', (p) => { p.tensors = p.tensors.filter((t) => t.name !== 'blk.1.ffn_up.weight'); }, /tensor blk\.1\.ffn_up\.weight is missing/],
    ['a wrong shape', (p) => { const i = p.tensors.findIndex((t) => t.name === 'output_norm.weight'); p.tensors[i] = f32('output_norm.weight', [128]); }, /tensor output_norm\.weight has shape \[128\], expected \[256\]/],
    ['a ternary embedding', (p) => { const t = p.tensors.find((x) => x.name === 'token_embd.weight')!; const i = p.tensors.indexOf(t); p.tensors[i] = tq2(t.name, t.shape); }, /tensor token_embd\.weight is TQ2_0/],
  ];
  for (const [name, f, message] of cases) {
    it(name, async () => {
      const e = await loadError(await edit(base, f));
      expect(e.code, e.message).toBe('BAD_GGUF');
      expect(e.message).toMatch(message);
      expect(typeof e.offset).toBe('number');
    });
  }

  it('the unedited file loads (the edits above are what fails)', async () => {
    const m = await loadModel(await edit(base, () => {}), { contextLength: 64 });
    expect(m.config.nLayer).toBeGreaterThan(1);
    m.dispose();
  });
});

describe('lookups keyed by file strings never reach Object.prototype', () => {
  for (const pre of ['__proto__', 'constructor', 'toString', 'hasOwnProperty']) {
    it(`tokenizer.ggml.pre = ${pre}`, async () => {
      const e = await loadError(await edit(base, (p) => p.metadata.set('tokenizer.ggml.pre', { type: 'string', value: pre })));
      expect(e.message).toMatch(new RegExp(`unsupported pre-tokenizer '${pre}'`));
    });
  }

  it('a metadata key named __proto__ is just a key', async () => {
    const bytes = await edit(base, (p) => p.metadata.set('__proto__', { type: 'array', itemType: 'string', value: ['x'] } as never));
    const m = await loadModel(bytes, { contextLength: 64 });
    const ref = await loadModel(base, { contextLength: 64 });
    expect(m.tokenize('Hello world')).toEqual(ref.tokenize('Hello world'));
    m.dispose(); ref.dispose();
  });
});
