// Which tensors a model file must hold, with which shapes and types: every tensor of the file is
// checked against the model config before any tensor data is read, so a hostile or mislabelled file
// ends with a BAD_GGUF naming the tensor (never a TypeError halfway through loading).
import { BitnetError } from '../errors.js';
import { ggmlTypeInfo, ternaryTraits, TERNARY_TYPE_NAMES, type GGUFHeader, type GGUFTensorInfo } from '../gguf/index.js';
import type { ModelConfig } from './config.js';

export const MATRICES = ['attn_q', 'attn_k', 'attn_v', 'attn_output', 'ffn_gate', 'ffn_up', 'ffn_down'] as const;
const FLOAT_TYPES = new Set(['F32', 'F16', 'BF16']);
const NORMS = ['attn_norm', 'ffn_norm', 'attn_sub_norm', 'ffn_sub_norm'] as const;

/** What one tensor is for: its expected shape (GGUF order, ne[0] first) and the types it may have. */
interface Role { shape: number[]; types: 'ternary' | 'float' | 'table'; required: boolean }

function roleOf(name: string, c: ModelConfig): Role | string {
  const { nEmbd: e, nFf: ff, nHead, nHeadKv, headDim, nVocab } = c;
  if (name === 'token_embd.weight') return { shape: [e, nVocab], types: 'table', required: true };
  if (name === 'output.weight') return { shape: [e, nVocab], types: 'table', required: false };
  if (name === 'output_norm.weight') return { shape: [e], types: 'float', required: true };
  const m = /^blk\.(0|[1-9]\d{0,8})\.(\w+)\.(weight|scale)$/.exec(name);
  if (!m) return 'is not a tensor of this architecture';
  if (Number(m[1]) >= c.nLayer) return `is for layer ${m[1]} but the model has ${c.nLayer} (block_count)`;
  const kind = m[2], suffix = m[3];
  const matrix: Record<string, number[]> = {
    attn_q: [e, nHead * headDim], attn_k: [e, nHeadKv * headDim], attn_v: [e, nHeadKv * headDim],
    attn_output: [nHead * headDim, e], ffn_gate: [e, ff], ffn_up: [e, ff], ffn_down: [ff, e],
  };
  if (Object.hasOwn(matrix, kind)) {
    return suffix === 'weight' ? { shape: matrix[kind], types: 'ternary', required: true } : { shape: [1], types: 'float', required: false };
  }
  if ((NORMS as readonly string[]).includes(kind) && suffix === 'weight') {
    const sub = kind.endsWith('sub_norm');
    if (sub && !c.subNorms) return `is a sub-norm, which ${c.architecture} has not`;
    return { shape: [kind === 'ffn_sub_norm' ? ff : kind === 'attn_sub_norm' ? nHead * headDim : e], types: 'float', required: true };
  }
  return 'is not a tensor of this architecture';
}

function requiredNames(c: ModelConfig): string[] {
  const names = ['token_embd.weight', 'output_norm.weight'];
  for (let l = 0; l < c.nLayer; l++) {
    names.push(`blk.${l}.attn_norm.weight`, `blk.${l}.ffn_norm.weight`);
    if (c.subNorms) names.push(`blk.${l}.attn_sub_norm.weight`, `blk.${l}.ffn_sub_norm.weight`);
    for (const m of MATRICES) names.push(`blk.${l}.${m}.weight`);
  }
  return names;
}

const fileError = (code: 'BAD_GGUF' | 'UNSUPPORTED_TYPE', message: string, offset: number) =>
  new BitnetError(code, `${message} (at byte ${offset})`, { offset });

function checkType(t: GGUFTensorInfo, role: Role): void {
  const bad = (want: string, code: 'BAD_GGUF' | 'UNSUPPORTED_TYPE' = 'BAD_GGUF') =>
    fileError(code, `tensor ${t.name} is ${t.typeName}; it must be ${want}`, t.infoOffset);
  const ternary = ternaryTraits(t.type) !== undefined;
  if (role.types === 'ternary' && !ternary) {
    // A real type bitnet-wasm does not run (F16 matrices...) rather than a broken file.
    throw bad(`ternary (${TERNARY_TYPE_NAMES.join(', ')}): bitnet-wasm runs ternary weights`, 'UNSUPPORTED_TYPE');
  }
  if (role.types === 'float' && !FLOAT_TYPES.has(t.typeName)) throw bad('F32, F16 or BF16');
  if (role.types === 'table' && (ternary || !ggmlTypeInfo(t.type)?.dequantize)) {
    throw bad('a float or quantized type with a decoder (F32, F16, BF16, Q8_0, Q4_K, Q6_K, ...)');
  }
}

/** Checks every tensor of the file against the config: unknown or extra tensors, missing ones,
 *  wrong shapes and wrong types are BitnetErrors naming the tensor, before any data is read. */
export function checkTensors(header: GGUFHeader, c: ModelConfig): void {
  for (const t of header.tensors) {
    const role = roleOf(t.name, c);
    if (typeof role === 'string') throw fileError('BAD_GGUF', `tensor ${t.name} ${role}`, t.infoOffset);
    checkType(t, role);
    const s = t.shape.map(Number);
    while (s.length > role.shape.length && s[s.length - 1] === 1) s.pop();
    if (role.shape.length === 1 && role.shape[0] === 1 && s.length === 0) continue; // a scalar scale
    if (s.length !== role.shape.length || s.some((v, i) => v !== role.shape[i])) {
      throw fileError('BAD_GGUF', `tensor ${t.name} has shape [${s}], expected [${role.shape}]`, t.infoOffset);
    }
  }
  const present = new Set(header.tensors.map((t) => t.name));
  for (const name of requiredNames(c)) {
    if (!present.has(name)) throw fileError('BAD_GGUF', `tensor ${name} is missing`, header.headerBytes);
  }
}
