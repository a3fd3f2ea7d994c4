// Model hyperparameters read from GGUF metadata, for the ternary architectures real files use:
// llama.cpp `bitnet` (1bitLLM bitnet_b1_58-*, newer 2B4T conversions), bitnet.cpp's `bitnet-b1.58`
// and `bitnet-25` (2B4T), and `llama` with ternary weights (Llama3-8B-1.58, Falcon3-*-1.58bit).
import { BitnetError } from '../errors.js';
import { metadataValue, type GGUFHeader } from '../gguf/index.js';

export type Activation = 'silu' | 'relu2';

export interface ModelConfig {
  architecture: string;
  nEmbd: number;
  nLayer: number;
  nHead: number;
  nHeadKv: number;
  headDim: number;
  nFf: number;
  nVocab: number;
  nCtxTrain: number;
  ropeDim: number;
  ropeBase: number;
  rmsEps: number;
  activation: Activation;
  /** Sub-norms before the output and down projections (BitNet); absent in plain llama. */
  subNorms: boolean;
  /** Rotary pairs: 'neox' = the two halves of a head (llama.cpp's bitnet graphs), 'interleaved' =
   *  neighbours (2i, 2i+1) (its llama graph). */
  ropeType: 'neox' | 'interleaved';
}

/** The architectures loading accepts, one row each: what a file of that architecture does not
 *  spell out in its metadata. Adding one that computes the same block is a row here. */
const ARCHITECTURES: Readonly<Record<string, { activation: Activation; subNorms: boolean; ropeType: ModelConfig['ropeType'] }>> = {
  // llama.cpp's graph (1bitLLM bitnet_b1_58-*, newer 2B4T conversions): SiLU unless the file names one.
  bitnet: { activation: 'silu', subNorms: true, ropeType: 'neox' },
  // bitnet.cpp's spellings (2B4T): squared ReLU.
  'bitnet-b1.58': { activation: 'relu2', subNorms: true, ropeType: 'neox' },
  'bitnet-25': { activation: 'relu2', subNorms: true, ropeType: 'neox' },
  // llama with ternary weights (Llama3-8B-1.58, Falcon3-*-1.58bit): no sub-norms, rotary pairs (2i, 2i+1).
  llama: { activation: 'silu', subNorms: false, ropeType: 'interleaved' },
};

function num(h: GGUFHeader, key: string, dflt?: number): number {
  const v = metadataValue(h, key);
  if (v === undefined) {
    if (dflt === undefined) throw new BitnetError('BAD_GGUF', `missing metadata key ${key}`);
    return dflt;
  }
  const n = typeof v === 'bigint' ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isFinite(n)) throw new BitnetError('BAD_GGUF', `metadata ${key} is not a number`);
  return n;
}

function positiveInt(name: string, v: number, max = 2 ** 24): number {
  if (!Number.isInteger(v) || v < 1 || v > max) throw new BitnetError('BAD_GGUF', `${name} = ${v} is out of range (1..${max})`);
  return v;
}

/** The FFN activation's metadata value: `<arch>.hidden_activation`, else `<arch>.activation`. */
export function activationMetadata(h: GGUFHeader, arch: string): unknown {
  return metadataValue(h, `${arch}.hidden_activation`) ?? metadataValue(h, `${arch}.activation`);
}

/** The FFN activation from that value; when the file names none, its architecture's (SiLU for one
 *  not in the table). undefined: a name we do not know. */
export function activationOf(arch: string, named: unknown): Activation | undefined {
  if (typeof named === 'string') return /relu/i.test(named) ? 'relu2' : /silu|swish/i.test(named) ? 'silu' : undefined;
  return Object.hasOwn(ARCHITECTURES, arch) ? ARCHITECTURES[arch].activation : 'silu';
}

