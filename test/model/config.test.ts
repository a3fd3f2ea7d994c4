// configFromGGUF: every key it reads, at non-default values, its defaults when a key is absent, and
// a clear BAD_GGUF for each inconsistent header. (The numbers' effect on the forward pass is checked
// against llama.cpp in hyperparameters.test.ts; this file is the fast, exhaustive part.)
import { describe, expect, it } from 'vitest';
import { parseGGUFHeader, writeGGUF } from '../../src/gguf/index.js';
import type { GGUFValue } from '../../src/gguf/metadata.js';
import { configFromGGUF } from '../../src/model/config.js';

const u32 = (value: number): GGUFValue => ({ type: 'u32', value });
const f32 = (value: number): GGUFValue => ({ type: 'f32', value });
const str = (value: string): GGUFValue => ({ type: 'string', value });
const tokens = (n: number): GGUFValue => ({ type: 'array', itemType: 'string', value: Array.from({ length: n }, (_, i) => `t${i}`) });

function header(arch: string, keys: Record<string, GGUFValue | undefined>) {
  const metadata: Record<string, GGUFValue> = { 'general.architecture': str(arch) };
  for (const [k, v] of Object.entries(keys)) if (v) metadata[k.startsWith('tokenizer.') ? k : `${arch}.${k}`] = v;
  return parseGGUFHeader(writeGGUF({ metadata }));
}
const full = {
  embedding_length: u32(384), block_count: u32(3), 'attention.head_count': u32(12), 'attention.head_count_kv': u32(3),
  feed_forward_length: u32(1000), vocab_size: u32(77), context_length: u32(300), 'rope.dimension_count': u32(16),
  'rope.freq_base': f32(500000), 'attention.layer_norm_rms_epsilon': f32(1e-6), hidden_activation: str('relu2'),
};
const config = async (arch: string, keys: Record<string, GGUFValue | undefined>) => configFromGGUF(await header(arch, keys));
const error = async (arch: string, keys: Record<string, GGUFValue | undefined>) => {
  try { await config(arch, keys); } catch (e) { return (e as Error).message.startsWith(`${(e as { code: string }).code}: `) ? (e as Error).message : `not BAD_GGUF: ${String(e)}`; }
  return 'no error';
};

