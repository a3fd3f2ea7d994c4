/**
 * Architecture presets for synthetic ternary models, as plain data. Shapes follow the real models
 * (the shapes and metadata of microsoft/bitnet-b1.58-2B-4T and 1bitLLM/bitnet_b1_58-large as their
 * GGUF conversions carry them); weights are made up by makeModel.
 */

/** `bitnet`: llama.cpp's spelling (1bitLLM files, newer 2B4T conversions); `bitnet-b1.58`:
 *  bitnet.cpp's spelling for 2B4T; `llama`: plain llama blocks with ternary weights (no sub-norms). */
export const MODEL_ARCHS = ['bitnet', 'bitnet-b1.58', 'llama'] as const;
export type ModelArch = (typeof MODEL_ARCHS)[number];
export type FfnActivation = 'silu' | 'relu2';
/** `spm` / `bpe`: small vocabularies trained on a built-in corpus (SentencePiece with byte
 *  fallback / llama3-style byte-level BPE); `llama` / `llama3`: the real 32000 / 128256
 *  vocabularies of llama-tokenizer-js / llama3-tokenizer-js. */
export type TokenizerKind = 'spm' | 'bpe' | 'llama' | 'llama3';
export type PresetName = 'tiny' | 'large' | '2b4t' | 'llama3-8b' | 'falcon3-10b';

export interface SynthConfig {
  name: string;
  arch: ModelArch;
  nEmbd: number;
  nLayer: number;
  nHead: number;
  nHeadKv: number;
  nFf: number;
  /** Vocabulary size. undefined: whatever the tokenizer has. Larger than the tokenizer's: padded
   *  with unused tokens `<unused_N>`. Smaller: an error. */
  nVocab?: number;
  nCtx: number;
  ropeBase: number;
  rmsEps: number;
  activation: FfnActivation;
  /** Logits use token_embd (no output.weight). */
  tiedEmbeddings: boolean;
  /** attn_sub_norm / ffn_sub_norm tensors (BitNet); false for `llama`. */
  subNorms: boolean;
  /** Write `<arch>.hidden_activation` (llama.cpp reads it for `bitnet`; absent means SiLU there).
   *  bitnet.cpp's `bitnet-b1.58` implies ReLU^2 without the key. */
  writeActivationKey: boolean;
  tokenizer: TokenizerKind;
}

export const PRESETS: Readonly<Record<PresetName, Readonly<SynthConfig>>> = Object.freeze({
  /** A few MB: GQA (4 query heads over 2 KV heads), head_dim 64, sub-norms, SiLU. */
  tiny: Object.freeze({
    name: 'bitnet-wasm tiny (synthetic)',
    arch: 'bitnet',
    nEmbd: 256,
    nLayer: 4,
    nHead: 4,
    nHeadKv: 2,
    nFf: 768,
    nVocab: undefined,
    nCtx: 512,
    ropeBase: 10000,
    rmsEps: 1e-5,
    activation: 'silu',
    tiedEmbeddings: true,
    subNorms: true,
    writeActivationKey: false,
    tokenizer: 'bpe',
  }),
  /** 1bitLLM/bitnet_b1_58-large (~0.7 B ternary weights). The original vocabulary has 32002
   *  entries (LLaMA's 32000 + 2 added); the real 32000-token LLaMA vocabulary is used here. */
  large: Object.freeze({
    name: 'bitnet_b1_58-large (synthetic)',
    arch: 'bitnet',
    nEmbd: 1536,
    nLayer: 24,
    nHead: 16,
    nHeadKv: 16,
    nFf: 4096,
    nVocab: 32000,
    nCtx: 2048,
    ropeBase: 10000,
    rmsEps: 1e-5,
    activation: 'silu',
    tiedEmbeddings: true,
    subNorms: true,
    writeActivationKey: false,
    tokenizer: 'llama',
  }),
  /** microsoft/bitnet-b1.58-2B-4T: head_dim 128, squared ReLU, llama3 vocabulary. */
  '2b4t': Object.freeze({
    name: 'bitnet-b1.58-2B-4T (synthetic)',
    arch: 'bitnet',
    nEmbd: 2560,
    nLayer: 30,
    nHead: 20,
    nHeadKv: 5,
    nFf: 6912,
    nVocab: 128256,
    nCtx: 4096,
    ropeBase: 500000,
    rmsEps: 1e-5,
    activation: 'relu2',
    tiedEmbeddings: true,
    subNorms: true,
    writeActivationKey: true,
    tokenizer: 'llama3',
  }),
  /** HF1BitLLM/Llama3-8B-1.58-100B-tokens: Llama 3 8B with ternary projections (llama blocks, no
   *  sub-norms, SiLU GLU, GQA 32/8, untied head, llama3 vocabulary, rope base 500000). */
  'llama3-8b': Object.freeze({
    name: 'Llama3-8B-1.58 (synthetic)',
    arch: 'llama',
    nEmbd: 4096,
    nLayer: 32,
    nHead: 32,
    nHeadKv: 8,
    nFf: 14336,
    nVocab: 128256,
    nCtx: 8192,
    ropeBase: 500000,
    rmsEps: 1e-5,
    activation: 'silu',
    tiedEmbeddings: false,
    subNorms: false,
    writeActivationKey: false,
    tokenizer: 'llama3',
  }),
  /** tiiuae/Falcon3-10B-Instruct-1.58bit (its config.json: LlamaForCausalLM, 40 layers, 3072 wide,
   *  head_dim 256, GQA 12/4, 23040 FFN, 131072 vocabulary, rope base 1000042, rms eps 1e-6, 32768
   *  positions, untied). Falcon's own BPE vocabulary is not available here: the llama3 one, padded
   *  with unused tokens to 131072 entries, gives the same tensor shapes. */
  'falcon3-10b': Object.freeze({
    name: 'Falcon3-10B-1.58 (synthetic)',
    arch: 'llama',
    nEmbd: 3072,
    nLayer: 40,
    nHead: 12,
    nHeadKv: 4,
    nFf: 23040,
    nVocab: 131072,
    nCtx: 32768,
    ropeBase: 1000042,
    rmsEps: 1e-6,
    activation: 'silu',
    tiedEmbeddings: false,
    subNorms: false,
    writeActivationKey: false,
    tokenizer: 'llama3',
  }),
});