export function configFromGGUF(h: GGUFHeader): ModelConfig {
  const arch = metadataValue(h, 'general.architecture');
  if (typeof arch !== 'string') throw new BitnetError('BAD_GGUF', 'missing general.architecture');
  if (!Object.hasOwn(ARCHITECTURES, arch)) {
    throw new BitnetError('BAD_GGUF', `architecture '${arch}' is not supported (supported: ${Object.keys(ARCHITECTURES).join(', ')})`);
  }
  const k = (s: string) => `${arch}.${s}`;
  const nEmbd = positiveInt(k('embedding_length'), num(h, k('embedding_length')));
  const nHead = positiveInt(k('attention.head_count'), num(h, k('attention.head_count')));
  const nHeadKv = positiveInt(k('attention.head_count_kv'), num(h, k('attention.head_count_kv'), nHead));
  if (nHead % nHeadKv !== 0) throw new BitnetError('BAD_GGUF', `${k('attention.head_count')} ${nHead} is not a multiple of head_count_kv ${nHeadKv}`);
  if (nEmbd % nHead !== 0) throw new BitnetError('BAD_GGUF', `${k('embedding_length')} ${nEmbd} is not a multiple of head_count ${nHead}`);
  const headDim = nEmbd / nHead;
  const ropeDim = positiveInt(k('rope.dimension_count'), num(h, k('rope.dimension_count'), headDim));
  if (ropeDim > headDim || ropeDim % 2) throw new BitnetError('BAD_GGUF', `${k('rope.dimension_count')} ${ropeDim} must be even and <= head_dim ${headDim}`);
  const tokens = metadataValue(h, 'tokenizer.ggml.tokens') as unknown as { length: number } | undefined;
  const nVocab = positiveInt(k('vocab_size'), num(h, k('vocab_size'), tokens?.length ?? 0));
  const act = activationMetadata(h, arch);
  const activation = activationOf(arch, act);
  if (!activation) throw new BitnetError('BAD_GGUF', `unknown hidden activation '${String(act)}' (${k('hidden_activation')})`);
  return {
    architecture: arch,
    nEmbd,
    nLayer: positiveInt(k('block_count'), num(h, k('block_count')), 4096),
    nHead,
    nHeadKv,
    headDim,
    nFf: positiveInt(k('feed_forward_length'), num(h, k('feed_forward_length'))),
    nVocab,
    nCtxTrain: positiveInt(k('context_length'), num(h, k('context_length'), 2048)),
    ropeDim,
    ropeBase: num(h, k('rope.freq_base'), 10000),
    rmsEps: num(h, k('attention.layer_norm_rms_epsilon'), 1e-5),
    activation,
    subNorms: ARCHITECTURES[arch].subNorms,
    ropeType: ARCHITECTURES[arch].ropeType,
  };
}

/** Runs a step that reads the file's metadata (config, tokenizer, tensor checks) so that every
 *  BitnetError it throws is BAD_GGUF with a byte offset: the record of the metadata key its message
 *  names (the longest match, also as `<arch>.<name>`), else the start of the metadata. */
export function withFileOffsets<T>(h: GGUFHeader, step: () => T): T {
  try {
    return step();
  } catch (e) {
    if (!(e instanceof BitnetError) || e.offset !== undefined) throw e;
    const offsets = h.metadataOffsets ?? new Map<string, number>();
    const arch = metadataValue(h, 'general.architecture');
    let offset = 24, best = 0; // 24: the first metadata record (after magic, version and counts)
    for (const word of e.message.match(/[\w.-]+/g) ?? []) {
      for (const key of [word, `${String(arch)}.${word}`]) {
        const at = offsets.get(key);
        if (at !== undefined && key.length > best) { offset = at; best = key.length; }
      }
    }
    const message = e.message.replace(/^[A-Z_]+: /, '');
    throw new BitnetError(e.code === 'BAD_ARGUMENT' ? 'BAD_GGUF' : e.code, `${message} (at byte ${offset})`, { offset, cause: e });
  }
}