describe('configFromGGUF', () => {
  it('reads every key at a non-default value', async () => {
    expect(await config('bitnet', full)).toEqual({
      architecture: 'bitnet', nEmbd: 384, nLayer: 3, nHead: 12, nHeadKv: 3, headDim: 32, nFf: 1000, nVocab: 77, nCtxTrain: 300,
      ropeDim: 16, ropeBase: 500000, rmsEps: Math.fround(1e-6), activation: 'relu2', subNorms: true, ropeType: 'neox',
    });
  });
  it('defaults: kv heads = heads, rope dim = head dim, vocabulary from the token list, context 2048, base 10000, eps 1e-5, SiLU', async () => {
    const c = await config('bitnet', { ...full, 'attention.head_count_kv': undefined, 'rope.dimension_count': undefined, vocab_size: undefined, 'tokenizer.ggml.tokens': tokens(55),
      context_length: undefined, 'rope.freq_base': undefined, 'attention.layer_norm_rms_epsilon': undefined, hidden_activation: undefined });
    expect(c).toMatchObject({ nHeadKv: 12, ropeDim: 32, nVocab: 55, nCtxTrain: 2048, ropeBase: 10000, rmsEps: 1e-5, activation: 'silu' });
  });
  it('architectures: llama has no sub-norms and interleaved rope; bitnet.cpp spellings imply ReLU^2', async () => {
    const noAct = { ...full, hidden_activation: undefined };
    expect(await config('llama', noAct)).toMatchObject({ subNorms: false, ropeType: 'interleaved', activation: 'silu' });
    expect(await config('bitnet', noAct)).toMatchObject({ subNorms: true, ropeType: 'neox', activation: 'silu' });
    expect(await config('bitnet-b1.58', noAct)).toMatchObject({ subNorms: true, ropeType: 'neox', activation: 'relu2' });
    expect(await config('bitnet-25', noAct)).toMatchObject({ activation: 'relu2' });
  });
  it('activation spellings: `activation` too; silu / swish / relu / relu_sqr, any case', async () => {
    for (const [v, want] of [['silu', 'silu'], ['SWISH', 'silu'], ['relu', 'relu2'], ['ReLU_sqr', 'relu2']]) {
      expect((await config('bitnet', { ...full, hidden_activation: str(v) })).activation, v).toBe(want);
    }
    expect((await config('bitnet', { ...full, hidden_activation: undefined, activation: str('relu2') })).activation).toBe('relu2');
    expect(await error('bitnet', { ...full, hidden_activation: str('gelu') })).toBe("BAD_GGUF: unknown hidden activation 'gelu' (bitnet.hidden_activation)");
  });
  it('a u64 or a float that is a whole number is read as that number', async () => {
    expect((await config('bitnet', { ...full, context_length: { type: 'u64', value: 4096n } })).nCtxTrain).toBe(4096);
  });
  it('inconsistent or missing values are BAD_GGUF naming the key', async () => {
    const cases: [string, Record<string, GGUFValue | undefined>, string][] = [
      ['gpt2', full, "BAD_GGUF: architecture 'gpt2' is not supported (supported: bitnet, bitnet-b1.58, bitnet-25, llama)"],
      ['bitnet', { ...full, embedding_length: undefined }, 'BAD_GGUF: missing metadata key bitnet.embedding_length'],
      ['bitnet', { ...full, block_count: undefined }, 'BAD_GGUF: missing metadata key bitnet.block_count'],
      ['bitnet', { ...full, feed_forward_length: undefined }, 'BAD_GGUF: missing metadata key bitnet.feed_forward_length'],
      ['bitnet', { ...full, 'attention.head_count': undefined }, 'BAD_GGUF: missing metadata key bitnet.attention.head_count'],
      ['bitnet', { ...full, 'attention.head_count_kv': u32(5) }, 'BAD_GGUF: bitnet.attention.head_count 12 is not a multiple of head_count_kv 5'],
      ['bitnet', { ...full, 'attention.head_count': u32(7), 'attention.head_count_kv': u32(7) }, 'BAD_GGUF: bitnet.embedding_length 384 is not a multiple of head_count 7'],
      ['bitnet', { ...full, 'rope.dimension_count': u32(34) }, 'BAD_GGUF: bitnet.rope.dimension_count 34 must be even and <= head_dim 32'],
      ['bitnet', { ...full, 'rope.dimension_count': u32(15) }, 'BAD_GGUF: bitnet.rope.dimension_count 15 must be even and <= head_dim 32'],
      ['bitnet', { ...full, embedding_length: u32(0) }, 'BAD_GGUF: bitnet.embedding_length = 0 is out of range (1..16777216)'],
      ['bitnet', { ...full, block_count: u32(4097) }, 'BAD_GGUF: bitnet.block_count = 4097 is out of range (1..4096)'],
      ['bitnet', { ...full, vocab_size: undefined }, 'BAD_GGUF: bitnet.vocab_size = 0 is out of range (1..16777216)'],
      ['bitnet', { ...full, 'rope.freq_base': str('big') }, 'BAD_GGUF: metadata bitnet.rope.freq_base is not a number'],
      ['bitnet', { ...full, 'rope.freq_base': f32(Infinity) }, 'BAD_GGUF: metadata bitnet.rope.freq_base is not a number'],
    ];
    for (const [arch, keys, want] of cases) expect(await error(arch, keys), want).toBe(want);
    expect(await error('bitnet', full)).toBe('no error');
    expect(await error('bitnet', { ...full, block_count: u32(4096) })).toBe('no error');
  });
  it('a header without general.architecture is BAD_GGUF', async () => {
    expect(() => configFromGGUF({ metadata: new Map() } as never)).toThrow(/missing general.architecture/);
  });
});
