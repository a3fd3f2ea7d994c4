// Every float tensor that reaches the forward pass is checked finite at load (BAD_GGUF naming the
// tensor and the first bad element), and a non-finite logit at run time is MODEL_ERROR. Before,
// these files loaded and gave NaN / infinite logits (garbage text or token 0 forever) silently.
import { beforeAll, describe, expect, it } from 'vitest';
import { makeModel } from '../../src/synth/make-model.js';
import { loadModel } from '../../src/model/model.js';
import { BitnetError } from '../../src/errors.js';
import { encodeTensorData, f32ToF16Bits, ggmlTypeInfo } from '../../src/gguf/index.js';
import { edit, type Parts } from './rewrite.js';

const files: Record<string, Uint8Array> = {};
beforeAll(async () => {
  files.F32 = await makeModel({ preset: 'tiny', ternaryType: 'TQ2_0', tokenizer: 'bpe', seed: 4, embeddingType: 'F32' });
  files.F16 = await makeModel({ preset: 'tiny', ternaryType: 'TQ2_0', tokenizer: 'bpe', seed: 4, embeddingType: 'F16' });
  files.Q8_0 = await makeModel({ preset: 'tiny', ternaryType: 'TQ2_0', tokenizer: 'bpe', seed: 4, embeddingType: 'Q8_0' });
}, 60_000);

async function loadError(bytes: Uint8Array, opts = {}): Promise<BitnetError> {
  let err: unknown;
  try { (await loadModel(bytes, { contextLength: 64, ...opts })).dispose(); } catch (e) { err = e; }
  expect(err, 'expected a BitnetError').toBeInstanceOf(BitnetError);
  return err as BitnetError;
}

const tensor = (p: Parts, name: string) => p.tensors.find((t) => t.name === name)!;
/** Replaces element i of an F32 / F16 tensor, or the f16 scale of block b of a Q8_0 / TQ2_0 tensor. */
function poisonFloat(p: Parts, name: string, i: number, v: number): void {
  const t = tensor(p, name), dv = new DataView(t.data.buffer, t.data.byteOffset, t.data.byteLength);
  const typeName = ggmlTypeInfo(t.type)!.name;
  if (typeName === 'F32') dv.setFloat32(4 * i, v, true);
  else if (typeName === 'F16') dv.setUint16(2 * i, f32ToF16Bits(v), true);
  else if (typeName === 'Q8_0') dv.setUint16(34 * Math.floor(i / 32), f32ToF16Bits(v), true); // d of i's block
  else if (typeName === 'TQ2_0') dv.setUint16(66 * Math.floor(i / 256) + 64, f32ToF16Bits(v), true);
  else throw new Error(typeName);
}

describe('non-finite weights are BAD_GGUF at load, naming the tensor and the first bad element', () => {
  const cases: [string, string, string, number, number][] = [
    ['NaN in an F32 embedding', 'F32', 'token_embd.weight', 1000, NaN],
    ['Inf in an F32 embedding', 'F32', 'token_embd.weight', 5, Infinity],
    ['Inf in an F16 embedding', 'F16', 'token_embd.weight', 777, -Infinity],
    ['NaN in a Q8_0 embedding block scale', 'Q8_0', 'token_embd.weight', 64, NaN],
    ['NaN in the output norm', 'F32', 'output_norm.weight', 3, NaN],
    ['Inf in a layer norm', 'F32', 'blk.1.ffn_norm.weight', 0, Infinity],
    ['NaN in a sub-norm', 'F32', 'blk.0.attn_sub_norm.weight', 17, NaN],
    ['NaN in one TQ2_0 block scale', 'F32', 'blk.0.ffn_up.weight', 512, NaN],
    ['Inf in every TQ2_0 block scale', 'F32', 'blk.1.attn_q.weight', -1, Infinity],
  ];
  for (const [name, file, tname, i, v] of cases) {
    it(name, async () => {
      const bytes = await edit(files[file], (p) => {
        if (i >= 0) poisonFloat(p, tname, i, v);
        else for (let b = 0; b < tensor(p, tname).data.length / 66; b++) poisonFloat(p, tname, b * 256, v);
      });
      const e = await loadError(bytes);
      expect(e.code, e.message).toBe('BAD_GGUF');
      expect(e.message).toContain(`tensor ${tname}`);
      if (i >= 0) expect(e.message).toMatch(new RegExp(`element ${i}\\b|element ${i - (i % 32)}\\b|element ${i - (i % 256)}\\b`));
      expect(typeof e.offset).toBe('number');
    });
  }

  it('Inf in a .scale tensor', async () => {
    const bytes = await edit(files.F32, (p) => p.tensors.push({ name: 'blk.0.attn_k.scale', shape: [1], type: 0, data: encodeTensorData({ name: 'x', shape: [1], type: 'F32', data: new Float32Array([Infinity]) }) }));
    const e = await loadError(bytes);
    expect(e.message).toMatch(/tensor blk\.0\.attn_k\.scale: element 0 is not finite/);
  });

  it('NaN in an F32 output head', async () => {
    const bytes = await edit(files.F32, (p) => { const t = tensor(p, 'token_embd.weight'); p.tensors.push({ ...t, name: 'output.weight', data: t.data.slice() }); poisonFloat(p, 'output.weight', 99, NaN); });
    const e = await loadError(bytes);
    expect(e.message).toMatch(/tensor output\.weight: element 99 is not finite/);
  });
});

describe('a non-finite logit at run time is MODEL_ERROR', () => {
  it('finite weights whose logits overflow f32', async () => {
    // An output norm of 1e38 makes every normalized activation ~1e38: the head's dot products overflow.
    const bytes = await edit(files.F32, (p) => { const t = tensor(p, 'output_norm.weight'); t.data = encodeTensorData({ name: t.name, shape: t.shape, type: 'F32', data: new Float32Array(t.shape[0]).fill(1e38) }); });
    const m = await loadModel(bytes, { contextLength: 64 });
    try {
      expect(() => m.logits(m.tokenize('Hello'))).toThrow(/MODEL_ERROR/);
      await expect(m.generate('Hello', { maxTokens: 3 })).rejects.toThrow(/MODEL_ERROR/);
    } finally { m.dispose(); }
  });
});