export const PRESET_NAMES = Object.keys(PRESETS) as PresetName[];

/**
 * A preset with an architecture spelling and overrides applied. `bitnet-b1.58` (bitnet.cpp):
 * sub-norms, ReLU^2 implied, no activation key. `bitnet` (llama.cpp): sub-norms, and
 * `bitnet.hidden_activation` written whenever the activation is not SiLU (llama.cpp's default).
 * `llama`: no sub-norms, SiLU. Fields given in `overrides` always win.
 */
export function resolveConfig(preset: PresetName | SynthConfig = 'tiny', arch?: ModelArch, overrides: Partial<SynthConfig> = {}): SynthConfig {
  const base: SynthConfig = typeof preset === 'string' ? { ...presetOrThrow(preset) } : { ...preset };
  if (arch !== undefined && !(MODEL_ARCHS as readonly string[]).includes(arch)) {
    throw new TypeError(`unknown architecture ${JSON.stringify(arch)} (${MODEL_ARCHS.join(', ')})`);
  }
  const a = overrides.arch ?? arch ?? base.arch;
  const o = overrides;
  const c: SynthConfig = { ...base, ...o, arch: a };
  if (a === 'bitnet-b1.58') {
    c.subNorms = o.subNorms ?? true;
    c.activation = o.activation ?? 'relu2';
    c.writeActivationKey = o.writeActivationKey ?? false;
  } else if (a === 'llama') {
    c.subNorms = o.subNorms ?? false;
    c.activation = o.activation ?? 'silu';
    c.writeActivationKey = o.writeActivationKey ?? false;
  } else {
    c.subNorms = o.subNorms ?? true;
    // llama.cpp's bitnet reads <arch>.hidden_activation and defaults to SiLU without it.
    c.writeActivationKey = o.writeActivationKey ?? c.activation !== 'silu';
  }
  return c;
}

function presetOrThrow(name: string): SynthConfig {
  const p = Object.hasOwn(PRESETS, name) ? (PRESETS as Record<string, SynthConfig>)[name] : undefined;
  if (!p) throw new TypeError(`unknown preset ${JSON.stringify(name)} (${PRESET_NAMES.join(', ')})`);
  return p;
}

/** Per-head size. */
export function headDim(c: Pick<SynthConfig, 'nEmbd' | 'nHead'>): number {
  return c.nEmbd / c.nHead;
}

/** Shape of every tensor, GGUF order (shape[0] = row length), in file order. `kind` says what
 *  the tensor is: the ternary projections, the embedding (and untied output), or a norm vector. */
export interface TensorPlan {
  name: string;
  shape: [number] | [number, number];
  kind: 'ternary' | 'embedding' | 'norm';
}

export function tensorPlan(c: SynthConfig, nVocab: number): TensorPlan[] {
  const hd = headDim(c);
  const kv = c.nHeadKv * hd;
  const out: TensorPlan[] = [
    { name: 'token_embd.weight', shape: [c.nEmbd, nVocab], kind: 'embedding' },
    { name: 'output_norm.weight', shape: [c.nEmbd], kind: 'norm' },
  ];
  if (!c.tiedEmbeddings) out.push({ name: 'output.weight', shape: [c.nEmbd, nVocab], kind: 'embedding' });
  for (let i = 0; i < c.nLayer; i++) {
    const b = `blk.${i}.`;
    out.push(
      { name: `${b}attn_norm.weight`, shape: [c.nEmbd], kind: 'norm' },
      { name: `${b}attn_q.weight`, shape: [c.nEmbd, c.nEmbd], kind: 'ternary' },
      { name: `${b}attn_k.weight`, shape: [c.nEmbd, kv], kind: 'ternary' },
      { name: `${b}attn_v.weight`, shape: [c.nEmbd, kv], kind: 'ternary' },
    );
    if (c.subNorms) out.push({ name: `${b}attn_sub_norm.weight`, shape: [c.nEmbd], kind: 'norm' });
    out.push(
      { name: `${b}attn_output.weight`, shape: [c.nEmbd, c.nEmbd], kind: 'ternary' },
      { name: `${b}ffn_norm.weight`, shape: [c.nEmbd], kind: 'norm' },
      { name: `${b}ffn_gate.weight`, shape: [c.nEmbd, c.nFf], kind: 'ternary' },
      { name: `${b}ffn_up.weight`, shape: [c.nEmbd, c.nFf], kind: 'ternary' },
    );
    if (c.subNorms) out.push({ name: `${b}ffn_sub_norm.weight`, shape: [c.nFf], kind: 'norm' });
    out.push({ name: `${b}ffn_down.weight`, shape: [c.nFf, c.nEmbd], kind: 'ternary' });
  }
  return out;
}

/** Number of ternary weights a config has (all projections of all layers). */
export function ternaryWeightCount(c: SynthConfig): number {
  const kv = c.nHeadKv * headDim(c);
  return c.nLayer * (2 * c.nEmbd * c.nEmbd + 2 * c.nEmbd * kv + 3 * c.nEmbd * c.nFf);
}
